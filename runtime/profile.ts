/**
 * Timing on the device: runs a Program (or one kernel) repeatedly on given buffers and reports
 * wall-clock milliseconds per run, measured from submit to `onSubmittedWorkDone`. Used by the
 * autotuner and the benchmarks; medians are what they compare. `launchTimes` times each launch
 * of a Program (for profile reports): with timestamp queries where the device has them.
 */
import type { Device } from './device.ts';
import { BufferUsage, MapMode } from './gpu.ts';
import type { BufferPool } from './pool.ts';
import type { Program } from './program.ts';
import { submitOpen } from './submit.ts';

export const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };

/** Runs `program` on `inputs` `reps` times (after `warmup` runs); returns ms per run. */
/** What timing a program needs: the device and the pool its buffers come from (an Engine has both). */
export interface Runner { dev: Device; pool: BufferPool }

export async function timeProgram(e: Runner, program: Program, inputs: readonly GPUBuffer[], reps = 5, warmup = 1): Promise<number[]> {
  submitOpen(); // work encoded before (computing the inputs, say) runs first, and outside the timing
  const times: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    const enc = e.dev.gpu.createCommandEncoder();
    const outs = program.encode(e.dev, e.pool, enc, inputs);
    e.dev.gpu.queue.submit([enc.finish()]);
    await e.dev.gpu.queue.onSubmittedWorkDone();
    if (i >= warmup) times.push(performance.now() - t0);
    outs.forEach((b) => { if (!inputs.includes(b)) e.pool.release(b); });
  }
  return times;
}

/** Per-launch GPU times (ms) from timestamp queries, median over `reps` runs. */
async function timestampTimes(e: Runner, program: Program, inputs: GPUBuffer[], reps: number): Promise<number[]> {
  const n = program.steps.length, gpu = e.dev.gpu;
  const qs = gpu.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = gpu.createBuffer({ size: 16 * n, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const read = gpu.createBuffer({ size: 16 * n, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const samples: number[][] = program.steps.map(() => []);
  try {
    for (let r = 0; r <= reps; r++) {
      const enc = gpu.createCommandEncoder();
      const outs = program.encode(e.dev, e.pool, enc, inputs, undefined, { timestamps: qs });
      enc.resolveQuerySet(qs, 0, 2 * n, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      gpu.queue.submit([enc.finish()]);
      await read.mapAsync(MapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      outs.forEach((b) => { if (!inputs.includes(b)) e.pool.release(b); });
      if (r === 0) continue; // warm-up
      for (let i = 0; i < n; i++) samples[i]!.push(Number(t[2 * i + 1]! - t[2 * i]!) / 1e6);
    }
  } finally { qs.destroy(); resolve.destroy(); read.destroy(); }
  return samples.map(median);
}

/** Per-launch times (ms), each launch dispatched alone and timed from submit to completion. */
async function aloneTimes(e: Runner, program: Program, inputs: GPUBuffer[], reps: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < program.steps.length; i++) {
    const xs: number[] = [];
    for (let r = 0; r <= reps; r++) {
      const t0 = performance.now();
      const enc = e.dev.gpu.createCommandEncoder();
      const outs = program.encode(e.dev, e.pool, enc, inputs, undefined, { only: i });
      e.dev.gpu.queue.submit([enc.finish()]);
      await e.dev.gpu.queue.onSubmittedWorkDone();
      if (r > 0) xs.push(performance.now() - t0);
      outs.forEach((b) => { if (!inputs.includes(b)) e.pool.release(b); });
    }
    out.push(median(xs));
  }
  return out;
}

/** Median GPU time (ms) of each launch of `program`: timestamp queries where the device has them, else each launch alone. */
export function launchTimes(e: Runner, program: Program, inputs: GPUBuffer[], reps = 5): Promise<number[]> {
  if (!program.steps.length) return Promise.resolve([]);
  submitOpen(); // work encoded before (computing the inputs, say) runs first, and outside the timing
  return (e.dev.caps.timestamps ? timestampTimes : aloneTimes)(e, program, inputs, reps);
}
