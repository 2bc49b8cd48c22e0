/** Shape arithmetic shared by ops, passes and codegen: sizes, strides, broadcasting, axes. */
import { TesseraError, fmtShape } from './error.ts';

export type Shape = readonly number[];

export const numel = (s: Shape) => s.reduce((a, b) => a * b, 1);
export const shapesEqual = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Row-major (C-contiguous) strides. */
export function contiguousStrides(s: Shape): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) { st[i] = acc; acc *= s[i]!; }
  return st;
}

/** numpy broadcasting of two shapes; throws a TesseraError naming the op on mismatch. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new TesseraError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (dimension ${i} of the result: ${da} vs ${db})`,
        'make the sizes equal or 1 in each dimension, e.g. with reshape or unsqueeze');
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalizes a possibly negative axis; throws if out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1) && !(rank === 0 && axis === 0))
    throw new TesseraError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`, `use an axis in [${-rank}, ${rank - 1}]`);
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes an axis list (undefined = all axes), sorted and deduplicated. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new TesseraError(op, `repeated axis in ${JSON.stringify(list)}`, 'name each axis once');
  return out;
}

export function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new TesseraError(op, `invalid shape ${fmtShape(shape)}: sizes must be non-negative integers`);
}
