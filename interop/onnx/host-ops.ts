/**
 * Host-side evaluation of the ops shape arithmetic uses (small tensors, plain loops): broadcast
 * elementwise maps, gather, concat, slice and transpose. Integers stay exact (float64); float
 * results are rounded to float32, as the device would.
 */
import { broadcastShapes, contiguousStrides, numel } from '../../ir/shape.ts';
import { HostTensor, isFloatType } from './host.ts';

/** Element types of ONNX integer division (truncating, as ORT's kernels). */
const truncates = (t: number) => !isFloatType(t);

/** out[i] = f(a[bi], b[bi], ...) with numpy broadcasting. */
export function hostMap(type: number, xs: readonly HostTensor[], f: (...v: number[]) => number, name = 'onnx'): HostTensor {
  const shape = xs.reduce<number[]>((s, x) => broadcastShapes(name, s, x.dims), []);
  const n = numel(shape), st = contiguousStrides(shape);
  const srcStrides = xs.map((x) => {
    const s = contiguousStrides(x.dims), off = shape.length - x.dims.length;
    return shape.map((_, d) => (d < off || x.dims[d - off] === 1 ? 0 : s[d - off]!));
  });
  const out = isFloatType(type) ? new Float32Array(n) : new Float64Array(n);
  const args = new Array<number>(xs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < xs.length; k++) {
      let off = 0, rem = i;
      for (let d = 0; d < shape.length; d++) { const q = Math.floor(rem / st[d]!); rem -= q * st[d]!; off += q * srcStrides[k]![d]!; }
      args[k] = xs[k]!.data[off]!;
    }
    out[i] = f(...args);
  }
  return new HostTensor(type, shape, out);
}

export const BINARY: Record<string, (a: number, b: number, t: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b,
  Div: (a, b, t) => (truncates(t) ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b),
  Pow: (a, b) => a ** b,
  Mod: (a, b, t) => (truncates(t) ? (b === 0 ? 0 : a - b * Math.floor(a / b)) : a % b),
  Max: (a, b) => Math.max(a, b), Min: (a, b) => Math.min(a, b),
  Equal: (a, b) => +(a === b), Less: (a, b) => +(a < b), Greater: (a, b) => +(a > b),
  LessOrEqual: (a, b) => +(a <= b), GreaterOrEqual: (a, b) => +(a >= b),
  And: (a, b) => +(a && b), Or: (a, b) => +(a || b),
};

/** x.take(indices, axis) on the host (negative indices count from the end). */
export function hostGather(x: HostTensor, idx: HostTensor, axis: number, fail: (i: number) => Error): HostTensor {
  const pre = numel(x.dims.slice(0, axis)), A = x.dims[axis]!, post = numel(x.dims.slice(axis + 1));
  const ids = idx.numbers().map((i) => { if (i < -A || i >= A) throw fail(i); return i < 0 ? i + A : i; });
  const out = isFloatType(x.type) ? new Float32Array(pre * ids.length * post) : new Float64Array(pre * ids.length * post);
  let o = 0;
  for (let p = 0; p < pre; p++) for (const i of ids) for (let q = 0; q < post; q++) out[o++] = x.data[(p * A + i) * post + q]!;
  return new HostTensor(x.type, [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)], out);
}

export function hostConcat(xs: readonly HostTensor[], axis: number): HostTensor {
  const x0 = xs[0]!, pre = numel(x0.dims.slice(0, axis)), post = numel(x0.dims.slice(axis + 1));
  const total = xs.reduce((s, x) => s + x.dims[axis]!, 0);
  const out = isFloatType(x0.type) ? new Float32Array(pre * total * post) : new Float64Array(pre * total * post);
  let o = 0;
  for (let p = 0; p < pre; p++) for (const x of xs) { const n = x.dims[axis]! * post; out.set(x.data.subarray(p * n, p * n + n), o); o += n; }
  const dims = [...x0.dims]; dims[axis] = total;
  return new HostTensor(x0.type, dims, out);
}

/** Strided slice: per axis start, step (non-zero) and output length. */
export function hostSlice(x: HostTensor, start: readonly number[], step: readonly number[], len: readonly number[]): HostTensor {
  const st = contiguousStrides(x.dims), n = numel(len), ost = contiguousStrides(len);
  const out = isFloatType(x.type) ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let off = 0, rem = i;
    for (let d = 0; d < len.length; d++) { const q = Math.floor(rem / ost[d]!); rem -= q * ost[d]!; off += (start[d]! + q * step[d]!) * st[d]!; }
    out[i] = x.data[off]!;
  }
  return new HostTensor(x.type, len, out);
}

export function hostTranspose(x: HostTensor, perm: readonly number[]): HostTensor {
  const st = contiguousStrides(x.dims), dims = perm.map((p) => x.dims[p]!), ost = contiguousStrides(dims), n = numel(dims);
  const out = isFloatType(x.type) ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let off = 0, rem = i;
    for (let d = 0; d < dims.length; d++) { const q = Math.floor(rem / ost[d]!); rem -= q * ost[d]!; off += q * st[perm[d]!]!; }
    out[i] = x.data[off]!;
  }
  return new HostTensor(x.type, dims, out);
}
