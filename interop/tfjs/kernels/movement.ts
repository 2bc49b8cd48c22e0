/** Movement kernels (views, never copies): Reshape, Slice, StridedSlice, Concat, Pack, Unpack, SplitV, Tile, Transpose, PadV2, ExpandDims, Squeeze. */
import { backend_util, util } from '@tensorflow/tfjs-core';
import { numel } from '../../../ir/shape.ts';
import { full } from '../../../ops/creation.ts';
import { concat, expand, pad, permute, reshape, slice, stack } from '../../../ops/movement.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import { kernel, list, unsupported } from '../kernel.ts';
import { HOST_LIMIT, hostResult, hostSlice } from './host.ts';

/** tile(x, reps): each axis d of size n becomes reps[d] copies: reshape [1, n] -> expand [r, n] -> merge. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const inter = x.shape.flatMap((d) => [1, d]);
  const big = x.shape.flatMap((d, i) => [reps[i]!, d]);
  return reshape(expand(reshape(x, inter), big), x.shape.map((d, i) => d * reps[i]!));
}

interface StridedSliceAttrs {
  begin: number[]; end: number[]; strides: number[];
  beginMask: number; endMask: number; ellipsisMask: number; newAxisMask: number; shrinkAxisMask: number;
}

export const movementKernels = [
  kernel<{ shape: number[] }>('Reshape', ({ x }, { shape }, { backend, infos }) => {
    const y = reshape(x!, shape), host = backend.hostOf(infos.x!);
    return host ? { t: y, host } : y;
  }),
  kernel<{ dim: number }>('ExpandDims', ({ input }, { dim }) => {
    const s = [...input!.shape];
    s.splice(dim < 0 ? s.length + dim + 1 : dim, 0, 1);
    return reshape(input!, s);
  }),
  kernel<{ axis: number[] }>('Squeeze', ({ x }, { axis }) => reshape(x!, util.squeezeShape([...x!.shape], axis).newShape)),
  kernel<{ begin: number | number[]; size: number | number[] }>('Slice', ({ x }, a, { backend, infos }) => {
    const [begin, size] = backend_util.slice_util.parseSliceParams(infos.x!, a.begin, a.size);
    const host = backend.hostOf(infos.x!);
    if (host && numel(size!) <= HOST_LIMIT) return hostResult(hostSlice(host, x!.shape, begin!, size!, x!.dtype), x!.dtype, size!);
    return slice(x!, begin!, begin!.map((b, i) => b + size![i]!));
  }),
  kernel<StridedSliceAttrs>('StridedSlice', ({ x }, a) => {
    const info = backend_util.slice_util.sliceInfo(x!.shape as number[], a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
    if (info.strides.some((s) => s <= 0)) unsupported('StridedSlice', `negative strides (${info.strides.join(', ')})`);
    if (numel(info.finalShape) === 0) unsupported('StridedSlice', 'an empty result');
    return reshape(slice(x!, info.begin, info.end, info.strides), info.finalShape);
  }),
  kernel<{ axis: number }>('Concat', (x, { axis }) => {
    const all = list(x), ts = all.filter((t) => t.size > 0);
    if (ts.length) return concat(ts, axis);
    const ax = axis < 0 ? axis + all[0]!.rank : axis;
    return full(all[0]!.shape.map((d, i) => (i === ax ? all.reduce((s, t) => s + t.shape[ax]!, 0) : d)), 0, all[0]!.dtype);
  }),
  kernel<{ axis: number }>('Pack', (x, { axis }) => stack(list(x), axis)),
  kernel<{ axis: number }>('Unpack', ({ value }, { axis }) => {
    const ax = axis < 0 ? axis + value!.rank : axis;
    const rest = value!.shape.filter((_, i) => i !== ax);
    return Array.from({ length: value!.shape[ax]! }, (_, i) =>
      reshape(slice(value!, value!.shape.map((_, d) => (d === ax ? i : 0)), value!.shape.map((s, d) => (d === ax ? i + 1 : s))), rest));
  }),
  kernel<{ numOrSizeSplits: number[] | number; axis: number }>('SplitV', ({ x }, a, { infos }) => {
    const ax = a.axis < 0 ? a.axis + x!.rank : a.axis;
    const sizes = backend_util.prepareSplitSize(infos.x!, a.numOrSizeSplits, ax);
    let start = 0;
    return sizes.map((n) => {
      const b = x!.shape.map((_, d) => (d === ax ? start : 0)), e = x!.shape.map((s, d) => (d === ax ? start + n : s));
      start += n;
      return slice(x!, b, e);
    });
  }),
  kernel<{ reps: number[] }>('Tile', ({ x }, { reps }) => tile(x!, reps)),
  kernel<{ perm: number[] }>('Transpose', ({ x }, { perm }) => permute(x!, perm)),
  kernel<{ paddings: [number, number][]; constantValue: number }>('PadV2', ({ x }, a) => pad(x!, a.paddings, a.constantValue)),
];
