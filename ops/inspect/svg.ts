/**
 * A tiny SVG writer (no dependencies): elements from a tag, attributes and children, with text
 * and attribute values escaped, so labels taken from user code cannot break the markup.
 */
export type Attrs = Record<string, string | number | undefined>;

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export function el(tag: string, attrs: Attrs = {}, ...children: string[]): string {
  const a = Object.entries(attrs).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : esc(v!)}"`).join('');
  return children.length ? `<${tag}${a}>${children.join('')}</${tag}>` : `<${tag}${a}/>`;
}

export const text = (x: number, y: number, s: string, attrs: Attrs = {}) => el('text', { x, y, ...attrs }, esc(s));

/** A whole document: white background, a system sans-serif font, monospace for code. */
export function svgDoc(width: number, height: number, body: string[], title?: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">` +
    (title ? el('title', {}, esc(title)) : '') +
    el('rect', { width, height, fill: '#ffffff' }) + body.join('') + '</svg>';
}

/** Approximate width of `s` in pixels at `size` (monospace: 0.6 em; sans: 0.55 em). */
export const textWidth = (s: string, size = 12, mono = false) => s.length * size * (mono ? 0.6 : 0.55);

/** 1.2 KiB / 3.4 MiB style sizes. */
export function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = b / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

/** 1.2k / 3.4M / 5.6G style counts. */
export function fmtCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  const units = ['k', 'M', 'G', 'T'];
  let v = n / 1000, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
}
