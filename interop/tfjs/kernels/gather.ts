/**
 * GatherV2 and its gradient UnsortedSegmentSum. When both operands of a gather have host values
 * (tfjs-layers' fit slicing a batch out of the dataset it wrote), the gather runs on the host and
 * only the batch is uploaded, as tfjs-webgpu forwards small ops to the CPU. Otherwise it is a
 * select-and-sum over a one-hot comparison (exact for every dtype, NaN-safe; out-of-range indices
 * give zeros on the device, and a clear error on the host path).
 * A `gather` primitive would make the device path O(output) instead of O(output * axis size).
 */
import { hostArray, type TypedArray } from '../../../ir/dtype.ts';
import { TesseraError } from '../../../ir/error.ts';
import { numel } from '../../../ir/shape.ts';
import { arange } from '../../../ops/creation.ts';
import { castTo, eq, where } from '../../../ops/elementwise.ts';
import { reshape } from '../../../ops/movement.ts';
import { sum } from '../../../ops/reduce.ts';
import { fromHost, type Tensor } from '../../../ops/tensor.ts';
import { kernel, unsupported } from '../kernel.ts';

function hostGather(x: Tensor, xs: TypedArray, idx: TypedArray, indexShape: readonly number[], axis: number): { t: Tensor; host: TypedArray } {
  const A = numel(x.shape.slice(0, axis)), N = x.shape[axis]!, B = numel(x.shape.slice(axis + 1));
  const out = hostArray(x.dtype, A * idx.length * B);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0 || j >= N) throw new TesseraError('GatherV2', `the index value ${j} is not in [0, ${N - 1}]`, 'pass indices inside the gathered axis');
  }
  for (let a = 0; a < A; a++)
    for (let i = 0; i < idx.length; i++)
      out.set(xs.subarray((a * N + idx[i]!) * B, (a * N + idx[i]! + 1) * B), (a * idx.length + i) * B);
  const shape = [...x.shape.slice(0, axis), ...indexShape, ...x.shape.slice(axis + 1)];
  return { t: fromHost(out, x.dtype, shape, 'tfjs'), host: out };
}

/** x[..., indices, ...] along `axis`: sum over n of where(indices == n, x[..., n, ...], 0). */
function deviceGather(x: Tensor, indices: Tensor, axis: number): Tensor {
  const A = numel(x.shape.slice(0, axis)), N = x.shape[axis]!, B = numel(x.shape.slice(axis + 1)), I = indices.size;
  const v = x.dtype === 'bool' ? castTo(x, 'int32') : x;
  const hit = eq(reshape(indices, [1, I, 1, 1]), reshape(arange(N), [1, 1, N, 1]));
  const picked = sum(where(hit, reshape(v, [A, 1, N, B]), 0), 2);
  const y = reshape(picked, [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)]);
  return x.dtype === 'bool' ? castTo(y, 'bool') : y;
}

export const gatherKernels = [
  kernel<{ axis: number; batchDims: number }>('GatherV2', ({ x, indices }, a, { backend, infos }) => {
    if (a.batchDims) unsupported('GatherV2', `batchDims ${a.batchDims}`);
    const axis = a.axis < 0 ? a.axis + x!.rank : a.axis;
    const xs = backend.hostOf(infos.x!), idx = backend.hostOf(infos.indices!);
    return xs && idx ? hostGather(x!, xs, idx, indices!.shape, axis) : deviceGather(x!, indices!, axis);
  }),
  // out[n, ...] = sum of x[s, ...] over the s with segmentIds[s] == n
  kernel<{ numSegments: number }>('UnsortedSegmentSum', ({ x, segmentIds }, { numSegments }) => {
    const S = segmentIds!.size, rest = x!.shape.slice(segmentIds!.rank), R = numel(rest);
    const hit = eq(reshape(segmentIds!, [1, S, 1]), reshape(arange(numSegments), [numSegments, 1, 1]));
    return reshape(sum(where(hit, reshape(x!, [1, S, R]), 0), 1), [numSegments, ...rest]);
  }),
];
