/**
 * Autotuning of matmul schedules, per adapter. For a matmul kernel (with its fused prologue and
 * epilogue) every candidate schedule that fits the device is compiled and timed on synthetic
 * inputs of the kernel's real shapes; outputs are cross-checked against the heuristic schedule's,
 * so a fast wrong kernel can never win. The winner is cached in memory and in a persistent cache
 * (a JSON file in Node, localStorage in a browser), keyed by the adapter and the kernel's WGSL, so
 * a second process starts tuned. Tuning is bounded in time (`budgetMs` per kernel), skipped for
 * small matmuls, and can be turned off (TESSERA_AUTOTUNE=0 or `tuning.enabled = false`), which
 * falls back to the heuristic choice.
 *
 * By default tuning never delays a call (`tuning.mode = 'background'`): a program is compiled
 * with heuristic schedules and runs at once; its kernels queue here and are tuned one slice at a
 * time (a candidate's compile, check and timing; a round of the finalists) whenever no user call
 * is in progress (activity.ts), and a program whose kernel got a better schedule rebuilds that
 * step and swaps it in (program.ts). A queued job holds its kernel (graph nodes, so the input
 * buffers they stand for) until it is tuned. `tuningComplete()` waits for all of it.
 *
 * What wins differs by adapter: on lavapipe (CPU Vulkan) register blocks without workgroup memory
 * tend to win, on GPUs shared-memory tiles usually do; hence measurement, not assumption.
 */
import { generate, rowGeometry, rowHeuristic, vectorizable, type DeviceCaps, type KernelCode, type RowSchedule, type Schedule } from '../codegen/kernels.ts';
import { attentionCandidates, attentionHeuristic, attentionKey, attentionWork } from '../codegen/attention.ts';
import { DEFAULT_MATMUL, scheduleFits, scheduleKey, type MatmulSchedule } from '../codegen/matmul.ts';
import { byteSize, isFloat } from '../ir/dtype.ts';
import { kernelOutputs, matmulWork, type Kernel } from '../ir/schedule/index.ts';
import { numel } from '../ir/shape.ts';
import type { Device } from './device.ts';
import { BufferUsage, MapMode } from './gpu.ts';
import type { PipelineCache } from './pipelines.ts';
import type { BufferPool } from './pool.ts';
import { median } from './profile.ts';
import { callsStarted, sinceLastCall, whenIdle } from './activity.ts';
import { measuredMatmul, measuredRow } from './defaults.ts';
import { counters } from './stats.ts';

