/**
 * SVG line charts of training curves (no dependencies): one panel per quantity (loss, each
 * metric), its training and validation series in two colours, linear axes with a few round ticks.
 */
import { el, svgDoc, text, textWidth } from './svg.ts';

export interface Series { name: string; values: readonly number[] }
export interface Panel { title: string; series: Series[] }

const COLORS = ['#3b6fd8', '#d9660b', '#1f8f4a', '#8e44ad'];

/** About `n` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function panel(p: Panel, x0: number, y0: number, w: number, h: number): string[] {
  const L = 46, R = 10, T = 40, B = 30;
  const vals = p.series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(1, ...p.series.map((s) => s.values.length));
  let lo = vals.length ? Math.min(...vals) : 0, hi = vals.length ? Math.max(...vals) : 1;
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const px = (i: number) => x0 + L + (n === 1 ? (w - L - R) / 2 : (i / (n - 1)) * (w - L - R));
  const py = (v: number) => y0 + T + (1 - (v - lo) / (hi - lo)) * (h - T - B);
  const small = { 'font-size': 10, fill: '#555' };
  const out = [text(x0 + L, y0 + 14, p.title, { 'font-weight': 'bold' })];
  for (const v of ticks(lo, hi)) {
    out.push(el('line', { x1: x0 + L, y1: py(v), x2: x0 + w - R, y2: py(v), stroke: '#eceef1' }));
    out.push(text(x0 + L - 5, py(v) + 3, String(+v.toPrecision(3)), { 'text-anchor': 'end', ...small }));
  }
  for (const e of ticks(1, n, 5).filter((e) => Number.isInteger(e)))
    out.push(text(px(e - 1), y0 + h - B + 14, String(e), { 'text-anchor': 'middle', ...small }));
  out.push(text(x0 + L + (w - L - R) / 2, y0 + h - 4, 'epoch', { 'text-anchor': 'middle', ...small }));
  out.push(el('rect', { x: x0 + L, y: y0 + T, width: w - L - R, height: h - T - B, fill: 'none', stroke: '#9aa3b2' }));
  let lx = x0 + L; // the legend: one line under the title, each series with its last value
  p.series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${px(i).toFixed(1)},${py(v).toFixed(1)}` : null)).filter(Boolean);
    const c = COLORS[k % COLORS.length]!, tag = { class: 'series', 'data-name': s.name };
    if (pts.length > 1) out.push(el('polyline', { points: pts.join(' '), fill: 'none', stroke: c, 'stroke-width': 2, ...tag }));
    else if (pts.length) { const [cx, cy] = pts[0]!.split(','); out.push(el('circle', { cx: cx!, cy: cy!, r: 3, fill: c, ...tag })); }
    const last = s.values[s.values.length - 1];
    const label = `${s.name}${last !== undefined && Number.isFinite(last) ? ` ${(+last.toPrecision(3))}` : ''}`;
    out.push(el('line', { x1: lx, y1: y0 + 26, x2: lx + 14, y2: y0 + 26, stroke: c, 'stroke-width': 2 }),
      text(lx + 18, y0 + 30, label, { 'font-size': 10 }));
    lx += 30 + textWidth(label, 10);
  });
  return out;
}

/** Panels side by side, each `w` × `h` pixels. */
export function lineChartSVG(panels: readonly Panel[], title: string, w = 340, h = 220): string {
  const body = panels.flatMap((p, i) => panel(p, i * w, 0, w, h));
  return svgDoc(Math.max(1, panels.length) * w, h, body, title);
}
