/**
 * The adapter's own ceilings, measured in the same run as the benchmark that prints them:
 *  - copy: a hand-written WGSL copy kernel (vec4<f32> and scalar f32 variants); GB/s counts the
 *    bytes read plus the bytes written.
 *  - fma: a hand-written WGSL kernel in which every invocation runs several independent fma
 *    chains (scalar f32 and vec4<f32> variants); GFLOP/s counts 2 flops per fma lane.
 * The kernels live in runtime/ceilings.ts (profile reports use them too); this file times them in
 * detail. The best variant of each is the ceiling. Other benches import `measureCeilings` (once per run)
 * and `copyFloor(bytes)` (the copy kernel over exactly the bytes a kernel must move).
 *
 * Standalone: npx tsx bench/ceilings.ts
 */
import { copyRunner as runtimeCopyRunner, FMA_CONFIGS, fmaFlops, fmaName, fmaRunner, type CopyVariant, type FmaConfig,
  type Runner } from '../runtime/ceilings.ts';
import { engine } from '../runtime/engine.ts';
import { brief, environment, fmt, heading, isMain, printEnvironment, table, timeAsync, writeResults, type Timing } from './common.ts';

export interface CopyResult { variant: CopyVariant; bytesEachWay: number; ms: number; gbs: number; timing: Timing }

/** A prepared copy kernel over `bytesEachWay` bytes: `run()` dispatches it once and waits. */
export async function copyRunner(bytesEachWay: number, variant: CopyVariant = 'vec4'): Promise<Runner> {
  return runtimeCopyRunner(await engine(), bytesEachWay, variant);
}

/** The copy kernel over `bytesEachWay` bytes read and the same written (GB/s counts both). */
export async function measureCopy(bytesEachWay: number, variant: CopyVariant = 'vec4', reps = 15): Promise<CopyResult> {
  const c = await copyRunner(bytesEachWay, variant);
  const timing = await timeAsync(c.run, { reps, warmup: 2, maxMs: 3000 });
  c.dispose();
  return { variant, bytesEachWay, ms: timing.median, gbs: (2 * bytesEachWay) / (timing.median * 1e6), timing };
}

/** The floor for a kernel that must move `bytesMoved` bytes (read + write): the best copy of half each way. */
export async function copyFloor(bytesMoved: number, reps = 15): Promise<CopyResult> {
  const a = await measureCopy(bytesMoved / 2, 'vec4', reps);
  const b = await measureCopy(bytesMoved / 2, 'f32', reps);
  return a.ms <= b.ms ? a : b;
}

// ---- fma ----------------------------------------------------------------------------------------
export interface FmaResult { config: FmaConfig; threads: number; flops: number; ms: number; gflops: number; timing: Timing }

export async function measureFma(c: FmaConfig, threads = 1 << 15, reps = 9): Promise<FmaResult> {
  const r = await fmaRunner(await engine(), c, threads);
  const timing = await timeAsync(r.run, { reps, warmup: 1, maxMs: 3000 });
  r.dispose();
  const flops = fmaFlops(c, threads);
  return { config: c, threads, flops, ms: timing.median, gflops: flops / (timing.median * 1e6), timing };
}

// ---- together -----------------------------------------------------------------------------------
export interface Ceilings { copyGBs: number; copyVariant: string; fmaGFLOPs: number; fmaConfig: string; copies: CopyResult[]; fmas: FmaResult[] }

let cached: Ceilings | null = null;

/** Measures (once per process) the copy and fma ceilings; `print` shows the detail table. */
export async function measureCeilings(print = false): Promise<Ceilings> {
  if (!cached) {
    const copies: CopyResult[] = [];
    for (const mib of [16, 64]) for (const v of ['vec4', 'f32'] as const) copies.push(await measureCopy(mib * 2 ** 20, v));
    const fmas: FmaResult[] = [];
    for (const c of FMA_CONFIGS) fmas.push(await measureFma(c));
    const bc = copies.reduce((a, b) => (b.gbs > a.gbs ? b : a));
    const bf = fmas.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    cached = { copyGBs: bc.gbs, copyVariant: `${bc.variant}, ${bc.bytesEachWay / 2 ** 20} MiB each way`, fmaGFLOPs: bf.gflops,
      fmaConfig: fmaName(bf.config), copies, fmas };
  }
  if (print) printCeilings(cached, true);
  return cached;
}

export function printCeilings(c: Ceilings, detail = false): void {
  if (detail) {
    heading('ceilings: copy kernel (hand-written WGSL; GB/s = (read + write bytes) / time)');
    table(['variant', 'MiB each way', 'ms (median)', 'GB/s', 'reps'], c.copies.map((r) => [r.variant, r.bytesEachWay / 2 ** 20, r.ms, r.gbs,
      String(r.timing.reps)]));
    heading('ceilings: fma kernel (hand-written WGSL; independent fma chains per invocation; 2 flops per fma lane)');
    table(['config', 'invocations', 'GFLOP', 'ms (median)', 'GFLOP/s', 'reps'], c.fmas.map((r) => [fmaName(r.config), String(r.threads),
      r.flops / 1e9, r.ms, r.gflops, String(r.timing.reps)]));
  }
  console.log(`ceilings (this run): copy ${fmt(c.copyGBs)} GB/s [${c.copyVariant}]   fma ${fmt(c.fmaGFLOPs)} GFLOP/s [${c.fmaConfig}]`);
}

export const ceilingsJson = (c: Ceilings) => ({
  copyGBs: c.copyGBs, copyVariant: c.copyVariant, fmaGFLOPs: c.fmaGFLOPs, fmaConfig: c.fmaConfig,
  copies: c.copies.map((r) => ({ variant: r.variant, bytesEachWay: r.bytesEachWay, gbs: r.gbs, ...brief(r.timing) })),
  fmas: c.fmas.map((r) => ({ config: fmaName(r.config), threads: r.threads, gflop: r.flops / 1e9, gflops: r.gflops, ...brief(r.timing) })),
});

export async function main(): Promise<void> {
  const env = await environment();
  heading('bench/ceilings.ts: adapter ceilings');
  printEnvironment(env);
  const c = await measureCeilings(true);
  writeResults('ceilings', { env, ...ceilingsJson(c) });
}

if (isMain(import.meta.url)) await main();
