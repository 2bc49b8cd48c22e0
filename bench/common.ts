/**
 * Shared helpers for the benchmarks: GPU timing (median of N around submit +
 * `queue.onSubmittedWorkDone()`), aligned tables, JSON results in bench/results/, and the
 * machine description printed at the top of every bench.
 *
 * Why not benny for GPU work: benny (benchmark.js) runs many async cycles with its own
 * scheduling, which on a 2-core CPU adapter adds overhead comparable to the kernels and needs
 * far more iterations than a 2-second matmul allows. Each measurement here is one
 * submit -> onSubmittedWorkDone round trip, timed with performance.now(); the median is reported.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../runtime/profile.ts';
import { engine, type Engine } from '../runtime/engine.ts';

export { median };

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** True when the module at `url` is the script node was started with (not imported). */
export function isMain(url: string): boolean {
  const argv1 = process.argv[1];
  return !!argv1 && (url === pathToFileURL(argv1).href || url === pathToFileURL(argv1 + '.ts').href);
}

export interface TimeOptions {
  /** Measured repetitions (after warmup). */
  reps?: number;
  warmup?: number;
  /** Stop early once measured time exceeds this (keeps big sizes short); at least minReps run. */
  maxMs?: number;
  minReps?: number;
  /**
   * Untimed runs of a contender right before each of its timed runs (timeInterleaved; default 1).
   * On lavapipe a program runs up to 1.6x slower right after a different program than after
   * itself (measured on the W5 block: fused 390 ms after the unfused program, 240 ms after
   * itself), so strict A B A B timing would measure the switch, not the steady state a loop sees.
   */
  settle?: number;
}

export interface Timing { median: number; min: number; max: number; reps: number; samples: number[] }

export function summarize(samples: number[]): Timing {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), reps: samples.length, samples };
}

/** Times `run` (which must wait for its own GPU work) `reps` times after `warmup` runs. */
export async function timeAsync(run: () => Promise<unknown>, o: TimeOptions = {}): Promise<Timing> {
  const reps = o.reps ?? 10, warmup = o.warmup ?? 2, maxMs = o.maxMs ?? Infinity, minReps = o.minReps ?? 3;
  for (let i = 0; i < warmup; i++) await run();
  const xs: number[] = [];
  let total = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    const dt = performance.now() - t0;
    xs.push(dt);
    total += dt;
    if (total > maxMs && xs.length >= minReps) break;
  }
  return summarize(xs);
}

/**
 * Times several contenders interleaved (A B C A B C ...), so machine noise (other processes on
 * the 2 shared cores) hits all of them alike and their ratios stay meaningful. Each timed run
 * follows `settle` untimed runs of the same contender, so it is timed in its steady state.
 */
export async function timeInterleaved(runs: Record<string, () => Promise<unknown>>, o: TimeOptions = {}): Promise<Record<string, Timing>> {
  const reps = o.reps ?? 10, warmup = o.warmup ?? 2, maxMs = o.maxMs ?? Infinity, minReps = o.minReps ?? 3, settle = o.settle ?? 1;
  const names = Object.keys(runs);
  for (let i = 0; i < warmup; i++) for (const k of names) await runs[k]!();
  const xs: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  let total = 0;
  for (let i = 0; i < reps; i++) {
    for (const k of names) {
      for (let s = 0; s < settle; s++) await runs[k]!();
      const t0 = performance.now();
      await runs[k]!();
      const dt = performance.now() - t0;
      xs[k]!.push(dt);
      total += dt;
    }
    if (total > maxMs && i + 1 >= minReps) break;
  }
  return Object.fromEntries(names.map((k) => [k, summarize(xs[k]!)]));
}

/** Waits until all GPU work submitted so far on Tessera's device is done. */
export async function gpuIdle(e?: Engine): Promise<void> {
  const eng = e ?? (await engine());
  await eng.dev.gpu.queue.onSubmittedWorkDone();
}

// ---- formatting -------------------------------------------------------------------------------
export const fmt = (x: number | undefined | null, digits = 2): string =>
  x === undefined || x === null || !Number.isFinite(x) ? '-' : Math.abs(x) >= 1000 ? x.toFixed(0) : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(digits);
export const ratio = (x: number, digits = 2) => (Number.isFinite(x) ? `${x.toFixed(digits)}x` : '-');

/** Prints an aligned table (first column left-aligned, the others right-aligned). */
export function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const w = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(w[i]!) : (c ?? '').padStart(w[i]!))).join('  ');
  console.log(line(cells[0]!));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

export function heading(s: string): void {
  console.log(`\n== ${s} ${'='.repeat(Math.max(0, 90 - s.length))}`);
}

/** A target line: `[MET]` / `[MISSED]` with the measured value and the goal. */
export function target(label: string, met: boolean | null, detail: string): { label: string; met: boolean | null; detail: string } {
  const tag = met === null ? '[N/A]   ' : met ? '[MET]   ' : '[MISSED]';
  console.log(`${tag} ${label}: ${detail}`);
  return { label, met, detail };
}

// ---- environment / results ----------------------------------------------------------------------
/**
 * The benches keep their own schedule-tuning cache (bench/results/tuning-cache.json) unless
 * TESSERA_TUNE_CACHE is set: winners tuned by test runs on a busy machine would otherwise decide
 * what is measured here. The first run tunes (its "compile ms" show it); later runs reuse. Tuning
 * is blocking here (tuned before a kernel first runs), so what is timed is tuned. The plan cache
 * (runtime/plan-cache.ts) is off unless TESSERA_PLAN_CACHE is set, so first calls still compile.
 */
