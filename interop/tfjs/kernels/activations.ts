/** Activation kernels (and their dedicated gradient kernels): Relu, Relu6, Elu, Selu, LeakyRelu, Prelu, Sigmoid, Softplus, Step. */
import * as E from '../../../ops/elementwise.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import { kernel } from '../kernel.ts';

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** tfjs's fused activations (_FusedMatMul, FusedConv2D): name -> f(x, preluWeights, leakyAlpha). */
export function activate(x: Tensor, activation: string | undefined, prelu?: Tensor, alpha = 0.2): Tensor {
  switch (activation ?? 'linear') {
    case 'linear': return x;
    case 'relu': return E.relu(x);
    case 'relu6': return E.clip(x, 0, 6);
    case 'elu': return E.elu(x);
    case 'sigmoid': return E.sigmoid(x);
    case 'leakyrelu': return E.leakyRelu(x, alpha);
    case 'prelu': return E.where(E.lt(x, 0), E.mul(x, prelu!), x);
    default: throw new Error(`unknown fused activation '${activation}'`);
  }
}

export const activationKernels = [
  kernel('Relu', ({ x }) => E.relu(x!)),
  kernel('Relu6', ({ x }) => E.clip(x!, 0, 6)),
  kernel('Elu', ({ x }) => E.elu(x!)),
  // dy where y >= 0, else dy * (y + 1) (the derivative of elu in terms of its output)
  kernel('EluGrad', ({ dy, y }) => E.where(E.lt(y!, 0), E.mul(dy!, E.add(y!, 1)), dy!)),
  kernel('Selu', ({ x }) => E.mul(E.where(E.gt(x!, 0), x!, E.mul(E.sub(E.exp(x!), 1), SELU_ALPHA)), SELU_SCALE)),
  kernel<{ alpha: number }>('LeakyRelu', ({ x }, { alpha }) => E.leakyRelu(x!, alpha)),
  kernel('Prelu', ({ x, alpha }) => activate(x!, 'prelu', alpha)),
  kernel('Sigmoid', ({ x }) => E.sigmoid(x!)),
  kernel('Softplus', ({ x }) => E.softplus(x!)),
  // 1 where x > 0, alpha elsewhere, NaN for NaN (tfjs's rule)
  kernel<{ alpha: number }>('Step', ({ x }, { alpha }) => E.where(E.ne(x!, x!), x!, E.where(E.gt(x!, 0), 1, alpha))),
];