const env = (k: string) => (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[k];

export type TuneMode = 'background' | 'blocking' | 'off';
export const tuning = {
  enabled: env('TESSERA_AUTOTUNE') !== '0',
  /** Time budget for tuning one kernel; a fast kernel gets less (at most 100 of its own runs, at least 250 ms). */
  budgetMs: Number(env('TESSERA_TUNE_BUDGET_MS') ?? 4000),
  /** Kernels with less work than this (multiply-adds, or 4 x elements for row kernels) use the heuristic. */
  minWork: 1 << 24,
  /** Persistent cache file (Node); '' disables it. */
  cacheFile: env('TESSERA_TUNE_CACHE') ?? '.tessera-cache/matmul-tuning.json',
  /**
   * background (default): a kernel first runs with its heuristic schedule and is tuned between
   * calls, then swapped in; blocking: tuned before its first run (benchmarks); off: heuristics.
   * TESSERA_TUNE=background|blocking|off; TESSERA_AUTOTUNE=0 or `enabled = false` also means off.
   */
  mode: (['blocking', 'off'].includes(env('TESSERA_TUNE') ?? '') ? env('TESSERA_TUNE') : 'background') as TuneMode,
  /** Log each tuning result. */
  verbose: env('TESSERA_DEBUG')?.includes('tune') ?? false,
  /**
   * Background tuning compiles a candidate whose estimated compiled size (compileSize: its WGSL
   * with called functions counted once per call site, as the driver inlines them) exceeds this
   * and twice the heuristic's only once the user has been quiet for `quietMs` (or awaits
   * tuningComplete()): on lavapipe such a pipeline takes seconds to build, and the device
   * answers nothing else meanwhile, so it would stall the user's next read. (lavapipe builds
   * about 200 of these characters per millisecond: 100 000 is about half a second.)
   */
  activeCompileSize: 100_000,
  quietMs: 1000,
};

const modeNow = (): TuneMode => (tuning.enabled ? tuning.mode : 'off');
/** The tuning mode in effect (off when tuning is disabled). */
export const tuneModeNow = modeNow;
/** What of the tuner's settings decides which schedules a compile starts with (part of a plan-cache key). */
export const tuningKey = () => `${modeNow() === 'off' ? 'off' : 'on'}:${tuning.minWork}`;

/** The candidate space: register blocks with direct loads (optionally several K steps per loop
 * iteration, or vec4 accumulators), and workgroup-memory tiles. Ordered so the likeliest winners are timed first, as the
 * budget may stop the first round early. */
export const CANDIDATES: readonly MatmulSchedule[] = [
  DEFAULT_MATMUL,
  { wgM: 8, wgN: 8, tm: 8, tn: 16, bk: 8, shared: false },
  { wgM: 4, wgN: 8, tm: 16, tn: 16, bk: 8, shared: false },
  { wgM: 8, wgN: 8, tm: 16, tn: 8, bk: 8, shared: false },
  { wgM: 8, wgN: 8, tm: 8, tn: 8, bk: 8, shared: false },
  { wgM: 16, wgN: 4, tm: 4, tn: 8, bk: 8, shared: false },
  { wgM: 4, wgN: 16, tm: 4, tn: 8, bk: 8, shared: false },
  { ...DEFAULT_MATMUL, ku: 4 },
  { wgM: 16, wgN: 4, tm: 4, tn: 8, bk: 8, shared: false, ku: 4 },
  { wgM: 8, wgN: 8, tm: 8, tn: 8, bk: 8, shared: false, ku: 2 },
  { wgM: 8, wgN: 8, tm: 4, tn: 8, bk: 8, shared: false },
  { wgM: 8, wgN: 8, tm: 4, tn: 4, bk: 16, shared: true },
  { wgM: 16, wgN: 16, tm: 4, tn: 4, bk: 16, shared: true },
  { wgM: 8, wgN: 8, tm: 8, tn: 4, bk: 8, shared: false },
  { wgM: 2, wgN: 32, tm: 4, tn: 4, bk: 8, shared: false },
  { wgM: 16, wgN: 16, tm: 4, tn: 4, bk: 8, shared: false },
  { wgM: 4, wgN: 16, tm: 4, tn: 8, bk: 8, shared: false, ku: 4 },
  { wgM: 16, wgN: 16, tm: 2, tn: 2, bk: 16, shared: true },
  // vec4 accumulators: slower on lavapipe, which scalarizes them; GPUs may differ.
  { ...DEFAULT_MATMUL, vec: 4 },
  { wgM: 16, wgN: 16, tm: 4, tn: 4, bk: 16, shared: true, vec: 4 },
];

/** The untuned choice: the default block, shrunk for skinny matrices so few invocations idle. */
export function heuristicSchedule(k: Kernel & { kind: 'matmul' }): MatmulSchedule {
  const r = k.node.shape.length, M = k.node.shape[r - 2]!, N = k.node.shape[r - 1]!;
  const tm = M >= 32 ? 4 : M >= 8 ? 2 : 1, tn = N >= 32 ? 4 : N >= 8 ? 2 : 1;
  const wgM = Math.min(8, Math.max(1, 2 ** Math.ceil(Math.log2(Math.ceil(M / tm)))));
  return { ...DEFAULT_MATMUL, tm, tn, wgM, wgN: 64 / wgM };
}

/** Row-kernel candidates: one invocation per row, or a workgroup tree of several widths. */
export function rowCandidates(k: Kernel & { kind: 'row' }, caps: DeviceCaps, h: RowSchedule = rowHeuristic(k, caps)): RowSchedule[] {
  const out: RowSchedule[] = [h, ...[64, 16].filter((wg) => !(h.serial && h.wg === wg)).map((wg) => ({ serial: true, wg }))];
  for (const wg of [32, 64, 128, 256]) if (wg <= caps.maxWorkgroupSize) {
    out.push({ serial: false, wg });
    if (caps.subgroups) out.push({ serial: false, wg, subgroups: true });
  }
  return out;
}
const rowKey = (s: RowSchedule) => (s.serial ? `serial${s.wg}` : `tree${s.wg}${s.subgroups ? '+subgroups' : ''}`);
/** A schedule's short name (as in TESSERA_DEBUG=tune output and TuneResult timings). */
export const keyOf = (s: Schedule) => ('tm' in s ? scheduleKey(s) : 'lanes' in s ? `lanes${s.lanes}` : 'tq' in s ? attentionKey(s) : rowKey(s));

const memory = new Map<string, Schedule>();
let persisted: Record<string, Schedule> | null = null;

/**
 * Forgets the tuning results held in memory (not the cache file: point tuning.cacheFile elsewhere
 * to start afresh). For benchmarks that tune the same kernels twice, independently.
 */
export function forgetTuning(): void { memory.clear(); persisted = null; }

async function loadPersisted(): Promise<Record<string, Schedule>> {
  if (persisted) return persisted;
  persisted = {};
  try {
    const ls = (globalThis as { localStorage?: Storage }).localStorage;
    if (ls) persisted = JSON.parse(ls.getItem('tessera-tuning') ?? '{}');
    else if (tuning.cacheFile && env('HOME') !== undefined) {
      const fs = await import('node:fs/promises');
      persisted = JSON.parse(await fs.readFile(tuning.cacheFile, 'utf8'));
    }
  } catch { /* no cache yet */ }
  return persisted!;
}
async function savePersisted(): Promise<void> {
  try {
    const ls = (globalThis as { localStorage?: Storage }).localStorage;
    const text = JSON.stringify(persisted, null, 1);
    if (ls) ls.setItem('tessera-tuning', text);
    else if (tuning.cacheFile && env('HOME') !== undefined) {
      const fs = await import('node:fs/promises'), path = await import('node:path');
      await fs.mkdir(path.dirname(tuning.cacheFile), { recursive: true });
      await fs.writeFile(tuning.cacheFile, text);
    }
  } catch { /* a read-only place: keep the in-memory result */ }
}

/** A short stable hash (FNV-1a) of a string. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

export interface TuneContext { dev: Device; pipelines: PipelineCache; pool: BufferPool }
export interface TuneResult { winner: Schedule; heuristic: Schedule; timings: { schedule: string; ms: number; ok: boolean }[] }

/** Work of a kernel in multiply-adds (matmul) or elements visited (row), to skip tuning tiny ones. */
function workOf(k: Kernel): number {
  if (k.kind === 'matmul') return matmulWork(k);
  if (k.kind === 'row') return numel(k.full) * 4;
  if (k.kind === 'attention') return attentionWork(k);
  return numel(k.shape) * 4;
}

/** The heuristic schedule and the tuning key of a kernel (no key: too small to tune); undefined: no choice to make. */
interface Prepared { h: Schedule; key?: string }
const prepared = new WeakMap<Kernel, Prepared | undefined>();
function prepare(k: Kernel, ctx: TuneContext): Prepared | undefined {
  if (prepared.has(k)) return prepared.get(k);
  let p: Prepared | undefined;
  if (k.kind !== 'elementwise' || vectorizable(k)) {
    // The untuned choice, in every mode: a measured default for this adapter class (defaults.ts)
    // unless it is costly to compile, else the template heuristic; tuning (background or
    // blocking) times the rest against it and swaps a winner in. Measured on lavapipe from fresh
    // processes: the MLP Adam step's first call took 10.8-11.6 s with the template's tiles and
    // 5.8-7.6 s with the measured ones (the W5 block 4.1 vs 5.6 s), and the measured tiles run
    // near the tuned speed until tuning is done. Row kernels: the measured default likewise.
    const h: Schedule = k.kind === 'matmul' ? cheapMeasuredMatmul(k, ctx) ?? heuristicSchedule(k)
      : k.kind === 'row' ? measuredRow(ctx.dev) ?? rowHeuristic(k, ctx.dev.caps) : k.kind === 'attention' ? attentionHeuristic(k, ctx.dev.caps) : { lanes: 4 };
    // Keyed by the kernel's WGSL with buffer names stripped: the same computation reached from jit
    // (inputs named 'arg') and eagerly (named 'data') is tuned once.
    const key = workOf(k) < tuning.minWork ? undefined
      : `${ctx.dev.adapterKey}|${k.kind}|${hash(generate(k, ctx.dev.caps, h).wgsl.replace(/\b(in|out)(\d+)_\w+/g, '$1$2'))}`;
    p = { h, key };
  }
  prepared.set(k, p);
  return p;
}

/**
 * The adapter's measured matmul tile, unless it is costly to compile (costlyCompileBound, as
 * background tuning defers): a first call must not stall on building large tiles
 * (lavapipe builds them at their first dispatch; with the 8x16 tile and unrolled epilogues the W5
 * block's first call took 70 s, vs 4.4 s with the template's tiles).
 */
function cheapMeasuredMatmul(k: Kernel & { kind: 'matmul' }, ctx: TuneContext): Schedule | undefined {
  const m = measuredMatmul(k, ctx.dev);
  return m && compileSize(generate(k, ctx.dev.caps, m).wgsl) <= costlyCompileBound(k, ctx.dev.caps, heuristicSchedule(k)) ? m : undefined;
}

/** The compiled size (compileSize) over which a schedule of k counts as costly to build: tuning.activeCompileSize, or twice the reference schedule's. */
const costlyCompileBound = (k: Kernel, caps: DeviceCaps, reference: Schedule) =>
  Math.max(tuning.activeCompileSize, 2 * compileSize(generate(k, caps, reference).wgsl));

/**
 * The schedule for a matmul, row or vectorizable elementwise kernel: tuned (cached), or the
 * heuristic; in blocking mode an untuned kernel is tuned first. Undefined: no choice to make.
 */
export async function chooseSchedule(k: Kernel, ctx: TuneContext): Promise<Schedule | undefined> {
  const p = prepare(k, ctx);
  if (!p || !p.key || modeNow() === 'off') return p?.h;
  const hit = memory.get(p.key) ?? (await loadPersisted())[p.key];
  if (hit) { memory.set(p.key, hit); return hit; }
  return modeNow() === 'blocking' ? tuneAndStore(k, ctx, p.key, p.h) : p.h;
}

/**
 * Background mode: the schedule tuning will find for a kernel compiled with its heuristic (the
 * promise resolves once it is tuned, between the user's calls); undefined when nothing is pending.
 */
export function tunedLater(k: Kernel, ctx: TuneContext): Promise<Schedule | undefined> | undefined {
  const p = prepare(k, ctx);
  if (!p?.key || modeNow() !== 'background' || memory.has(p.key)) return undefined;
  let job = jobs.get(p.key);
  if (!job) {
    const key = p.key, h = p.h;
    counters.tuningQueued++;
    if (tuning.verbose) console.log(`tessera: tuning ${kernelLabel(k)} in the background (${counters.tuningQueued} queued)`);
    job = new Promise<Schedule | undefined>((resolve) => {
      let endTurn = () => {};
      // Waiting for a quiet user (a costly candidate), the job gives its turn to jobs queued after it.
      const quietly = async () => {
        while (userActive()) {
          if (queue.some((t) => !t.parked)) await new Promise<void>((resume) => { queue.push({ parked: true, run: (end) => { endTurn = end; resume(); } }); endTurn(); });
          else await pause(100);
        }
      };
      queue.push({ parked: false, run: (end) => {
        endTurn = end;
        void (async () => {
          try { resolve(await tuneAndStore(k, ctx, key, h, whenIdle, quietly)); } catch (e) {
            if (tuning.verbose) console.log(`tessera: tuning ${kernelLabel(k)} failed: ${(e as Error).message}`);
            resolve(undefined);
          } finally { counters.tuningQueued--; jobs.delete(key); endTurn(); }
        })();
      } });
    });
    jobs.set(key, job);
    pumping ??= pump();
  }
  return job;
}

/** Background tuning jobs by tuning key (equal kernels of several programs are tuned once), the queue, and its runner. */
const jobs = new Map<string, Promise<Schedule | undefined>>();
/** A job's turn: `run` starts (or resumes) it and calls `end` when it finishes or parks (waits, letting others run). */
interface Turn { parked: boolean; run: (end: () => void) => void }
const queue: Turn[] = [];
let pumping: Promise<void> | null = null;
async function pump(): Promise<void> {
  while (queue.length) { const t = queue.shift()!; await new Promise<void>((end) => t.run(end)); }
  pumping = null;
}
/** A timer that does not hold a Node process. */
const pause = (ms: number) => new Promise<void>((r) => (setTimeout(r, ms) as { unref?: () => void }).unref?.());
/** Work that follows a tuning result (rebuilding and swapping a program's kernel), awaited by tuningComplete. */
const followUps = new Set<Promise<unknown>>();
export function afterTuning(p: Promise<unknown>): void {
  followUps.add(p);
  p.finally(() => followUps.delete(p)).catch(() => {});
}

/**
 * Resolves when every kernel compiled so far has been tuned and the programs using it rebuilt
 * (background mode; at once in the other modes). Benchmarks and tests await it.
 */
export async function tuningComplete(): Promise<void> {
  if (!pumping && !followUps.size) return;
  const keepAlive = setInterval(() => {}, 1 << 30); // background tuning alone does not hold the process; awaiting it does
  waiting++; // the caller waits for tuning: deferred candidates need not wait for a quiet user
  try {
    while (pumping || followUps.size) {
      await pumping;
      await Promise.allSettled([...followUps]);
    }
  } finally { clearInterval(keepAlive); waiting--; }
}

/** How many tuningComplete() calls are waiting. */
let waiting = 0;
/** Whether the user counts as active: a call in progress or started within tuning.quietMs, and nobody awaiting tuningComplete(). */
const userActive = () => waiting === 0 && sinceLastCall() < tuning.quietMs;
/** Resolves once the user is not active. */
async function quiet(): Promise<void> {
  while (userActive()) await pause(100);
}

/**
 * The compiled size a driver sees for a kernel: its WGSL text, with each function's body counted
 * once more per call site beyond the first (fused prologues are called at every unrolled load of
 * a register tile, epilogues at every store). A cost estimate, not a measurement.
 */
export function compileSize(wgsl: string): number {
  let size = wgsl.length;
  for (const m of wgsl.matchAll(/\bfn (\w+)\(/g)) {
    const name = m[1]!, start = m.index!, open = wgsl.indexOf('{', start);
    let depth = 0, end = open;
    for (; end < wgsl.length; end++) { const c = wgsl[end]; if (c === '{') depth++; else if (c === '}' && --depth === 0) break; }
    const calls = wgsl.split(`${name}(`).length - 2; // minus the definition
    if (calls > 1) size += (end + 1 - start) * (calls - 1);
  }
  return size;
}

/** What tuning decided in this process, per kernel (the first 256): benchmarks derive heuristics from it. */
export const tuneLog: { kernel: string; heuristic: string; winner: string; timings: TuneResult['timings'] }[] = [];

/**
 * Drops candidates that cannot win, by a cost model of the work they launch, before anything is
 * compiled or timed (the heuristic, first, always stays): a matmul tile that pads the output to
 * more than 1.5x the least padded candidate's elements; a row-reduction tree wider than the
 * reduced extent (lanes past it only idle), or one invocation per row in workgroups far wider than
 * there are rows.
 */
export function pruneCandidates(k: Kernel, cands: readonly Schedule[]): Schedule[] {
  const [h, ...rest] = cands;
  if (k.kind === 'matmul') {
    const r = k.node.shape.length, M = k.node.shape[r - 2]!, N = k.node.shape[r - 1]!;
    const padded = (s: Schedule) => { const m = s as MatmulSchedule, tm = m.wgM * m.tm, tn = m.wgN * m.tn; return Math.ceil(M / tm) * tm * Math.ceil(N / tn) * tn; };
    const least = Math.min(...cands.map(padded));
    return [h!, ...rest.filter((c) => padded(c) <= 1.5 * least)];
  }
  if (k.kind === 'row') {
    const { rows, red } = rowGeometry(k), widest = Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, red))));
    return [h!, ...rest.filter((c) => { const s = c as RowSchedule; return s.serial ? s.wg <= Math.max(16, 2 * rows) : s.wg <= widest; })];
  }
  return [...cands];
}

