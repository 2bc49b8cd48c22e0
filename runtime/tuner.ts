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
 * What wins differs by adapter: on lavapipe (CPU Vulkan) register blocks without workgroup memory
 * tend to win, on GPUs shared-memory tiles usually do; hence measurement, not assumption.
 */
import { generate, rowGeometry, rowHeuristic, vectorizable, type DeviceCaps, type RowSchedule, type Schedule } from '../codegen/kernels.ts';
import { DEFAULT_MATMUL, scheduleFits, scheduleKey, type MatmulSchedule } from '../codegen/matmul.ts';
import { byteSize, isFloat } from '../ir/dtype.ts';
import { kernelOutputs, type Kernel } from '../ir/schedule/index.ts';
import { numel } from '../ir/shape.ts';
import type { Device } from './device.ts';
import { BufferUsage, MapMode } from './gpu.ts';
import type { PipelineCache } from './pipelines.ts';
import type { BufferPool } from './pool.ts';
import { median } from './profile.ts';

const env = (k: string) => (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[k];

export const tuning = {
  enabled: env('TESSERA_AUTOTUNE') !== '0',
  /** Time budget for tuning one kernel; a fast kernel gets less (at most 100 of its own runs, at least 250 ms). */
  budgetMs: Number(env('TESSERA_TUNE_BUDGET_MS') ?? 4000),
  /** Kernels with less work than this (multiply-adds, or 4 x elements for row kernels) use the heuristic. */
  minWork: 1 << 24,
  /** Persistent cache file (Node); '' disables it. */
  cacheFile: env('TESSERA_TUNE_CACHE') ?? '.tessera-cache/matmul-tuning.json',
  /** Log each tuning result. */
  verbose: env('TESSERA_DEBUG')?.includes('tune') ?? false,
};

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
export function rowCandidates(k: Kernel & { kind: 'row' }, caps: DeviceCaps): RowSchedule[] {
  const h = rowHeuristic(k, caps);
  const out: RowSchedule[] = [h, { serial: true, wg: 64 }, { serial: true, wg: 16 }];
  for (const wg of [32, 64, 128, 256]) if (wg <= caps.maxWorkgroupSize) {
    out.push({ serial: false, wg });
    if (caps.subgroups) out.push({ serial: false, wg, subgroups: true });
  }
  return out;
}
const rowKey = (s: RowSchedule) => (s.serial ? `serial${s.wg}` : `tree${s.wg}${s.subgroups ? '+subgroups' : ''}`);
/** A schedule's short name (as in TESSERA_DEBUG=tune output and TuneResult timings). */
export const keyOf = (s: Schedule) => ('tm' in s ? scheduleKey(s) : 'lanes' in s ? `lanes${s.lanes}` : rowKey(s));

const memory = new Map<string, Schedule>();
let persisted: Record<string, Schedule> | null = null;

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
  if (k.kind === 'matmul') { const r = k.node.shape.length; return numel(k.node.shape) * k.node.src[0]!.shape[r - 1]!; }
  if (k.kind === 'row') return numel(k.full) * 4;
  return numel(k.shape) * 4;
}

