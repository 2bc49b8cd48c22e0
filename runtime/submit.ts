/**
 * One open command encoder that work is encoded into until it is submitted. A realization or jit
 * call encodes its kernels and leaves the submit for the end of the current task (or for a
 * readback, which needs it at once): the still-lazy arguments of a jitted call, the call itself
 * and a readback of its result right after are one submit. Anything that writes through the queue
 * (uploads, parameter uniforms) submits the open encoder first, so writes never overtake work
 * encoded before them.
 */
import { counters } from './stats.ts';

let open: { gpu: GPUDevice; encoder: GPUCommandEncoder } | null = null;
const later: (f: () => void) => void = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? ((f) => setTimeout(f, 0));

/** The open encoder (a new one, submitted at the end of this task unless flushed earlier). */
export function encoderFor(gpu: GPUDevice): GPUCommandEncoder {
  if (open && open.gpu !== gpu) submitOpen();
  if (!open) {
    open = { gpu, encoder: gpu.createCommandEncoder() };
    counters.submits++; // counted when opened: every open encoder becomes exactly one submit
    later(submitOpen);
  }
  return open.encoder;
}

/** Submits the open encoder, if any. */
export function submitOpen(): void {
  if (!open) return;
  const { gpu, encoder } = open;
  open = null;
  gpu.queue.submit([encoder.finish()]);
}
