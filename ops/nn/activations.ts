/**
 * Activations by name. Layers take `activation: 'relu'` (Keras style) or a function; this table
 * maps names to the composed ops in ops/elementwise.ts and ops/nn/functional.ts, so an activation
 * fuses into the kernel that produced its input (a matmul epilogue for Dense) and differentiates
 * like any other op. Names are accepted in camelCase and snake_case ('log_softmax').
 */
import { TesseraError } from '../../ir/error.ts';
import { elu, gelu, leakyRelu, mul, relu, sigmoid, silu, softplus, tanh } from '../elementwise.ts';
import type { Tensor } from '../tensor.ts';
import { logSoftmax, softmax } from './functional.ts';

export type ActivationFn = (x: Tensor) => Tensor;
export type ActivationName =
  | 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'geluTanh' | 'softmax' | 'logSoftmax'
  | 'softplus' | 'elu' | 'selu' | 'silu' | 'swish' | 'leakyRelu';
export type ActivationSpec = ActivationName | ActivationFn | null | undefined;

const SELU_ALPHA = 1.6732632423543772, SELU_SCALE = 1.0507009873554805;

export const activations: Record<ActivationName, ActivationFn> = {
  linear: (x) => x,
  relu: (x) => relu(x),
  sigmoid: (x) => sigmoid(x),
  tanh: (x) => tanh(x),
  gelu: (x) => gelu(x),
  geluTanh: (x) => gelu(x, { approximate: 'tanh' }),
  softmax: (x) => softmax(x),
  logSoftmax: (x) => logSoftmax(x),
  softplus: (x) => softplus(x),
  elu: (x) => elu(x),
  selu: (x) => mul(elu(x, SELU_ALPHA), SELU_SCALE),
  silu: (x) => silu(x),
  swish: (x) => silu(x),
  leakyRelu: (x) => leakyRelu(x, 0.2),
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The activation's canonical name ('linear' for none), or null for a user function. */
export function activationName(spec: ActivationSpec, op = 'activation'): ActivationName | null {
  if (spec === undefined || spec === null) return 'linear';
  if (typeof spec === 'function') return null;
  const name = camel(String(spec)) as ActivationName;
  if (!(name in activations))
    throw new TesseraError(op, `unknown activation '${spec}'`, `use one of ${Object.keys(activations).join(', ')}, or pass a function`);
  return name;
}

/** The function for an activation name or function. */
export function getActivation(spec: ActivationSpec, op = 'activation'): ActivationFn {
  const name = activationName(spec, op);
  return name === null ? (spec as ActivationFn) : activations[name];
}
