/** Creating tensors: from JS data, constants, ranges and seeded random numbers. */
import { DTYPES, hostArray, type DType, type TypedArray } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { checkShape, numel, type Shape } from '../ir/shape.ts';
import { constant, T } from './graph.ts';
import { fromHost, type NestedArray, Tensor } from './tensor.ts';

export interface TensorOptions { dtype?: DType; shape?: readonly number[] }

function checkDtype(op: string, d: DType | undefined): void {
  if (d !== undefined && !DTYPES.includes(d)) throw new TesseraError(op, `unknown dtype '${d}'`, `use one of ${DTYPES.join(', ')}`);
}

function inferShape(data: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let x: NestedArray = data;
  while (Array.isArray(x)) { shape.push(x.length); x = x[0] as NestedArray; if (x === undefined) break; }
  const walk = (v: NestedArray, d: number) => {
    if (d === shape.length) { if (Array.isArray(v)) throw new TesseraError(op, 'nested arrays are ragged (deeper in some places than others)', 'give every row the same length'); return; }
    if (!Array.isArray(v) || v.length !== shape[d]) throw new TesseraError(op, `nested arrays are ragged: expected length ${shape[d]} at depth ${d}`, 'give every row the same length');
    v.forEach((c) => walk(c, d + 1));
  };
  walk(data, 0);
  return shape;
}

const typedDtype = (a: TypedArray | ArrayLike<number>): DType | undefined =>
  a instanceof Float32Array || a instanceof Float64Array ? 'float32' : a instanceof Int32Array ? 'int32' : a instanceof Uint32Array ? 'uint32' : a instanceof Uint8Array ? 'uint32' : undefined;

/** A tensor from nested arrays, a typed array (with `shape`), or a scalar. */
export function tensor(data: NestedArray | TypedArray | Float64Array | readonly number[], opts: TensorOptions = {}): Tensor {
  checkDtype('tensor', opts.dtype);
  let flat: ArrayLike<number | boolean>;
  let shape: number[];
  let inferred: DType;
  if (ArrayBuffer.isView(data)) {
    flat = data as ArrayLike<number>;
    shape = opts.shape ? [...opts.shape] : [flat.length];
    inferred = typedDtype(data as TypedArray) ?? 'float32';
  } else {
    shape = inferShape(data as NestedArray, 'tensor');
    const out: (number | boolean)[] = [];
    const walk = (v: NestedArray) => { if (Array.isArray(v)) v.forEach(walk); else out.push(v); };
    walk(data as NestedArray);
    flat = out;
    inferred = out.length && out.every((v) => typeof v === 'boolean') ? 'bool' : out.every((v) => typeof v === 'number' && Number.isInteger(v)) && out.length ? 'int32' : 'float32';
    if (out.some((v) => typeof v !== 'number' && typeof v !== 'boolean')) throw new TesseraError('tensor', 'data must contain only numbers or booleans');
    if (opts.shape) shape = [...opts.shape];
  }
  checkShape('tensor', shape);
  if (flat.length !== numel(shape))
    throw new TesseraError('tensor', `data has ${flat.length} values but shape ${fmtShape(shape)} needs ${numel(shape)}`, 'pass data whose length is the product of the shape');
  const dtype = opts.dtype ?? inferred;
  const host = hostArray(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) host[i] = +flat[i]!;
  if (dtype === 'bool') for (let i = 0; i < flat.length; i++) host[i] = flat[i] ? 1 : 0;
  return fromHost(host, dtype, shape);
}

export function full(shape: Shape, value: number | boolean, dtype?: DType): Tensor {
  checkShape('full', shape); checkDtype('full', dtype);
  const d = dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return T(constant(+value, d, shape));
}
export const zeros = (shape: Shape, dtype: DType = 'float32') => full(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = 'float32') => full(shape, 1, dtype);
export const zerosLike = (t: Tensor) => zeros(t.shape, t.dtype);
export const onesLike = (t: Tensor) => ones(t.shape, t.dtype);
export const fullLike = (t: Tensor, v: number) => full(t.shape, v, t.dtype);

