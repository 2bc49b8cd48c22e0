/** Activations composed from primitives (so they fuse into neighbours and differentiate). */
import { normAxis } from '../../ir/shape.ts';
import { exp, sub, div, mul, add, sqrt, stopGradient } from '../elementwise.ts';
import { nodeOf, T, type TensorLike } from '../graph.ts';
import { logsumexp, max, mean, sum, variance } from '../reduce.ts';
import type { Tensor } from '../tensor.ts';

/** softmax over `axis` (default last): exp(x - max) / sum(exp(x - max)); one row kernel. The
 * max only guards against overflow (softmax is shift-invariant), so it carries no gradient. */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const n = nodeOf(x, 'softmax');
  const a = normAxis('softmax', axis, n.shape.length);
  const e = exp(sub(T(n), stopGradient(max(T(n), a, true))));
  return div(e, sum(e, a, true));
}

export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const n = nodeOf(x, 'logSoftmax');
  const a = normAxis('logSoftmax', axis, n.shape.length);
  return sub(T(n), logsumexp(T(n), a, true));
}

/** Layer normalization over the last `axes` (default the last axis), with optional scale and shift. */
export function layerNorm(x: TensorLike, opts: { axes?: number[]; eps?: number; gamma?: Tensor; beta?: Tensor } = {}): Tensor {
  const n = nodeOf(x, 'layerNorm');
  const axes = (opts.axes ?? [-1]).map((a) => normAxis('layerNorm', a, n.shape.length));
  const mu = mean(T(n), axes, true);
  const v = variance(T(n), axes, true);
  let y = div(sub(T(n), mu), sqrt(add(v, opts.eps ?? 1e-5)));
  if (opts.gamma) y = mul(y, opts.gamma);
  if (opts.beta) y = add(y, opts.beta);
  return y;
}

/** RMS normalization over the last axis: x / sqrt(mean(x²) + eps), with an optional scale. */
export function rmsNorm(x: TensorLike, opts: { eps?: number; gamma?: Tensor } = {}): Tensor {
  const t = T(nodeOf(x, 'rmsNorm'));
  const y = div(t, sqrt(add(mean(mul(t, t), -1, true), opts.eps ?? 1e-6)));
  return opts.gamma ? mul(y, opts.gamma) : y;
}
