/**
 * Rearranging ops, all views (index expressions, never copies) so they fuse into their readers
 * and differentiate through the view rules: flip (a shrink with step -1), roll (two slices and a
 * concat), tile and repeat (expand + reshape), swapaxes/moveaxis (permute), broadcastTo, split
 * and chunk (slices), tril/triu (a where over an iota comparison).
 */
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { normAxes, normAxis, type Shape } from '../ir/shape.ts';
import { broadcastTo as broadcastNode, constant, nodeOf, T, type TensorLike } from './graph.ts';
import { where } from './elementwise.ts';
import { concat, permute, reshape, slice } from './movement.ts';
import type { Tensor } from './tensor.ts';

/** Reverses the order of elements along `axes` (default: all). */
export function flip(x: TensorLike, axes?: number | readonly number[]): Tensor {
  const n = nodeOf(x, 'flip'), r = n.shape.length;
  const ax = axes === undefined ? [...Array(r).keys()] : normAxes('flip', axes, r);
  if (!ax.length) return T(n);
  return T(Node.make('shrink', n.dtype, n.shape, [n], { start: n.shape.map((d, i) => (ax.includes(i) ? d - 1 : 0)), step: n.shape.map((_, i) => (ax.includes(i) ? -1 : 1)) }));
}

/** Shifts elements by `shift` along `axis`, wrapping around (numpy's roll); without an axis the flattened tensor rolls. */
export function roll(x: TensorLike, shift: number, axis?: number): Tensor {
  const n = nodeOf(x, 'roll');
  if (!Number.isInteger(shift)) throw new TesseraError('roll', `shift must be an integer, got ${shift}`);
  if (axis === undefined) return reshape(roll(reshape(T(n), [-1]), shift, 0), n.shape);
  const a = normAxis('roll', axis, n.shape.length), L = n.shape[a]!;
  const s = ((shift % L) + L) % L;
  if (L === 0 || s === 0) return T(n);
  const at = (b: number, e: number) => slice(T(n), n.shape.map((_, i) => (i === a ? b : 0)), n.shape.map((d, i) => (i === a ? e : d)));
  return concat([at(L - s, L), at(0, L - s)], a);
}

/** Repeats the whole tensor `reps[i]` times along axis i (numpy's tile; reps shorter than the rank apply to the last axes). */
export function tile(x: TensorLike, reps: readonly number[]): Tensor {
  const n = nodeOf(x, 'tile');
  if (reps.some((k) => !Number.isInteger(k) || k < 1)) throw new TesseraError('tile', `reps ${JSON.stringify(reps)} must be positive integers`);
  const r = Math.max(reps.length, n.shape.length);
  const shape = [...new Array(r - n.shape.length).fill(1), ...n.shape], rp = [...new Array(r - reps.length).fill(1), ...reps];
  // [.., d, ..] -> [.., 1, d, ..] -> expand [.., k, d, ..] -> [.., k*d, ..]
  const inter = shape.flatMap((d) => [1, d]);
  const expanded = shape.flatMap((d, i) => [rp[i]!, d]);
  return reshape(T(broadcastNode(nodeOf(reshape(T(n), inter), 'tile'), expanded, 'tile')), shape.map((d, i) => d * rp[i]!));
}

/** Repeats each element `repeats` times along `axis` (numpy's repeat; default: the flattened tensor). */
export function repeat(x: TensorLike, repeats: number, axis?: number): Tensor {
  const n = nodeOf(x, 'repeat');
  if (!Number.isInteger(repeats) || repeats < 1) throw new TesseraError('repeat', `repeats must be a positive integer, got ${repeats}`);
  if (axis === undefined) return repeat(reshape(T(n), [-1]), repeats, 0);
  const a = normAxis('repeat', axis, n.shape.length);
  const inter = [...n.shape.slice(0, a + 1), 1, ...n.shape.slice(a + 1)];
  const exp = [...n.shape.slice(0, a + 1), repeats, ...n.shape.slice(a + 1)];
  return reshape(T(broadcastNode(nodeOf(reshape(T(n), inter), 'repeat'), exp, 'repeat')), n.shape.map((d, i) => (i === a ? d * repeats : d)));
}

/** Exchanges two axes. */
export function swapaxes(x: TensorLike, a: number, b: number): Tensor {
  const n = nodeOf(x, 'swapaxes'), r = n.shape.length;
  const i = normAxis('swapaxes', a, r), j = normAxis('swapaxes', b, r), p = [...Array(r).keys()];
  [p[i], p[j]] = [p[j]!, p[i]!];
  return permute(T(n), p);
}

