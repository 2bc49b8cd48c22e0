/**
 * Issue 4: single-kernel performance beside the adapter's ceilings and beside tfjs-webgpu.
 *
 *  - matmul N x N x N for N = 256, 512, 1024, 2048, the transformer-like 4096x256 . 256x1024, and
 *    1024 with a transposed operand (a.T . b, a . b.T: the backward-pass matmuls) (GFLOP/s = 2MNK / time); if the matmul tuner (runtime/tuner.ts) exists, the heuristic
 *    (untuned) schedule and the tuned one side by side
 *  - Dense: relu(x . W + bias) on [1024,1024] . [1024,1024], fused (epilogue in the matmul
 *    kernel) vs unfused (compilerOptions.fuse = false) vs tfjs's fused matMul
 *  - softmax and layernorm (with gamma, beta) over the last axis of [4096, 1024]
 *  - conv2d (section at the end, marked CONV2D: cases for the conv engineer to extend)
 *
 * Tessera is timed by replaying the compiled Program of the op's graph (the program realize/jit
 * compile; compile and tuning happen before timing): encode, submit, onSubmittedWorkDone.
 * tfjs: the op call, submitQueue, onSubmittedWorkDone (bench/tfjs.ts). Neither includes a
 * readback. All contenders of a case run interleaved; medians (own loop, not benny). Outputs are
 * cross-checked (Tessera vs tfjs, max |diff| / max |value|) once, before timing.
 *
 * Standalone: npx tsx bench/kernels.ts            (TESSERA_BENCH_QUICK=1 skips N=2048)
 */
import type * as TF from '@tensorflow/tfjs-core';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { runPasses } from '../ir/passes/index.ts';
import type { Kernel } from '../ir/schedule/index.ts';
import type { Device } from '../runtime/device.ts';
import { aliasOf, engine, ensureUploaded, globalOptions, inputsOf, substituteRealized, type Engine } from '../runtime/engine.ts';
import { BufferUsage, MapMode } from '../runtime/gpu.ts';
import { compileProgram, type CompileOptions, type Program } from '../runtime/program.ts';
import { storageOf } from '../runtime/storage.ts';
import { ceilingsJson, measureCeilings, printCeilings } from './ceilings.ts';
import { environment, fmt, heading, isMain, printEnvironment, ratio, table, target, timeInterleaved, writeResults, type Timing } from './common.ts';
import { loadTfjs, type Tf } from './tfjs.ts';

/**
 * The schedule hook of CompileOptions is being written concurrently (it was `matmulSchedule`, is
 * now `schedule`, covering matmul and row kernels), so it is looked up by name at run time.
 */
type Sched = Record<string, unknown>;
type ScheduleFn = (k: Kernel, dev: Device) => Promise<Sched | undefined> | Sched | undefined;
type LooseOptions = Record<string, unknown>;
const HOOK_NAMES = ['schedule', 'matmulSchedule'];
const hookName = (): string | undefined => HOOK_NAMES.find((n) => typeof (globalOptions as LooseOptions)[n] === 'function');

export const describeSchedule = (s: Sched | undefined): string => {
  if (!s) return 'default';
  if ('tm' in s) return `${s.wgM}x${s.wgN}/${s.tm}x${s.tn}${s.shared ? `/smem${s.bk}` : ''}`;
  if ('serial' in s) return `${s.serial ? 'serial' : 'tree'}${s.wg}${s.subgroups ? '+sg' : ''}`;
  return JSON.stringify(s);
};

