/** Creation kernels: ZerosLike, OnesLike, Fill, Range, OneHot (constants and index arithmetic: no uploads). */
import type { DataType } from '@tensorflow/tfjs-core';
import { arange, full } from '../../../ops/creation.ts';
import { castTo, eq, where } from '../../../ops/elementwise.ts';
import { reshape } from '../../../ops/movement.ts';
import { tesseraDtype } from '../backend.ts';
import { kernel } from '../kernel.ts';

export const creationKernels = [
  kernel('ZerosLike', ({ x }) => full(x!.shape, 0, x!.dtype)),
  kernel('OnesLike', ({ x }) => full(x!.shape, 1, x!.dtype)),
  kernel<{ shape: number[]; value: number; dtype: DataType }>('Fill', (_, a) => full(a.shape, a.value, tesseraDtype(a.dtype, 'Fill'))),
  // as tfjs: a decreasing range with the default step 1 counts down
  kernel<{ start: number; stop: number; step: number; dtype: 'float32' | 'int32' }>('Range', (_, a) =>
    arange(a.start, a.stop, a.stop < a.start && a.step === 1 ? -1 : a.step, a.dtype)),
  kernel<{ depth: number; onValue: number; offValue: number; dtype: DataType }>('OneHot', ({ indices }, a) => {
    const hit = eq(reshape(indices!, [...indices!.shape, 1]), arange(a.depth));
    return castTo(where(hit, a.onValue, a.offValue), tesseraDtype(a.dtype, 'OneHot'));
  }),
];
