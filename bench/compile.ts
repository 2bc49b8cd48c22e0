/**
 * Compile latency and stalls (issue "No stalls").
 *  1. First-call latency of two jitted workloads, each in a fresh process with an empty tuning
 *     cache, in each tuning mode (off, background, blocking):
 *       transformer: one transformer block, B=4 S=128 D=256, 4 heads, FFN 1024 (forward)
 *       mlp-adam:    an Adam train step of the MLP 784-512-512-10, batch 256
 *     and each process's own steady state (in background mode: during tuning, then after tuningComplete()).
 *  1b. The targets' steady states side by side: per workload one process (empty tuning cache)
 *     compiles it in background mode (until tuningComplete), again in blocking mode from those
 *     tuning results (what the hot swaps must reach), again tuning anew in blocking mode (the
 *     tuner's repeatability), and with tuning off, then times the four interleaved.
 *  2. An eager (no jit) Adam loop of the MLP vs the jitted step, interleaved in one process.
 *  3. The JS-side compile (trace + passes + schedule + codegen, no driver) of 1..12 stacked
 *     transformer blocks, forward and forward+backward.
 *  4. The persistent plan cache (runtime/plan-cache.ts): a 12-block training step (fwd + bwd +
 *     AdamW, B=4 T=64 D=128) compiled in fresh processes with an empty and with a warm plan cache:
 *     the JS-side first compile (trace, passes, then schedule + codegen or the plan; pipelines
 *     stubbed: no driver), and the whole first call (driver included, Mesa's shader cache off).
 *
 *   npx tsx bench/compile.ts            (about 3-5 minutes on lavapipe: blocking mode tunes)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { inputNode } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule } from '../ir/schedule/index.ts';
import { generate } from '../codegen/kernels.ts';
import { clearCodegenMemo } from '../codegen/memo.ts';
import { engine, globalOptions, programFor } from '../runtime/engine.ts';
import { forgetTuning, tuneLog } from '../runtime/tuner.ts';
import { stepInputs, transformerStep, type StepConfig } from './workloads/transformer-step.ts';
import { Tensor as TensorClass } from '../ops/tensor.ts';
import { BENCH_DIR, environment, fmt, heading, isMain, median, printEnvironment, ratio, table, target, timeInterleaved, writeResults } from './common.ts';

type P = Record<string, Tensor>;
const MODES = ['off', 'background', 'blocking'] as const;
const WORKLOADS = ['transformer', 'mlp-adam'] as const;
type Workload = (typeof WORKLOADS)[number];
const STEADY_CALLS = 8;
/** Interleaved repetitions of section 1b: its ratios are read at 5%, and the shared cores drift by more between runs. */
const SIDE_BY_SIDE_REPS = 16;

// ---- workloads ----------------------------------------------------------------------------------
const B = 4, S = 128, D = 256, H = 4, FFN = 1024;
const blockShapes: Record<string, number[]> = { wq: [D, D], wk: [D, D], wv: [D, D], wo: [D, D], w1: [D, FFN], c1: [FFN], w2: [FFN, D], c2: [D], g1: [D], b1: [D], g2: [D], b2: [D] };
export function blockParams(seed: number): P {
  return Object.fromEntries(Object.entries(blockShapes).map(([k, s], i) => [k, ts.randn(s, { seed: seed + i, std: s.length === 2 ? 1 / Math.sqrt(s[0]!) : 0.1 })]));
}
function block(p: P, x: Tensor): Tensor {
  const heads = (t: Tensor) => t.reshape([B, S, H, D / H]).permute([0, 2, 1, 3]);
  const h = ts.layerNorm(x, { gamma: p.g1, beta: p.b1 });
  const att = ts.nn.scaledDotProductAttention(heads(h.matmul(p.wq!)), heads(h.matmul(p.wk!)), heads(h.matmul(p.wv!)));
  const x2 = x.add(att.permute([0, 2, 1, 3]).reshape([B, S, D]).matmul(p.wo!));
  const f = ts.gelu(ts.layerNorm(x2, { gamma: p.g2, beta: p.b2 }).matmul(p.w1!).add(p.c1!)).matmul(p.w2!).add(p.c2!);
  return x2.add(f);
}

