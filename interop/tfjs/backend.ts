/**
 * TesseraBackend: a TensorFlow.js backend whose kernels record lazy Tessera ops. Each tfjs tensor
 * (a DataId) maps to an entry holding a Tessera Tensor (lazy, or realized on the device) and, for
 * data written from the host or read back once, its host values. Nothing runs when a kernel is
 * called: the Flusher realizes every live tensor in one compiled program and one submit, a
 * microtask after a burst of kernels starts, when a burst grows past its cap, or on a read.
 */
import { KernelBackend, type BackendTimingInfo, type BackendValues, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { DataId } from '@tensorflow/tfjs-core/dist/tensor_info';
import { hostArray, type DType, type TypedArray } from '../../ir/dtype.ts';
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { fromHost, Tensor } from '../../ops/tensor.ts';
import { engine } from '../../runtime/engine.ts';
import { flush } from '../../runtime/activity.ts';
import { stats } from '../../runtime/stats.ts';
import { Flusher } from './flush.ts';

export interface Entry {
  t: Tensor;
  dtype: DataType;
  refCount: number;
  /** Host values: data tfjs wrote, or values read back earlier (tfjs tensors never change). */
  host: TypedArray | null;
  /** The error of a failed flush that tried to compute this tensor. */
  error?: unknown;
}

const SUPPORTED: readonly DataType[] = ['float32', 'int32', 'bool'];

/** The Tessera dtype standing for a tfjs dtype (string and complex64 have none). */
export function tesseraDtype(dtype: DataType, op: string): DType {
  if (!SUPPORTED.includes(dtype))
    throw new TesseraError(op, `tfjs dtype '${dtype}' is not supported by the 'tessera' backend`, "use float32, int32 or bool tensors, or run this part on the 'cpu' backend");
  return dtype as DType;
}
/** The tfjs dtype of a Tessera result (float16/uint32 never come out of the kernels). */
const tfjsDtype = (d: DType): DataType => (d === 'bool' || d === 'int32' ? d : 'float32');

export class TesseraBackend extends KernelBackend {
  readonly entries = new Map<DataId, Entry>();
  readonly flusher = new Flusher();

  private entry(dataId: DataId, op: string): Entry {
    const e = this.entries.get(dataId);
    if (!e) throw new TesseraError(op, 'the tensor is not on the tessera backend (it was disposed or belongs to another backend)', 'keep tensors alive until their last use');
    return e;
  }

  /** @internal the Tessera tensor behind a tfjs tensor (for kernels). */
  tensorOf(info: TensorInfo, op: string): Tensor { return this.entry(info.dataId, op).t; }
  /** @internal host values of a tfjs tensor when the host has them (host kernels use them). */
  hostOf(info: TensorInfo): TypedArray | null { return this.entries.get(info.dataId)?.host ?? null; }

  /** @internal registers a kernel's result (a lazy Tessera tensor) as a new tfjs tensor. */
  output(t: Tensor, host: TypedArray | null = null): TensorInfo {
    const dataId = {};
    const dtype = tfjsDtype(t.dtype);
    const e: Entry = { t, dtype, refCount: 1, host };
    this.entries.set(dataId, e);
    if (t.node.op !== 'input') this.flusher.record(e);
    return { dataId, shape: [...t.shape], dtype };
  }

  override write(values: unknown, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: DataId, values: unknown, shape: number[], dtype: DataType, refCount: number): void {
    const d = tesseraDtype(dtype, 'write');
    const host = toHost(values, d, shape);
    this.entries.set(dataId, { t: fromHost(host, d, shape, 'tfjs'), dtype, refCount, host });
  }

  override refCount(dataId: DataId): number { return this.entries.get(dataId)?.refCount ?? 0; }
  override incRef(dataId: DataId): void { this.entry(dataId, 'incRef').refCount++; }
  override numDataIds(): number { return this.entries.size; }

  override disposeData(dataId: DataId, force = false): boolean {
    const e = this.entries.get(dataId);
    if (!e) return true;
    if (!force && --e.refCount > 0) return false;
    this.entries.delete(dataId);
    this.flusher.forget(e);
    return true;
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    const e = this.entry(dataId, 'read');
    if (e.host) return e.host as BackendValues;
    await this.flusher.read(e);
    return e.host! as BackendValues;
  }

  override readSync(dataId: DataId): BackendValues {
    const e = this.entry(dataId, 'readSync');
    if (e.host) return e.host as BackendValues;
    throw new TesseraError('readSync', `dataSync()/arraySync() of a ${e.dtype} tensor of shape ${fmtShape(e.t.shape)} computed on the GPU: the 'tessera' backend is lazy and WebGPU cannot wait synchronously`,
      'use `await tensor.data()` or `await tensor.array()` (tfjs-layers fit/predict/evaluate never need dataSync)');
  }

  override memory(): { unreliable: boolean; numBytesInGPU: number; numBytesInGPUAllocated: number; reasons?: string[] } {
    const s = stats();
    return { unreliable: false, numBytesInGPU: s.bytesAllocated, numBytesInGPUAllocated: s.bytesAllocated };
  }

  override timerAvailable(): boolean { return true; }

  /** Wall time of f's work: f runs, everything pending is flushed, and the queue drains. */
  override async time(f: () => void): Promise<BackendTimingInfo> {
    const t0 = performance.now();
    f();
    await this.flusher.flush();
    await flush(); // Tessera's own open work is submitted too
    await (await engine()).dev.gpu.queue.onSubmittedWorkDone();
    return { kernelMs: performance.now() - t0, getExtraProfileInfo: () => `${stats().dispatches} dispatches so far` };
  }

  override floatPrecision(): 32 { return 32; }

  override dispose(): void {
    for (const e of this.entries.values()) this.flusher.forget(e);
    this.entries.clear();
  }
}

/** Host values of `dtype` (tfjs passes typed arrays; a plain array is converted). */
function toHost(values: unknown, dtype: DType, shape: number[]): TypedArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values == null) return hostArray(dtype, n);
  const want = hostArray(dtype, 0).constructor;
  if ((values as object).constructor === want) return values as TypedArray;
  if (!ArrayBuffer.isView(values) && !Array.isArray(values))
    throw new TesseraError('write', `cannot store ${typeof values} values on the 'tessera' backend`, 'pass numbers (a typed array or a flat array)');
  const out = hostArray(dtype, n);
  out.set(values as ArrayLike<number>);
  return out;
}
