/**
 * tfjs (@tensorflow/tfjs-core + @tensorflow/tfjs-backend-webgpu 4.22.0) on the same adapter, in
 * the same process as Tessera: Node has no navigator.gpu, so the `webgpu` package's GPU instance
 * is installed as `globalThis.navigator = { gpu }` (with its globals) before
 * `tf.setBackend('webgpu')`. Tessera's device.ts then finds the same navigator.gpu, so both run
 * on one adapter (each with its own GPUDevice).
 *
 * Timing: an op call, then `endComputePassEncoder()`, `submitQueue()` and
 * `device.queue.onSubmittedWorkDone()` (the backend's own steps before a readback):
 * the same submit -> done window Tessera is timed with; no readback in the timed region.
 */
import type * as TF from '@tensorflow/tfjs-core';

export type Tf = typeof TF;
export interface TfHandle { tf: Tf; backend: string; sync: () => Promise<void>; error?: undefined }
export interface TfFailure { tf?: undefined; error: string }

let handle: Promise<TfHandle | TfFailure> | null = null;

/** Loads tfjs on the webgpu backend (once). Call before Tessera creates its device. */
export function loadTfjs(): Promise<TfHandle | TfFailure> {
  handle ??= (async () => {
    try {
      const wg = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU; globals: object };
      Object.assign(globalThis, wg.globals);
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
      if (!nav?.gpu) {
        const gpu = wg.create([]);
        Object.defineProperty(globalThis, 'navigator', { value: { ...(nav ?? {}), gpu }, configurable: true, writable: true });
      }
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-webgpu');
      const ok = await tf.setBackend('webgpu');
      await tf.ready();
      const backend = tf.getBackend();
      if (!ok || backend !== 'webgpu') return { error: `tf.setBackend('webgpu') returned ${ok}; tf.getBackend() = ${backend}` };
      // tfjs keeps a compute pass open across ops: end it, submit what is recorded, wait (as its own readback does).
      const be = tf.backend() as unknown as { ensureCommandEncoderReady(): void; endComputePassEncoder(): void; submitQueue(): void; device: GPUDevice };
      const sync = async () => { be.ensureCommandEncoderReady(); be.endComputePassEncoder(); be.submitQueue(); await be.device.queue.onSubmittedWorkDone(); };
      return { tf, backend, sync };
    } catch (e) {
      return { error: (e as Error).stack ?? String(e) };
    }
  })();
  return handle;
}
