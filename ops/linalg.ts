/** Matrix products. matmul follows numpy: 1-D operands are vectors, batch dims broadcast. */
import { promote } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { broadcastShapes, numel } from '../ir/shape.ts';
import { broadcastTo, cast, nodeOf, reshape, T, type TensorLike } from './graph.ts';
import type { Tensor } from './tensor.ts';

export function matmul(a: TensorLike, b: TensorLike): Tensor {
  let x = nodeOf(a, 'matmul'), y = nodeOf(b, 'matmul');
  if (x.shape.length === 0 || y.shape.length === 0)
    throw new TesseraError('matmul', `operands must have at least one dimension, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`, 'use mul for scalars');
  const vecA = x.shape.length === 1, vecB = y.shape.length === 1;
  if (vecA) x = reshape(x, [1, x.shape[0]!]);
  if (vecB) y = reshape(y, [y.shape[0]!, 1]);
  const K = x.shape[x.shape.length - 1]!, K2 = y.shape[y.shape.length - 2]!;
  if (K !== K2)
    throw new TesseraError('matmul', `inner dimensions differ: ${fmtShape(nodeOf(a, 'matmul').shape)} has ${K} columns but ${fmtShape(nodeOf(b, 'matmul').shape)} has ${K2} rows`,
      'transpose or reshape an operand so the last axis of a matches the second-to-last of b');
  const M = x.shape[x.shape.length - 2]!, N = y.shape[y.shape.length - 1]!;
  if (y.shape.length === 2 && x.shape.length > 2) {
    // [..., M, K] · [K, N] (a Dense layer, a projection) is one [(...·M), K] · [K, N] product, as
    // jax's dot_general folds it: one 2-D matmul, whose weight gradient xᵀ·dy then contracts over
    // every row at once instead of a batched product summed over the batch afterwards.
    const lead = x.shape.slice(0, -1);
    const flat = nodeOf(matmul(T(reshape(x, [numel(lead), K])), T(y)), 'matmul');
    return T(reshape(flat, vecB ? lead : [...lead, N]));
  }
  const batch = broadcastShapes('matmul', x.shape.slice(0, -2), y.shape.slice(0, -2));
  const dt = promote(x.dtype, y.dtype) === 'bool' ? 'int32' : promote(x.dtype, y.dtype);
  const xa = broadcastTo(cast(x, dt), [...batch, M, K], 'matmul'), yb = broadcastTo(cast(y, dt), [...batch, K, N], 'matmul');
  let out = Node.make('matmul', dt, [...batch, M, N], [xa, yb]);
  if (vecA || vecB) out = reshape(out, [...batch, ...(vecA ? [] : [M]), ...(vecB ? [] : [N])]);
  return T(out);
}

/** Dot product of two vectors / matrix-vector, as matmul. */
export const dot = (a: TensorLike, b: TensorLike) => matmul(a, b);
