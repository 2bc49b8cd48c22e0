/**
 * Indexing by integer tensors: `take` (numpy), `gather` (ONNX / TensorFlow Gather: take along one
 * axis) and `takeAlongAxis` (numpy take_along_axis, torch.gather, ONNX GatherElements).
 *
 * All three are compositions, not a primitive: each output element is the sum over the indexed
 * axis of where(iota == index, x, 0). The compare, the select and the sum fuse into one row kernel
 * (no one-hot buffer), the result is exact for every dtype (one term is x, the others exactly 0;
 * infinities and NaNs elsewhere in x do not leak in, as they would through a one-hot matmul), and
 * the gradient is the same shape of graph the other way round (a masked sum over the indices:
 * the scatter-add a gather's backward pass needs). But its work and virtual compare grid are
 * |output| x |axis|, while a one-hot matmul (as `nn.embedding`) has a grid of |indices| x |axis|
 * and lets the tiled matmul kernel do the work: bench/onnx.ts measured it 8-48x faster on a
 * [256, 64] table and between 0.8x and 7x on [1024, 64] (three runs on a busy machine), and a
 * large table would exceed a storage binding with select-and-sum. So a float `gather` whose grid
 * exceeds SELECT_MAX elements is a one-hot matmul, exact for finite values (a non-finite value in
 * x spreads NaN through its column, 0 * inf); smaller ones, and every int or bool gather, use
 * select-and-sum, which also fuses with its producer into one kernel. `method` forces either.
 *
 * Negative indices count from the end (-1 is the last); indices outside [-n, n) select nothing and
 * give 0.
 */
import { isFloat, isInt } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { normAxis, numel } from '../ir/shape.ts';
import { broadcastTo, constant, nodeOf, reshape, T, whereNode, type TensorLike } from './graph.ts';
import { matmul } from './linalg.ts';
import { permute } from './movement.ts';
import { sum } from './reduce.ts';
import type { Tensor } from './tensor.ts';

/** Largest |output| x |axis| compare grid gathered by select-and-sum (above it, float data use a one-hot matmul). */
export const SELECT_MAX = 1 << 16;

function indexNode(indices: TensorLike, op: string, size: number): Node {
  const i = nodeOf(indices, op);
  if (!isInt(i.dtype))
    throw new TesseraError(op, `indices must be int32 or uint32, got ${i.dtype} of shape ${fmtShape(i.shape)}`, 'cast them with .cast("int32")');
  if (i.dtype === 'uint32') return i;
  // idx < 0 ? idx + size : idx
  const neg = Node.make('lt', 'bool', i.shape, [i, constant(0, 'int32', i.shape)]);
  return whereNode(neg, Node.make('add', 'int32', i.shape, [i, constant(size, 'int32', i.shape)]), i);
}

/**
 * Selects along the last axis of `x` ([..., n]) by `idx` (the same rank, broadcast to x's leading
 * dims, last dim 1): the heart of every op here.
 */
function selectLast(x: Node, idx: Node, op: string): Node {
  const n = x.shape[x.shape.length - 1]!;
  const iota = reshape(Node.make('iota', idx.dtype, [n], [], 0), [...x.shape.slice(0, -1).map(() => 1), n]);
  const hit = Node.make('eq', 'bool', x.shape, [broadcastTo(idx, x.shape, op), broadcastTo(iota, x.shape, op)]);
  const dt = x.dtype === 'bool' ? 'int32' : x.dtype;
  const sel = whereNode(hit, x, constant(0, x.dtype, x.shape));
  const r = sum(T(dt === x.dtype ? sel : Node.make('cast', dt, sel.shape, [sel])), -1);
  return x.dtype === 'bool' ? Node.make('cast', 'bool', r.shape, [r.node]) : r.node;
}

/** gather(x, indices, axis): x.shape[:axis] + indices.shape + x.shape[axis+1:] (ONNX Gather, tf.gather). */
export function gather(x: TensorLike, indices: TensorLike, axis = 0, method?: GatherMethod): Tensor {
  const xn = nodeOf(x, 'gather');
  if (xn.shape.length === 0) throw new TesseraError('gather', 'cannot index a scalar', 'reshape it to [1] first');
  const a = normAxis('gather', axis, xn.shape.length);
  const idx = indexNode(indices, 'gather', xn.shape[a]!);
  const grid = numel(xn.shape) * numel(idx.shape);
  const m = method ?? (isFloat(xn.dtype) && grid > SELECT_MAX ? 'onehot' : 'select');
  return m === 'onehot' ? oneHotGather(xn, idx, a) : selectGather(xn, idx, a);
}

