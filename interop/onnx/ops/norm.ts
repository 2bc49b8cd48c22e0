/** ONNX normalizations (inference): BatchNormalization, LayerNormalization, InstanceNormalization. */
import * as E from '../../../ops/elementwise.ts';
import * as R from '../../../ops/reduce.ts';
import * as M from '../../../ops/movement.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { normAxisOf } from './shape.ts';

/** A per-channel vector [C] shaped to broadcast over [N, C, spatial...]. */
const perChannel = (v: Tensor, rank: number) => M.reshape(v, [1, v.size, ...Array(Math.max(rank - 2, 0)).fill(1)]);

function batchNorm(c: OpContext): Tensor {
  if (c.int('training_mode', 0)) throw c.error('training_mode=1 is not supported',
    'export the model in eval mode (model.eval() before torch.onnx.export)');
  const x = c.tensor(0), r = x.rank, eps = c.float('epsilon', 1e-5);
  const [scale, bias, mean, v] = [1, 2, 3, 4].map((i) => perChannel(c.tensor(i), r)) as [Tensor, Tensor, Tensor, Tensor];
  return E.add(E.mul(E.div(E.sub(x, mean), E.sqrt(E.add(v, eps))), scale), bias);
}

function layerNorm(c: OpContext): Tensor[] {
  const x = c.tensor(0), a = normAxisOf(c, c.int('axis', -1), x.rank), eps = c.float('epsilon', 1e-5);
  const axes = Array.from({ length: x.rank - a }, (_, i) => a + i);
  const mu = R.mean(x, axes, true), inv = E.rsqrt(E.add(R.variance(x, axes, true), eps));
  let y = E.mul(E.sub(x, mu), inv);
  y = E.mul(y, c.tensor(1));
  if (c.has(2)) y = E.add(y, c.tensor(2));
  return [y, mu, inv].slice(0, c.node.outputs.length);
}

function instanceNorm(c: OpContext): Tensor {
  const x = c.tensor(0), eps = c.float('epsilon', 1e-5), axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
  const y = E.div(E.sub(x, R.mean(x, axes, true)), E.sqrt(E.add(R.variance(x, axes, true), eps)));
  return E.add(E.mul(y, perChannel(c.tensor(1), x.rank)), perChannel(c.tensor(2), x.rank));
}

export const NORM: Record<string, OnnxOp> = {
  BatchNormalization: { device: batchNorm },
  LayerNormalization: { device: layerNorm },
  InstanceNormalization: { device: instanceNorm },
};