async function tuneAndStore(k: Kernel, ctx: TuneContext, key: string, h: Schedule, gate?: () => Promise<void>, quietly?: () => Promise<void>): Promise<Schedule> {
  const cands: Schedule[] = k.kind === 'matmul' ? [h, ...CANDIDATES.filter((c) => scheduleFits(c, ctx.dev.caps))]
    : k.kind === 'row' ? rowCandidates(k, ctx.dev.caps, h as RowSchedule) : k.kind === 'attention' ? attentionCandidates(k, ctx.dev.caps) : [h, { lanes: 1 }];
  const res = await tuneKernel(k, ctx, pruneCandidates(k, cands), gate, quietly);
  memory.set(key, res.winner);
  (await loadPersisted())[key] = res.winner;
  await savePersisted();
  counters.kernelsTuned++;
  if (tuneLog.length < 256) tuneLog.push({ kernel: kernelLabel(k), heuristic: keyOf(h), winner: keyOf(res.winner), timings: res.timings });
  if (tuning.verbose) console.log(`tessera: tuned ${kernelLabel(k)} -> ${keyOf(res.winner)}\n${res.timings.map((t) => `  ${t.schedule} ${t.ms.toFixed(2)} ms${t.ok ? '' : ' (WRONG, rejected)'}`).join('\n')}`);
  return res.winner;
}

