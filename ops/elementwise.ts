/** Elementwise math with numpy broadcasting and dtype promotion. All lazy; all fusable. */
import { isFloat, type DType } from '../ir/dtype.ts';
import { DTYPES } from '../ir/dtype.ts';
import { TesseraError } from '../ir/error.ts';
import type { UnaryOp } from '../ir/node.ts';
import { binaryNode, cast, constant, floatOf, nodeOf, operands, T, unaryNode, whereNode, type TensorLike } from './graph.ts';
import type { Tensor } from './tensor.ts';

const un = (op: UnaryOp, name: string, float = true) => (x: TensorLike): Tensor => {
  const n = nodeOf(x, name);
  const m = float ? cast(n, floatOf(n.dtype)) : n;
  return T(unaryNode(op, m));
};

export const neg = (x: TensorLike) => {
  const n = nodeOf(x, 'neg');
  return T(unaryNode('neg', n.dtype === 'bool' ? cast(n, 'int32') : n));
};
export const abs = (x: TensorLike) => { const n = nodeOf(x, 'abs'); return T(n.dtype === 'bool' ? n : unaryNode('abs', n)); };
export const sign = (x: TensorLike) => { const n = nodeOf(x, 'sign'); return T(n.dtype === 'bool' ? n : unaryNode('sign', n)); };
export const floor = (x: TensorLike) => { const n = nodeOf(x, 'floor'); return isFloat(n.dtype) ? T(unaryNode('floor', n)) : T(n); };
export const exp = un('exp', 'exp');
export const log = un('log', 'log');
export const sqrt = un('sqrt', 'sqrt');
export const sin = un('sin', 'sin');
export const cos = un('cos', 'cos');
export const tanh = un('tanh', 'tanh');
export const sigmoid = un('sigmoid', 'sigmoid');
export const reciprocal = un('recip', 'reciprocal');
export const rsqrt = (x: TensorLike) => reciprocal(sqrt(x));
/** Identity whose gradient is zero (JAX's stop_gradient, PyTorch's detach). */
export const stopGradient = (x: TensorLike) => T(unaryNode('detach', nodeOf(x, 'stopGradient')));
export const logicalNot = (x: TensorLike) => T(unaryNode('not', cast(nodeOf(x, 'logicalNot'), 'bool')));

export const add = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('add', a, b); return T(binaryNode('add', x, y)); };
export const sub = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('sub', a, b); return T(binaryNode('sub', x, y)); };
export const mul = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('mul', a, b); return T(binaryNode('mul', x, y)); };
/** True division: integer operands divide as float32 (as numpy's `/`). */
export const div = (a: TensorLike, b: TensorLike) => {
  const [x, y] = operands('div', a, b);
  const dt = floatOf(x.dtype === y.dtype ? x.dtype : isFloat(x.dtype) ? x.dtype : y.dtype);
  return T(binaryNode('div', x, y, 'div', dt));
};
/** Division rounded down, as numpy's `//` (-7 // 2 = -4): floor(a/b) for floats; for ints the
 * exact quotient (a - mod(a, b)) / b. Integer division by zero gives a (WGSL's rule). */
export const floorDiv = (a: TensorLike, b: TensorLike) => {
  const [x, y] = operands('floorDiv', a, b);
  const n = binaryNode('div', x, y, 'floorDiv');
  if (isFloat(n.dtype)) return T(unaryNode('floor', n));
  const [xx, yy] = [n.src[0]!, n.src[1]!];
  return T(binaryNode('div', binaryNode('sub', xx, binaryNode('mod', xx, yy)), yy, 'floorDiv'));
};
/** Remainder with the sign of the divisor (numpy's mod). */
export const mod = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('mod', a, b); return T(binaryNode('mod', x, y)); };
export const pow = (a: TensorLike, b: TensorLike) => {
  const [x, y] = operands('pow', a, b);
  const dt = floatOf(isFloat(x.dtype) ? x.dtype : y.dtype);
  return T(binaryNode('pow', x, y, 'pow', dt));
};
/** Elementwise maximum; NaN in either operand gives NaN. */
export const maximum = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('maximum', a, b); return T(binaryNode('max', x, y, 'maximum')); };
export const minimum = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('minimum', a, b); return T(binaryNode('min', x, y, 'minimum')); };
export const square = (x: TensorLike) => mul(x, x);

