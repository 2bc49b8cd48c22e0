/**
 * Seeded weight initializers (Keras semantics). An initializer is a function from a shape to a
 * fresh float32 tensor backed by host data, so the first train step uploads it with the batch
 * (no extra kernel). Random values come from the mulberry32 generator in ops/creation.ts: pass
 * `{seed}` for a fixed draw, otherwise each call takes the next seed of the global sequence that
 * `seed(n)` resets, so `seed(0)` then building a model gives the same weights every run.
 *
 * Fans follow Keras: a [in, out] kernel has fanIn = in and fanOut = out; for higher ranks the
 * leading axes are the receptive field. Normal variants draw a normal truncated at 2 standard
 * deviations, rescaled (÷ .8796) so the variance is the target one, as Keras does.
 */
import { TesseraError } from '../../ir/error.ts';
import { numel, type Shape } from '../../ir/shape.ts';
import { prng, tensor } from '../creation.ts';
import type { Tensor } from '../tensor.ts';

export type Initializer = (shape: Shape) => Tensor;
export interface SeedOptions { seed?: number }

export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const receptive = numel(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

const fromValues = (shape: Shape, fill: (a: Float32Array) => void): Tensor => {
  const a = new Float32Array(numel(shape));
  fill(a);
  return tensor(a, { shape, dtype: 'float32' });
};

/** A standard normal sampler (Box-Muller) over a seeded uniform stream. */
function normals(next: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    const u = 1 - next(), v = next(), r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export const zeros = (): Initializer => (shape) => fromValues(shape, () => {});
export const ones = (): Initializer => (shape) => fromValues(shape, (a) => a.fill(1));
export const constant = (value: number): Initializer => (shape) => fromValues(shape, (a) => a.fill(value));

export const randomUniform = (opts: SeedOptions & { minval?: number; maxval?: number } = {}): Initializer => (shape) => {
  const lo = opts.minval ?? -0.05, hi = opts.maxval ?? 0.05, next = prng(opts.seed);
  return fromValues(shape, (a) => { for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * next(); });
};
export const randomNormal = (opts: SeedOptions & { mean?: number; stddev?: number } = {}): Initializer => (shape) => {
  const m = opts.mean ?? 0, s = opts.stddev ?? 0.05, z = normals(prng(opts.seed));
  return fromValues(shape, (a) => { for (let i = 0; i < a.length; i++) a[i] = m + s * z(); });
};
/** Normal truncated to ±2 standard deviations (redrawn outside). */
export const truncatedNormal = (opts: SeedOptions & { mean?: number; stddev?: number } = {}): Initializer => (shape) => {
  const m = opts.mean ?? 0, s = opts.stddev ?? 0.05, z = normals(prng(opts.seed));
  return fromValues(shape, (a) => {
    for (let i = 0; i < a.length; i++) { let v: number; do v = z(); while (Math.abs(v) > 2); a[i] = m + s * v; }
  });
};

type Mode = 'fanIn' | 'fanOut' | 'fanAvg';
/** Keras's VarianceScaling: variance = scale / fan. */
export function varianceScaling(opts: SeedOptions & { scale?: number; mode?: Mode; distribution?: 'uniform' | 'truncatedNormal' } = {}): Initializer {
  return (shape) => {
    const { fanIn, fanOut } = fans(shape);
    const fan = opts.mode === 'fanOut' ? fanOut : opts.mode === 'fanAvg' ? (fanIn + fanOut) / 2 : fanIn;
    const variance = (opts.scale ?? 1) / Math.max(1, fan);
    if (opts.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      return randomUniform({ seed: opts.seed, minval: -limit, maxval: limit })(shape);
    }
    return truncatedNormal({ seed: opts.seed, stddev: Math.sqrt(variance) / 0.87962566103423978 })(shape);
  };
}

/** Glorot/Xavier uniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). The default for Dense kernels. */
export const glorotUniform = (o: SeedOptions = {}) => varianceScaling({ ...o, scale: 1, mode: 'fanAvg', distribution: 'uniform' });
export const glorotNormal = (o: SeedOptions = {}) => varianceScaling({ ...o, scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal' });
/** He/Kaiming (for ReLU layers): variance 2 / fanIn. */
export const heNormal = (o: SeedOptions = {}) => varianceScaling({ ...o, scale: 2, mode: 'fanIn', distribution: 'truncatedNormal' });
export const heUniform = (o: SeedOptions = {}) => varianceScaling({ ...o, scale: 2, mode: 'fanIn', distribution: 'uniform' });
export const lecunNormal = (o: SeedOptions = {}) => varianceScaling({ ...o, scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' });
export const lecunUniform = (o: SeedOptions = {}) => varianceScaling({ ...o, scale: 1, mode: 'fanIn', distribution: 'uniform' });

const BY_NAME: Record<string, () => Initializer> = {
  zeros, ones, glorotUniform, glorotNormal, heNormal, heUniform, lecunNormal, lecunUniform,
  randomUniform, randomNormal, truncatedNormal, xavierUniform: glorotUniform, xavierNormal: glorotNormal, kaimingNormal: heNormal, kaimingUniform: heUniform,
};
export type InitializerName = 'zeros' | 'ones' | 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'lecunNormal' | 'lecunUniform'
  | 'randomUniform' | 'randomNormal' | 'truncatedNormal';
export type InitializerSpec = InitializerName | Initializer;

/** An initializer from a name ('glorotUniform' or 'glorot_uniform') or an initializer function. */
export function getInitializer(spec: InitializerSpec | string, op = 'initializer'): Initializer {
  if (typeof spec === 'function') return spec;
  const name = String(spec).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const make = BY_NAME[name];
  if (!make) throw new TesseraError(op, `unknown initializer '${spec}'`, `use one of ${Object.keys(BY_NAME).join(', ')}, or pass a function (shape) => Tensor`);
  return make();
}
