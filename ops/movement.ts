/** Movement ops. All are views: index expressions over the source, never copies. */
import { promote } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node, type PadArg } from '../ir/node.ts';
import { normAxes, normAxis, numel, type Shape } from '../ir/shape.ts';
import { broadcastTo, cast, constant, nodeOf, reshape as reshapeNode, T, whereNode, type TensorLike } from './graph.ts';
import type { Tensor } from './tensor.ts';

export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const n = nodeOf(x, 'reshape');
  const neg = shape.filter((d) => d === -1).length;
  if (neg > 1 || shape.some((d) => !Number.isInteger(d) || d < -1))
    throw new TesseraError('reshape', `invalid target shape ${fmtShape(shape)}`, 'use non-negative sizes and at most one -1');
  let out = [...shape];
  if (neg) {
    const known = numel(shape.filter((d) => d !== -1));
    if (known === 0 || numel(n.shape) % known) throw new TesseraError('reshape', `cannot infer -1 reshaping ${fmtShape(n.shape)} to ${fmtShape(shape)}`, 'make the other sizes divide the element count');
    out = shape.map((d) => (d === -1 ? numel(n.shape) / known : d));
  }
  if (numel(out) !== numel(n.shape))
    throw new TesseraError('reshape', `cannot reshape ${fmtShape(n.shape)} (${numel(n.shape)} elements) to ${fmtShape(out)} (${numel(out)} elements)`, 'keep the number of elements the same');
  return T(reshapeNode(n, out));
}

export function permute(x: TensorLike, perm: readonly number[]): Tensor {
  const n = nodeOf(x, 'permute');
  const p = perm.map((a) => normAxis('permute', a, n.shape.length));
  if (p.length !== n.shape.length || new Set(p).size !== p.length)
    throw new TesseraError('permute', `${JSON.stringify(perm)} is not a permutation of the ${n.shape.length} axes of ${fmtShape(n.shape)}`, 'name every axis exactly once');
  return T(Node.make('permute', n.dtype, p.map((a) => n.shape[a]!), [n], p));
}

/** Reverses the axes, or swaps two axes. */
export function transpose(x: TensorLike, a?: number, b?: number): Tensor {
  const n = nodeOf(x, 'transpose'), r = n.shape.length;
  const p = [...Array(r).keys()];
  if (a === undefined) p.reverse();
  else {
    const i = normAxis('transpose', a, r), j = normAxis('transpose', b ?? (r - 1), r);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return permute(T(n), p);
}

export function expand(x: TensorLike, shape: Shape): Tensor {
  const n = nodeOf(x, 'expand');
  const target = shape.map((d, i) => (d === -1 ? n.shape[i - (shape.length - n.shape.length)]! : d));
  return T(broadcastTo(n, target, 'expand'));
}

/** numpy-style slicing per axis: begin (inclusive), end (exclusive), step (>0); negative indices count from the end. */
export function slice(x: TensorLike, begin: readonly number[], end?: readonly (number | undefined)[], steps?: readonly number[]): Tensor {
  const n = nodeOf(x, 'slice'), r = n.shape.length;
  if (begin.length > r) throw new TesseraError('slice', `${begin.length} begin indices for a tensor of rank ${r} (${fmtShape(n.shape)})`);
  const start: number[] = [], step: number[] = [], shape: number[] = [];
  for (let d = 0; d < r; d++) {
    const size = n.shape[d]!, st = steps?.[d] ?? 1;
    if (!Number.isInteger(st) || st <= 0) throw new TesseraError('slice', `step ${st} on axis ${d} must be a positive integer`);
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const b = clampIdx(begin[d] ?? 0), e = clampIdx(end?.[d] ?? size);
    start.push(b); step.push(st); shape.push(Math.max(0, Math.ceil((e - b) / st)));
  }
  return T(Node.make('shrink', n.dtype, shape, [n], { start, step }));
}

/** Pads each axis with [before, after] elements of `value`. */
export function pad(x: TensorLike, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const n = nodeOf(x, 'pad');
  if (pads.length !== n.shape.length) throw new TesseraError('pad', `${pads.length} pad pairs for a tensor of rank ${n.shape.length} (${fmtShape(n.shape)})`, 'give one [before, after] pair per axis');
  if (pads.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) throw new TesseraError('pad', 'pad sizes must be non-negative integers', 'crop with slice() instead');
  const shape = n.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const p: PadArg = pads.map(([a, b]) => [a, b] as const);
  const padded = Node.make('pad', n.dtype, shape, [n], p);
  if (value === 0) return T(padded);
  const mask = Node.make('pad', 'bool', shape, [constant(1, 'bool', n.shape)], p);
  return T(whereNode(mask, padded, constant(value, n.dtype, shape)));
}

/** Joins tensors along an existing axis; mixed dtypes are promoted (as binary ops do: bool < uint32 < int32 < float16 < float32). */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || !xs.length) throw new TesseraError('concat', 'needs a non-empty array of tensors', 'pass e.g. concat([a, b], axis)');
  const given = xs.map((t) => nodeOf(t, 'concat'));
  const dt = given.reduce((d, n) => promote(d, n.dtype), given[0]!.dtype);
  const nodes = given.map((n) => cast(n, dt));
  const r = nodes[0]!.shape.length, ax = normAxis('concat', axis, r);
  for (const n of nodes)
    if (n.shape.length !== r || n.shape.some((d, i) => i !== ax && d !== nodes[0]!.shape[i]))
      throw new TesseraError('concat', `shapes ${nodes.map((m) => fmtShape(m.shape)).join(', ')} differ outside axis ${ax}`, 'make all sizes equal except along the concat axis');
  const total = nodes.reduce((s, n) => s + n.shape[ax]!, 0);
  let off = 0;
  let acc: Tensor | null = null;
  for (const n of nodes) {
    const pads = n.shape.map((_, d) => (d === ax ? [off, total - off - n.shape[ax]!] : [0, 0]) as [number, number]);
    off += n.shape[ax]!;
    const p = pad(T(n), pads);
    acc = acc ? T(Node.make(p.dtype === 'bool' ? 'or' : 'add', p.dtype, p.shape, [acc.node, p.node])) : p;
  }
  return acc!;
}

/** Joins tensors along a new axis; mixed dtypes are promoted as in concat. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || !xs.length) throw new TesseraError('stack', 'needs a non-empty array of tensors', 'pass e.g. stack([a, b], axis)');
  const ts = xs.map((t) => T(nodeOf(t, 'stack')));
  const ax = normAxis('stack', axis, ts[0]!.rank + 1);
  return concat(ts.map((t) => unsqueeze(t, ax)), ax);
}

export function squeeze(x: TensorLike, axes?: number | readonly number[]): Tensor {
  const n = nodeOf(x, 'squeeze');
  const ax = axes === undefined ? n.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normAxes('squeeze', axes, n.shape.length);
  for (const a of ax) if (n.shape[a] !== 1) throw new TesseraError('squeeze', `axis ${a} of ${fmtShape(n.shape)} has size ${n.shape[a]}, not 1`);
  return T(reshapeNode(n, n.shape.filter((_, i) => !ax.includes(i))));
}

export function unsqueeze(x: TensorLike, axis: number): Tensor {
  const n = nodeOf(x, 'unsqueeze');
  const a = normAxis('unsqueeze', axis, n.shape.length + 1);
  const s = [...n.shape];
  s.splice(a, 0, 1);
  return T(reshapeNode(n, s));
}

export const flatten = (x: TensorLike) => { const n = nodeOf(x, 'flatten'); return T(reshapeNode(n, [numel(n.shape)])); };