/** Moves axis `from` to position `to`, keeping the others in order. */
export function moveaxis(x: TensorLike, from: number, to: number): Tensor {
  const n = nodeOf(x, 'moveaxis'), r = n.shape.length;
  const f = normAxis('moveaxis', from, r), t = normAxis('moveaxis', to, r);
  const p = [...Array(r).keys()].filter((i) => i !== f);
  p.splice(t, 0, f);
  return permute(T(n), p);
}

/** Broadcasts to `shape` by numpy's rules (a view: no copy). */
export const broadcastTo = (x: TensorLike, shape: Shape): Tensor => T(broadcastNode(nodeOf(x, 'broadcastTo'), shape, 'broadcastTo'));

/**
 * Splits along `axis` into pieces: a number of equal parts, or a list of sizes (PyTorch's split
 * with sizes; numpy's array_split takes indices instead).
 */
export function split(x: TensorLike, sizes: number | readonly number[], axis = 0): Tensor[] {
  const n = nodeOf(x, 'split'), a = normAxis('split', axis, n.shape.length), L = n.shape[a]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1 || L % sizes)
      throw new TesseraError('split', `cannot split axis ${a} of ${fmtShape(n.shape)} (length ${L}) into ${sizes} equal parts`, 'use a count that divides the length, a list of sizes, or chunk()');
    parts = new Array(sizes).fill(L / sizes);
  } else {
    parts = [...sizes];
    if (parts.some((s) => !Number.isInteger(s) || s < 0) || parts.reduce((s, v) => s + v, 0) !== L)
      throw new TesseraError('split', `sizes ${JSON.stringify(sizes)} do not add up to the length ${L} of axis ${a} of ${fmtShape(n.shape)}`, 'give non-negative sizes summing to the axis length');
  }
  let off = 0;
  return parts.map((s) => {
    const t = slice(T(n), n.shape.map((_, i) => (i === a ? off : 0)), n.shape.map((d, i) => (i === a ? off + s : d)));
    off += s;
    return t;
  });
}

/** Splits into `chunks` pieces of ceil(length / chunks) (the last may be smaller), as PyTorch's chunk. */
export function chunk(x: TensorLike, chunks: number, axis = 0): Tensor[] {
  const n = nodeOf(x, 'chunk'), a = normAxis('chunk', axis, n.shape.length), L = n.shape[a]!;
  if (!Number.isInteger(chunks) || chunks < 1) throw new TesseraError('chunk', `chunks must be a positive integer, got ${chunks}`);
  const size = Math.ceil(L / chunks), sizes: number[] = [];
  for (let o = 0; o < L; o += size) sizes.push(Math.min(size, L - o));
  return split(T(n), sizes, a);
}

/** Lower triangle of the last two axes: elements with column - row <= k kept, others zero. */
export const tril = (x: TensorLike, k = 0) => triangle(x, k, 'tril');
/** Upper triangle of the last two axes: elements with column - row >= k kept, others zero. */
export const triu = (x: TensorLike, k = 0) => triangle(x, k, 'triu');
function triangle(x: TensorLike, k: number, op: 'tril' | 'triu'): Tensor {
  const n = nodeOf(x, op), r = n.shape.length;
  if (r < 2) throw new TesseraError(op, `needs at least 2 dimensions, got ${fmtShape(n.shape)}`);
  if (!Number.isInteger(k)) throw new TesseraError(op, `k must be an integer, got ${k}`);
  const R = n.shape[r - 2]!, C = n.shape[r - 1]!, sh = [R, C];
  const row = Node.make('expand', 'int32', sh, [Node.make('reshape', 'int32', [R, 1], [Node.make('iota', 'int32', [R], [], 0)])]);
  const col = Node.make('expand', 'int32', sh, [Node.make('reshape', 'int32', [1, C], [Node.make('iota', 'int32', [C], [], 0)])]);
  const diff = Node.make('sub', 'int32', sh, [col, row]), kk = constant(k, 'int32', sh);
  const keep = op === 'tril' ? Node.make('le', 'bool', sh, [diff, kk]) : Node.make('le', 'bool', sh, [kk, diff]);
  return where(T(keep), T(n), T(constant(0, n.dtype)));
}
