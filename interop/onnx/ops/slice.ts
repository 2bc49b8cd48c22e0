/**
 * ONNX ops that select or assemble along axes: Slice, Split, Concat, Gather, GatherElements, Tile,
 * Pad. Positive-step slices, splits, concats and constant pads are Tessera views; negative steps
 * and reflect/edge/wrap pads gather host-computed index lists (ops/gather.ts), so everything fuses
 * and differentiates.
 */
import { numel } from '../../../ir/shape.ts';
import { gather, takeAlongAxis } from '../../../ops/gather.ts';
import * as M from '../../../ops/movement.ts';
import { tensor } from '../../../ops/creation.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext, Value } from '../context.ts';
import { shapeOf } from '../context.ts';
import { HostTensor } from '../host.ts';
import { hostConcat, hostGather, hostSlice } from '../host-ops.ts';
import { normAxisOf } from './shape.ts';

/** A constant int32 index vector. */
export const indexList = (ids: number[]) => tensor(Int32Array.from(ids), { shape: [ids.length], dtype: 'int32' });

/** Slice's per-axis start, step and length (ONNX clamping rules, negative steps included). */
function sliceSpec(c: OpContext): { start: number[]; step: number[]; len: number[] } {
  const s = shapeOf(c.value(0)), r = s.length;
  const old = c.opset < 10;
  const starts = old ? c.intList('starts') ?? [] : c.ints(1), ends = old ? c.intList('ends') ?? [] : c.ints(2);
  const axes = (old ? c.intList('axes') : c.has(3) ? c.ints(3) : undefined) ?? starts.map((_, i) => i);
  const steps = !old && c.has(4) ? c.ints(4) : axes.map(() => 1);
  if (starts.length !== ends.length || axes.length !== starts.length || steps.length !== starts.length)
    throw c.error(`starts (${starts.length}), ends (${ends.length}), axes (${axes.length}) and steps (${steps.length}) differ in length`,
      'give one of each per sliced axis');
  const start = s.map(() => 0), step = s.map(() => 1), len = [...s];
  axes.forEach((a0, k) => {
    const a = normAxisOf(c, a0, r), n = s[a]!, st = steps[k]!;
    if (st === 0) throw c.error(`step 0 on axis ${a}`, 'use a non-zero step');
    const norm = (v: number) => (v < 0 ? v + n : v);
    const b = st > 0 ? Math.min(Math.max(norm(starts[k]!), 0), n) : Math.min(Math.max(norm(starts[k]!), 0), n - 1);
    const e = st > 0 ? Math.min(Math.max(norm(ends[k]!), 0), n) : Math.min(Math.max(norm(ends[k]!), -1), n - 1);
    start[a] = b; step[a] = st; len[a] = Math.max(0, Math.ceil((e - b) / st));
  });
  return { start, step, len };
}

function sliceDevice(x: Tensor, start: number[], step: number[], len: number[]): Tensor {
  let y = x;
  const pos = start.map((b, a) => (step[a]! > 0 ? b : 0)), end = len.map((l, a) => (step[a]! > 0 ? start[a]! + l * step[a]! : x.shape[a]!));
  if (start.some((b, a) => b !== 0 || len[a] !== x.shape[a]) || step.some((s) => s !== 1)) y = M.slice(y, pos, end, step.map((s) => (s > 0 ? s : 1)));
  step.forEach((st, a) => { if (st < 0) y = gather(y, indexList(Array.from({ length: len[a]! }, (_, i) => start[a]! + i * st)), a); });
  return y;
}

function split(c: OpContext): Value[] {
  const s = shapeOf(c.value(0)), a = normAxisOf(c, c.int('axis', 0), s.length), n = c.node.outputs.length;
  let sizes = c.opset >= 13 ? (c.has(1) ? c.ints(1) : undefined) : c.intList('split');
  if (!sizes) {
    const k = c.int('num_outputs', n), each = Math.ceil(s[a]! / k);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(each, s[a]! - i * each)));
  }
  if (sizes.reduce((p, q) => p + q,
    0) !== s[a]) throw c.error(`split sizes ${JSON.stringify(sizes)} do not add up to axis ${a} of [${s.join(', ')}]`,
      'make them sum to the axis size');
  const x = c.tensor(0);
  let off = 0;
  return sizes.map((k) => {
    const begin = s.map((_, d) => (d === a ? off : 0)), end = s.map((d, i) => (i === a ? off + k : d));
    off += k;
    return M.slice(x, begin, end);
  });
}

