/**
 * More elementwise math, composed from the primitives (so it fuses and differentiates):
 * log1p/expm1 (accurate near 0 by the Goldberg/Kahan corrections), round (half to even, as numpy),
 * ceil, trunc, isnan/isinf/isfinite, tan, the hyperbolic functions and their inverses, and
 * atan/atan2/asin/acos. atan is Cephes's float32 approximation (range reduction to |x| ≤ tan(π/8)
 * and a degree-9 odd polynomial; |error| ≲ 2e-7): WGSL has atan, but composing keeps the primitive
 * set (interpreter, codegen, VJP rules) small, and its gradient follows from the polynomial.
 * Denominators of unselected `where` branches are kept finite, so gradients never pick up NaN.
 */
import { add, abs, div, eq, exp, floor, gt, log, logicalAnd, logicalNot, logicalOr, lt, mod, mul, neg, sign, sin, cos, sqrt, sub, where } from './elementwise.ts';
import { floatOf, nodeOf, T, cast, type TensorLike } from './graph.ts';
import type { Tensor } from './tensor.ts';

const f = (x: TensorLike, op: string): Tensor => { const n = nodeOf(x, op); return T(cast(n, floatOf(n.dtype))); };

/** log(1 + x), accurate for small x: log(u)·x/(u - 1) with u = 1 + x (Goldberg). */
export function log1p(x: TensorLike): Tensor {
  const t = f(x, 'log1p'), u = add(t, 1), one = eq(u, 1);
  return where(one, t, div(mul(log(u), t), where(one, 1, sub(u, 1))));
}
/** exp(x) - 1, accurate for small x: (u - 1)·x/log(u) with u = exp(x) when |x| < 0.5 (Kahan). */
export function expm1(x: TensorLike): Tensor {
  const t = f(x, 'expm1'), small = lt(abs(t), 0.5), u = exp(where(small, t, 0)), one = eq(u, 1);
  const near = where(one, t, div(mul(sub(u, 1), t), where(one, 1, log(u))));
  return where(small, near, sub(exp(t), 1));
}

/** Rounds to the nearest integer, halves to even (numpy's round). Integer tensors are returned as they are. */
export function round(x: TensorLike): Tensor {
  const n = nodeOf(x, 'round');
  if (n.dtype !== 'float32' && n.dtype !== 'float16') return T(n);
  const t = T(n), fl = floor(t), d = sub(t, fl);
  const up = logicalOr(gt(d, 0.5), logicalAnd(eq(d, 0.5), eq(mod(fl, 2), 1)));
  return where(up, add(fl, 1), fl);
}
/** The smallest integer ≥ x. */
export function ceil(x: TensorLike): Tensor { const n = nodeOf(x, 'ceil'); return n.dtype === 'float32' || n.dtype === 'float16' ? neg(floor(neg(T(n)))) : T(n); }
/** Rounds toward zero. */
export function trunc(x: TensorLike): Tensor { const n = nodeOf(x, 'trunc'); return n.dtype === 'float32' || n.dtype === 'float16' ? mul(sign(T(n)), floor(abs(T(n)))) : T(n); }

/** True where x is NaN (x != x; as argmax's NaN rule). */
export const isnan = (x: TensorLike) => { const t = T(nodeOf(x, 'isnan')); return logicalNot(eq(t, t)); };
/** True where x is +∞ or -∞. */
export const isinf = (x: TensorLike) => eq(abs(T(nodeOf(x, 'isinf'))), Infinity);
/** True where x is neither NaN nor infinite (|x| < ∞ is false for NaN). */
export const isfinite = (x: TensorLike) => lt(abs(T(nodeOf(x, 'isfinite'))), Infinity);

export const tan = (x: TensorLike) => { const t = f(x, 'tan'); return div(sin(t), cos(t)); };
export const sinh = (x: TensorLike) => { const t = f(x, 'sinh'); return mul(sub(expm1(t), expm1(neg(t))), 0.5); };
export const cosh = (x: TensorLike) => { const t = f(x, 'cosh'); return mul(add(exp(t), exp(neg(t))), 0.5); };
/** asinh(x) = sign(x)·log1p(|x| + x²/(1 + sqrt(x² + 1))), accurate near 0 and for large |x|. */
export const asinh = (x: TensorLike) => {
  const t = f(x, 'asinh'), a = abs(t), a2 = mul(a, a);
  return mul(sign(t), log1p(add(a, div(a2, add(sqrt(add(a2, 1)), 1)))));
};
/** acosh(x) = log(x + sqrt(x² - 1)) for x ≥ 1 (NaN below). */
export const acosh = (x: TensorLike) => { const t = f(x, 'acosh'); return log(add(t, sqrt(sub(mul(t, t), 1)))); };
/** atanh(x) = log1p(2x / (1 - x)) / 2 for |x| < 1. */
export const atanh = (x: TensorLike) => { const t = f(x, 'atanh'); return mul(log1p(div(mul(t, 2), sub(1, t))), 0.5); };

const T3P8 = 2.414213562373095, TP8 = 0.4142135623730950;
/** Arctangent (Cephes atanf), written odd-symmetrically so the gradient is right at 0 too. */
export function atan(x: TensorLike): Tensor {
  const t = f(x, 'atan'), s = sign(t), a = abs(t);
  const big = gt(a, T3P8), mid = logicalAnd(gt(a, TP8), logicalNot(big));
  // atan(x) = s·π/2 + atan(-1/x) (big), s·π/4 + atan(s·(|x|-1)/(|x|+1)) (mid), atan(x) (small).
  const r = where(big, div(-1, where(big, t, 1)), where(mid, mul(div(sub(a, 1), add(a, 1)), s), t));
  const base = mul(s, where(big, Math.PI / 2, where(mid, Math.PI / 4, 0)));
  const z = mul(r, r);
  const p = mul(mul(sub(mul(add(mul(sub(mul(z, 8.05374449538e-2), 1.38776856032e-1), z), 1.99777106478e-1), z), 3.33329491539e-1), z), r);
  return add(base, add(p, r));
}
/** atan2(y, x): the angle of (x, y) in (-π, π], quadrants as Math.atan2. */
export function atan2(y: TensorLike, x: TensorLike): Tensor {
  const Y = f(y, 'atan2'), X = f(x, 'atan2'), x0 = eq(X, 0);
  const q = atan(div(Y, where(x0, 1, X)));
  const neg0 = lt(X, 0), yNeg = lt(Y, 0);
  const main = where(neg0, where(yNeg, sub(q, Math.PI), add(q, Math.PI)), q);
  // On x = 0: ±π/2, 0 for y = 0, NaN for NaN (as Math.atan2(NaN, 0); not y·0: drivers may fold that to 0).
  return where(x0, where(gt(Y, 0), Math.PI / 2, where(yNeg, -Math.PI / 2, where(isnan(Y), Y, 0))), main);
}
/** asin(x) = atan2(x, sqrt(1 - x²)). */
export const asin = (x: TensorLike) => { const t = f(x, 'asin'); return atan2(t, sqrt(sub(1, mul(t, t)))); };
/** acos(x) = atan2(sqrt(1 - x²), x). */
export const acos = (x: TensorLike) => { const t = f(x, 'acos'); return atan2(sqrt(sub(1, mul(t, t))), t); };
