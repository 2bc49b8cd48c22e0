/**
 * ONNX pooling: MaxPool, AveragePool (pads, strides, dilations, auto_pad, ceil_mode,
 * count_include_pad), GlobalAveragePool, GlobalMaxPool. Windows are a view
 * (ops/nn/conv.ts slidingWindows) reduced in one kernel; average pooling divides by the number
 * of counted positions, itself a window sum over a padded constant mask (no buffer).
 */
import * as E from '../../../ops/elementwise.ts';
import * as R from '../../../ops/reduce.ts';
import * as M from '../../../ops/movement.ts';
import { full } from '../../../ops/creation.ts';
import { slidingWindows } from '../../../ops/nn/conv.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { spatialSpec } from './conv.ts';

/** [N, C, L1, L2, ...] -> [N, C, O1, K1, O2, K2, ...]; returns the window axes. */
function windows(x: Tensor, k: number[], s: number[], d: number[]): [Tensor, number[]] {
  let y = x;
  for (let i = k.length - 1; i >= 0; i--) y = slidingWindows(y, 2 + i, k[i]!, s[i]!, d[i]!);
  return [y, k.map((_, i) => 3 + 2 * i)];
}

function pool(c: OpContext, kind: 'max' | 'avg'): Tensor[] {
  if (c.node.outputs.length > 1 && c.node.outputs[1]) throw c.error('the Indices output is not supported', 'use only the first output');
  const x = c.tensor(0), n = x.rank - 2;
  const k = c.intList('kernel_shape');
  if (!k || k.length !== n) throw c.error(`kernel_shape ${JSON.stringify(k)} for an input of shape [${x.shape.join(', ')}]`,
    'give one size per spatial axis');
  const { s, d, pads } = spatialSpec(c, x.shape, k);
  // ceil_mode: extra end padding so the last partial window counts (a window must start inside input + begin pad).
  const extra = pads.map(([b, e], i) => {
    if (!c.int('ceil_mode', 0)) return 0;
    const L = x.shape[i + 2]!, span = (k[i]! - 1) * d[i]! + 1;
    let out = Math.ceil((L + b + e - span) / s[i]!) + 1;
    if ((out - 1) * s[i]! >= L + b) out--;
    return Math.max(0, (out - 1) * s[i]! + span - (L + b + e));
  });
  const all = pads.map(([b, e], i) => [b, e + extra[i]!] as [number, number]);
  const none: [number, number][] = [[0, 0], [0, 0]];
  if (kind === 'max') {
    const [w, axes] = windows(M.pad(x, [...none, ...all], -Infinity), k, s, d);
    return [R.max(w, axes)];
  }
  const [w, axes] = windows(M.pad(x, [...none, ...all]), k, s, d);
  const total = R.sum(w, axes);
  // Positions counted: the input, plus explicit pads when count_include_pad=1; never the ceil_mode extra.
  const ones = full(x.shape.slice(2), 1);
  const mask = c.int('count_include_pad', 0)
    ? M.pad(M.pad(ones, pads, 1), extra.map((e) => [0, e] as [number, number]))
    : M.pad(ones, all);
  const [mw, maxes] = windows(M.reshape(mask, [1, 1, ...mask.shape]), k, s, d);
  return [E.div(total, R.sum(mw, maxes))];
}

const globalPool = (f: typeof R.mean): OnnxOp => ({
  device: (c) => { const x = c.tensor(0); return f(x, Array.from({ length: x.rank - 2 }, (_, i) => i + 2), true); },
});

export const POOL: Record<string, OnnxOp> = {
  MaxPool: { device: (c) => pool(c, 'max') },
  AveragePool: { device: (c) => pool(c, 'avg') },
  GlobalAveragePool: globalPool(R.mean),
  GlobalMaxPool: globalPool(R.max),
};