// ---- the tuner, if it exists (looked up at run time: it is being written concurrently) ---------
interface TunerHooks { hook: string | undefined; heuristic: ScheduleFn | null; note: string }
async function tunerHooks(): Promise<TunerHooks> {
  let mod: Record<string, unknown> | null = null, kmod: Record<string, unknown> | null = null;
  try { mod = (await import('../runtime/tuner.ts')) as unknown as Record<string, unknown>; } catch { /* no tuner yet */ }
  try { kmod = (await import('../codegen/kernels.ts')) as unknown as Record<string, unknown>; } catch { /* */ }
  const hook = hookName();
  if (!mod) return { hook, heuristic: null, note: 'TODO: runtime/tuner.ts not found: heuristic vs tuned schedules not compared' };
  if (!hook) return { hook, heuristic: null, note: 'TODO: runtime/tuner.ts exists but no compilerOptions schedule hook is installed: nothing tuned to compare' };
  const mm = mod.heuristicSchedule as ((k: Kernel) => Sched) | undefined;
  const row = kmod?.rowHeuristic as ((k: Kernel, caps: unknown) => Sched) | undefined;
  const tuning = mod.tuning as { enabled?: boolean } | undefined;
  if (typeof mm !== 'function') return { hook, heuristic: null, note: 'TODO: runtime/tuner.ts exports no heuristicSchedule(k): cannot build the untuned program' };
  const heuristic: ScheduleFn = (k, dev) => (k.kind === 'matmul' ? mm(k) : k.kind === 'row' && typeof row === 'function' ? row(k, dev.caps) : undefined);
  return { hook, heuristic, note: `tuner: runtime/tuner.ts (tuning.enabled = ${tuning?.enabled}); "tuned" = compilerOptions.${hook} (persistent cache; compile ms includes tuning when not cached), "heuristic" = heuristicSchedule / rowHeuristic` };
}

// ---- Tessera side ------------------------------------------------------------------------------
interface Compiled { program: Program; buffers: GPUBuffer[]; compileMs: number; schedules: string[] }

/**
 * Compiles the graph behind lazy `y` as realize would, with `opts` (and `schedule` in place of
 * the installed schedule hook when given), recording the schedules chosen.
 */
async function compile(e: Engine, y: Tensor, opts: LooseOptions, schedule?: ScheduleFn): Promise<Compiled> {
  const roots = runPasses(substituteRealized([y.node]));
  const inputs = inputsOf(roots);
  const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
  const schedules: string[] = [];
  const hook = hookName();
  const rec: LooseOptions = { ...opts };
  const base = schedule ?? (hook ? (opts[hook] as ScheduleFn | undefined) : undefined);
  if (hook && base) rec[hook] = async (k: Kernel, dev: Device) => { const s = await base(k, dev); if (k.kind !== 'elementwise') schedules.push(describeSchedule(s)); return s; };
  const t0 = performance.now();
  const program = await compileProgram(compute, inputs, e.dev, e.pipelines, rec as CompileOptions);
  const compileMs = performance.now() - t0;
  return { program, buffers: inputs.map((n) => ensureUploaded(e, storageOf(n))), compileMs, schedules };
}

function replay(e: Engine, c: Compiled): () => Promise<void> {
  return async () => {
    const enc = e.dev.gpu.createCommandEncoder();
    const outs = c.program.encode(e.dev, e.pool, enc, c.buffers);
    e.dev.gpu.queue.submit([enc.finish()]);
    await e.dev.gpu.queue.onSubmittedWorkDone();
    for (const b of outs) if (!c.buffers.includes(b)) e.pool.release(b);
  };
}

/** One compiled program's output, read back (for the cross-check). */
async function readOnce(e: Engine, c: Compiled, y: Tensor): Promise<Float32Array> {
  const enc = e.dev.gpu.createCommandEncoder();
  const outs = c.program.encode(e.dev, e.pool, enc, c.buffers);
  const bytes = y.size * 4;
  const st = e.dev.gpu.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  enc.copyBufferToBuffer(outs[0]!, 0, st, 0, bytes);
  e.dev.gpu.queue.submit([enc.finish()]);
  await st.mapAsync(MapMode.READ);
  const out = new Float32Array(st.getMappedRange().slice(0));
  st.unmap(); st.destroy();
  for (const b of outs) if (!c.buffers.includes(b)) e.pool.release(b);
  return out;
}

