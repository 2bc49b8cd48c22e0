/**
 * Timing on the device: runs a Program (or one kernel) repeatedly on given buffers and reports
 * wall-clock milliseconds per run, measured from submit to `onSubmittedWorkDone`. Used by the
 * autotuner and the benchmarks; medians are what they compare.
 */
import type { Device } from './device.ts';
import type { BufferPool } from './pool.ts';
import type { Program } from './program.ts';

export const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };

/** Runs `program` on `inputs` `reps` times (after `warmup` runs); returns ms per run. */
/** What timing a program needs: the device and the pool its buffers come from (an Engine has both). */
export interface Runner { dev: Device; pool: BufferPool }

export async function timeProgram(e: Runner, program: Program, inputs: readonly GPUBuffer[], reps = 5, warmup = 1): Promise<number[]> {
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
