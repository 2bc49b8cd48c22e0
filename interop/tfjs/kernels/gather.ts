/**
 * GatherV2 (with batchDims: a gather per batch entry) and its gradient UnsortedSegmentSum. When both operands of a gather have host values
 * (tfjs-layers' fit slicing a batch out of the dataset it wrote), the gather runs on the host and
 * only the batch is uploaded, as tfjs-webgpu forwards small ops to the CPU. Otherwise it is a
 * select-and-sum over a one-hot comparison (exact for every dtype, NaN-safe; out-of-range indices
 * give zeros on the device, and a clear error on the host path).
 * A `gather` primitive would make the device path O(output) instead of O(output * axis size).
 */
import { hostArray, type TypedArray } from '../../../ir/dtype.ts';
import { fmtShape, TesseraError } from '../../../ir/error.ts';
import { numel } from '../../../ir/shape.ts';
import { arange } from '../../../ops/creation.ts';
import { castTo, eq, where } from '../../../ops/elementwise.ts';
import { reshape } from '../../../ops/movement.ts';
import { sum } from '../../../ops/reduce.ts';
import { fromHost, type Tensor } from '../../../ops/tensor.ts';
import { backend_util } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel.ts';

/** The gather as four sizes: B batches (batchDims), A rows before the axis, N along it, R after it (tfjs's collectGatherOpShapeInfo). */
interface GatherShape { B: number; A: number; N: number; R: number; shape: number[] }

function hostGather(x: Tensor, xs: TypedArray, idx: TypedArray, g: GatherShape): { t: Tensor; host: TypedArray } {
  const { B, A, N, R } = g, I = idx.length / B;
  const out = hostArray(x.dtype, B * A * I * R);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0 || j >= N) throw new TesseraError('GatherV2', `the index value ${j} is not in [0, ${N - 1}]`, 'pass indices inside the gathered axis');
  }
  for (let b = 0; b < B; b++)
    for (let a = 0; a < A; a++)
      for (let i = 0; i < I; i++) {
        const from = ((b * A + a) * N + idx[b * I + i]!) * R;
        out.set(xs.subarray(from, from + R), ((b * A + a) * I + i) * R);
      }
  return { t: fromHost(out, x.dtype, g.shape, 'tfjs'), host: out };
}

/** out[b, a, i, r] = x[b, a, indices[b, i], r]: sum over n of where(indices == n, x[b, a, n, r], 0). */
function deviceGather(x: Tensor, indices: Tensor, g: GatherShape): Tensor {
  const { B, A, N, R } = g, I = indices.size / B;
  const v = x.dtype === 'bool' ? castTo(x, 'int32') : x;
  const hit = eq(reshape(indices, [B, 1, I, 1, 1]), reshape(arange(N), [1, 1, 1, N, 1]));
  const picked = sum(where(hit, reshape(v, [B, A, 1, N, R]), 0), 3);
  const y = reshape(picked, g.shape);
  return x.dtype === 'bool' ? castTo(y, 'bool') : y;
}

export const gatherKernels = [
  kernel<{ axis: number; batchDims: number }>('GatherV2', ({ x, indices }, a, { backend, infos }) => {
    const axis = a.axis < 0 ? a.axis + x!.rank : a.axis;
    let info: ReturnType<typeof backend_util.segment_util.collectGatherOpShapeInfo>;
    try {
      info = backend_util.segment_util.collectGatherOpShapeInfo(infos.x! as never, infos.indices! as never, axis, a.batchDims ?? 0);
    } catch (e) {
      throw new TesseraError('GatherV2', `x of shape ${fmtShape(x!.shape)}, indices of shape ${fmtShape(indices!.shape)}, axis ${a.axis}, batchDims ${a.batchDims}: ${(e as Error).message}`,
        'batchDims leading axes of x and indices must match, and batchDims must not exceed axis');
    }
    const g = { B: info.batchSize, A: info.outerSize, N: info.dimSize, R: info.sliceSize, shape: info.outputShape };
    const xs = backend.hostOf(infos.x!), idx = backend.hostOf(infos.indices!);
    return xs && idx ? hostGather(x!, xs, idx, g) : deviceGather(x!, indices!, g);
  }),
  // out[n, ...] = sum of x[s, ...] over the s with segmentIds[s] == n
  kernel<{ numSegments: number }>('UnsortedSegmentSum', ({ x, segmentIds }, { numSegments }) => {
    const S = segmentIds!.size, rest = x!.shape.slice(segmentIds!.rank), R = numel(rest);
    const hit = eq(reshape(segmentIds!, [1, S, 1]), reshape(arange(numSegments), [numSegments, 1, 1]));
    return reshape(sum(where(hit, reshape(x!, [1, S, R]), 0), 1), [numSegments, ...rest]);
  }),
];