// ---- cases -------------------------------------------------------------------------------------
interface Case {
  section: 'matmul' | 'dense' | 'rows' | 'conv2d';
  name: string;
  flops?: number;           // -> GFLOP/s
  bytes?: number;           // minimal bytes moved (read + write) -> GB/s
  tessera: () => Tensor;    // lazy graph over realized inputs
  tfjs?: (tf: Tf) => TF.Tensor;
  tuned?: boolean;          // compare heuristic vs tuned schedules (matmul and row kernels)
  unfused?: boolean;        // also time compilerOptions.fuse = false
  reps: number; warmup: number;
}

interface Row { case: string; contender: string; ms: number; min: number; reps: number; note?: string; gflops?: number; gbs?: number; dispatches?: number; schedules?: string; compileMs?: number }

const rnd = (n: number, seed: number) => { const a = new Float32Array(n); let s = seed >>> 0; for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 32 - 0.5; } return a; };

interface Pair { ts: Tensor; tf: () => TF.Tensor }
/** The same data as a Tessera tensor and a tfjs tensor (made here, outside any tf.tidy, so no tidy disposes it). */
function makeInput(tf: Tf | undefined, shape: number[], seed: number, keep: TF.Tensor[]): Pair {
  const data = rnd(shape.reduce((a, b) => a * b, 1), seed);
  const tft = tf ? tf.tensor(data, shape) : null;
  if (tft) keep.push(tft);
  return { ts: ts.tensor(data, { shape }), tf: () => tft! };
}

