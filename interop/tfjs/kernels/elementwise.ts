/** Elementwise tfjs kernels: arithmetic, comparisons, math functions (Atan2 too), Select, Cast, ClipByValue. */
import type { DataType } from '@tensorflow/tfjs-core';
import * as E from '../../../ops/elementwise.ts';
import * as M from '../../../ops/math.ts';
import { Tensor } from '../../../ops/tensor.ts';
import { tesseraDtype } from '../backend.ts';
import { kernel, list } from '../kernel.ts';
import { HOST_LIMIT, hostCast, hostResult } from './host.ts';

type Bin = (a: Tensor, b: Tensor) => Tensor;
type Un = (x: Tensor) => Tensor;
const isInt = (t: Tensor) => t.dtype === 'int32';

/** log1p accurate for small x: log(u) * x / (u - 1) with u = 1 + x (Goldberg's trick). */
const log1p: Un = (x) => {
  const u = E.add(x, 1);
  return E.where(E.eq(u, 1), x, E.div(E.mul(E.log(u), x), E.sub(u, 1)));
};
/** expm1 accurate for small x: (u - 1) * x / log(u) with u = exp(x). */
const expm1: Un = (x) => {
  const u = E.exp(x);
  return E.where(E.eq(u, 1), x, E.where(E.eq(E.sub(u, 1), -1), -1, E.div(E.mul(E.sub(u, 1), x), E.log(u))));
};

const binary: Record<string, Bin> = {
  Add: E.add,
  Sub: E.sub,
  Multiply: E.mul,
  RealDiv: E.div,
  Maximum: E.maximum,
  Minimum: E.minimum,
  // tfjs: int ** int stays int32
  Pow: (a, b) => (isInt(a) && isInt(b) ? E.castTo(E.pow(a, b), 'int32') : E.pow(a, b)),
  SquaredDifference: (a, b) => E.square(E.sub(a, b)),
  FloorDiv: E.floorDiv,
  Mod: E.mod,
  Equal: E.eq,
  NotEqual: E.ne,
  Greater: E.gt,
  GreaterEqual: E.ge,
  Less: E.lt,
  LessEqual: E.le,
  LogicalAnd: E.logicalAnd,
  LogicalOr: E.logicalOr,
  // as tfjs: int32 operands give int32 (truncated)
  Atan2: (a, b) => (isInt(a) && isInt(b) ? E.castTo(M.atan2(a, b), 'int32') : M.atan2(a, b)),
};

const unary: Record<string, Un> = {
  Abs: E.abs,
  Neg: E.neg,
  Exp: E.exp,
  Expm1: expm1,
  Log: E.log,
  Log1p: log1p,
  Sqrt: E.sqrt,
  Rsqrt: E.rsqrt,
  Square: E.square,
  Reciprocal: E.reciprocal,
  Floor: E.floor,
  Ceil: (x) => (isInt(x) ? x : E.neg(E.floor(E.neg(x)))),
  Sign: E.sign,
  Sin: E.sin,
  Cos: E.cos,
  Tanh: E.tanh,
  Erf: E.erf,
  IsNan: (x) => E.ne(x, x),
  LogicalNot: E.logicalNot,
  // A new handle on the same value (Identity, and the copy tfjs makes of a variable's initial value).
  Identity: (x) => new Tensor(x.node),
};

export const elementwiseKernels = [
  ...Object.entries(binary).map(([name, f]) => kernel(name, (x) => f(x.a!, x.b!))),
  ...Object.entries(unary).map(([name, f]) => kernel(name, (x) => f(x.x!))),
  kernel('Select', (x) => E.where(x.condition!, x.t!, x.e!)),
  kernel('AddN', (x) => list(x).reduce((a, b) => E.add(a, b))),
  kernel<{ dtype: DataType }>('Cast', ({ x }, a, { backend, infos }) => {
    const dtype = tesseraDtype(a.dtype, 'Cast'), host = backend.hostOf(infos.x!);
    if (host && x!.size <= HOST_LIMIT) return hostResult(hostCast(host, dtype), dtype, x!.shape);
    return E.castTo(x!, dtype);
  }),
  // NaN stays NaN (as tfjs's cpu backend): compare-and-select rather than max/min.
  kernel<{ clipValueMin: number; clipValueMax: number }>('ClipByValue', ({ x }, a) =>
    E.where(E.gt(x!, a.clipValueMax), a.clipValueMax, E.where(E.lt(x!, a.clipValueMin), a.clipValueMin, x!))),
];

