/**
 * Host forwarding: kernels on tensors whose values the host already has (data tfjs wrote) run on
 * the host when that is cheap, so their results stay host data. tfjs-layers' fit slices and casts
 * the batch indices it wrote; kept on the host, the batch gather (kernels/gather.ts) runs on the
 * host too and only the batch is uploaded. As tfjs-webgpu's CPU forwarding of small ops.
 */
import { hostArray, type DType, type TypedArray } from '../../../ir/dtype.ts';
import { numel, type Shape } from '../../../ir/shape.ts';
import { fromHost } from '../../../ops/tensor.ts';

/** Tensors up to this many elements are computed on the host when their inputs are host data. */
export const HOST_LIMIT = 1 << 16;

export const hostResult = (data: TypedArray, dtype: DType, shape: Shape) => ({ t: fromHost(data, dtype, shape, 'tfjs'), host: data });

/** x[begin : begin + size] of a row-major host array. */
export function hostSlice(x: TypedArray, shape: Shape, begin: readonly number[], size: readonly number[], dtype: DType): TypedArray {
  const out = hostArray(dtype, numel(size));
  const strides = shape.map((_, i) => numel(shape.slice(i + 1)));
  const idx = new Array<number>(size.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < size.length; d++) src += (begin[d]! + idx[d]!) * strides[d]!;
    out[o] = x[src]!;
    for (let d = size.length - 1; d >= 0 && ++idx[d]! === size[d]; d--) idx[d] = 0;
  }
  return out;
}

/** tfjs's cast of host values: to int32 truncates, to bool is x != 0. */
export function hostCast(x: TypedArray, dtype: DType): TypedArray {
  const out = hostArray(dtype, x.length);
  for (let i = 0; i < x.length; i++) out[i] = dtype === 'bool' ? (x[i] !== 0 ? 1 : 0) : dtype === 'int32' ? Math.trunc(x[i]!) : x[i]!;
  return out;
}