export async function main(): Promise<void> {
  const quick = process.env.TESSERA_BENCH_QUICK === '1';
  // tfjs first: it installs navigator.gpu, which Tessera's device then shares.
  const tfh = await loadTfjs();
  const tf = tfh.tf;
  const env = await environment();
  heading('bench/kernels.ts: matmul, dense, softmax, layernorm, conv2d vs ceilings and tfjs-webgpu');
  printEnvironment(env);
  console.log(tf ? `tfjs ${tf.version_core} running on tf.getBackend() = '${tfh.backend}' (same adapter, same process)` : `tfjs could NOT run on webgpu: ${tfh.error}`);
  const e = await engine();
  const c = await measureCeilings();
  printCeilings(c);
  const hooks = await tunerHooks();
  console.log(hooks.note);

  const keep: TF.Tensor[] = [];
  const cases: Case[] = [];
  /** C[M,N] = A . B with K inner; tA / tB: the operand is stored transposed (read as a view, as autodiff's backward matmuls do). */
  const mm = (M: number, K: number, N: number, reps: number, warmup: number, name: string, tA = false, tB = false) => {
    const a = makeInput(tf, tA ? [K, M] : [M, K], M + K, keep), b = makeInput(tf, tB ? [N, K] : [K, N], K + N + 1, keep);
    cases.push({
      section: 'matmul', name, flops: 2 * M * N * K, tuned: true, reps, warmup,
      tessera: () => (tA ? a.ts.T : a.ts).matmul(tB ? b.ts.T : b.ts), tfjs: (t) => t.matMul(a.tf(), b.tf(), tA, tB),
    });
  };
  mm(256, 256, 256, 25, 3, 'matmul 256');
  mm(512, 512, 512, 7, 1, 'matmul 512');
  mm(1024, 1024, 1024, 4, 1, 'matmul 1024');
  if (!quick) mm(2048, 2048, 2048, 2, 0, 'matmul 2048'); // ~4-10 s per run here: no warmup (programs are compiled before timing)
  mm(4096, 256, 1024, 3, 1, 'matmul 4096x256 . 256x1024');
  // Transposed operands, as in every backward pass (dX = dY . W^T, dW = X^T . dY).
  mm(1024, 1024, 1024, 3, 1, 'matmul 1024 a.T . b', true, false);
  mm(1024, 1024, 1024, 3, 1, 'matmul 1024 a . b.T', false, true);
  {
    const x = makeInput(tf, [1024, 1024], 7, keep), w = makeInput(tf, [1024, 1024], 8, keep), bias = makeInput(tf, [1024], 9, keep);
    cases.push({
      section: 'dense', name: 'dense relu(x.W + b) 1024', flops: 2 * 1024 ** 3, unfused: true, tuned: true, reps: 4, warmup: 1,
      tessera: () => ts.relu(x.ts.matmul(w.ts).add(bias.ts)),
      tfjs: (t) => t.fused.matMul({ a: x.tf(), b: w.tf(), bias: bias.tf(), activation: 'relu' }),
    });
  }
  {
    const x = makeInput(tf, [4096, 1024], 11, keep), g = makeInput(tf, [1024], 12, keep), bt = makeInput(tf, [1024], 13, keep);
    const bytes = 2 * 4096 * 1024 * 4;
    cases.push({ section: 'rows', name: 'softmax [4096,1024]', bytes, tuned: true, reps: 9, warmup: 2, tessera: () => ts.softmax(x.ts, -1), tfjs: (t) => t.softmax(x.tf()) });
    cases.push({
      section: 'rows', name: 'layernorm [4096,1024]', bytes, tuned: true, reps: 9, warmup: 2,
      tessera: () => ts.layerNorm(x.ts, { gamma: g.ts, beta: bt.ts, eps: 1e-5 }),
      tfjs: (t) => t.tidy(() => { const { mean, variance } = t.moments(x.tf(), -1, true); return t.add(t.mul(t.mul(t.sub(x.tf(), mean), t.rsqrt(t.add(variance, 1e-5))), g.tf()), bt.tf()); }),
    });
  }
  // ==== CONV2D SECTION (hook for the conv engineer) ==============================================
  // Add cases here. NHWC input [B, H, W, Cin], weights [KH, KW, Cin, Cout] (Tessera's default
  // layout and TensorFlow's); flops = 2 * B * Ho * Wo * Cout * KH * KW * Cin.
  const convCases: { B: number; H: number; W: number; Cin: number; Cout: number; K: number; stride: number; padding: 'same' | 'valid'; reps: number }[] = [
    { B: 8, H: 32, W: 32, Cin: 64, Cout: 64, K: 3, stride: 1, padding: 'same', reps: 4 },
    { B: 1, H: 112, W: 112, Cin: 32, Cout: 64, K: 3, stride: 2, padding: 'same', reps: 5 },
  ];
  const convAvailable = typeof (ts as unknown as Record<string, unknown>).conv2d === 'function';
  if (convAvailable) {
    for (const cc of convCases) {
      const x = makeInput(tf, [cc.B, cc.H, cc.W, cc.Cin], cc.H + cc.Cin, keep), w = makeInput(tf, [cc.K, cc.K, cc.Cin, cc.Cout], cc.K + cc.Cout, keep);
      const Ho = cc.padding === 'same' ? Math.ceil(cc.H / cc.stride) : Math.floor((cc.H - cc.K) / cc.stride) + 1;
      const Wo = cc.padding === 'same' ? Math.ceil(cc.W / cc.stride) : Math.floor((cc.W - cc.K) / cc.stride) + 1;
      cases.push({
        section: 'conv2d', name: `conv2d [${cc.B},${cc.H},${cc.W},${cc.Cin}] k${cc.K} s${cc.stride} ${cc.padding} -> ${cc.Cout}`,
        flops: 2 * cc.B * Ho * Wo * cc.Cout * cc.K * cc.K * cc.Cin, tuned: true, reps: cc.reps, warmup: 1,
        tessera: () => ts.conv2d(x.ts, w.ts, { stride: cc.stride, padding: cc.padding }),
        tfjs: (t) => t.conv2d(x.tf() as TF.Tensor4D, w.tf() as TF.Tensor4D, cc.stride, cc.padding),
      });
    }
  }
  // ==== end CONV2D SECTION ===========================================================================

  const rows: Row[] = [];
  const checks: Record<string, number> = {};
  const failures: Record<string, string> = {};
  for (const cs of cases) {
    try {
      await runCase(e, cs, tf, tfh.tf ? tfh.sync : null, hooks, rows, checks);
    } catch (err) {
      failures[cs.name] = (err as Error).message.split('\n').slice(0, 3).join(' | ');
      console.log(`!! ${cs.name} failed: ${failures[cs.name]}`);
    }
  }
  for (const t of keep) t.dispose();

  // ---- tables ----------------------------------------------------------------------------------
  const sections: [Case['section'], string][] = [
    ['matmul', `matmul (GFLOP/s = 2MNK / time; fma ceiling ${fmt(c.fmaGFLOPs)} GFLOP/s)`],
    ['dense', 'Dense: relu(x.W + bias), [1024,1024] . [1024,1024]'],
    ['rows', `row kernels over the last axis (GB/s = minimal read + write bytes / time; copy ceiling ${fmt(c.copyGBs)} GB/s)`],
    ['conv2d', 'CONV2D (NHWC, weights [KH,KW,Cin,Cout])'],
  ];
  for (const [sec, title] of sections) {
    heading(title);
    if (sec === 'conv2d' && !convAvailable) { console.log('TODO: ts.conv2d is not exported yet: add cases in the CONV2D SECTION of bench/kernels.ts'); continue; }
    const secCases = cases.filter((x) => x.section === sec);
    const out: (string | number)[][] = [];
    for (const cs of secCases) {
      const rs = rows.filter((r) => r.case === cs.name);
      const tfr = rs.find((r) => r.contender === 'tfjs');
      const main = rs.find((r) => r.contender.startsWith('tessera') && !r.note);
      for (const r of rs) {
        if (r.note) { out.push([r === rs[0] ? cs.name : '', r.contender, '=', '', '', r.note, '', '', '', r.schedules ?? '', r.compileMs === undefined ? '' : fmt(r.compileMs, 0)]); continue; }
        const rate = r.gflops !== undefined ? `${fmt(r.gflops)} GFLOP/s (${fmt((100 * r.gflops) / c.fmaGFLOPs, 1)}% fma)` : r.gbs !== undefined ? `${fmt(r.gbs)} GB/s (${fmt((100 * r.gbs) / c.copyGBs, 1)}% copy)` : '-';
        out.push([r === rs[0] ? cs.name : '', r.contender, r.ms, r.min, String(r.reps), rate, r.dispatches === undefined ? '-' : String(r.dispatches),
          tfr && r !== tfr ? ratio(tfr.ms / r.ms) : '', main && r !== main ? ratio(r.ms / main.ms) : '', r.schedules ?? '', r.compileMs === undefined ? '' : fmt(r.compileMs, 0)]);
      }
      if (failures[cs.name]) out.push([cs.name, 'FAILED', '-', '-', '-', failures[cs.name]!.slice(0, 60), '-', '', '', '', '']);
      if (checks[cs.name] !== undefined) out.push(['', `  check vs tfjs: max|diff|/max|v| = ${checks[cs.name]!.toExponential(1)}`, '', '', '', '', '', '', '', '', '']);
    }
    table(['case', 'contender', 'ms (median)', 'min', 'reps', 'rate', 'dispatches', 'speedup vs tfjs', 'time vs tessera', 'schedule(s)', 'compile ms'], out);
  }

  // ---- targets ---------------------------------------------------------------------------------
  heading('targets');
  const get = (cs: string, who: string) => rows.find((r) => r.case === cs && r.contender === who);
  const mainOf = (cs: string) => rows.find((r) => r.case === cs && r.contender.startsWith('tessera'));
  const targets = [];
  {
    const t = mainOf('matmul 1024'), f = get('matmul 1024', 'tfjs');
    targets.push(target('matmul 1024 >= 3x tfjs GFLOP/s', t && f ? f.ms / t.ms >= 3 : null, t && f ? `${ratio(f.ms / t.ms)} (${fmt(t.gflops)} vs ${fmt(f.gflops)} GFLOP/s)` : 'not measured'));
  }
  for (const name of ['softmax [4096,1024]', 'layernorm [4096,1024]']) {
    const t = mainOf(name), f = get(name, 'tfjs');
    targets.push(target(`${name.split(' ')[0]} >= 2x faster than tfjs`, t && f ? f.ms / t.ms >= 2 : null, t && f ? `${ratio(f.ms / t.ms)} (${fmt(t.ms)} ms vs tfjs ${fmt(f.ms)} ms)` : 'not measured'));
  }
  {
    const fd = mainOf('dense relu(x.W + b) 1024');
    targets.push(target('dense+bias+relu fused into one dispatch', fd ? fd.dispatches === 1 : null, fd ? `${fd.dispatches} dispatch(es)` : 'not measured'));
  }
  writeResults('kernels', { env, ceilings: ceilingsJson(c), tfjs: tf ? { version: tf.version_core, backend: tfh.backend } : { error: tfh.error }, tuner: hooks.note, rows, checks, failures, targets });
}

