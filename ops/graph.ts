/**
 * Internal helpers the user-facing ops build on: turning scalars into constants, broadcasting,
 * and making nodes with checked shapes. Every user op validates its input here, at the call,
 * so bad input fails with a TesseraError before anything reaches the GPU.
 */
import { isFloat, promote, roundTo, type DType } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node, type BinaryOp, type UnaryOp } from '../ir/node.ts';
import { broadcastShapes, shapesEqual, type Shape } from '../ir/shape.ts';
import { Tensor } from './tensor.ts';

export type TensorLike = Tensor | number | boolean;

export const T = (n: Node) => new Tensor(n);

/** A JS scalar's dtype next to a tensor of dtype `like` (scalars are weakly typed, as in numpy). */
export function scalarDtype(v: number | boolean, like: DType): DType {
  if (typeof v === 'boolean') return like;
  if (isFloat(like)) return like;
  return Number.isInteger(v) ? (like === 'bool' ? 'int32' : like) : 'float32';
}

/** A constant node; its value is rounded to what the dtype holds (full([2], 0.5, 'int32') is 0, as in numpy and on the GPU). */
export const constant = (v: number, dtype: DType, shape: Shape = []) =>
  Node.make('const', dtype, shape, [], isFloat(dtype) ? +v : roundTo(dtype, +v));

export function nodeOf(x: TensorLike, op: string): Node {
  if (x instanceof Tensor) return x.use(op);
  if (typeof x === 'number' || typeof x === 'boolean') return constant(+x, typeof x === 'boolean' ? 'bool' : Number.isInteger(x) ? 'int32' : 'float32');
  throw badOperand(op, x);
}

const badOperand = (op: string, x: unknown) =>
  new TesseraError(op, `expected a Tensor, number or boolean, got ${Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x}`, 'wrap arrays with tensor(...)');

/** Nodes of two operands with scalars typed after the other operand. */
export function operands(op: string, a: TensorLike, b: TensorLike): [Node, Node] {
  for (const x of [a, b]) if (!(x instanceof Tensor) && typeof x !== 'number' && typeof x !== 'boolean') throw badOperand(op, x);
  if (a instanceof Tensor && !(b instanceof Tensor)) return [a.use(op), constant(+b, scalarDtype(b, a.dtype))];
  if (b instanceof Tensor && !(a instanceof Tensor)) return [constant(+a, scalarDtype(a, b.dtype)), b.use(op)];
  return [nodeOf(a, op), nodeOf(b, op)];
}

export function cast(n: Node, dtype: DType): Node {
  return n.dtype === dtype ? n : Node.make('cast', dtype, n.shape, [n]);
}

export function reshape(n: Node, shape: Shape): Node {
  return shapesEqual(n.shape, shape) ? n : Node.make('reshape', n.dtype, shape, [n]);
}

/** Broadcasts n to `shape` (numpy rules): reshape to the rank, then expand size-1 dims. */
export function broadcastTo(n: Node, shape: Shape, op = 'broadcastTo'): Node {
  if (shapesEqual(n.shape, shape)) return n;
  broadcastShapes(op, n.shape, shape);
  if (n.shape.length > shape.length) throw new TesseraError(op, `cannot broadcast ${fmtShape(n.shape)} to the lower-rank shape ${fmtShape(shape)}`);
  const r = reshape(n, [...new Array(shape.length - n.shape.length).fill(1), ...n.shape]);
  r.shape.forEach((d, i) => {
    if (d !== 1 && d !== shape[i]) throw new TesseraError(op, `cannot broadcast ${fmtShape(n.shape)} to ${fmtShape(shape)}`, 'dimensions must match or be 1');
  });
  return n.op === 'const' ? constant(n.arg as number, n.dtype, shape) : Node.make('expand', n.dtype, shape, [r]);
}

export function unaryNode(op: UnaryOp, x: Node, dtype: DType = x.dtype): Node {
  return Node.make(op, dtype, x.shape, [x]);
}

const ARITH = new Set<BinaryOp>(['add', 'sub', 'mul', 'div', 'mod', 'pow']);

/** A binary node with broadcasting and dtype promotion (`outDtype` overrides, e.g. bool for compares). */
export function binaryNode(op: BinaryOp, a: Node, b: Node, name: string = op, compute?: DType, outDtype?: DType): Node {
  const shape = broadcastShapes(name, a.shape, b.shape);
  let dt = compute ?? promote(a.dtype, b.dtype);
  // WGSL has no bool arithmetic: bools count as int32 0/1 here, as in neg and sum.
  if (dt === 'bool' && ARITH.has(op)) dt = 'int32';
  const aa = broadcastTo(cast(a, dt), shape, name), bb = broadcastTo(cast(b, dt), shape, name);
  return Node.make(op, outDtype ?? dt, shape, [aa, bb]);
}

export function whereNode(c: Node, a: Node, b: Node): Node {
  const shape = broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape);
  const dt = promote(a.dtype, b.dtype);
  return Node.make('where', dt, shape, [broadcastTo(cast(c, 'bool'), shape, 'where'), broadcastTo(cast(a, dt), shape, 'where'), broadcastTo(cast(b, dt), shape, 'where')]);
}

/** Float dtype for ops that need one (exp of an int tensor computes in float32, as numpy does). */
export const floatOf = (d: DType): DType => (isFloat(d) ? d : 'float32');
