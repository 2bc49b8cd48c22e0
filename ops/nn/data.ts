/**
 * Training data on the host. fit/evaluate/predict take Tensors, nested arrays or typed arrays;
 * they are turned into one float32 host array each (a tensor made from JS data is read from its
 * host copy; a computed tensor is read back once). Batches are cut on the host (gathered through
 * a shuffled index when shuffling) and uploaded as input tensors: an upload is a queue write,
 * cheaper than any device-side gather, and it needs no kernel.
 */
import type { TypedArray } from '../../ir/dtype.ts';
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { numel, type Shape } from '../../ir/shape.ts';
import { hostDataOf } from '../../runtime/storage.ts';
import { tensor } from '../creation.ts';
import { fromHost, Tensor, type NestedArray } from '../tensor.ts';

export type Data = Tensor | NestedArray | TypedArray | Float64Array;
export interface HostData { data: Float32Array; shape: number[] }

/** The values of `x` as float32 on the host, with `x`'s shape (a typed array is a vector). */
export async function toHost(x: Data, op: string, what: string): Promise<HostData> {
  if (x instanceof Tensor) {
    const node = x.use(op);
    const host = node.op === 'input' ? hostDataOf(node) : null;
    const vals = host && host.length === x.size ? host : await x.data();
    return { data: vals instanceof Float32Array ? vals : Float32Array.from(vals as ArrayLike<number>), shape: [...x.shape] };
  }
  if (ArrayBuffer.isView(x)) return { data: Float32Array.from(x as ArrayLike<number>), shape: [(x as ArrayLike<number>).length] };
  if (!Array.isArray(x)) throw new TesseraError(op, `${what} must be a Tensor or nested arrays, got ${typeof x}`);
  const t = tensor(x, { dtype: 'float32' });
  const data = hostDataOf(t.node) as Float32Array;
  return { data, shape: [...t.shape] };
}

export function checkBatched(op: string, what: string, d: HostData): void {
  if (d.shape.length < 1 || d.shape[0] === 0)
    throw new TesseraError(op, `${what} of shape ${fmtShape(d.shape)} has no samples`, 'pass arrays whose first axis indexes the samples');
}

const rowSize = (d: HostData) => numel(d.shape.slice(1));

/** Rows [start, end) as a host-backed tensor (a view: no copy). */
export function rows(d: HostData, start: number, end: number): Tensor {
  const r = rowSize(d);
  return fromHost(d.data.subarray(start * r, end * r), 'float32', [end - start, ...d.shape.slice(1)], 'batch');
}

/** Rows idx[start..end) gathered into a new host-backed tensor. */
export function gather(d: HostData, idx: ArrayLike<number>, start: number, end: number): Tensor {
  const r = rowSize(d), out = new Float32Array((end - start) * r);
  for (let i = start; i < end; i++) out.set(d.data.subarray(idx[i]! * r, (idx[i]! + 1) * r), (i - start) * r);
  return fromHost(out, 'float32', [end - start, ...d.shape.slice(1)], 'batch');
}

/** The first `n` samples and the rest. */
export function split(d: HostData, n: number): [HostData, HostData] {
  const r = rowSize(d);
  return [
    { data: d.data.subarray(0, n * r), shape: [n, ...d.shape.slice(1)] },
    { data: d.data.subarray(n * r), shape: [d.shape[0]! - n, ...d.shape.slice(1)] },
  ];
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates over a seeded stream). */
export function permutation(n: number, next: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); const t = p[i]!; p[i] = p[j]!; p[j] = t; }
  return p;
}

/** [start, end) of each batch. */
export function batchBounds(n: number, batchSize: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += batchSize) out.push([s, Math.min(n, s + batchSize)]);
  return out;
}

export const featureShape = (d: { shape: Shape }) => d.shape.slice(1);
