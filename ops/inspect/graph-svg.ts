/**
 * The fused graph as a picture: one box per kernel (its name, what it moves and computes, and a
 * chip for every primitive it fuses), input buffers just above the first kernel reading them,
 * arrows for the buffers between kernels. Boxes are laid out in layers: a kernel sits one layer
 * below the lowest of the kernels it reads.
 */
import type { Analysis, BufferInfo, KernelInfo } from './analyze.ts';
import { el, esc, fmtBytes, fmtCount, svgDoc, text, textWidth } from './svg.ts';
import { fmtType } from './table.ts';

const KIND_COLORS: Record<KernelInfo['kind'], [string, string]> = {
  elementwise: ['#eaf2ff', '#3b6fd8'],
  row: ['#e8f6ec', '#1f8f4a'],
  matmul: ['#fff2e2', '#d9660b'],
  attention: ['#fdeaf3', '#b8317a'],
};
const TRANSCENDENTAL = new Set(['exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'pow', 'sqrt', 'recip', 'random']);
const chipColor = (op: string) =>
  op === 'matmul' ? '#fbd3a8' : ['sum', 'max', 'min'].includes(op) ? '#b9e4c7' : TRANSCENDENTAL.has(op) ? '#dccbf5' : '#e4e7ec';

const PAD = 10, CHIP_H = 18, CHIP_GAP = 4, LAYER_GAP = 44, BOX_GAP = 24, MIN_W = 230, MAX_W = 380;

interface Box { x: number; y: number; w: number; h: number; layer: number; draw: (x: number, y: number) => string }

function chipRows(ops: readonly string[], width: number): { op: string; x: number; row: number; w: number }[] {
  const out: { op: string; x: number; row: number; w: number }[] = [];
  let x = 0, row = 0;
  for (const op of ops) {
    const w = textWidth(op, 11, true) + 10;
    if (x > 0 && x + w > width) { x = 0; row++; }
    out.push({ op, x, row, w });
    x += w + CHIP_GAP;
  }
  return out;
}

function kernelBox(k: KernelInfo, layer: number, outputs: ReadonlySet<BufferInfo>): Box {
  const title = `k${k.index}  ${k.name}`;
  const w = Math.min(MAX_W, Math.max(MIN_W, textWidth(title, 12, true) * 1.05 + 2 * PAD));
  const chips = chipRows(k.primitives, w - 2 * PAD);
  const rows = chips.length ? chips[chips.length - 1]!.row + 1 : 0;
  const results = k.writes.map((b) => `→ ${b.label} ${fmtType(b.dtype, b.shape)}${outputs.has(b) ? '  (result)' : ''}`);
  const h = PAD + 16 + 16 + rows * (CHIP_H + CHIP_GAP) + 4 + results.length * 14 + PAD;
  const [fill, stroke] = KIND_COLORS[k.kind];
  const maxChars = Math.floor((w - 2 * PAD) / 7.2);
  const draw = (x: number, y: number) => {
    const parts = [el('rect', { x, y, width: w, height: h, rx: 8, fill, stroke, 'stroke-width': 1.5 })];
    parts.push(text(x + PAD, y + PAD + 11, title.length > maxChars ? title.slice(0, maxChars - 1) + '…' : title,
      { 'font-family': 'ui-monospace, monospace', 'font-weight': 'bold' }));
    parts.push(text(x + PAD, y + PAD + 27, `${k.kind} · ${k.primitives.length} primitives · ${fmtBytes(k.bytes)} · ${fmtCount(k.flops)} FLOPs`,
      { fill: '#4a5260', 'font-size': 11 }));
    const cy = y + PAD + 36;
    for (const c of chips) {
      const yy = cy + c.row * (CHIP_H + CHIP_GAP);
      parts.push(el('rect', { x: x + PAD + c.x, y: yy, width: c.w, height: CHIP_H, rx: 9, fill: chipColor(c.op) }));
      parts.push(text(x + PAD + c.x + 5, yy + 13, c.op, { 'font-family': 'ui-monospace, monospace', 'font-size': 11 }));
    }
    results.forEach((r, i) => parts.push(text(x + PAD, cy + rows * (CHIP_H + CHIP_GAP) + 14 + i * 14, r, { fill: stroke, 'font-size': 11,
      'font-family': 'ui-monospace, monospace' })));
    return el('g', { class: `kernel ${k.kind}`, 'data-kernel': k.index }, el('title', {}, esc(`${k.name}\n${k.primitives.join(' ')}`)), ...parts);
  };
  return { x: 0, y: 0, w, h, layer, draw };
}

function inputBox(b: BufferInfo): Box {
  const label = `${b.label} ${fmtType(b.dtype, b.shape)}`;
  const w = textWidth(label, 11, true) + 2 * PAD, h = 24;
  const draw = (x: number, y: number) => el('g', { class: 'input' },
    el('rect', { x, y, width: w, height: h, rx: 12, fill: '#f4f5f7', stroke: '#8a93a3' }),
    text(x + PAD, y + 16, label, { 'font-family': 'ui-monospace, monospace', 'font-size': 11 }));
  return { x: 0, y: 0, w, h, layer: 0, draw };
}

/** An SVG of the kernels of `a`, with `heading` on top. */
export function graphSVG(a: Analysis, heading: string): string {
  const inputBoxes = new Map<BufferInfo, Box>();
  const used = new Set(a.kernels.flatMap((k) => k.reads).filter((b) => b.producer === null));
  for (const b of a.inputs) if (used.has(b)) inputBoxes.set(b, inputBox(b));
  const outs = new Set(a.outputs);
  const layerOf: number[] = [];
  const boxes: Box[] = a.kernels.map((k) => {
    const layer = 1 + Math.max(0, ...k.reads.map((b) => (b.producer === null ? 0 : layerOf[b.producer]!)));
    layerOf.push(layer);
    return kernelBox(k, layer, outs);
  });
  // Each input sits in a row of its own just above the first kernel that reads it.
  for (const [b, box] of inputBoxes) {
    const first = Math.min(...a.kernels.filter((k) => k.reads.includes(b)).map((k) => layerOf[k.index]!));
    box.layer = 2 * first - 1;
  }
  for (const b of boxes) b.layer *= 2;
  const all = [...inputBoxes.values(), ...boxes];
  const layers: Box[][] = [];
  for (const b of all) (layers[b.layer] ??= []).push(b);
  const rowW = layers.filter(Boolean).map((l) => l.reduce((s, b) => s + b.w, 0) + BOX_GAP * (l.length - 1));
  const width = Math.max(480, textWidth(heading, 13) * 1.1, ...rowW) + 2 * 20;
  let y = 52;
  for (const l of layers) {
    if (!l) continue;
    let x = (width - (l.reduce((s, b) => s + b.w, 0) + BOX_GAP * (l.length - 1))) / 2;
    const h = Math.max(...l.map((b) => b.h));
    for (const b of l) { b.x = x; b.y = y; x += b.w + BOX_GAP; }
    y += h + LAYER_GAP;
  }
  const height = y - LAYER_GAP + 20;
  const edges: string[] = [];
  a.kernels.forEach((k, i) => {
    const to = boxes[i]!;
    k.reads.forEach((b, j) => {
      const from = b.producer === null ? inputBoxes.get(b) : boxes[b.producer];
      if (!from) return;
      const x1 = from.x + from.w / 2, y1 = from.y + from.h;
      const x2 = to.x + (to.w * (j + 1)) / (k.reads.length + 1), y2 = to.y;
      const my = (y1 + y2) / 2;
      const f = (v: number) => v.toFixed(1);
      edges.push(el('path', { d: `M${f(x1)},${f(y1)} C${f(x1)},${f(my)} ${f(x2)},${f(my)} ${f(x2)},${f(y2 - 4)}`,
        fill: 'none', stroke: '#9aa3b2', 'stroke-width': 1.3, 'marker-end': 'url(#arrow)' }));
      if (b.producer !== null) edges.push(text((x1 + x2) / 2 + 4, my, fmtType(b.dtype, b.shape), { 'font-size': 10, fill: '#6b7280',
        'font-family': 'ui-monospace, monospace' }));
    });
  });
  const defs = el('defs', {}, el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9aa3b2' })));
  const legend = Object.entries(KIND_COLORS).map(([kind, [fill, stroke]], i) =>
    el('g', {}, el('rect', { x: 20 + i * 110, y: 30, width: 12, height: 12, rx: 3, fill, stroke }), text(38 + i * 110, 40, kind,
      { 'font-size': 11 })));
  return svgDoc(width, height, [defs, text(20, 20, heading, { 'font-weight': 'bold', 'font-size': 13 }), ...legend, ...edges,
    ...all.map((b) => b.draw(b.x, b.y))], heading);
}
