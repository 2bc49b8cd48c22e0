/**
 * Host tensors: ONNX values known at load or trace time (initializers, Constant outputs, and
 * everything computed from them and from static shapes: Shape -> Gather -> Concat -> Reshape).
 * They live in JS arrays so shape arithmetic never reaches the GPU, and are uploaded once, as
 * Tessera tensors, where a device op reads them.
 *
 * Element types: float types (float, double, float16, bfloat16) are held as float32 and run on the
 * device as float32; integer types as exact float64 numbers, on the device as int32 (uint32 for
 * unsigned 32/64-bit); bool as 0/1.
 */
import type { DType } from '../../ir/dtype.ts';
import { f16ToF32 } from '../../ir/dtype.ts';
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { numel } from '../../ir/shape.ts';
import { fromHost, type Tensor } from '../../ops/tensor.ts';
import { full } from '../../ops/creation.ts';
import { ElemType, elemTypeName, type TensorProto } from './schema.ts';

const FLOATS: readonly number[] = [ElemType.FLOAT, ElemType.DOUBLE, ElemType.FLOAT16, ElemType.BFLOAT16];
export const isFloatType = (t: number) => FLOATS.includes(t);

/** The Tessera dtype an ONNX element type runs as on the device. */
export function deviceDtype(t: number, what: string): DType {
  if (isFloatType(t)) return 'float32';
  if (t === ElemType.BOOL) return 'bool';
  if (t === ElemType.UINT32 || t === ElemType.UINT64) return 'uint32';
  if ([ElemType.INT8, ElemType.UINT8, ElemType.INT16, ElemType.UINT16, ElemType.INT32, ElemType.INT64].includes(t as 2)) return 'int32';
  throw new TesseraError('loadOnnx', `${what} has element type ${elemTypeName(t)}, which Tessera cannot run`,
    'convert the model to float32/int64 tensors');
}

export class HostTensor {
  constructor(readonly type: number, readonly dims: readonly number[], readonly data: Float32Array | Float64Array,
    /** The initializer or Constant this came from, when it can be trained (see OnnxModel.parameters). */
    readonly param?: string) {
    if (data.length !== numel(dims)) throw new TesseraError('loadOnnx', `tensor of shape ${fmtShape(dims)} has ${data.length} values`,
      'check the model file');
  }
  static of(type: number, dims: readonly number[], values: ArrayLike<number>): HostTensor {
    return new HostTensor(type, dims, isFloatType(type) ? Float32Array.from(values) : Float64Array.from(values));
  }
  get size(): number { return this.data.length; }
  get isFloat(): boolean { return isFloatType(this.type); }
  /** The values as JS numbers (for attributes-like inputs: shapes, axes, pads). */
  numbers(): number[] { return Array.from(this.data); }
}

const device = new WeakMap<HostTensor, Tensor>();
/** The host tensor as a Tessera tensor (uploaded on first use; one upload per host tensor). */
export function toDevice(h: HostTensor, what: string): Tensor {
  const hit = device.get(h);
  if (hit && !hit.isDisposed) return hit;
  const dt = deviceDtype(h.type, what);
  let data: Float32Array | Int32Array | Uint32Array | Uint8Array;
  if (dt === 'float32') data = h.data instanceof Float32Array ? h.data : Float32Array.from(h.data);
  else if (dt === 'bool') data = Uint8Array.from(h.data, (v) => (v ? 1 : 0));
  else {
    const [lo, hi] = dt === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
    const bad = h.data.findIndex((v) => v < lo || v > hi);
    if (bad >= 0) throw new TesseraError('onnx', `${what}: value ${h.data[bad]} does not fit the device's ${dt}`,
      'keep integer tensors used on the device within 32 bits');
    data = dt === 'int32' ? Int32Array.from(h.data) : Uint32Array.from(h.data);
  }
  // A single value (an epsilon, an exponent, hardswish's 3 and 6) becomes a constant: kernels
  // inline it (or read it from their parameter uniform) and the simplifier sees its value.
  const t = data.length === 1 ? full(h.dims, data[0]!, dt) : fromHost(data, dt, h.dims, 'onnx');
  device.set(h, t);
  return t;
}

function ints(raw: Uint8Array, size: number, read: (v: DataView, i: number) => number): Float64Array {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = read(v, i);
  return out;
}

const BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

