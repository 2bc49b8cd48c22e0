/**
 * Device faults during a realization. WebGPU reports them asynchronously: an allocation that fails
 * (out of memory) or an invalid command becomes an error in an error scope, and a lost device makes
 * readbacks reject. `scoped` runs the synchronous encode-and-submit of one realization inside
 * out-of-memory and validation scopes and turns what they catch into a TesseraError;
 * `readFailure` names the cause of a failed readback.
 */
import { TesseraError } from '../ir/error.ts';
import { deviceIsLost, deviceLostError } from './device.ts';

const rejected = (v: GPUError) => new TesseraError('realize', `the device rejected the work (${v.message.split('\n')[0]})`, 'please report this as a bug');

/**
 * Runs `f` (no awaits inside) in error scopes; `error` resolves to the TesseraError of what failed,
 * or null. `onInvalid` names a validation error (a borrowed application buffer explains it: external.ts).
 */
export function scoped<T>(gpu: GPUDevice, f: () => T, onInvalid: (v: GPUError) => TesseraError = rejected): { value: T; error: Promise<TesseraError | null> } {
  gpu.pushErrorScope('validation');
  gpu.pushErrorScope('out-of-memory');
  let value: T | undefined, thrown: unknown, ok = false;
  try { value = f(); ok = true; } catch (e) { thrown = e; }
  const oom = gpu.popErrorScope(), invalid = gpu.popErrorScope();
  if (!ok) { oom.catch(() => {}); invalid.catch(() => {}); throw thrown; }
  const error = Promise.all([oom, invalid]).then(([o, v]) => {
    if (o) return new TesseraError('realize', `out of GPU memory (${o.message}); this computation's results are lost, other tensors are intact`,
      'free memory (dispose() tensors you no longer need) or compute in smaller pieces (e.g. smaller batches), then recompute');
    if (v) return onInvalid(v);
    return null;
  }, () => (deviceIsLost() ? deviceLostError('realize') : null));
  return { value: value as T, error };
}

/** The error to report for a readback that failed with `err`: device loss if that is the cause. */
export async function readFailure(gpu: GPUDevice, err: unknown): Promise<never> {
  if (err instanceof TesseraError) throw err;
  // The lost promise may settle a moment after the readback fails.
  await Promise.race([gpu.lost, new Promise((r) => setTimeout(r, 100))]);
  if (deviceIsLost()) throw deviceLostError('data');
  throw new TesseraError('data', `reading results back from the GPU failed: ${(err as Error)?.message || String(err)}`,
    'check the WebGPU errors printed above');
}
