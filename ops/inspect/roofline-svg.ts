/**
 * A roofline chart: arithmetic intensity (FLOPs per byte moved) against achieved GFLOP/s, both
 * logarithmic, under the adapter's measured roofs — copy bandwidth (the slanted line) and fma
 * throughput (the flat one). A kernel far below the roof at its intensity has room to improve;
 * one on the slanted part is limited by memory, on the flat part by arithmetic. Kernels with no
 * arithmetic (pure copies) have no intensity and are listed, not plotted.
 */
import type { ProfileReport } from './profile.ts';
import { el, esc, svgDoc, text } from './svg.ts';

const W = 760, H = 440, L = 70, R = 250, T = 40, B = 50;
const COLORS = { elementwise: '#3b6fd8', row: '#1f8f4a', matmul: '#d9660b', attention: '#b8317a' } as const;

const log10 = Math.log10;
const decades = (lo: number, hi: number) => {
  const out: number[] = [];
  for (let e = Math.floor(log10(lo)); e <= Math.ceil(log10(hi)); e++) out.push(10 ** e);
  return out;
};
const fmtTick = (v: number) => (v >= 1 ? String(v) : v.toPrecision(1));

export function rooflineSVG(p: ProfileReport): string {
  const { copyGBs: bw, fmaGFLOPs: peak } = p.ceilings;
  const pts = p.kernels.filter((k) => k.flops > 0 && k.ms > 0);
  const ridge = peak / bw;
  const xs = [...pts.map((k) => k.intensity), ridge];
  const ys = [...pts.map((k) => k.gflops), peak];
  let x0 = 10 ** Math.floor(log10(Math.min(...xs) / 2)), x1 = 10 ** Math.ceil(log10(Math.max(...xs) * 4));
  let y0 = 10 ** Math.floor(log10(Math.min(...ys) / 2)), y1 = 10 ** Math.ceil(log10(peak * 2));
  if (!(x0 > 0 && x1 > x0)) { x0 = 0.01; x1 = 100; }
  if (!(y0 > 0 && y1 > y0)) { y0 = 0.01; y1 = 100; }
  const px = (v: number) => L + ((log10(v) - log10(x0)) / (log10(x1) - log10(x0))) * (W - L - R);
  const py = (v: number) => H - B - ((log10(v) - log10(y0)) / (log10(y1) - log10(y0))) * (H - T - B);
  const body: string[] = [text(L, 22, `${p.title}: roofline (copy ${bw.toFixed(1)} GB/s, fma ${peak.toFixed(1)} GFLOP/s, measured now)`,
    { 'font-weight': 'bold', 'font-size': 13 })];
  for (const v of decades(x0, x1)) if (v >= x0 && v <= x1) {
    body.push(el('line', { x1: px(v), y1: T, x2: px(v), y2: H - B, stroke: '#eceef1' }), text(px(v), H - B + 16, fmtTick(v),
      { 'text-anchor': 'middle', 'font-size': 10, fill: '#555' }));
  }
  for (const v of decades(y0, y1)) if (v >= y0 && v <= y1) {
    body.push(el('line', { x1: L, y1: py(v), x2: W - R, y2: py(v), stroke: '#eceef1' }), text(L - 6, py(v) + 3, fmtTick(v), { 'text-anchor': 'end',
      'font-size': 10, fill: '#555' }));
  }
  body.push(el('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: 'none', stroke: '#9aa3b2' }));
  body.push(text((L + W - R) / 2, H - 12, 'arithmetic intensity (FLOP / byte)', { 'text-anchor': 'middle' }));
  body.push(text(16, (T + H - B) / 2, 'GFLOP/s', { transform: `rotate(-90 16 ${(T + H - B) / 2})`, 'text-anchor': 'middle' }));
  // The roofs: bandwidth x intensity up to the ridge, then the fma peak.
  const xa = Math.max(x0, y0 / bw);
  const pt = (x: number, y: number) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`;
  body.push(el('polyline', { points: `${pt(xa, bw * xa)} ${pt(ridge, peak)} ${pt(x1, peak)}`,
    fill: 'none', stroke: '#c0392b', 'stroke-width': 2 }));
  body.push(text(px(x1) - 4, py(peak) - 6, `fma ${peak.toFixed(1)} GFLOP/s`, { 'text-anchor': 'end', 'font-size': 11, fill: '#c0392b' }));
  body.push(text(px(xa) + 6, py(bw * xa) - 8, `copy ${bw.toFixed(1)} GB/s`, { 'font-size': 11, fill: '#c0392b' }));
  for (const k of pts) {
    const c = COLORS[k.kind];
    body.push(el('g', { class: 'point', 'data-kernel': k.index },
      el('title', {}, esc(`k${k.index} ${k.name}: ${k.gflops.toFixed(2)} GFLOP/s, ${k.gbs.toFixed(2)} GB/s, ${k.ms.toFixed(3)} ms`)),
      el('circle', { cx: px(k.intensity), cy: py(k.gflops), r: 5, fill: c, 'fill-opacity': 0.8 }),
      text(px(k.intensity) + 7, py(k.gflops) + 4, `k${k.index}`, { 'font-size': 10 })));
  }
  // The legend: every kernel, its time and where it stands.
  const lx = W - R + 16;
  body.push(text(lx, T + 4, 'kernel · ms · % of roof', { 'font-weight': 'bold', 'font-size': 11 }));
  p.kernels.slice(0, 24).forEach((k, i) => {
    const name = k.name.length > 22 ? k.name.slice(0, 21) + '…' : k.name;
    body.push(el('circle', { cx: lx + 4, cy: T + 18 + i * 15, r: 4, fill: COLORS[k.kind], 'fill-opacity': k.flops ? 0.8 : 0.25 }),
      text(lx + 12, T + 22 + i * 15, `k${k.index} ${name} ${k.ms.toFixed(3)} ${(100 * k.ofRoofline).toFixed(0)}%`, { 'font-size': 10,
        'font-family': 'ui-monospace, monospace' }));
  });
  if (p.kernels.length > 24) body.push(text(lx, T + 22 + 24 * 15, `… ${p.kernels.length - 24} more`, { 'font-size': 10 }));
  return svgDoc(W, Math.max(H, T + 40 + Math.min(25, p.kernels.length) * 15), body, `${p.title} roofline`);
}