const SIZES = [784, 512, 512, 10], BATCH = 256;
function mlpParams(): P {
  const p: P = {};
  for (let i = 0; i < 3; i++) {
    p[`w${i}`] = ts.randn([SIZES[i]!, SIZES[i + 1]!], { seed: 10 + i, std: Math.sqrt(2 / SIZES[i]!) });
    p[`b${i}`] = ts.tensor(new Float32Array(SIZES[i + 1]!), { shape: [SIZES[i + 1]!] });
  }
  return p;
}
const mlpLoss = (p: P, x: Tensor, y: Tensor) => {
  const h1 = ts.relu(x.matmul(p.w0!).add(p.b0!)), h2 = ts.relu(h1.matmul(p.w1!).add(p.b1!));
  return ts.logSoftmax(h2.matmul(p.w2!).add(p.b2!), -1).mul(y).sum(1).mean().neg();
};
function mlpData(): { x: Tensor; y: Tensor } {
  const labels = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) labels[i * 10 + ((i * 7 + 3) % 10)] = 1;
  return { x: ts.randn([BATCH, 784], { seed: 3 }), y: ts.tensor(labels, { shape: [BATCH, 10] }) };
}
function adamStep(opt: ts.nn.Optimizer) {
  return (s: { params: P; state: ts.nn.OptState }, x: Tensor, y: Tensor) => {
    const [loss, g] = ts.valueAndGrad(mlpLoss)(s.params, x, y) as [Tensor, P];
    const next = opt.update(s.params, g, s.state);
    return { params: next.params as P, state: next.state, loss };
  };
}

/** A workload as "one call": a jitted call whose result is read back right after. */
async function makeCall(w: Workload): Promise<() => Promise<number>> {
  if (w === 'transformer') {
    const p = blockParams(100), x = ts.randn([B, S, D], { seed: 1 });
    await ts.realizeAll([...Object.values(p), x]);
    const f = ts.jit(block);
    return async () => (await (await f(p, x)).data())[0]!;
  }
  const opt = new ts.nn.Adam({ learningRate: 1e-3 });
  const params = mlpParams(), { x, y } = mlpData();
  let s = { params, state: opt.init(params) };
  await ts.realizeAll([...ts.treeFlatten(s).leaves, x, y]);
  const step = ts.jit(adamStep(opt), { donate: [0] });
  return async () => { const r = await step(s, x, y); s = { params: r.params, state: r.state }; return r.loss.item(); };
}

// ---- 1. child process: one workload in one tuning mode -------------------------------------------
interface ChildResult {
  workload: Workload; mode: string; firstMs: number; duringMs: number[]; tuneWaitMs: number; steadyMs: number; tuned: number; swapped: number;
  tuneLog: typeof tuneLog;
}

async function child(w: Workload, mode: string): Promise<ChildResult> {
  await engine(); // the device is not part of a first call
  const call = await makeCall(w);
  const t0 = performance.now();
  await call();
  const firstMs = performance.now() - t0;
  const timed = async () => { const t = performance.now(); await call(); return performance.now() - t; };
  const duringMs: number[] = [];
  for (let i = 0; i < STEADY_CALLS; i++) duringMs.push(await timed());
  const t1 = performance.now();
  await ts.tuningComplete();
  const tuneWaitMs = performance.now() - t1;
  const steady: number[] = [];
  for (let i = 0; i < STEADY_CALLS; i++) steady.push(await timed());
  const st = ts.stats();
  return { workload: w, mode, firstMs, duringMs, tuneWaitMs, steadyMs: median(steady), tuned: st.kernelsTuned, swapped: st.kernelsSwapped, tuneLog };
}

