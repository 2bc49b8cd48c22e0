/**
 * Splits a reduction with few output rows and a long reduced extent into two reductions (partial
 * results over chunks, then over the partials), so the work spreads over many workgroups instead
 * of one. Padding uses the reduction's identity, so any length works.
 */
import type { DType } from '../dtype.ts';
import type { ReduceArg } from '../node.ts';
import { Node } from '../node.ts';
import { numel } from '../shape.ts';
import { rewrite } from './rewrite.ts';

const CHUNK = 1024, MIN_EXTENT = 8192, MAX_ROWS = 64;

/** The identity of max/min in dtype d (infinities exist only for floats). */
function identity(op: 'max' | 'min', d: DType): number {
  const hi = op === 'min';
  switch (d) {
    case 'float32': case 'float16': return hi ? Infinity : -Infinity;
    case 'int32': return hi ? 2147483647 : -2147483648;
    case 'uint32': return hi ? 4294967295 : 0;
    case 'bool': return hi ? 1 : 0;
    default: return d satisfies never;
  }
}

export function splitReductionNode(n: Node): Node {
  if (n.op !== 'reduce') return n;
  const x = n.src[0]!, { op, axes } = n.arg as ReduceArg;
  const red = numel(axes.map((a) => x.shape[a]!)), rows = numel(n.shape);
  if (red < MIN_EXTENT || rows > MAX_ROWS) return n;
  const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const perm = [...kept, ...axes];
  let y = Node.make('permute', x.dtype, perm.map((d) => x.shape[d]!), [x], perm);
  y = Node.make('reshape', x.dtype, [rows, red], [y]);
  const G = Math.ceil(red / CHUNK), padded = G * CHUNK;
  if (padded !== red) {
    const pads = [[0, 0], [0, padded - red]] as const;
    y = Node.make('pad', x.dtype, [rows, padded], [y], pads);
    if (op !== 'sum') {
      const ones = Node.make('const', 'bool', [rows, red], [], 1);
      const mask = Node.make('pad', 'bool', [rows, padded], [ones], pads);
      const ident = Node.make('const', x.dtype, [rows, padded], [], identity(op, x.dtype));
      y = Node.make('where', x.dtype, [rows, padded], [mask, y, ident]);
    }
  }
  y = Node.make('reshape', x.dtype, [rows, G, CHUNK], [y]);
  y = Node.make('reduce', n.dtype, [rows, G, 1], [y], { op, axes: [2] });
  y = Node.make('reshape', n.dtype, [rows, G], [y]);
  y = Node.make('reduce', n.dtype, [rows, 1], [y], { op, axes: [1] });
  return Node.make('reshape', n.dtype, n.shape, [y]);
}

export const splitReductions = (roots: readonly Node[]) => rewrite(roots, splitReductionNode);