/** How gather computes: a where-sum row kernel ('select', exact for every value) or a one-hot matmul ('onehot'). */
export type GatherMethod = 'select' | 'onehot';

function selectGather(xn: Node, idx: Node, a: number): Tensor {
  const A = xn.shape[a]!, pre = xn.shape.slice(0, a), post = xn.shape.slice(a + 1), I = numel(idx.shape), r = xn.shape.length;
  // [pre, A, post] -> [pre, post, A] -> [pre, 1, post, A] broadcast against indices [1, I, 1, 1]
  const moved = permute(T(xn), [...[...Array(r).keys()].filter((d) => d !== a), a]).node;
  const P = numel(pre), Q = numel(post);
  const xe = broadcastTo(reshape(moved, [P, 1, Q, A]), [P, I, Q, A], 'gather');
  const sel = selectLast(xe, reshape(idx, [1, I, 1, 1]), 'gather');
  return T(reshape(sel, [...pre, ...idx.shape, ...post]));
}

/** gather as onehot(indices) [I, A] · x [A, pre*post] (the one-hot is computed inside the matmul's prologue). */
function oneHotGather(x: Node, idx: Node, a: number): Tensor {
  const A = x.shape[a]!, I = numel(idx.shape), pre = x.shape.slice(0, a), post = x.shape.slice(a + 1), r = x.shape.length;
  const xm = reshape(permute(T(x), [a, ...[...Array(r).keys()].filter((d) => d !== a)]).node, [A, numel(pre) * numel(post)]);
  const shape = [I, A];
  const id = broadcastTo(reshape(idx, [I, 1]), shape, 'gather');
  const col = broadcastTo(reshape(Node.make('iota', idx.dtype, [A], [], 0), [1, A]), shape, 'gather');
  const onehot = Node.make('cast', x.dtype, shape, [Node.make('eq', 'bool', shape, [id, col])]);
  const y = matmul(T(onehot), T(xm)); // [I, pre*post]
  const back = permute(T(reshape(y.node, [I, numel(pre), numel(post)])), [1, 0, 2]);
  return T(reshape(back.node, [...pre, ...idx.shape, ...post]));
}

/** numpy take: like gather, but with no axis the input is flattened first. */
export function take(x: TensorLike, indices: TensorLike, axis?: number): Tensor {
  if (axis !== undefined) return gather(x, indices, axis);
  const xn = nodeOf(x, 'take');
  return gather(T(reshape(xn, [numel(xn.shape)])), indices, 0);
}

/**
 * takeAlongAxis(x, indices, axis): out[..., i, ...] = x[..., indices[..., i, ...], ...] along `axis`;
 * indices has x's rank, and its other dims broadcast against x's (numpy take_along_axis, torch.gather).
 */
export function takeAlongAxis(x: TensorLike, indices: TensorLike, axis: number): Tensor {
  const xn = nodeOf(x, 'takeAlongAxis'), r = xn.shape.length;
  const a = normAxis('takeAlongAxis', axis, r);
  const idx = indexNode(indices, 'takeAlongAxis', xn.shape[a]!);
  if (idx.shape.length !== r)
    throw new TesseraError('takeAlongAxis', `indices ${fmtShape(idx.shape)} must have the rank of x ${fmtShape(xn.shape)}`,
      'unsqueeze the indices to the same rank');
  const out = xn.shape.map((d, i) => {
    const e = idx.shape[i]!;
    if (i === a) return e;
    if (d !== e && d !== 1 && e !== 1)
      throw new TesseraError('takeAlongAxis', `indices ${fmtShape(idx.shape)} do not broadcast against x ${fmtShape(xn.shape)} on axis ${i}`,
        'make the sizes equal or 1');
    return Math.max(d, e);
  });
  const others = [...Array(r).keys()].filter((d) => d !== a);
  const front = [...others.map((d) => out[d]!), out[a]!];
  const perm = [...others, a];
  // x: [others..., 1, A] broadcast to [others..., J, A]; indices: [others..., J, 1]
  const xm = permute(T(xn), perm).node, im = permute(T(idx), perm).node;
  const xe = broadcastTo(reshape(xm, [...xm.shape.slice(0, -1), 1, xn.shape[a]!]), [...front, xn.shape[a]!], 'takeAlongAxis');
  const ie = broadcastTo(reshape(im, [...im.shape, 1]), [...front, 1], 'takeAlongAxis');
  const sel = selectLast(xe, ie, 'takeAlongAxis'); // [others..., J]
  const inv = perm.map((_, i) => perm.indexOf(i));
  return permute(T(sel), inv);
}
