/**
 * GPU buffers shared with the application. A borrowed buffer (`fromGPUBuffer`) becomes a Storage
 * that kernels only read; a snapshot (`copy: true`) is copied into a pool buffer at the call.
 * WebGPU cannot tell which device made a buffer, or whether it was destroyed, so every submit that
 * reads a borrowed buffer (and every snapshot copy) runs inside a validation error scope, and a
 * failure becomes a TesseraError instead of a silently wrong result.
 */
import { TesseraError } from '../ir/error.ts';
import type { DType } from '../ir/dtype.ts';
import type { Engine } from './engine.ts';
import { BufferUsage } from './gpu.ts';
import { Storage, unbindStorage } from './storage.ts';
import { submitOpen } from './submit.ts';
import type { Node } from '../ir/node.ts';

const BORROW_FIX = 'make the buffer with the GPUDevice Tessera runs on (pass it to init({ device })) and do not destroy it'
  + ' until the work reading it was submitted (await flush())';

/** The error for a validation failure of work reading an application's buffer. */
export const borrowedError = (err: GPUError) =>
  new TesseraError('fromGPUBuffer', `reading an application's GPUBuffer failed WebGPU validation: ${err.message.split('\n')[0]}`, BORROW_FIX);

/** Storages whose snapshot copy is validated asynchronously: the error (or null) of that copy. */
const snapshotChecks = new WeakMap<Storage, Promise<GPUError | null>>();

/** A storage reading the application's buffer in place, from `offset`. */
export function borrowedStorage(buffer: GPUBuffer, dtype: DType, numel: number, offset: number): Storage {
  const s = new Storage(dtype, numel, null);
  s.buffer = buffer;
  s.borrowed = { offset };
  return s;
}

/** A storage holding a copy of the buffer's range, taken now (one copy, submitted at once). */
export function snapshotStorage(e: Engine, buffer: GPUBuffer, dtype: DType, numel: number, offset: number): Storage {
  const s = new Storage(dtype, numel, null);
  s.buffer = e.pool.acquire(s.bytes);
  const gpu = e.dev.gpu;
  gpu.pushErrorScope('validation');
  submitOpen(); // work encoded earlier comes first
  const enc = gpu.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, offset, s.buffer, 0, Math.ceil(s.bytes / 4) * 4);
  gpu.queue.submit([enc.finish()]);
  snapshotChecks.set(s, gpu.popErrorScope());
  return s;
}

/**
 * Before a submit reading `storages`: null when none is borrowed or a snapshot, else opens an error
 * scope and returns the check to await after the submit (it unbinds the results and throws a
 * TesseraError when the submit failed validation).
 */
/** Whether reading these storages needs guardBorrowed's asynchronous validation check. */
export const needsValidation = (storages: readonly Storage[]) => storages.some((s) => s.borrowed || snapshotChecks.has(s));

export function guardBorrowed(e: Engine, storages: readonly Storage[]): ((results: readonly Node[]) => Promise<void>) | null {
  const snapshots = storages.map((s) => snapshotChecks.get(s)).filter((c) => c !== undefined);
  if (!snapshots.length && !storages.some((s) => s.borrowed)) return null;
  e.dev.gpu.pushErrorScope('validation');
  return async (results) => {
    const errors = await Promise.all([e.dev.gpu.popErrorScope(), ...snapshots]);
    const err = errors.find((x) => x);
    if (!err) { for (const st of storages) snapshotChecks.delete(st); return; }
    for (const n of results) unbindStorage(n);
    throw borrowedError(err);
  };
}

/**
 * The buffer holding `s`: Tessera's own (valid while the tensor lives), or with `copy` a new
 * buffer of the data's size (rounded up to 4 bytes) that the caller owns. A borrowed storage is
 * first copied into a Tessera storage (`own`, which the tensor then holds), so what is returned is
 * never the application's own buffer.
 */
export async function exportBuffer(e: Engine, s: Storage, copy: boolean): Promise<{ buffer: GPUBuffer; own?: Storage }> {
  if (!copy && !s.borrowed) return { buffer: s.buffer! };
  const bytes = Math.max(4, Math.ceil(s.bytes / 4) * 4);
  const own = copy ? undefined : new Storage(s.dtype, s.numel, null);
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
  const out = own ? (own.buffer = e.pool.acquire(s.bytes)) : e.dev.gpu.createBuffer({ size: bytes, usage });
  const guard = guardBorrowed(e, [s]);
  submitOpen(); // the work computing s may still be encoded, not submitted
  const enc = e.dev.gpu.createCommandEncoder();
  if (s.numel) enc.copyBufferToBuffer(s.buffer!, s.offset, out, 0, bytes);
  e.dev.gpu.queue.submit([enc.finish()]);
  try {
    await guard?.([]);
  } catch (err) {
    if (own) own.retain().release(); else out.destroy();
    throw err;
  }
  return { buffer: out, own };
}
