/**
 * GPU buffers in and out, without CPU round trips: `fromGPUBuffer` wraps an application's
 * GPUBuffer as a tensor (borrowed by default, or a snapshot with `copy: true`), `t.gpuBuffer()`
 * (ops/tensor.ts) returns the buffer holding a realized tensor, and `flush()` submits everything
 * pending. The ownership rules are in README.md ("Embedding").
 * Layouts are Tessera's storage layouts: float32, int32, uint32 as themselves; bool as one u32 per
 * element (0 or 1); float16 as packed halves.
 */
import { byteSize, DTYPES, type DType } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { inputNode } from '../ir/node.ts';
import { checkShape, numel, type Shape } from '../ir/shape.ts';
import { engineIfReady } from '../runtime/engine.ts';
import { borrowedStorage, snapshotStorage } from '../runtime/external.ts';
import { BufferUsage } from '../runtime/gpu.ts';
import { bindStorage } from '../runtime/storage.ts';
import { fromHost, hostArray, Tensor } from './tensor.ts';

export interface FromGPUBufferOptions {
  shape: Shape;
  dtype: DType;
  /** Byte offset of the first element (default 0): a multiple of minStorageBufferOffsetAlignment (256) when borrowed, of 4 with copy. */
  offset?: number;
  /** Snapshot the contents now (one GPU copy) instead of borrowing the buffer (default false). */
  copy?: boolean;
}

const usageNames = (u: number) => Object.entries(BufferUsage).filter(([, bit]) => u & bit).map(([n]) => n).join('|') || 'none';

/**
 * A tensor over an application's GPUBuffer, made by the device Tessera runs on (`init({ device })`).
 * Borrowed (default): Tessera reads the buffer in place when it computes (lazily, at realization),
 * never writes, pools, donates or destroys it; the caller keeps it alive and does not write it
 * until that work was submitted (`await flush()`). Needs usage STORAGE | COPY_SRC.
 * `copy: true` copies the contents at the call into a buffer Tessera owns; needs usage COPY_SRC.
 */
export function fromGPUBuffer(buffer: GPUBuffer, opts: FromGPUBufferOptions): Tensor {
  const op = 'fromGPUBuffer';
  if (typeof buffer?.size !== 'number' || typeof buffer?.usage !== 'number')
    throw new TesseraError(op, `expected a GPUBuffer, got ${buffer === null ? 'null' : typeof buffer}`,
      'pass a buffer made with device.createBuffer()');
  const { shape, dtype, offset = 0, copy = false } = opts ?? ({} as FromGPUBufferOptions);
  if (!Array.isArray(shape))
    throw new TesseraError(op, 'options.shape is missing', 'pass { shape, dtype }, e.g. { shape: [2, 3], dtype: \'float32\' }');
  checkShape(op, shape);
  if (!DTYPES.includes(dtype)) throw new TesseraError(op, `unknown dtype '${dtype}'`, `use one of ${DTYPES.join(', ')}`);
  const e = engineIfReady();
  if (!e) throw new TesseraError(op, 'Tessera has no device yet, so the buffer cannot be from the device it runs on',
    'call await init({ device }) with the GPUDevice that made the buffer first (or make the buffer with (await getDevice()).gpu)');
  if (dtype === 'float16' && !e.dev.caps.f16)
    throw new TesseraError(op, 'float16 needs the shader-f16 feature, which this device lacks', 'use float32, or a device with shader-f16');
  const n = numel(shape), bytes = n * byteSize(dtype), span = Math.ceil(bytes / 4) * 4;
  const align = copy ? 4 : e.dev.gpu.limits.minStorageBufferOffsetAlignment;
  if (!Number.isInteger(offset) || offset < 0 || offset % align)
    throw new TesseraError(op, `offset ${offset} is not a non-negative multiple of ${align} bytes`,
      copy ? 'use a multiple of 4' : `use a multiple of the device's minStorageBufferOffsetAlignment (${align}), or copy: true`);
  const need = copy ? BufferUsage.COPY_SRC : BufferUsage.STORAGE | BufferUsage.COPY_SRC;
  if ((buffer.usage & need) !== need)
    throw new TesseraError(op, `the buffer's usage is ${usageNames(buffer.usage)}; ${copy ? 'a copy' : 'a borrowed buffer'} needs ${
      usageNames(need)}`,
      `create the buffer with usage ${usageNames(need)} (GPUBufferUsage.${usageNames(need).split('|').join(' | GPUBufferUsage.')})`);
  if (buffer.size < offset + span)
    throw new TesseraError(op, `a ${dtype} tensor of shape ${fmtShape(shape)} needs ${span} bytes from offset ${offset}, `
      + `but the buffer has ${buffer.size} bytes`,
      'pass a larger buffer, a smaller shape or a smaller offset');
  if (buffer.mapState !== 'unmapped') throw new TesseraError(op, `the buffer is ${buffer.mapState}`, 'unmap it first (buffer.unmap())');
  if (n === 0) return fromHost(hostArray(dtype, 0), dtype, shape, 'gpuBuffer');
  const node = inputNode(dtype, shape, copy ? 'gpuCopy' : 'gpuBuffer');
  bindStorage(node, copy ? snapshotStorage(e, buffer, dtype, n, offset) : borrowedStorage(buffer, dtype, n, offset));
  return new Tensor(node);
}