/** Values start, start+step, ... below stop (computed on the GPU from an index, no upload). */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) { stop = start; start = 0; }
  if (step === 0) throw new TesseraError('arange', 'step must not be 0');
  checkDtype('arange', dtype);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const d = dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  const iota = Node.make('iota', d, [n], [], 0);
  const scaled = step === 1 ? iota : Node.make('mul', d, [n], [iota, constant(step, d, [n])]);
  return T(start === 0 ? scaled : Node.make('add', d, [n], [scaled, constant(start, d, [n])]));
}

/** n x n identity (or n x m). */
export function eye(n: number, m = n, dtype: DType = 'float32'): Tensor {
  checkShape('eye', [n, m]); checkDtype('eye', dtype);
  const r = Node.make('expand', 'int32', [n, m], [Node.make('reshape', 'int32', [n, 1], [Node.make('iota', 'int32', [n], [], 0)])]);
  const c = Node.make('expand', 'int32', [n, m], [Node.make('reshape', 'int32', [1, m], [Node.make('iota', 'int32', [m], [], 0)])]);
  return T(Node.make('cast', dtype, [n, m], [Node.make('eq', 'bool', [n, m], [r, c])]));
}

// ---- seeded random numbers (generated on the host: reproducible on every adapter) ----
let globalSeed = 0x9e3779b9;
/** Sets the seed used by rand/randn/initializers when no seed is given. */
export function seed(s: number): void { globalSeed = s >>> 0; }
/** The next seed of the global sequence (what prng() uses when given none). */
export function nextSeed(): number { return (globalSeed = (globalSeed + 0x6d2b79f5) >>> 0); }
/** A small fast PRNG (mulberry32); `next()` returns uniform [0, 1). */
export function prng(s?: number): () => number {
  let a = (s ?? nextSeed()) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomOptions { seed?: number; dtype?: DType }
/** Uniform values in [low, high). */
export function rand(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const next = prng(opts.seed), lo = opts.low ?? 0, hi = opts.high ?? 1;
  const a = new Float32Array(numel(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * next();
  return tensor(a, { shape, dtype: opts.dtype ?? 'float32' });
}
/** Normal values (Box-Muller) with the given mean and standard deviation. */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape('randn', shape);
  const next = prng(opts.seed), a = new Float32Array(numel(shape));
  for (let i = 0; i < a.length; i += 2) {
    const u = 1 - next(), v = next(), r = Math.sqrt(-2 * Math.log(u));
    a[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  const m = opts.mean ?? 0, s = opts.std ?? 1;
  if (m !== 0 || s !== 1) for (let i = 0; i < a.length; i++) a[i] = m + s * a[i]!;
  return tensor(a, { shape, dtype: opts.dtype ?? 'float32' });
}

/** `num` evenly spaced values from start to stop (stop included unless endpoint is false), computed on the device. */
export function linspace(start: number, stop: number, num = 50, opts: { endpoint?: boolean; dtype?: DType } = {}): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new TesseraError('linspace', `num must be a non-negative integer, got ${num}`);
  const endpoint = opts.endpoint ?? true, d = opts.dtype ?? 'float32';
  checkDtype('linspace', d);
  const step = (stop - start) / Math.max(endpoint ? num - 1 : num, 1);
  const i = Node.make('iota', 'float32', [num], [], 0);
  let v = Node.make('add', 'float32', [num], [Node.make('mul', 'float32', [num], [i, constant(step, 'float32', [num])]), constant(start, 'float32', [num])]);
  if (endpoint && num > 1) v = Node.make('where', 'float32', [num], [Node.make('eq', 'bool', [num], [i, constant(num - 1, 'float32', [num])]), constant(stop, 'float32', [num]), v]);
  return T(d === 'float32' ? v : Node.make('cast', d, [num], [v]));
}