async function runCase(e: Engine, cs: Case, tf: Tf | undefined, tfSync: (() => Promise<void>) | null, hooks: TunerHooks, rows: Row[], checks: Record<string, number>): Promise<void> {
  const y = cs.tessera();
  // realize the inputs (uploads) before compiling: inputs of y's graph
  const compiled: Record<string, Compiled> = {};
  const tunedTag = cs.tuned && hooks.heuristic ? ' tuned' : '';
  const mainName = cs.unfused ? `tessera fused${tunedTag}` : `tessera${tunedTag}`;
  const opts = globalOptions as LooseOptions;
  compiled[mainName] = await compile(e, y, opts);
  const heurName = `tessera${cs.unfused ? ' fused' : ''} heuristic`;
  let noteRow: Row | null = null;
  if (cs.tuned && hooks.heuristic) {
    const h = await compile(e, y, opts, hooks.heuristic);
    // The same schedules make the same program: time it once (big sizes are slow here).
    if (h.schedules.join() !== compiled[mainName]!.schedules.join()) compiled[heurName] = h;
    else noteRow = ({ case: cs.name, contender: heurName, ms: NaN, min: NaN, reps: 0, note: 'same schedule as tuned: same program, not timed twice', schedules: [...new Set(h.schedules)].join(','), compileMs: h.compileMs });
  }
  if (cs.unfused) compiled[`tessera unfused${tunedTag}`] = await compile(e, y, { ...opts, fuse: false });

  const runs: Record<string, () => Promise<void>> = {};
  for (const [k, v] of Object.entries(compiled)) runs[k] = replay(e, v);
  if (tf && tfSync && cs.tfjs) {
    const f = cs.tfjs;
    runs.tfjs = async () => { const out = f(tf); await tfSync(); out.dispose(); };
    // cross-check once
    const mine = await readOnce(e, compiled[mainName]!, y);
    const theirs = f(tf); const td = (await theirs.data()) as Float32Array; theirs.dispose();
    let md = 0, mv = 0;
    for (let i = 0; i < mine.length; i++) { md = Math.max(md, Math.abs(mine[i]! - td[i]!)); mv = Math.max(mv, Math.abs(td[i]!)); }
    checks[cs.name] = mv ? md / mv : md;
  }
  const t: Record<string, Timing> = await timeInterleaved(runs, { reps: cs.reps, warmup: cs.warmup, maxMs: 45000 });
  for (const [k, tm] of Object.entries(t)) {
    const cp = compiled[k];
    rows.push({
      case: cs.name, contender: k, ms: tm.median, min: tm.min, reps: tm.reps,
      gflops: cs.flops ? cs.flops / (tm.median * 1e6) : undefined, gbs: cs.bytes ? cs.bytes / (tm.median * 1e6) : undefined,
      dispatches: cp?.program.dispatches, schedules: cp?.schedules.length ? [...new Set(cp.schedules)].join(',') : undefined, compileMs: cp?.compileMs,
    });
  }
  if (noteRow) rows.splice(rows.findIndex((r) => r.case === cs.name) + 1, 0, noteRow);
  console.log(`${cs.name}: ${Object.entries(t).map(([k, v]) => `${k} ${fmt(v.median)} ms`).join(', ')}${noteRow ? ' (heuristic = tuned schedule)' : ''}`);
}

if (isMain(import.meta.url)) await main();
