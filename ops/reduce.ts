/** Reductions over any axes, with keepdims; mean, variance, argmax, logsumexp, prod, all, any, std and norm are composed. */
import { isFloat } from '../ir/dtype.ts';
import { Node, type ReduceOp } from '../ir/node.ts';
import { normAxes, numel } from '../ir/shape.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { broadcastTo, cast, constant, nodeOf, reshape, T, type TensorLike } from './graph.ts';
import { abs, add, div, eq, exp, log, mul, pow, sqrt, stopGradient, sub, where } from './elementwise.ts';
import { pad as padT, permute as permuteT, reshape as reshapeT, slice as sliceT } from './movement.ts';
import type { Tensor } from './tensor.ts';

export interface ReduceOptions { keepdims?: boolean }
export type Axes = number | readonly number[] | undefined;

function reduceNode(op: ReduceOp, name: string, x: TensorLike, axes: Axes, keepdims = false): Node {
  let n = nodeOf(x, name);
  const ax = normAxes(name, axes, n.shape.length);
  if (op === 'sum' && (n.dtype === 'bool')) n = cast(n, 'int32');
  if (op !== 'sum' && ax.some((a) => n.shape[a] === 0))
    throw new TesseraError(name, `cannot take the ${op} over an empty axis of ${fmtShape(n.shape)}`);
  const kshape = n.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const r = ax.length ? Node.make('reduce', n.dtype, kshape, [n], { op, axes: ax }) : n;
  return keepdims ? r : reshape(r, n.shape.filter((_, i) => !ax.includes(i)));
}

export const sum = (x: TensorLike, axes?: Axes, keepdims = false) => T(reduceNode('sum', 'sum', x, axes, keepdims));
export const max = (x: TensorLike, axes?: Axes, keepdims = false) => T(reduceNode('max', 'max', x, axes, keepdims));
export const min = (x: TensorLike, axes?: Axes, keepdims = false) => T(reduceNode('min', 'min', x, axes, keepdims));

export function mean(x: TensorLike, axes?: Axes, keepdims = false): Tensor {
  const n = nodeOf(x, 'mean');
  const ax = normAxes('mean', axes, n.shape.length);
  const count = numel(ax.map((a) => n.shape[a]!));
  const f = isFloat(n.dtype) ? n : cast(n, 'float32');
  return mul(sum(T(f), ax, keepdims), 1 / count);
}

/** Variance (population by default; `correction: 1` for the sample variance). */
export function variance(x: TensorLike, axes?: Axes, keepdims = false, correction = 0): Tensor {
  const n = nodeOf(x, 'variance');
  const ax = normAxes('variance', axes, n.shape.length);
  const count = numel(ax.map((a) => n.shape[a]!));
  const d = sub(T(n), mean(T(n), ax, true));
  return mul(sum(mul(d, d), ax, keepdims), 1 / Math.max(count - correction, 1));
}

function argReduce(kind: 'max' | 'min', x: TensorLike, axis: number | undefined, keepdims: boolean): Tensor {
  const name = `arg${kind}`;
  let n = nodeOf(x, name);
  if (axis === undefined) { n = reshape(n, [numel(n.shape)]); axis = 0; }
  const [a] = normAxes(name, axis, n.shape.length);
  const size = n.shape[a!]!;
  if (size === 0) throw new TesseraError(name, `cannot take the ${name} over an empty axis of ${fmtShape(n.shape)}`);
  const best = reduceNode(kind, name, T(n), a, true);
  const idxShape = n.shape.map((d, i) => (i === a ? d : 1));
  const idx = broadcastTo(reshape(Node.make('iota', 'int32', [size], [], 0), idxShape), n.shape, name);
  // First index holding the extreme value (NaN counts as the extreme, as numpy does).
  const hit = T(n).dtype === 'bool' ? eq(T(n), T(best)) : where(eq(T(n), T(best)), true, T(Node.make('ne', 'bool', n.shape, [n, n])));
  const cand = where(hit, T(idx), T(constant(size, 'int32', n.shape)));
  return T(reduceNode('min', name, cand, a, keepdims));
}
export const argmax = (x: TensorLike, axis?: number, keepdims = false) => argReduce('max', x, axis, keepdims);
export const argmin = (x: TensorLike, axis?: number, keepdims = false) => argReduce('min', x, axis, keepdims);

