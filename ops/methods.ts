/**
 * Chainable methods on Tensor (`x.add(y).relu().sum()`), each delegating to the function of the
 * same name, declared by module augmentation so tensor.ts stays free of op imports.
 */
import type { DType } from '../ir/dtype.ts';
import type { TensorLike } from './graph.ts';
import { Tensor } from './tensor.ts';
import * as E from './elementwise.ts';
import * as M from './movement.ts';
import * as R from './reduce.ts';
import * as L from './linalg.ts';
import * as F from './nn/functional.ts';
import * as X from './math.ts';
import * as RA from './rearrange.ts';
import * as SC from './scan.ts';
import * as SO from './sorting.ts';
import type { Shape } from '../ir/shape.ts';

declare module './tensor.ts' {
  interface Tensor {
    add(b: TensorLike): Tensor; sub(b: TensorLike): Tensor; mul(b: TensorLike): Tensor; div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor; mod(b: TensorLike): Tensor; floorDiv(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor; minimum(b: TensorLike): Tensor;
    eq(b: TensorLike): Tensor; ne(b: TensorLike): Tensor; lt(b: TensorLike): Tensor; le(b: TensorLike): Tensor; gt(b: TensorLike): Tensor; ge(b: TensorLike): Tensor;
    logicalAnd(b: TensorLike): Tensor; logicalOr(b: TensorLike): Tensor; logicalNot(): Tensor;
    neg(): Tensor; abs(): Tensor; sign(): Tensor; floor(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; rsqrt(): Tensor;
    sin(): Tensor; cos(): Tensor; tanh(): Tensor; sigmoid(): Tensor; relu(): Tensor; square(): Tensor; reciprocal(): Tensor;
    gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor; clip(lo: number, hi: number): Tensor;
    where(a: TensorLike, b: TensorLike): Tensor; cast(dtype: DType): Tensor;
    sum(axes?: R.Axes, keepdims?: boolean): Tensor; mean(axes?: R.Axes, keepdims?: boolean): Tensor;
    max(axes?: R.Axes, keepdims?: boolean): Tensor; min(axes?: R.Axes, keepdims?: boolean): Tensor;
    argmax(axis?: number, keepdims?: boolean): Tensor; argmin(axis?: number, keepdims?: boolean): Tensor;
    variance(axes?: R.Axes, keepdims?: boolean): Tensor; logsumexp(axes?: R.Axes, keepdims?: boolean): Tensor;
    softmax(axis?: number): Tensor; logSoftmax(axis?: number): Tensor;
    reshape(shape: readonly number[]): Tensor; permute(perm: readonly number[]): Tensor; transpose(a?: number, b?: number): Tensor;
    expand(shape: Shape): Tensor; slice(begin: readonly number[], end?: readonly (number | undefined)[], steps?: readonly number[]): Tensor;
    pad(pads: readonly (readonly [number, number])[], value?: number): Tensor;
    squeeze(axes?: number | readonly number[]): Tensor; unsqueeze(axis: number): Tensor; flatten(): Tensor;
    matmul(b: TensorLike): Tensor;
    readonly T: Tensor;
    log1p(): Tensor; expm1(): Tensor; round(): Tensor; ceil(): Tensor; trunc(): Tensor; isnan(): Tensor; isinf(): Tensor; isfinite(): Tensor;
    tan(): Tensor; sinh(): Tensor; cosh(): Tensor; asinh(): Tensor; acosh(): Tensor; atanh(): Tensor; atan(): Tensor; asin(): Tensor; acos(): Tensor;
    atan2(x: TensorLike): Tensor;
    prod(axes?: R.Axes, keepdims?: boolean): Tensor; all(axes?: R.Axes, keepdims?: boolean): Tensor; any(axes?: R.Axes, keepdims?: boolean): Tensor;
    std(axes?: R.Axes, keepdims?: boolean, correction?: number): Tensor; norm(ord?: number, axes?: R.Axes, keepdims?: boolean): Tensor;
    cumsum(axis?: number): Tensor; cumprod(axis?: number): Tensor;
    flip(axes?: number | readonly number[]): Tensor; roll(shift: number, axis?: number): Tensor; tile(reps: readonly number[]): Tensor; repeat(repeats: number, axis?: number): Tensor;
    swapaxes(a: number, b: number): Tensor; moveaxis(from: number, to: number): Tensor; broadcastTo(shape: Shape): Tensor;
    split(sizes: number | readonly number[], axis?: number): Tensor[]; chunk(chunks: number, axis?: number): Tensor[]; tril(k?: number): Tensor; triu(k?: number): Tensor;
    topk(k: number, opts?: { axis?: number; largest?: boolean }): { values: Tensor; indices: Tensor };
    sort(axis?: number, opts?: { descending?: boolean }): Tensor; argsort(axis?: number, opts?: { descending?: boolean }): Tensor;
  }
}

const P = Tensor.prototype as unknown as Record<string, unknown>;
const bin = { add: E.add, sub: E.sub, mul: E.mul, div: E.div, pow: E.pow, mod: E.mod, floorDiv: E.floorDiv, maximum: E.maximum, minimum: E.minimum,
  eq: E.eq, ne: E.ne, lt: E.lt, le: E.le, gt: E.gt, ge: E.ge, logicalAnd: E.logicalAnd, logicalOr: E.logicalOr, matmul: L.matmul };
for (const [k, f] of Object.entries(bin)) P[k] = function (this: Tensor, b: TensorLike) { return f(this, b); };
const un = { neg: E.neg, abs: E.abs, sign: E.sign, floor: E.floor, exp: E.exp, log: E.log, sqrt: E.sqrt, rsqrt: E.rsqrt, sin: E.sin, cos: E.cos,
  tanh: E.tanh, sigmoid: E.sigmoid, relu: E.relu, square: E.square, reciprocal: E.reciprocal, logicalNot: E.logicalNot, flatten: M.flatten };
for (const [k, f] of Object.entries(un)) P[k] = function (this: Tensor) { return f(this); };
const rest: Record<string, (t: Tensor, ...a: never[]) => Tensor> = {
  gelu: E.gelu, clip: E.clip, cast: E.castTo, where: (c: Tensor, a: TensorLike, b: TensorLike) => E.where(c, a, b),
  sum: R.sum, mean: R.mean, max: R.max, min: R.min, argmax: R.argmax, argmin: R.argmin, variance: R.variance, logsumexp: R.logsumexp,
  softmax: F.softmax, logSoftmax: F.logSoftmax,
  reshape: M.reshape, permute: M.permute, transpose: M.transpose, expand: M.expand, slice: M.slice, pad: M.pad, squeeze: M.squeeze, unsqueeze: M.unsqueeze,
};
for (const [k, f] of Object.entries(rest)) P[k] = function (this: Tensor, ...a: never[]) { return f(this, ...a); };
const more: Record<string, (t: Tensor, ...a: never[]) => unknown> = {
  log1p: X.log1p, expm1: X.expm1, round: X.round, ceil: X.ceil, trunc: X.trunc, isnan: X.isnan, isinf: X.isinf, isfinite: X.isfinite,
  tan: X.tan, sinh: X.sinh, cosh: X.cosh, asinh: X.asinh, acosh: X.acosh, atanh: X.atanh, atan: X.atan, asin: X.asin, acos: X.acos, atan2: X.atan2,
  prod: R.prod, all: R.all, any: R.any, std: R.std, norm: R.norm, cumsum: SC.cumsum, cumprod: SC.cumprod,
  flip: RA.flip, roll: RA.roll, tile: RA.tile, repeat: RA.repeat, swapaxes: RA.swapaxes, moveaxis: RA.moveaxis, broadcastTo: RA.broadcastTo,
  split: RA.split, chunk: RA.chunk, tril: RA.tril, triu: RA.triu, topk: SO.topk, sort: SO.sort, argsort: SO.argsort,
};
for (const [k, f] of Object.entries(more)) P[k] = function (this: Tensor, ...a: never[]) { return f(this, ...a); };
Object.defineProperty(Tensor.prototype, 'T', { get(this: Tensor) { return M.transpose(this); } });