function concat(c: OpContext): Value {
  const r = shapeOf(c.value(0)).length, a = normAxisOf(c, c.int('axis', 0), r);
  const xs = Array.from({ length: c.count }, (_, i) => i).filter((i) => numel(shapeOf(c.value(i))) > 0 || i === 0);
  if (c.allHost) return hostConcat(xs.map((i) => c.host(i)), a);
  return M.concat(xs.map((i) => c.tensor(i)), a);
}

function tile(c: OpContext): Tensor {
  const x = c.tensor(0), reps = c.ints(1);
  if (reps.length !== x.rank || reps.some((k) => !Number.isInteger(k) || k < 0))
    throw c.error(`repeats ${JSON.stringify(reps)} for an input of rank ${x.rank}`, 'give one non-negative count per axis');
  // [d0, d1] -> [1, d0, 1, d1] -> [r0, d0, r1, d1] -> [r0*d0, r1*d1]: a view, no copy.
  const inter = x.shape.flatMap((d) => [1, d]), big = x.shape.flatMap((d, i) => [reps[i]!, d]);
  return M.reshape(M.expand(M.reshape(x, inter), big), x.shape.map((d, i) => d * reps[i]!));
}

/** Pad's [begin..., end...] per axis of the input, and the constant value. */
function padSpec(c: OpContext, r: number): { pads: [number, number][]; value: number; mode: string } {
  const mode = c.string('mode', 'constant');
  if (c.opset < 11) {
    const p = c.intList('pads') ?? [];
    return { pads: Array.from({ length: r }, (_, i) => [p[i] ?? 0, p[i + r] ?? 0]), value: c.float('value', 0), mode };
  }
  const p = c.ints(1), axes = (c.has(3) ? c.ints(3) : [...Array(r).keys()]).map((a) => normAxisOf(c, a, r));
  if (p.length !== 2 * axes.length) throw c.error(`${p.length} pads for ${axes.length} axes`, 'give a begin and an end per axis');
  const pads: [number, number][] = Array.from({ length: r }, () => [0, 0]);
  axes.forEach((a, k) => { pads[a] = [p[k]!, p[k + axes.length]!]; });
  return { pads, value: c.has(2) ? c.host(2).data[0]! : 0, mode };
}

function pad(c: OpContext): Tensor {
  let x = c.tensor(0);
  const { pads, value, mode } = padSpec(c, x.rank);
  // Negative pads crop.
  if (pads.some(([b, e]) => b < 0 || e < 0)) {
    x = M.slice(x, pads.map(([b]) => Math.max(-b, 0)), pads.map(([, e], a) => x.shape[a]! - Math.max(-e, 0)));
  }
  const pos = pads.map(([b, e]) => [Math.max(b, 0), Math.max(e, 0)] as [number, number]);
  if (mode === 'constant') return M.pad(x, pos, value);
  if (mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') throw c.error(`mode '${mode}' is not supported`,
    "use 'constant', 'reflect', 'edge' or 'wrap'");
  pos.forEach(([b, e], a) => {
    if (!b && !e) return;
    const n = x.shape[a]!;
    if (mode === 'reflect' && (b >= n || e >= n)) throw c.error(`reflect pads [${b}, ${e}] on an axis of size ${n}`,
      'reflect pads must be smaller than the axis');
    const src = (i: number) => (mode === 'edge' ? Math.min(Math.max(i, 0),
      n - 1) : mode === 'wrap' ? ((i % n) + n) % n : i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    x = gather(x, indexList(Array.from({ length: n + b + e }, (_, i) => src(i - b))), a);
  });
  return x;
}

export const SLICE: Record<string, OnnxOp> = {
  Slice: {
    device: (c) => { const { start, step, len } = sliceSpec(c); return sliceDevice(c.tensor(0), start, step, len); },
    host: (c) => { const { start, step, len } = sliceSpec(c); return hostSlice(c.host(0), start, step, len); },
  },
  Split: { device: split },
  Concat: { device: concat, host: (c) => concat(c) as HostTensor },
  Gather: {
    device: (c) => gather(c.tensor(0), c.tensor(1), normAxisOf(c, c.int('axis', 0), shapeOf(c.value(0)).length)),
    host: (c) => {
      const x = c.host(0), a = normAxisOf(c, c.int('axis', 0), x.dims.length);
      return hostGather(x, c.host(1), a, (i) => c.error(`index ${i} is out of range for axis ${a} of [${x.dims.join(', ')}]`,
        'use indices in [-n, n)'));
    },
  },
  GatherElements: { device: (c) => takeAlongAxis(c.tensor(0), c.tensor(1), c.int('axis', 0)) },
  Tile: { device: tile },
  Pad: { device: pad },
};