function fromRaw(t: TensorProto, raw: Uint8Array, size: number): Float32Array | Float64Array {
  const bytes = BYTES[t.dataType]!;
  if (raw.length !== size * bytes)
    throw new TesseraError('loadOnnx',
      `tensor '${t.name}' of shape ${fmtShape(t.dims)} has ${raw.length} bytes of raw_data, expected ${size * bytes}`,
        'the file is truncated or corrupted');
  switch (t.dataType) {
    case ElemType.FLOAT: { const a = new Float32Array(size); new Uint8Array(a.buffer).set(raw); return a; }
    case ElemType.DOUBLE: return Float32Array.from(ints(raw, size, (v, i) => v.getFloat64(i * 8, true)));
    case ElemType.FLOAT16: return Float32Array.from(ints(raw, size, (v, i) => f16ToF32(v.getUint16(i * 2, true))));
    case ElemType.BFLOAT16: return Float32Array.from(ints(raw, size, (v, i) => { const f = new Float32Array(new Uint32Array([v.getUint16(i * 2,
      true) << 16]).buffer); return f[0]!; }));
    case ElemType.UINT8: case ElemType.BOOL: return Float64Array.from(raw);
    case ElemType.INT8: return ints(raw, size, (v, i) => v.getInt8(i));
    case ElemType.UINT16: return ints(raw, size, (v, i) => v.getUint16(i * 2, true));
    case ElemType.INT16: return ints(raw, size, (v, i) => v.getInt16(i * 2, true));
    case ElemType.INT32: return ints(raw, size, (v, i) => v.getInt32(i * 4, true));
    case ElemType.UINT32: return ints(raw, size, (v, i) => v.getUint32(i * 4, true));
    case ElemType.INT64: return ints(raw, size, (v, i) => Number(v.getBigInt64(i * 8, true)));
    default: return ints(raw, size, (v, i) => Number(v.getBigUint64(i * 8, true)));
  }
}

/** The typed field that holds each element type when raw_data is absent (onnx.proto's comments). */
function typedField(t: TensorProto): number[] {
  switch (t.dataType) {
    case ElemType.FLOAT: return t.floatData;
    case ElemType.DOUBLE: return t.doubleData;
    case ElemType.INT64: return t.int64Data;
    case ElemType.UINT32: case ElemType.UINT64: return t.uint64Data;
    case ElemType.FLOAT16: return t.int32Data.map((b) => f16ToF32(b & 0xffff));
    case ElemType.BFLOAT16: return t.int32Data.map((b) => new Float32Array(new Uint32Array([(b & 0xffff) << 16]).buffer)[0]!);
    default: return t.int32Data;
  }
}

/** A TensorProto's values; `param` marks an initializer or Constant that may be trained. */
export function hostTensorOf(t: TensorProto, param?: string): HostTensor {
  const label = t.name ? `tensor '${t.name}'` : 'a constant tensor';
  if (t.external)
    throw new TesseraError('loadOnnx', `${label} keeps its data in an external file, which loadOnnx cannot read from bytes`,
      'save the model with the weights inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False))');
  if (t.dataType === ElemType.STRING || t.stringCount) throw new TesseraError('loadOnnx', `${label} holds strings, which Tessera cannot run`,
    'remove string tensors from the model');
  if (!(t.dataType in BYTES)) throw new TesseraError('loadOnnx', `${label} has element type ${elemTypeName(t.dataType)}, which Tessera cannot run`,
    'convert it to float32 or int64');
  if (t.dims.some((d) => !Number.isInteger(d) || d < 0)) throw new TesseraError('loadOnnx', `${label} has invalid dims ${fmtShape(t.dims)}`,
    'the file is corrupted');
  const size = numel(t.dims);
  let data: Float32Array | Float64Array;
  if (t.raw) data = fromRaw(t, t.raw, size);
  else {
    const vals = typedField(t);
    if (vals.length !== size)
      throw new TesseraError('loadOnnx', `${label} of shape ${fmtShape(t.dims)} has ${vals.length} values, expected ${size}`,
        'the file is truncated or corrupted');
    data = isFloatType(t.dataType) ? Float32Array.from(vals) : Float64Array.from(vals);
  }
  return new HostTensor(t.dataType, t.dims, data, param && isFloatType(t.dataType) && t.dims.length > 0 ? param : undefined);
}
