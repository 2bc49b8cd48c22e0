/**
 * Pooling: MaxPool, AvgPool and their gradient kernels (Tessera's vjp of the forward pooling).
 * tfjs's average excludes padded positions from the count: sum/count, computed as
 * avgPool(x) / avgPool(ones) (Tessera's average counts padding as zeros, so the window sizes cancel).
 * AvgPoolGrad, as tfjs's cpu and webgpu backends, divides by the whole window (padding included):
 * the vjp of Tessera's average. MaxPoolGrad splits dy evenly among tied maxima of a window where
 * tfjs gives it to the first one.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import { ones, zeros } from '../../../ops/creation.ts';
import { div, ne, where } from '../../../ops/elementwise.ts';
import { avgPool2d, maxPool2d } from '../../../ops/nn/conv.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import { vjp } from '../../../ops/transforms.ts';
import { kernel, unsupported } from '../kernel.ts';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
interface PoolAttrs { filterSize: [number, number] | number; strides: [number, number] | number; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil' }

function poolFn(kind: 'max' | 'avg' | 'avgPadded', a: PoolAttrs) {
  return (x: Tensor): Tensor => {
    const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const opts = { kernelSize: [info.filterHeight, info.filterWidth] as const, stride: [info.strideHeight, info.strideWidth] as const,
      padding: [[top, bottom], [left, right]] as const };
    // tfjs's max pooling skips NaN: it counts as -inf.
    const y = kind === 'max' ? maxPool2d(where(ne(x, x), -Infinity, x), opts) : avgPool2d(x, opts);
    if (y.shape[1] !== info.outHeight || y.shape[2] !== info.outWidth)
      unsupported(`${kind === 'max' ? 'Max' : 'Avg'}Pool`, `dimRoundingMode '${a.dimRoundingMode}' giving output ${info.outHeight}x${info.outWidth}`);
    return kind === 'avg' && (top || bottom || left || right) ? div(y, avgPool2d(ones(x.shape), opts)) : y;
  };
}

export const poolKernels = [
  kernel<PoolAttrs>('MaxPool', ({ x }, a) => poolFn('max', a)(x!)),
  kernel<PoolAttrs>('AvgPool', ({ x }, a) => poolFn('avg', a)(x!)),
  kernel<PoolAttrs>('MaxPoolGrad', ({ dy, input }, a) => vjp(poolFn('max', a), input!)[1](dy!)[0]!),
  kernel<PoolAttrs>('AvgPoolGrad', ({ dy, input }, a) => vjp(poolFn('avgPadded', a), zeros(input!.shape))[1](dy!)[0]!),
];