const cmp = (op: 'lt' | 'le' | 'eq' | 'ne', name: string, swap = false) => (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = operands(name, a, b);
  return T(swap ? binaryNode(op, y, x, name, undefined, 'bool') : binaryNode(op, x, y, name, undefined, 'bool'));
};
export const eq = cmp('eq', 'eq');
export const ne = cmp('ne', 'ne');
export const lt = cmp('lt', 'lt');
export const le = cmp('le', 'le');
export const gt = cmp('lt', 'gt', true);
export const ge = cmp('le', 'ge', true);
export const logicalAnd = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('logicalAnd', a, b); return T(binaryNode('and', cast(x, 'bool'), cast(y, 'bool'), 'logicalAnd', 'bool')); };
export const logicalOr = (a: TensorLike, b: TensorLike) => { const [x, y] = operands('logicalOr', a, b); return T(binaryNode('or', cast(x, 'bool'), cast(y, 'bool'), 'logicalOr', 'bool')); };

/** where(cond, a, b): a where cond is true, else b (all three broadcast together). */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const c = nodeOf(cond, 'where');
  const [x, y] = operands('where', a, b);
  return T(whereNode(c, x, y));
}

export function castTo(x: TensorLike, dtype: DType): Tensor {
  if (!DTYPES.includes(dtype)) throw new TesseraError('cast', `unknown dtype '${dtype}'`, `use one of ${DTYPES.join(', ')}`);
  return T(cast(nodeOf(x, 'cast'), dtype));
}

export const relu = (x: TensorLike) => { const n = nodeOf(x, 'relu'); return T(binaryNode('max', n, constant(0, n.dtype), 'relu')); };
export const clip = (x: TensorLike, lo: number, hi: number) => minimum(maximum(x, lo), hi);
export const leakyRelu = (x: TensorLike, alpha = 0.01) => { const t = nodeOf(x, 'leakyRelu'); return where(gt(T(t), 0), T(t), mul(T(t), alpha)); };
/** log(1 + exp(x)), stable for large |x|. */
export const softplus = (x: TensorLike) => { const t = T(nodeOf(x, 'softplus')); return add(relu(t), log(add(exp(neg(abs(t))), 1))); };
export const elu = (x: TensorLike, alpha = 1) => { const t = T(nodeOf(x, 'elu')); return where(gt(t, 0), t, mul(sub(exp(minimum(t, 0)), 1), alpha)); };
export const silu = (x: TensorLike) => { const t = T(nodeOf(x, 'silu')); return mul(t, sigmoid(t)); };

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), composed from primitives so it fuses and differentiates. */
export function erf(x: TensorLike): Tensor {
  const t0 = T(nodeOf(x, 'erf'));
  const ax = abs(t0);
  const t = reciprocal(add(mul(ax, 0.3275911), 1));
  const poly = mul(t, add(0.254829592, mul(t, add(-0.284496736, mul(t, add(1.421413741, mul(t, add(-1.453152027, mul(t, 1.061405429)))))))));
  const y = sub(1, mul(poly, exp(neg(mul(ax, ax)))));
  return mul(sign(t0), y);
}

/** GELU: x * Phi(x); `approximate: 'tanh'` uses the tanh formula (as GPT-2 did). */
export function gelu(x: TensorLike, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const t = T(nodeOf(x, 'gelu'));
  if (opts.approximate === 'tanh') {
    const inner = mul(add(t, mul(mul(mul(t, t), t), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(t, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(t, 0.5), add(erf(mul(t, Math.SQRT1_2)), 1));
}
