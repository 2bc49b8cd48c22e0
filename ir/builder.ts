/**
 * Node-level constructors for code inside the compiler (gradient rules, passes) that builds
 * graphs directly. They assume shapes already agree; the checked, broadcasting versions for
 * users are in ops/.
 */
import type { DType } from './dtype.ts';
import { Node, type BinaryOp, type ReduceOp, type UnaryOp } from './node.ts';
import { shapesEqual, type Shape } from './shape.ts';

export const konst = (v: number, dtype: DType, shape: Shape) => Node.make('const', dtype, shape, [], v);
export const like = (v: number, n: Node) => konst(v, n.dtype, n.shape);
export const un = (op: UnaryOp, a: Node) => Node.make(op, a.dtype, a.shape, [a]);
export const bin = (op: BinaryOp, a: Node, b: Node) => Node.make(op, a.dtype, a.shape, [a, b]);
export const cmp = (op: 'lt' | 'le' | 'eq' | 'ne', a: Node, b: Node) => Node.make(op, 'bool', a.shape, [a, b]);
export const add = (a: Node, b: Node) => bin('add', a, b);
export const sub = (a: Node, b: Node) => bin('sub', a, b);
export const mul = (a: Node, b: Node) => bin('mul', a, b);
export const div = (a: Node, b: Node) => bin('div', a, b);
export const neg = (a: Node) => un('neg', a);
export const scale = (a: Node, v: number) => mul(a, like(v, a));
export const where = (c: Node, a: Node, b: Node) => Node.make('where', a.dtype, a.shape, [c, a, b]);
export const cast = (a: Node, d: DType) => (a.dtype === d ? a : Node.make('cast', d, a.shape, [a]));
export const reshape = (a: Node, s: Shape) => (shapesEqual(a.shape, s) ? a : Node.make('reshape', a.dtype, s, [a]));
export const expand = (a: Node, s: Shape) => (shapesEqual(a.shape, s) ? a : Node.make('expand', a.dtype, s, [a]));
export const permute = (a: Node, p: readonly number[]) => Node.make('permute', a.dtype, p.map((i) => a.shape[i]!), [a], p);
/** Reduce keeping dims (the IR's reduce always keeps them). */
export const reduce = (op: ReduceOp, a: Node, axes: readonly number[]) =>
  axes.length ? Node.make('reduce', a.dtype, a.shape.map((d, i) => (axes.includes(i) ? 1 : d)), [a], { op, axes: [...axes] }) : a;
export function matmul(a: Node, b: Node): Node {
  const r = a.shape.length;
  return Node.make('matmul', a.dtype, [...a.shape.slice(0, -1), b.shape[r - 1]!], [a, b]);
}
/** Swaps the last two axes. */
export function mT(a: Node): Node {
  const r = a.shape.length, p = [...Array(r).keys()];
  [p[r - 2], p[r - 1]] = [p[r - 1]!, p[r - 2]!];
  return permute(a, p);
}