async function configureTuning(): Promise<{ file: string; entries: number; enabled: boolean } | null> {
  type TunerModule = { tuning?: { cacheFile: string; enabled: boolean; mode?: string } };
  let mod: TunerModule;
  try { mod = (await import('../runtime/tuner.ts')) as unknown as TunerModule; } catch { return null; }
  const tuning = mod.tuning;
  if (!tuning) return null;
  if (process.env.TESSERA_TUNE_CACHE === undefined) tuning.cacheFile = join(BENCH_DIR, 'results', 'tuning-cache.json');
  // Benches measure tuned kernels: tune before the first run (TESSERA_TUNE picks another mode).
  if (process.env.TESSERA_TUNE === undefined && tuning.mode !== undefined) tuning.mode = 'blocking';
  // Benches measure compiles: no plan from an earlier run replaces one (bench/compile.ts measures the plan cache itself).
  if (process.env.TESSERA_PLAN_CACHE === undefined) {
    try { ((await import('../runtime/plan-cache.ts')) as { planCache: { enabled: boolean } }).planCache.enabled = false; } catch { /* an older tree */ }
  }
  let entries = 0;
  try { entries = Object.keys(JSON.parse(readFileSync(tuning.cacheFile, 'utf8'))).length; } catch { /* none yet */ }
  return { file: tuning.cacheFile, entries, enabled: tuning.enabled };
}

/** The commit measured, and how many files differ from it (others edit the tree concurrently). */
function gitState(): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n').filter(Boolean).length;
    return dirty ? `${head} + ${dirty} modified files` : head;
  } catch { return 'unknown'; }
}

export async function environment(): Promise<Record<string, unknown>> {
  const tuningCache = await configureTuning();
  const e = await engine();
  const la = loadavg();
  return {
    date: new Date().toISOString(),
    node: process.version,
    git: gitState(),
    adapter: e.dev.adapterInfo.description || e.dev.adapterKey,
    adapterKey: e.dev.adapterKey,
    loadavg1m: +la[0]!.toFixed(2),
    cores: availableParallelism(),
    timing: 'median of N wall-clock runs, each submit -> queue.onSubmittedWorkDone() (own loop, not benny)',
    tuningCache,
  };
}

export function printEnvironment(env: Record<string, unknown>): void {
  console.log(`adapter: ${env.adapter}   node ${env.node}   tree ${env.git}   load avg (1 min) ${env.loadavg1m} on ${availableParallelism()} cores`);
  console.log(`timing: ${env.timing}`);
  const tc = env.tuningCache as { file: string; entries: number; enabled: boolean } | null;
  if (tc) console.log(`schedule tuning: ${tc.enabled ? 'on' : 'off'}; cache ${tc.file} (${tc.entries} entries at start${tc.entries ? '' : ': kernels are tuned on first compile, up to the tuner budget each'})`);
  if ((env.loadavg1m as number) > 1.5) console.log('note: the machine is busy (load > 1.5 on 2 cores): expect noise; ratios are measured interleaved');
}

export function writeResults(name: string, data: unknown): string {
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(data, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1));
  console.log(`\nresults: ${file}`);
  return file;
}

/** Drops per-sample arrays to keep JSON small, but keeps medians/min/max/reps. */
export const brief = (t: Timing) => ({ medianMs: +t.median.toFixed(3), minMs: +t.min.toFixed(3), maxMs: +t.max.toFixed(3), reps: t.reps });

// ---- per-kernel profile of a Program --------------------------------------------------------------
export interface KernelTime { index: number; name: string; grid: string; ms: number }

/**
 * Times each launch of a compiled Program on its own (one dispatch per submit, median of `reps`),
 * on the real input buffers and scratch buffers for the intermediates (the values there do not
 * matter for timing). Uses only the Program's steps (pipeline, slots, grid) and slot sizes.
 */
export async function profileSteps(e: Engine, program: { steps: readonly { code: { name: string; grid: readonly number[] }; pipeline: GPUComputePipeline; slots: readonly number[] }[]; slotBytes: readonly number[] }, inputs: readonly GPUBuffer[], reps = 3): Promise<KernelTime[]> {
  const bufs = program.slotBytes.map((b, i) => inputs[i] ?? e.dev.gpu.createBuffer({ size: Math.ceil(Math.max(4, b) / 4) * 4, usage: 0x80 | 0x4 | 0x8 }));
  const out: KernelTime[] = [];
  for (const [index, st] of program.steps.entries()) {
    const bg = e.dev.gpu.createBindGroup({ layout: st.pipeline.getBindGroupLayout(0), entries: st.slots.map((s, binding) => ({ binding, resource: { buffer: bufs[s]! } })) });
    const t = await timeAsync(async () => {
      const enc = e.dev.gpu.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(st.pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(st.code.grid[0]!, st.code.grid[1] ?? 1, st.code.grid[2] ?? 1);
      pass.end();
      e.dev.gpu.queue.submit([enc.finish()]);
      await e.dev.gpu.queue.onSubmittedWorkDone();
    }, { reps, warmup: 1 });
    out.push({ index, name: st.code.name, grid: st.code.grid.join('x'), ms: t.median });
  }
  bufs.forEach((b, i) => { if (!inputs[i]) b.destroy(); });
  return out;
}
