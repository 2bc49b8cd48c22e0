/**
 * One-hot encodings and scatter-add, as comparisons against an iota and a one-hot matmul: they
 * fuse (the one-hot is computed in the matmul's prologue, never stored) and differentiate (the
 * gradient of scatterAdd with respect to the updates is the matching gather, by the matmul rule).
 */
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { shapesEqual } from '../ir/shape.ts';
import { add } from './elementwise.ts';
import { cast, nodeOf, T, whereNode, constant, type TensorLike } from './graph.ts';
import { matmul } from './linalg.ts';
import { reshape, transpose } from './movement.ts';
import type { DType } from '../ir/dtype.ts';
import type { Tensor } from './tensor.ts';

const isInt = (d: DType) => d === 'int32' || d === 'uint32';

/** One-hot rows: indices [...] -> [..., depth], onValue where index == class (out-of-range indices give all offValue, as tf.one_hot). */
export function oneHot(indices: TensorLike, depth: number, opts: { onValue?: number; offValue?: number; dtype?: DType } = {}): Tensor {
  const ids = nodeOf(indices, 'oneHot');
  if (!isInt(ids.dtype)) throw new TesseraError('oneHot', `indices must be int32 or uint32, got ${ids.dtype}`, 'cast them with .cast("int32")');
  if (!Number.isInteger(depth) || depth < 1) throw new TesseraError('oneHot', `depth must be a positive integer, got ${depth}`);
  const shape = [...ids.shape, depth], dt = opts.dtype ?? 'float32';
  const id = Node.make('expand', ids.dtype, shape, [Node.make('reshape', ids.dtype, [...ids.shape, 1], [ids])]);
  const cls = Node.make('expand', ids.dtype, shape, [Node.make('reshape', ids.dtype, [...ids.shape.map(() => 1), depth], [Node.make('iota', ids.dtype, [depth], [], 0)])]);
  const hit = Node.make('eq', 'bool', shape, [id, cls]);
  const on = opts.onValue ?? 1, off = opts.offValue ?? 0;
  if (on === 1 && off === 0) return T(cast(hit, dt));
  return T(whereNode(hit, constant(on, dt), constant(off, dt)));
}

/**
 * target with updates added at rows `indices` of axis 0 (repeated indices accumulate):
 * out[indices[i], ...] += updates[i, ...]. indices: int [...I]; updates: [...I, ...target.shape[1:]].
 */
export function scatterAdd(target: Tensor, indices: TensorLike, updates: Tensor): Tensor {
  const ids = nodeOf(indices, 'scatterAdd'), t = target.use('scatterAdd'), u = updates.use('scatterAdd');
  if (!isInt(ids.dtype)) throw new TesseraError('scatterAdd', `indices must be int32 or uint32, got ${ids.dtype}`, 'cast them with .cast("int32")');
  if (!t.shape.length) throw new TesseraError('scatterAdd', 'target must have at least one dimension');
  const rest = t.shape.slice(1), want = [...ids.shape, ...rest];
  if (!shapesEqual(u.shape, want))
    throw new TesseraError('scatterAdd', `updates have shape ${fmtShape(u.shape)}; indices ${fmtShape(ids.shape)} into a target ${fmtShape(t.shape)} need ${fmtShape(want)}`,
      'give one update row per index');
  const n = ids.shape.reduce((a, b) => a * b, 1), R = rest.reduce((a, b) => a * b, 1);
  const hot = transpose(oneHot(reshape(T(ids), [n]), t.shape[0]!, { dtype: target.dtype === 'bool' ? 'int32' : target.dtype }));   // [T0, n]
  return add(target, reshape(matmul(hot, reshape(updates, [n, R])), t.shape));
}
