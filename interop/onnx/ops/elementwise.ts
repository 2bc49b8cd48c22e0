/** ONNX elementwise ops: arithmetic, comparisons, logic, activations, Where, Cast, Identity, Dropout. */
import { isFloat } from '../../../ir/dtype.ts';
import * as E from '../../../ops/elementwise.ts';
import { binaryNode, T } from '../../../ops/graph.ts';
import { full } from '../../../ops/creation.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { deviceDtype, HostTensor, isFloatType } from '../host.ts';
import { BINARY, hostMap } from '../host-ops.ts';
import { ElemType } from '../schema.ts';

const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or']);

const DEVICE_BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  Add: E.add, Sub: E.sub, Mul: E.mul,
  // Integer Div truncates in ONNX (WGSL's integer division does too); float Div is true division.
  Div: (a, b) => (isFloat(a.dtype) || isFloat(b.dtype) ? E.div(a, b) : T(binaryNode('div', a.node, b.node, 'Div'))),
  Pow: (a, b) => { const y = E.pow(a, b); return isFloat(a.dtype) ? y : E.floor(E.add(y, 0.5)).cast(a.dtype); },
  Max: E.maximum, Min: E.minimum,
  Equal: E.eq, Less: E.lt, Greater: E.gt, LessOrEqual: E.le, GreaterOrEqual: E.ge, And: E.logicalAnd, Or: E.logicalOr,
};

function binary(name: string): OnnxOp {
  return {
    device: (c) => {
      // Max, Min (and Sum, Mean) are variadic; the others take two inputs.
      let acc = c.tensor(0);
      for (let i = 1; i < c.count; i++) acc = DEVICE_BINARY[name]!(acc, c.tensor(i));
      return acc;
    },
    host: (c) => {
      const xs = Array.from({ length: c.count }, (_, i) => c.host(i));
      const t = xs[0]!.type, f = BINARY[name]!;
      return hostMap(COMPARE.has(name) ? ElemType.BOOL : t, xs, (...v) => v.reduce((a, b) => f(a, b, t)), c.label);
    },
  };
}

const unary = (f: (x: Tensor, c: OpContext) => Tensor, host?: (v: number, c: OpContext) => number): OnnxOp => ({
  device: (c) => f(c.tensor(0), c),
  host: host && ((c) => { const x = c.host(0); return hostMap(x.type, [x], (v) => host(v, c), c.label); }),
});

/** C's fmod: a - b * trunc(a / b) (the sign of the dividend). */
function fmod(a: Tensor, b: Tensor): Tensor {
  const q = E.div(a, b);
  return E.sub(a, E.mul(b, E.mul(E.floor(E.abs(q)), E.sign(q))));
}

const hardSigmoid = (x: Tensor, alpha: number, beta: number) => E.clip(E.add(E.mul(x, alpha), beta), 0, 1);

function clip(c: OpContext): Tensor {
  let x = c.tensor(0);
  if (c.opset < 11) return E.clip(x, c.float('min', -Infinity), c.float('max', Infinity));
  if (c.has(1)) x = E.maximum(x, c.isHost(1) ? c.host(1).data[0]! : c.tensor(1));
  if (c.has(2)) x = E.minimum(x, c.isHost(2) ? c.host(2).data[0]! : c.tensor(2));
  return x;
}

function castHost(c: OpContext): HostTensor {
  const x = c.host(0), to = c.int('to', ElemType.FLOAT);
  deviceDtype(to, `${c.label} 'to'`);
  const conv = isFloatType(to) ? (v: number) => v : to === ElemType.BOOL ? (v: number) => +(v !== 0) : (v: number) => Math.trunc(v);
  return HostTensor.of(to, x.dims, Array.from(x.data, conv));
}

export const ELEMENTWISE: Record<string, OnnxOp> = {
  ...Object.fromEntries(Object.keys(DEVICE_BINARY).map((k) => [k, binary(k)])),
  Sum: { device: (c) => { let a = c.tensor(0); for (let i = 1; i < c.count; i++) a = E.add(a, c.tensor(i)); return a; } },
  Mean: { device: (c) => { let a = c.tensor(0); for (let i = 1; i < c.count; i++) a = E.add(a, c.tensor(i)); return E.div(a, c.count); } },
  Mod: { device: (c) => (c.int('fmod', 0) ? fmod(c.tensor(0), c.tensor(1)) : E.mod(c.tensor(0), c.tensor(1))) },
  Neg: unary(E.neg, (v) => -v), Abs: unary(E.abs, Math.abs), Sign: unary(E.sign, Math.sign),
  Sqrt: unary(E.sqrt), Exp: unary(E.exp), Log: unary(E.log), Reciprocal: unary(E.reciprocal),
  Floor: unary(E.floor, Math.floor), Ceil: unary((x) => E.neg(E.floor(E.neg(x))), Math.ceil),
  Sin: unary(E.sin), Cos: unary(E.cos), Tanh: unary(E.tanh), Sigmoid: unary(E.sigmoid), Erf: unary(E.erf),
  Relu: unary(E.relu, (v) => Math.max(v, 0)),
  Not: unary(E.logicalNot, (v) => +!v),
  LeakyRelu: unary((x, c) => E.leakyRelu(x, c.float('alpha', 0.01))),
  Elu: unary((x, c) => E.elu(x, c.float('alpha', 1))),
  Softplus: unary(E.softplus),
  HardSigmoid: unary((x, c) => hardSigmoid(x, c.float('alpha', 0.2), c.float('beta', 0.5))),
  HardSwish: unary((x) => E.mul(x, hardSigmoid(x, 1 / 6, 0.5))),
  Gelu: unary((x, c) => E.gelu(x, { approximate: c.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none' })),
  PRelu: { device: (c) => { const x = c.tensor(0); return E.where(E.lt(x, 0), E.mul(x, c.tensor(1)), x); } },
  Clip: { device: clip },
  Where: {
    device: (c) => E.where(c.tensor(0), c.tensor(1), c.tensor(2)),
    host: (c) => hostMap(c.host(1).type, [c.host(0), c.host(1), c.host(2)], (k, a, b) => (k ? a : b), c.label),
  },
  Cast: { device: (c) => c.tensor(0).cast(deviceDtype(c.int('to', ElemType.FLOAT), `${c.label} 'to'`)), host: castHost },
  Identity: { device: (c) => c.value(0) },
  Dropout: {
    // Inference: the identity (and an all-true mask when the model asks for it).
    device: (c) => {
      const x = c.value(0);
      return c.node.outputs.length > 1 ? [x, full([...(x instanceof HostTensor ? x.dims : x.shape)], true, 'bool')] : x;
    },
  },
};