function spawnChild(w: Workload, mode: string): ChildResult {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-compile-'));
  try {
    // Empty caches: a tuning cache of its own, and Mesa's on-disk shader cache off (it would make a second process's compiles free).
    const env = { ...process.env, TESSERA_TUNE: mode, TESSERA_AUTOTUNE: '1', TESSERA_TUNE_CACHE: join(dir, 'tuning.json'), TESSERA_PLAN_CACHE: 'off', TESSERA_DEBUG: '', MESA_SHADER_CACHE_DISABLE: 'true' };
    const r = spawnSync(join(BENCH_DIR, '..', 'node_modules', '.bin', 'tsx'), [join(BENCH_DIR, 'compile.ts'), '--child', w, mode], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`child ${w}/${mode} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    return JSON.parse(line.slice(7)) as ChildResult;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

// ---- 1b. steady states side by side, in one process ---------------------------------------------------
interface SteadyResult { workload: Workload; ms: Record<string, number>; minMs: Record<string, number>; sameSchedules: boolean; winners: Record<string, string[]> }

/**
 * In a child with an empty tuning cache: the workload compiled in background mode (tuned between
 * calls until tuningComplete); again in blocking mode from those results (the program cache
 * emptied); again from scratch in blocking mode (tuning results forgotten, a cache file of its
 * own, so it tunes every kernel anew); then with tuning off. The four programs are then timed
 * interleaved in this one process: separate processes differ by more than the 5% the target
 * allows (the load on the shared cores drifts).
 */
async function steadyChild(w: Workload, dir: string): Promise<SteadyResult> {
  const e = await engine();
  const calls: Record<string, () => Promise<number>> = {}, winners: Record<string, string[]> = {};
  // 'blocking, same results': compiled afresh in blocking mode from background's tuning results:
  // what the hot swaps should have reached. 'blocking': tuned anew (the tuner's repeatability).
  const variants = [['background', 'background', false], ['blocking, same results', 'blocking', false], ['blocking', 'blocking', true], ['off', 'off', true]] as const;
  for (const [name, mode, fresh] of variants) {
    e.programs.clear();
    if (fresh) { forgetTuning(); ts.tuning.cacheFile = join(dir, `${mode}.json`); }
    ts.tuning.mode = mode;
    const logFrom = tuneLog.length;
    calls[name] = await makeCall(w);
    await calls[name]!();
    await ts.tuningComplete();
    winners[name] = tuneLog.slice(logFrom).map((t) => `${t.kernel.replace(/#\d+/, '')}: ${t.winner}`).sort();
  }
  const t = await timeInterleaved(calls, { reps: SIDE_BY_SIDE_REPS, warmup: 1 });
  const ms = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.median])), minMs = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.min]));
  return { workload: w, ms, minMs, winners, sameSchedules: JSON.stringify(winners.background) === JSON.stringify(winners.blocking) };
}

