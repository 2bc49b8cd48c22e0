/**
 * topk, sort and argsort by comparison counting: the rank of element i along the axis is the
 * number of elements that come before it (larger for descending order, ties broken by index, so
 * the order is stable), one [.., n, n] comparison reduced in one row kernel; the value at sorted
 * position r is then Σ_i [rank_i = r]·x_i. O(n²) work per row: meant for the small and moderate
 * sizes of ML (top-k sampling over a vocabulary, sorting a few hundred scores), not for sorting
 * millions. Values differentiate (the gradient goes to the selected elements); indices are int32.
 * NaNs compare false with everything, so their positions are unspecified.
 */
import { TesseraError } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { normAxis } from '../ir/shape.ts';
import { castTo, eq, logicalAnd, logicalOr, lt, gt, mul } from './elementwise.ts';
import { nodeOf, T, type TensorLike } from './graph.ts';
import { unsqueeze } from './movement.ts';
import { moveaxis } from './rearrange.ts';
import { sum } from './reduce.ts';
import type { Tensor } from './tensor.ts';

const iota = (n: number) => T(Node.make('iota', 'int32', [n], [], 0));

/** Ranks [.., n] (0 = first in the order) of the last axis; descending: larger first. */
function ranks(x: Tensor, descending: boolean): Tensor {
  const n = x.shape[x.rank - 1]!;
  const xi = unsqueeze(x, -1), xj = unsqueeze(x, -2);          // [.., n, 1], [.., 1, n]
  const before = descending ? gt(xj, xi) : lt(xj, xi);
  const tie = logicalAnd(eq(xj, xi), lt(unsqueeze(iota(n), 0), unsqueeze(iota(n), 1))); // j < i
  return sum(castTo(logicalOr(before, tie), 'int32'), -1);      // [.., n]
}

/** Values and indices of the first k in the order (k ≤ n), along the last axis moved back. */
function ordered(x: TensorLike, k: number | undefined, axis: number, descending: boolean, op: string): { values: Tensor; indices: Tensor } {
  const n0 = nodeOf(x, op);
  if (!n0.shape.length) throw new TesseraError(op, 'needs at least one dimension', 'reshape a scalar to [1]');
  const a = normAxis(op, axis, n0.shape.length), t = moveaxis(T(n0), a, -1), n = t.shape[t.rank - 1]!;
  const kk = k ?? n;
  if (!Number.isInteger(kk) || kk < 0 || kk > n) throw new TesseraError(op, `k = ${k} is out of range for an axis of length ${n}`, `use 0 <= k <= ${n}`);
  const r = ranks(t, descending);
  const sel = eq(unsqueeze(r, -2), unsqueeze(iota(kk), 1));      // [.., k, n]: rank_i == position
  const dt = t.dtype === 'bool' ? 'int32' : t.dtype;
  const values = sum(mul(castTo(sel, dt), unsqueeze(castTo(t, dt), -2)), -1);
  const indices = sum(mul(castTo(sel, 'int32'), iota(n)), -1);
  return { values: moveaxis(values, -1, a), indices: moveaxis(indices, -1, a) };
}

/** The k largest values along `axis` (default last), largest first, and their indices (int32). `largest: false` gives the smallest. */
export function topk(x: TensorLike, k: number, opts: { axis?: number; largest?: boolean } = {}): { values: Tensor; indices: Tensor } {
  return ordered(x, k, opts.axis ?? -1, opts.largest ?? true, 'topk');
}
/** Sorted values along `axis` (ascending unless `descending`; stable). */
export const sort = (x: TensorLike, axis = -1, opts: { descending?: boolean } = {}) => ordered(x, undefined, axis, !!opts.descending, 'sort').values;
/** The indices (int32) that sort `axis` (ascending unless `descending`; stable). */
export const argsort = (x: TensorLike, axis = -1, opts: { descending?: boolean } = {}) => ordered(x, undefined, axis, !!opts.descending, 'argsort').indices;