const kernelLabel = (k: Kernel) => (k.kind === 'matmul' ? String(k.node) : k.kind === 'attention' ? `attention ${k.node}` : k.kind === 'row' ? `row[${k.full.join(',')}]/${k.axes.join(',')} (${rowGeometry(k as Kernel & { kind: 'row' }).rows} rows)` : 'elementwise');

/**
 * Times each candidate (the first is the heuristic) on synthetic inputs, cross-checking every
 * output against the heuristic's. Returns the fastest agreeing candidate. With a `gate` (background
 * tuning), each slice of work (one candidate's compile, check and first timing; one round of the
 * finalists) first waits for it: the budget counts only the tuner's own time, and a timing that a
 * user's call overlapped is taken again. With a gate, a candidate costly to compile (compileSize
 * over tuning.activeCompileSize and twice the heuristic's) is put off while the user is active
 * and tried after the others once `quietly()` resolves (the background queue lets later jobs run
 * meanwhile), within a budget of its own.
 */
export async function tuneKernel(k: Kernel, ctx: TuneContext, candidates: readonly Schedule[], gate?: () => Promise<void>,
  quietly: () => Promise<void> = quiet): Promise<TuneResult> {
  const { dev, pipelines } = ctx, gpu = dev.gpu;
  const seen = new Set<string>();
  const list = candidates.filter((c) => { const key = keyOf(c); if (seen.has(key)) return false; seen.add(key); return true; });
  let spent = 0;
  const slice = async <T>(work: () => Promise<T>): Promise<T> => {
    await gate?.();
    const t0 = performance.now();
    try { return await work(); } finally { spent += performance.now() - t0; }
  };
  // Synthetic inputs: values in [-1, 1) for floats, small integers otherwise (deterministic).
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
  const sizeOf = (n: Kernel['reads'][number]) => Math.max(16, Math.ceil(numel(n.shape) * byteSize(n.dtype) / 4) * 4);
  const reads = k.reads.map((n) => {
    const size = sizeOf(n);
    const b = gpu.createBuffer({ size, usage });
    const data = n.dtype === 'float16' ? new Uint16Array(size / 2).map(() => 0x3c00) : isFloat(n.dtype) ? Float32Array.from({ length: size / 4 }, rnd) : Uint32Array.from({ length: size / 4 }, () => (rnd() + 1) * 4 | 0);
    gpu.queue.writeBuffer(b, 0, data);
    return b;
  });
  const outNodes = kernelOutputs(k);
  const outs = outNodes.map((n) => gpu.createBuffer({ size: sizeOf(n), usage }));
  const readBack = async (): Promise<(Float32Array | Uint32Array)[]> => {
    const sts = outs.map((o) => gpu.createBuffer({ size: o.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST }));
    const enc = gpu.createCommandEncoder();
    outs.forEach((o, i) => enc.copyBufferToBuffer(o, 0, sts[i]!, 0, o.size));
    gpu.queue.submit([enc.finish()]);
    return Promise.all(sts.map(async (st, i) => {
      await st.mapAsync(MapMode.READ);
      const raw = st.getMappedRange().slice(0);
      st.unmap(); st.destroy();
      return outNodes[i]!.dtype === 'float32' ? new Float32Array(raw) : new Uint32Array(raw);
    }));
  };
  let reference: (Float32Array | Uint32Array)[] | null = null;
  const uniforms: GPUBuffer[] = [];
  interface Cand { s: Schedule; run: () => Promise<number>; samples: number[]; ok: boolean }
  const tried: Cand[] = [];
  let budget = tuning.budgetMs;
  // Round 1: every candidate (the heuristic first) is compiled, checked against the heuristic's
  // output, and timed once, until the budget runs out. In the background, a candidate costly to
  // compile waits (deferred) until the user is quiet; those then get a budget of their own.
  const deferred: Schedule[] = [];
  let bound = Infinity;
  const round1 = async (s: Schedule, code: KernelCode, late: boolean): Promise<void> => {
    if (late) await quietly();
    const c = await slice(async (): Promise<Cand | null> => {
      let pipe: GPUComputePipeline;
      try { pipe = await pipelines.get(code.wgsl, code.name); } catch { return null; }
      const bufferFor = (i: number) => (i < reads.length ? reads[i]! : outs[i - reads.length]!);
      const entries: GPUBindGroupEntry[] = code.bindings.map((_, binding) => ({ binding, resource: { buffer: bufferFor(binding) } }));
      if (code.params) { // the parameter constants' real values (codegen/expr.ts isParamConst)
        const u = gpu.createBuffer({ size: Math.ceil(code.params.length / 4) * 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
        gpu.queue.writeBuffer(u, 0, Float32Array.from({ length: u.size / 4 }, (_, i) => (code.params![i]?.arg as number | undefined) ?? 0));
        uniforms.push(u);
        entries.push({ binding: entries.length, resource: { buffer: u } });
      }
      const bind = gpu.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
      const run = async () => {
        for (let attempt = 0; ; attempt++) {
          await gpu.queue.onSubmittedWorkDone(); // time this kernel alone, not work queued before it
          const calls = callsStarted(), t0 = performance.now();
          const enc = gpu.createCommandEncoder();
          const pass = enc.beginComputePass();
          pass.setPipeline(pipe); pass.setBindGroup(0, bind); pass.dispatchWorkgroups(...code.grid); pass.end();
          gpu.queue.submit([enc.finish()]);
          await gpu.queue.onSubmittedWorkDone();
          if (callsStarted() === calls || attempt === 2) return performance.now() - t0;
          await gate?.();
        }
      };
      await run(); // warm-up (and the values to check)
      const vals = await readBack();
      const ok = !reference || vals.every((v, i) => agrees(reference![i]!, v, outNodes[i]!.dtype === 'float32'));
      reference ??= vals;
      return { s, run, samples: [await run()], ok };
    });
    if (!c) return;
    tried.push(c);
    if (tried.length === 1) budget = Math.min(tuning.budgetMs, Math.max(250, 100 * c.samples[0]!));
  };
  for (const s of list) {
    if (tried.length >= 2 && spent > budget) break;
    const code = generate(k, dev.caps, s);
    if (gate && tried.length) {
      if (bound === Infinity) bound = costlyCompileBound(k, dev.caps, list[0]!);
      if (compileSize(code.wgsl) > bound && userActive()) { deferred.push(s); counters.tuningDeferred++; continue; }
    }
    await round1(s, code, false);
  }
  const spentBefore = spent;
  for (const s of deferred) {
    if (spent - spentBefore > budget) break;
    await round1(s, generate(k, dev.caps, s), true);
  }
  // Rounds 2-4: the heuristic and the three fastest correct candidates, timed in turn (so load
  // on the machine falls on all of them alike); the median decides.
  const finalists = [tried[0]!, ...tried.slice(1).filter((c) => c.ok).sort((a, b) => a.samples[0]! - b.samples[0]!).slice(0, 3)];
  for (let round = 0; round < 3 && (round === 0 || spent < 2 * budget); round++)
    await slice(async () => { for (const c of finalists) c.samples.push(await c.run()); });
  const best = finalists.reduce((a, b) => (median(b.samples) < median(a.samples) ? b : a));
  for (const b of [...reads, ...outs, ...uniforms]) b.destroy();
  return { winner: best.s, heuristic: list[0]!, timings: tried.map((c) => ({ schedule: keyOf(c.s), ms: median(c.samples), ok: c.ok })) };
}

function agrees(a: Float32Array | Uint32Array, b: Float32Array | Uint32Array, float: boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!float) { if (x !== y) return false; continue; }
    if (Number.isNaN(x) !== Number.isNaN(y)) return false;
    if (Math.abs(x - y) > 1e-3 * Math.max(1, Math.abs(x), Math.abs(y))) return false;
  }
  return true;
}