function spawnSteady(w: Workload): SteadyResult {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-steady-'));
  try {
    const env = { ...process.env, TESSERA_AUTOTUNE: '1', TESSERA_PLAN_CACHE: 'off', TESSERA_DEBUG: '', TESSERA_TUNE_CACHE: join(dir, 'unused.json') };
    const r = spawnSync(join(BENCH_DIR, '..', 'node_modules', '.bin', 'tsx'), [join(BENCH_DIR, 'compile.ts'), '--steady-child', w, dir], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`steady child ${w} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    return JSON.parse(line.slice(7)) as SteadyResult;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

async function steadySection(): Promise<ReturnType<typeof target>[]> {
  heading(`1b. steady state side by side (one process per workload, interleaved, median of ${SIDE_BY_SIDE_REPS}): background after tuningComplete, blocking-tuned, untuned`);
  const targets: ReturnType<typeof target>[] = [];
  const rows: (string | number)[][] = [];
  for (const w of WORKLOADS) {
    const r = spawnSteady(w);
    const same = r.ms['blocking, same results']!;
    rows.push([w, fmt(r.ms.background, 1), fmt(same, 1), fmt(r.ms.blocking, 1), fmt(r.ms.off, 1), r.sameSchedules ? 'same' : 'differ']);
    if (!r.sameSchedules) console.log(`  ${w}: independent tunings chose differently\n    background: ${r.winners.background!.join('; ')}\n    blocking:   ${r.winners.blocking!.join('; ')}`);
    const steady = r.ms.background! / same, untuned = r.ms.off! / r.ms.blocking!;
    targets.push(target(`${w}: steady state after tuningComplete, background / blocking-tuned (same tuning results)`, steady <= 1.05, `${ratio(steady)} (${fmt(r.ms.background, 1)} vs ${fmt(same, 1)} ms, interleaved); target <= 1.05x; tuned anew: ${ratio(r.ms.background! / r.ms.blocking!)}`));
    targets.push(target(`${w}: untuned (off) / tuned (blocking) steady state`, untuned <= 1.15, `${ratio(untuned)} (${fmt(r.ms.off, 1)} vs ${fmt(r.ms.blocking, 1)} ms, interleaved); target <= 1.15x`));
  }
  table(['workload', 'background ms', 'blocking, same results ms', 'blocking tuned anew ms', 'off ms', 'independent tunings'], rows);
  return targets;
}

// ---- 3. JS-side compile time -----------------------------------------------------------------------
const placeholder = (t: Tensor) => new TensorClass(inputNode(t.dtype, t.shape, 'arg'));
/** Trace, passes, schedule and codegen (heuristic schedules) of `layers` blocks; fresh placeholders, so nothing is shared with earlier runs. */
export async function jsCompile(layers: number, withGrad: boolean, params: P[], x: Tensor) {
  const e = await engine();
  clearCodegenMemo(); // a first compile: no kernels generated before (repeated blocks still share code)
  const t0 = performance.now();
  const ps = params.slice(0, layers).map((p) => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, placeholder(t)])) as P);
  const xi = placeholder(x);
  const fwd = (pp: P[]) => pp.reduce((h, p) => block(p, h), xi);
  const outs = withGrad ? (ts.grad((pp: P[]) => fwd(pp).square().mean())(ps) as P[]).flatMap((g) => Object.values(g)) : [fwd(ps)];
  const t1 = performance.now();
  const roots = runPasses(outs.map((o) => o.node));
  const t2 = performance.now();
  const kernels = schedule(roots, { fuse: true, maxBuffers: e.dev.caps.maxBuffers });
  const t3 = performance.now();
  for (const k of kernels) generate(k, e.dev.caps);
  const t4 = performance.now();
  return { trace: t1 - t0, passes: t2 - t1, schedule: t3 - t2, codegen: t4 - t3, total: t4 - t0, kernels: kernels.length };
}

// ---- 4. persistent plan cache: cold vs warm, in fresh processes ----------------------------------------
const PLAN_CFG: StepConfig = { blocks: 12, B: 4, T: 64, D: 128, H: 4, optimizer: 'adamw' };
interface PlanChild { ms: number; hits: number; misses: number; kernels: number }

/** In a child: the 12-block step's first compile (`driver` false: pipelines stubbed, so only JS runs) or its first call. */
async function planChild(driver: boolean): Promise<PlanChild> {
  const e = await engine(); // the device is not part of it
  const inputs = stepInputs(PLAN_CFG);
  await ts.realizeAll(ts.treeFlatten(inputs).leaves);
  let ms: number, steps: number;
  if (driver) {
    const f = ts.jit((a: typeof inputs) => transformerStep(PLAN_CFG, a));
    const t0 = performance.now();
    await (await f(inputs))[0]!.data();
    ms = performance.now() - t0;
    steps = f.dispatches;
  } else {
    e.pipelines.get = () => Promise.resolve({} as GPUComputePipeline); // no driver work: the JS side alone
    const t0 = performance.now();
    const leaves = ts.treeFlatten(inputs).leaves;
    const holders = leaves.map((t) => new TensorClass(inputNode(t.dtype, t.shape, 'arg')));
    const outs = transformerStep(PLAN_CFG, ts.treeFlatten(inputs).unflatten(holders) as typeof inputs);
    const roots = runPasses(outs.map((o) => o.node));
    const program = await programFor(e, [...new Set(roots.filter((r) => r.op !== 'input'))], holders.map((h) => h.node), globalOptions);
    ms = performance.now() - t0;
    steps = program.dispatches;
  }
  await ts.planCacheIdle(); // the plan is written in the background: before exiting
  const st = ts.stats();
  return { ms, hits: st.planCacheHits, misses: st.planCacheMisses, kernels: steps };
}

function spawnPlanChild(dir: string, driver: boolean): PlanChild {
  const env = { ...process.env, TESSERA_TUNE: 'off', TESSERA_PLAN_CACHE: dir, TESSERA_DEBUG: '', MESA_SHADER_CACHE_DISABLE: 'true' };
  const r = spawnSync(join(BENCH_DIR, '..', 'node_modules', '.bin', 'tsx'), [join(BENCH_DIR, 'compile.ts'), '--plan-child', driver ? 'driver' : 'js'], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`plan child failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as PlanChild;
}

async function planSection() {
  heading('4. persistent plan cache: first compile of a 12-block fwd+bwd+AdamW step (B=4 T=64 D=128) in fresh processes, cold vs warm');
  const rows: string[][] = [], results: Record<string, unknown>[] = [];
  // The first call with the driver compiling every pipeline takes minutes on lavapipe: TESSERA_BENCH_QUICK=1 skips it.
  for (const driver of process.env.TESSERA_BENCH_QUICK ? [false] : [false, true]) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-plans-'));
    try {
      // Alternating cold (an empty cache) and warm (the plan the previous child stored) processes.
      const cold: PlanChild[] = [], warm: PlanChild[] = [];
      for (let i = 0; i < (driver ? 1 : 3); i++) {
        rmSync(dir, { recursive: true, force: true });
        cold.push(spawnPlanChild(dir, driver));
        warm.push(spawnPlanChild(dir, driver));
      }
      const c = median(cold.map((r) => r.ms)), w = median(warm.map((r) => r.ms));
      const what = driver ? 'first call (driver included)' : 'JS-side first compile (no driver)';
      rows.push([what, String(cold[0]!.kernels), fmt(c, 0), fmt(w, 0), ratio(w / c), `${warm.map((r) => r.hits).join(',')} / ${cold.map((r) => r.hits).join(',')}`]);
      results.push({ what, kernels: cold[0]!.kernels, coldMs: cold.map((r) => r.ms), warmMs: warm.map((r) => r.ms), warmHits: warm.map((r) => r.hits) });
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }
  table(['', 'kernels', 'cold plan cache ms', 'warm ms', 'warm / cold', 'plan hits warm / cold'], rows);
  return results;
}

// ---- main --------------------------------------------------------------------------------------------
/** `--only js` runs section 3 alone, `--only plan` section 4, `--only steady` section 1b. */
export async function main(): Promise<void> {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (only === 'js') { await jsSection(); return; }
  if (only === 'plan') { await planSection(); return; }
  if (only === 'steady') { await steadySection(); return; }
  const env = await environment();
  heading('compile: first calls, tuning modes, eager vs jit, JS-side compile time');
  printEnvironment(env);
  const targets: ReturnType<typeof target>[] = [];

  heading('1. first call in a fresh process (empty tuning cache), each tuning mode; steady state');
  const runs: ChildResult[] = [];
  for (const w of WORKLOADS) for (const m of MODES) { runs.push(spawnChild(w, m)); console.log(`  ${w} ${m}: first call ${fmt(runs.at(-1)!.firstMs, 0)} ms`); }
  table(['workload', 'mode', 'first call ms', `next ${STEADY_CALLS} calls ms (median)`, 'wait tuningComplete ms', 'steady ms after', 'kernels tuned', 'swapped'],
    runs.map((r) => [r.workload, r.mode, fmt(r.firstMs, 0), fmt(median(r.duringMs), 1), fmt(r.tuneWaitMs, 0), fmt(r.steadyMs, 1), r.tuned, r.swapped]));
  for (const w of WORKLOADS) {
    const by = Object.fromEntries(runs.filter((r) => r.workload === w).map((r) => [r.mode, r])) as Record<string, ChildResult>;
    const first = by.background!.firstMs / by.off!.firstMs;
    targets.push(target(`${w}: first call, background / tuning off`, first <= 1.25, `${ratio(first)} (${fmt(by.background!.firstMs, 0)} vs ${fmt(by.off!.firstMs, 0)} ms; blocking ${fmt(by.blocking!.firstMs, 0)} ms); target <= 1.25x`));
  }
  targets.push(...await steadySection());

  heading('2. eager Adam loop (loss read every step) vs the jitted step, MLP 784-512-512-10, batch 256 (tuning off, interleaved)');
  ts.tuning.mode = 'off';
  const opt = new ts.nn.Adam({ learningRate: 1e-3 }), { x, y } = mlpData();
  const stepF = adamStep(opt), jitted = ts.jit(stepF);
  const pe = mlpParams(), pj = mlpParams();
  let se = { params: pe, state: opt.init(pe) }, sj = { params: pj, state: opt.init(pj) };
  await ts.realizeAll([...ts.treeFlatten([se, sj]).leaves, x, y]);
  const s0 = ts.stats();
  let eagerSteps = 0;
  const res = await timeInterleaved({
    eager: async () => { const r = stepF(se, x, y); se = { params: r.params, state: r.state }; await r.loss.item(); eagerSteps++; },
    jit: async () => { const r = await jitted(sj, x, y); sj = { params: r.params, state: r.state }; await r.loss.item(); },
  }, { reps: 12, warmup: 3 });
  const s1 = ts.stats();
  const eagerRatio = res.eager!.median / res.jit!.median;
  table(['', 'ms / step (median)', 'min', 'max'], [['eager', fmt(res.eager!.median, 1), fmt(res.eager!.min, 1), fmt(res.eager!.max, 1)], ['jit', fmt(res.jit!.median, 1), fmt(res.jit!.min, 1), fmt(res.jit!.max, 1)]]);
  console.log(`programs compiled during the timed steps (after warm-up included): ${s1.programsCompiled - s0.programsCompiled} over ${eagerSteps} eager steps`);
  targets.push(target('eager Adam step / jitted step (steady)', eagerRatio <= 2, `${ratio(eagerRatio)} (${fmt(res.eager!.median, 1)} vs ${fmt(res.jit!.median, 1)} ms); target <= 2x`));

  const { scaling, target: t3 } = await jsSection();
  targets.push(t3);
  const plans = await planSection();
  writeResults('compile', { env, runs, eager: { eagerMs: res.eager!.median, jitMs: res.jit!.median }, scaling, plans, targets });
}

async function jsSection() {
  heading('3. JS-side compile (trace + passes + schedule + codegen, no driver): transformer blocks B=4 S=128 D=256');
  const allParams = Array.from({ length: 12 }, (_, i) => blockParams(1000 + 20 * i)), xb = ts.randn([B, S, D], { seed: 2 });
  const scaling: Record<string, unknown>[] = [];
  for (const withGrad of [false, true]) for (const L of [1, 2, 4, 8, 12]) {
    const samples: Awaited<ReturnType<typeof jsCompile>>[] = [];
    for (let i = 0; i < 3; i++) samples.push(await jsCompile(L, withGrad, allParams, xb));
    const med = (k: keyof (typeof samples)[number]) => median(samples.map((s) => s[k]));
    scaling.push({ what: withGrad ? 'forward+backward' : 'forward', layers: L, kernels: samples[0]!.kernels, traceMs: med('trace'), passesMs: med('passes'), scheduleMs: med('schedule'), codegenMs: med('codegen'), totalMs: med('total') });
  }
  table(['graph', 'layers', 'kernels', 'trace ms', 'passes ms', 'schedule ms', 'codegen ms', 'total ms'],
    scaling.map((r) => [r.what as string, r.layers as number, r.kernels as number, fmt(r.traceMs as number, 1), fmt(r.passesMs as number, 1), fmt(r.scheduleMs as number, 1), fmt(r.codegenMs as number, 1), fmt(r.totalMs as number, 1)]));
  const f12 = scaling.find((r) => r.what === 'forward' && r.layers === 12)?.totalMs as number | undefined;
  return { scaling, target: target('JS-side compile, 12 transformer blocks (forward)', f12 === undefined ? null : f12 <= 100, `${fmt(f12, 1)} ms; target <= 100 ms`) };
}

if (process.argv[2] === '--plan-child') {
  planChild(process.argv[3] === 'driver').then((r) => { console.log(`RESULT ${JSON.stringify(r)}`); process.exit(0); }, (e) => { console.error(e); process.exit(1); });
} else if (process.argv[2] === '--steady-child') {
  steadyChild(process.argv[3] as Workload, process.argv[4]!).then((r) => { console.log(`RESULT ${JSON.stringify(r)}`); process.exit(0); }, (e) => { console.error(e); process.exit(1); });
} else if (process.argv[2] === '--child') {
  child(process.argv[3] as Workload, process.argv[4]!).then((r) => {
    console.log(`RESULT ${JSON.stringify(r)}`);
    writeResults(`compile-${r.workload}-${r.mode}`, r); // each child's own record (its tuning decisions), as soon as it is done
    process.exit(0);
  }, (e) => { console.error(e); process.exit(1); });
} else if (isMain(import.meta.url)) {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