/** The schedule for a matmul or row kernel: cached, tuned, or the heuristic (undefined: no choice to make). */
export async function chooseSchedule(k: Kernel, ctx: TuneContext): Promise<Schedule | undefined> {
  if (k.kind === 'elementwise' && !vectorizable(k)) return undefined;
  const h: Schedule = k.kind === 'matmul' ? heuristicSchedule(k) : k.kind === 'row' ? rowHeuristic(k, ctx.dev.caps) : { lanes: 4 };
  if (!tuning.enabled || workOf(k) < tuning.minWork) return h;
  // Keyed by the kernel's WGSL with buffer names stripped: the same computation reached from jit
  // (inputs named 'arg') and eagerly (named 'data') is tuned once.
  const key = `${ctx.dev.adapterKey}|${k.kind}|${hash(generate(k, ctx.dev.caps, h).wgsl.replace(/\b(in|out)(\d+)_\w+/g, '$1$2'))}`;
  const hit = memory.get(key) ?? (await loadPersisted())[key];
  if (hit) { memory.set(key, hit); return hit; }
  const cands: Schedule[] = k.kind === 'matmul' ? [h, ...CANDIDATES.filter((c) => scheduleFits(c, ctx.dev.caps))]
    : k.kind === 'row' ? rowCandidates(k, ctx.dev.caps) : [h, { lanes: 1 }];
  const res = await tuneKernel(k, ctx, cands);
  memory.set(key, res.winner);
  (await loadPersisted())[key] = res.winner;
  await savePersisted();
  if (tuning.verbose) console.log(`tessera: tuned ${kernelLabel(k)} -> ${keyOf(res.winner)}\n${res.timings.map((t) => `  ${t.schedule} ${t.ms.toFixed(2)} ms${t.ok ? '' : ' (WRONG, rejected)'}`).join('\n')}`);
  return res.winner;
}

const kernelLabel = (k: Kernel) => (k.kind === 'matmul' ? String(k.node) : k.kind === 'row' ? `row[${k.full.join(',')}]/${k.axes.join(',')} (${rowGeometry(k as Kernel & { kind: 'row' }).rows} rows)` : 'elementwise');

/**
 * Times each candidate (the first is the heuristic) on synthetic inputs, cross-checking every
 * output against the heuristic's. Returns the fastest agreeing candidate.
 */
export async function tuneKernel(k: Kernel, ctx: TuneContext, candidates: readonly Schedule[]): Promise<TuneResult> {
  const { dev, pipelines } = ctx, gpu = dev.gpu;
  const seen = new Set<string>();
  const list = candidates.filter((c) => { const key = keyOf(c); if (seen.has(key)) return false; seen.add(key); return true; });
  const start = performance.now();
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
  interface Cand { s: Schedule; run: () => Promise<number>; samples: number[]; ok: boolean }
  const tried: Cand[] = [];
  let budget = tuning.budgetMs;
  const elapsed = () => performance.now() - start;
  // Round 1: every candidate (the heuristic first) is compiled, checked against the heuristic's
  // output, and timed once, until the budget runs out.
  for (const s of list) {
    if (tried.length >= 2 && elapsed() > budget) break;
    const code = generate(k, dev.caps, s);
    let pipe: GPUComputePipeline;
    try { pipe = await pipelines.get(code.wgsl, code.name); } catch { continue; }
    const bufferFor = (i: number) => (i < reads.length ? reads[i]! : outs[i - reads.length]!);
    const bind = gpu.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: code.bindings.map((_, binding) => ({ binding, resource: { buffer: bufferFor(binding) } })) });
    const run = async () => {
      const t0 = performance.now();
      const enc = gpu.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipe); pass.setBindGroup(0, bind); pass.dispatchWorkgroups(...code.grid); pass.end();
      gpu.queue.submit([enc.finish()]);
      await gpu.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };
    await run(); // warm-up (and the values to check)
    const vals = await readBack();
    const ok = !reference || vals.every((v, i) => agrees(reference![i]!, v, outNodes[i]!.dtype === 'float32'));
    reference ??= vals;
    const c: Cand = { s, run, samples: [await run()], ok };
    tried.push(c);
    if (tried.length === 1) budget = Math.min(tuning.budgetMs, Math.max(250, 100 * c.samples[0]!));
  }
  // Rounds 2-4: the heuristic and the three fastest correct candidates, timed in turn (so load
  // on the machine falls on all of them alike); the median decides.
  const finalists = [tried[0]!, ...tried.slice(1).filter((c) => c.ok).sort((a, b) => a.samples[0]! - b.samples[0]!).slice(0, 3)];
  for (let round = 0; round < 3 && (round === 0 || elapsed() < 2 * budget); round++)
    for (const c of finalists) c.samples.push(await c.run());
  const best = finalists.reduce((a, b) => (median(b.samples) < median(a.samples) ? b : a));
  for (const b of [...reads, ...outs]) b.destroy();
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
