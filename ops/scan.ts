/**
 * Cumulative sums and products along an axis, composed so they fuse and differentiate:
 *  - cumsum is a matmul with an upper-triangular 0/1 mask (computed from iotas inside the matmul
 *    prologue, never stored): out[.., j] = Σ_i x[.., i]·[i ≤ j]. O(n²) per row, but it runs on the
 *    tiled matmul kernel and its gradient is the reversed cumsum by the matmul rule.
 *  - cumprod is a Hillis–Steele scan: log2(n) steps of y·shift(y, 2^k) (the shift a pad with ones),
 *    exact with zeros (no logarithms), its gradient by the view and mul rules.
 */
import { TesseraError } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { normAxis } from '../ir/shape.ts';
import { mul } from './elementwise.ts';
import { cast, nodeOf, T, type TensorLike } from './graph.ts';
import { matmul } from './linalg.ts';
import { pad, slice } from './movement.ts';
import { moveaxis } from './rearrange.ts';
import type { Tensor } from './tensor.ts';

const lastAxis = (x: TensorLike, axis: number, op: string) => {
  const n = nodeOf(x, op);
  if (!n.shape.length) throw new TesseraError(op, 'needs at least one dimension', 'reshape a scalar to [1]');
  const a = normAxis(op, axis, n.shape.length);
  return { t: moveaxis(T(n), a, -1), back: (r: Tensor) => moveaxis(r, -1, a) };
};

/** Running sums along `axis` (default the last). bool and int inputs sum as int32 (exact below 2^24 in float32 otherwise). */
export function cumsum(x: TensorLike, axis = -1): Tensor {
  const { t, back } = lastAxis(x, axis, 'cumsum');
  const L = t.shape[t.rank - 1]!;
  const dt = t.dtype === 'bool' ? 'int32' : t.dtype;
  const r = Node.make('expand', 'int32', [L, L], [Node.make('reshape', 'int32', [L, 1], [Node.make('iota', 'int32', [L], [], 0)])]);
  const c = Node.make('expand', 'int32', [L, L], [Node.make('reshape', 'int32', [1, L], [Node.make('iota', 'int32', [L], [], 0)])]);
  const mask = T(cast(Node.make('le', 'bool', [L, L], [r, c]), dt));
  return back(matmul(T(cast(t.node, dt)), mask));
}

/** Running products along `axis` (default the last). */
export function cumprod(x: TensorLike, axis = -1): Tensor {
  const { t: t0, back } = lastAxis(x, axis, 'cumprod');
  let t = t0.dtype === 'bool' ? T(cast(t0.node, 'int32')) : t0;
  const L = t.shape[t.rank - 1]!, lead = t.shape.slice(0, -1);
  for (let k = 1; k < L; k *= 2) {
    const shifted = pad(slice(t, t.shape.map(() => 0), [...lead, L - k]), [...lead.map(() => [0, 0] as [number, number]), [k, 0]], 1);
    t = mul(t, shifted);
  }
  return back(t);
}