/** log(sum(exp(x))) computed stably (max subtracted first; the max carries no gradient, since
 * the result does not depend on the shift). */
export function logsumexp(x: TensorLike, axes?: Axes, keepdims = false): Tensor {
  const n = nodeOf(x, 'logsumexp');
  const ax = normAxes('logsumexp', axes, n.shape.length);
  const m = stopGradient(max(T(n), ax, true));
  const r = add(log(sum(exp(sub(T(n), m)), ax, true)), m);
  return keepdims ? r : T(reshape(r.node, n.shape.filter((_, i) => !ax.includes(i))));
}

export { div };

/**
 * Product over `axes`, exact and differentiable with zeros: the reduced axes are flattened and
 * padded with ones to a power of two, then halves are multiplied pairwise (log2(n) views and muls,
 * fused), so the gradient is the product of the other elements, as for a product by hand.
 */
export function prod(x: TensorLike, axes?: Axes, keepdims = false): Tensor {
  const n0 = nodeOf(x, 'prod'), n = n0.dtype === 'bool' ? cast(n0, 'int32') : n0;
  const ax = normAxes('prod', axes, n.shape.length), keep = n.shape.map((_, i) => i).filter((i) => !ax.includes(i));
  const count = numel(ax.map((a) => n.shape[a]!)), outer = keep.map((a) => n.shape[a]!);
  let t = reshapeT(permuteT(T(n), [...keep, ...ax]), [...outer, count]);
  let len = count;
  if (len === 0) t = T(constant(1, n.dtype, [...outer, 1]));
  else {
    const p2 = 2 ** Math.ceil(Math.log2(len));
    if (p2 > len) t = padT(t, [...outer.map(() => [0, 0] as [number, number]), [0, p2 - len]], 1);
    len = p2;
    while (len > 1) {
      const h = len / 2, r = reshapeT(t, [...outer, 2, h]);
      t = mul(sliceT(r, [...outer.map(() => 0), 0, 0], [...outer, 1, h]), sliceT(r, [...outer.map(() => 0), 1, 0], [...outer, 2, h]));
      t = reshapeT(t, [...outer, h]);
      len = h;
    }
  }
  const out = reshapeT(t, outer);
  return keepdims ? reshapeT(out, n.shape.map((d, i) => (ax.includes(i) ? 1 : d))) : out;
}

/** True where every element over `axes` is true (non-zero). */
export function all(x: TensorLike, axes?: Axes, keepdims = false): Tensor {
  const n = nodeOf(x, 'all');
  return T(cast(reduceNode('min', 'all', T(cast(cast(n, 'bool'), 'int32')), axes, keepdims), 'bool'));
}
/** True where any element over `axes` is true (non-zero). */
export function any(x: TensorLike, axes?: Axes, keepdims = false): Tensor {
  const n = nodeOf(x, 'any');
  return T(cast(reduceNode('max', 'any', T(cast(cast(n, 'bool'), 'int32')), axes, keepdims), 'bool'));
}

/** Standard deviation (population by default; `correction: 1` for the sample one). */
export const std = (x: TensorLike, axes?: Axes, keepdims = false, correction = 0) => sqrt(variance(x, axes, keepdims, correction));

/** Vector norms over `axes` (default all): ord 2 (Euclidean / Frobenius), 1, Infinity, -Infinity, or any p > 0. */
export function norm(x: TensorLike, ord: number = 2, axes?: Axes, keepdims = false): Tensor {
  const t = T(nodeOf(x, 'norm')), a = abs(t);
  if (ord === 2) return sqrt(sum(mul(t, t), axes, keepdims));
  if (ord === 1) return sum(a, axes, keepdims);
  if (ord === Infinity) return max(a, axes, keepdims);
  if (ord === -Infinity) return min(a, axes, keepdims);
  if (!(ord > 0) || !Number.isFinite(ord)) throw new TesseraError('norm', `ord ${ord} is not supported`, 'use 1, 2, Infinity, -Infinity or a finite p > 0');
  return pow(sum(pow(a, ord), axes, keepdims), 1 / ord);
}
