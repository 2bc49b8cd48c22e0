/** Reduction kernels: Sum, Mean, Max, Min, All, Any, ArgMax, ArgMin, Softmax. */
import { castTo, ne, where } from '../../../ops/elementwise.ts';
import { argmax, argmin, max, mean, min, sum } from '../../../ops/reduce.ts';
import { softmax } from '../../../ops/nn/functional.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import { kernel } from '../kernel.ts';

/** tfjs names the axes `axis`, except Max (`reductionIndices`). */
interface ReduceAttrs { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean }
type Reducer = (x: Tensor, axes: number[] | undefined, keep: boolean) => Tensor;
/** tfjs's axis attribute: one axis, a list, or null/undefined for all axes. */
const axesOf = (a: number | number[] | null | undefined) => (a == null ? undefined : typeof a === 'number' ? [a] : [...a]);
const noNaN = (x: Tensor, v: number) => (x.dtype === 'float32' ? where(ne(x, x), v, x) : x);
const reducer = (name: string, f: Reducer) => kernel<ReduceAttrs>(name, ({ x }, a) => f(x!, axesOf(a.axis ?? a.reductionIndices), a.keepDims));

export const reduceKernels = [
  reducer('Sum', sum),
  reducer('Mean', mean),
  reducer('Max', max),
  reducer('Min', min),
  reducer('All', (x, ax, k) => castTo(min(castTo(x, 'int32'), ax, k), 'bool')),
  reducer('Any', (x, ax, k) => castTo(max(castTo(x, 'int32'), ax, k), 'bool')),
  // tfjs's arg reductions skip NaN (Tessera's, as numpy's, return it): NaN counts as -inf / +inf.
  kernel<{ axis: number | number[] }>('ArgMax', ({ x }, a) => argmax(noNaN(x!, -Infinity), axesOf(a.axis)?.[0] ?? 0)),
  kernel<{ axis: number | number[] }>('ArgMin', ({ x }, a) => argmin(noNaN(x!, Infinity), axesOf(a.axis)?.[0] ?? 0)),
  kernel<{ dim: number }>('Softmax', ({ logits }, { dim }) => softmax(logits!, dim)),
];
