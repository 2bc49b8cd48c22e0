/**
 * Issue 3: one Adam training step of an MLP 784-512-512-10 (relu), batch 256, softmax
 * cross-entropy (via logSoftmax), written directly with valueAndGrad/jit (no ops/nn dependency).
 *
 * Reported: ms per step, dispatches and submits per step (runtime counters), jitted vs eager,
 * and the size of the step's traced graph (nodes of ir/node.ts toposort, before and after the
 * graph passes). Eager here is Tessera's lazy mode: the step is traced again every call
 * (autodiff included), then realized with one program (cached by graph structure) and one submit.
 * Each timed step = the call + queue.onSubmittedWorkDone() (no loss readback; a second line adds
 * the loss readback, a third 10 steps submitted back to back with one wait at the end).
 * Medians of N steps, all variants interleaved (own loop, not benny).
 *
 * If the model-level API exists (`nn` exported from index.ts) the seed program is timed too:
 * Dense(10 relu) -> Dense(1 sigmoid), adam, binaryCrossentropy, fit 10 epochs + predict, warm.
 *
 * Standalone: npx tsx bench/train-step.ts
 */
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { toposort, type Node } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { aliasOf, engine, ensureUploaded, globalOptions, inputsOf, programFor, substituteRealized } from '../runtime/engine.ts';
import { storageOf } from '../runtime/storage.ts';
import { ceilingsJson, measureCeilings, printCeilings } from './ceilings.ts';
import { brief, environment, fmt, heading, isMain, printEnvironment, profileSteps, ratio, table, target, timeInterleaved, writeResults } from './common.ts';

const BATCH = 256, SIZES = [784, 512, 512, 10];
const LR = 1e-3, B1 = 0.9, B2 = 0.999, EPS = 1e-8;

type Params = Record<string, Tensor>;
interface State { params: Params; m: Params; v: Params; t: Tensor }

/** Zeros from host data: each optimizer state gets buffers of its own (a const node is shared by
 * every equal constant, and these buffers are donated to the step). */
const hostZeros = (shape: number[]) => ts.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), { shape });

function initParams(): Params {
  const p: Params = {};
  for (let i = 0; i < SIZES.length - 1; i++) {
    p[`w${i + 1}`] = ts.randn([SIZES[i]!, SIZES[i + 1]!], { seed: 10 + i, std: Math.sqrt(2 / SIZES[i]!) });
    p[`b${i + 1}`] = hostZeros([SIZES[i + 1]!]);
  }
  return p;
}

function forward(p: Params, x: Tensor): Tensor {
  const h1 = ts.relu(x.matmul(p.w1!).add(p.b1!));
  const h2 = ts.relu(h1.matmul(p.w2!).add(p.b2!));
  return h2.matmul(p.w3!).add(p.b3!);
}

/** Mean softmax cross-entropy with one-hot targets. */
const lossFn = (p: Params, x: Tensor, y: Tensor): Tensor => ts.logSoftmax(forward(p, x), -1).mul(y).sum(1).mean().neg();

function step(s: State, x: Tensor, y: Tensor): State & { loss: Tensor } {
  const [loss, g] = ts.valueAndGrad(lossFn)(s.params, x, y) as [Tensor, Params];
  const t = s.t.add(1);
  const bc1 = ts.sub(1, ts.pow(B1, t)), bc2 = ts.sub(1, ts.pow(B2, t));
  const params: Params = {}, m: Params = {}, v: Params = {};
  for (const k of Object.keys(s.params)) {
    const gk = g[k]!;
    m[k] = s.m[k]!.mul(B1).add(gk.mul(1 - B1));
    v[k] = s.v[k]!.mul(B2).add(gk.mul(gk).mul(1 - B2));
    params[k] = s.params[k]!.sub(m[k]!.div(bc1).mul(LR).div(v[k]!.div(bc2).sqrt().add(EPS)));
  }
  return { params, m, v, t, loss };
}

function initState(): State {
  const params = initParams();
  const zerosOf = (p: Params) => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, hostZeros([...t.shape])]));
  return { params, m: zerosOf(params), v: zerosOf(params), t: ts.tensor(0, { dtype: 'float32' }) };
}

const leaves = (s: State & { loss?: Tensor }): Tensor[] => [...Object.values(s.params), ...Object.values(s.m), ...Object.values(s.v), s.t, ...(s.loss ? [s.loss] : [])];

function data(): { x: Tensor; y: Tensor } {
  const x = ts.randn([BATCH, SIZES[0]!], { seed: 3 });
  const labels = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) labels[i * 10 + ((i * 7 + 3) % 10)] = 1;
  return { x, y: ts.tensor(labels, { shape: [BATCH, 10] }) };
}

/** Node counts of the step's graph: as traced, and after the graph passes (what is compiled). */
function graphCounts(roots: readonly Node[]) {
  const all = toposort(roots);
  const byOp: Record<string, number> = {};
  for (const n of all) byOp[n.op] = (byOp[n.op] ?? 0) + 1;
  const leavesN = (byOp.input ?? 0) + (byOp.const ?? 0) + (byOp.iota ?? 0);
  const views = ['reshape', 'permute', 'expand', 'pad', 'shrink'].reduce((a, k) => a + (byOp[k] ?? 0), 0);
  return { nodes: all.length, primitiveOps: all.length - leavesN, computeOps: all.length - leavesN - views, views, inputs: byOp.input ?? 0, consts: byOp.const ?? 0, matmuls: byOp.matmul ?? 0, reduces: byOp.reduce ?? 0, byOp };
}

async function realizeState(s: State): Promise<State> { await ts.realizeAll(leaves(s)); return s; }

interface SeedVariant { name: string; coldMs: number; warmMs: number; warmMin: number; dispatches: number; submits: number; readbacks: number; prediction: number }
interface SeedResult { available: boolean; error?: string; variants?: SeedVariant[] }

/**
 * The seed program through the model-level API (examples/seed.ts, line for line), if index.ts
 * exports Sequential/Dense. Accessed loosely so this bench never depends on ops/nn to compile.
 * Cold = first run in the process (compiles kernels); warm = median of the next 9 runs (new model
 * each time, as a second run of the program would be).
 */
async function seedProgram(): Promise<SeedResult> {
  const api = ts as unknown as Record<string, any>;
  const Sequential = api.Sequential ?? api.nn?.Sequential, Dense = api.Dense ?? api.nn?.Dense;
  if (typeof Sequential !== 'function' || typeof Dense !== 'function') return { available: false };
  const once = async (verbose: number | undefined) => {
    const x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
    const y = [[0], [1], [0]];
    const model = new Sequential([new Dense(10, { activation: 'relu', inputShape: [3] }), new Dense(1, { activation: 'sigmoid' })]);
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    await model.fit(x, y, verbose === undefined ? { epochs: 10 } : { epochs: 10, verbose });
    const prediction = await model.predict([[1, 2, 3]]);
    const [p] = await prediction.data();
    return p as number;
  };
  // The default verbosity prints one line per epoch: keep it off the bench's output while timing.
  const quiet = async <T,>(f: () => Promise<T>): Promise<T> => {
    const w = process.stdout.write.bind(process.stdout);
    (process.stdout as { write: unknown }).write = () => true;
    try { return await f(); } finally { (process.stdout as { write: unknown }).write = w; }
  };
  try {
    const variants: SeedVariant[] = [];
    for (const [name, verbose] of [['as examples/seed.ts (default verbose; printing suppressed)', undefined], ['verbose: 0', 0]] as const) {
      const t0 = performance.now(); await quiet(() => once(verbose)); const coldMs = performance.now() - t0;
      const xs: number[] = [];
      let d = 0, sb = 0, rb = 0, prediction = NaN;
      for (let i = 0; i < 9; i++) {
        const s0 = ts.stats(); const t1 = performance.now();
        prediction = await quiet(() => once(verbose));
        xs.push(performance.now() - t1); const s1 = ts.stats();
        d = s1.dispatches - s0.dispatches; sb = s1.submits - s0.submits; rb = s1.readbacks - s0.readbacks;
      }
      xs.sort((a, b) => a - b);
      variants.push({ name, coldMs, warmMs: xs[4]!, warmMin: xs[0]!, dispatches: d, submits: sb, readbacks: rb, prediction });
    }
    return { available: true, variants };
  } catch (err) {
    return { available: true, error: (err as Error).message.split('\n')[0] };
  }
}

export async function main(): Promise<void> {
  const env = await environment();
  heading(`bench/train-step.ts: Adam step, MLP ${SIZES.join('-')}, batch ${BATCH}, softmax cross-entropy`);
  printEnvironment(env);
  const e = await engine();
  const c = await measureCeilings();
  printCeilings(c);
  const { x, y } = data();
  await ts.realizeAll([x, y]);

  // Graph size: trace one step lazily (not realized) and count nodes.
  const s0 = await realizeState(initState());
  const lazy = step(s0, x, y);
  const roots = leaves(lazy).map((t) => t.node);
  const traced = graphCounts(roots);
  const passed = runPasses(substituteRealized(roots));
  const compiled = graphCounts(passed);

  // FLOPs of one step: forward 2*B*sum(in*out); backward ~2x that (dX and dW), minus dX of the first layer.
  let fwd = 0; for (let i = 0; i < SIZES.length - 1; i++) fwd += 2 * BATCH * SIZES[i]! * SIZES[i + 1]!;
  const stepFlops = 3 * fwd - 2 * BATCH * SIZES[0]! * SIZES[1]!;

  // jitted: compile (first call) outside the timed region.
  const stepJ = ts.jit(step, { donate: [0] });
  let sj: State & { loss?: Tensor } = await realizeState(initState());
  const tc0 = performance.now();
  let outJ = await stepJ(sj, x, y);
  await e.dev.gpu.queue.onSubmittedWorkDone();
  const jitCompileMs = performance.now() - tc0;
  sj = outJ;
  // eager: first call compiles its program too.
  let se = await realizeState(initState());
  const te0 = performance.now();
  { const o = step(se, x, y); await ts.realizeAll(leaves(o)); se = o; }
  await e.dev.gpu.queue.onSubmittedWorkDone();
  const eagerFirstMs = performance.now() - te0;

  const perCall = async (f: () => Promise<void>) => { const a = ts.stats(); await f(); const b = ts.stats(); return { dispatches: b.dispatches - a.dispatches, submits: b.submits - a.submits, uploads: b.uploads - a.uploads }; };
  const jitStep = async () => { outJ = await stepJ(sj, x, y); sj = outJ; await e.dev.gpu.queue.onSubmittedWorkDone(); };
  const eagerStep = async () => { const o = step(se, x, y); await ts.realizeAll(leaves(o)); se = o; await e.dev.gpu.queue.onSubmittedWorkDone(); };
  const jitStepRead = async () => { outJ = await stepJ(sj, x, y); sj = outJ; await outJ.loss.item(); };
  const cj = await perCall(jitStep), ce = await perCall(eagerStep);
  const cjr = await perCall(jitStepRead);

  const BURST = 10;
  const jitBurst = async () => { for (let i = 0; i < BURST; i++) { outJ = await stepJ(sj, x, y); sj = outJ; } await e.dev.gpu.queue.onSubmittedWorkDone(); };
  const t = await timeInterleaved({ jitted: jitStep, eager: eagerStep, read: jitStepRead, burst: jitBurst }, { reps: 9, warmup: 1, maxMs: 40000 });
  const tr = t.read!, tb = t.burst!;
  const lossNow = await outJ.loss.item();

  heading('one training step');
  const rows: [string, number, number, number, number][] = [
    ['jitted', t.jitted!.median, t.jitted!.min, cj.dispatches, cj.submits],
    ['jitted + loss readback', tr.median, tr.min, cjr.dispatches, cjr.submits],
    [`jitted, ${BURST} steps back to back, one wait (per step)`, tb.median / BURST, tb.min / BURST, cj.dispatches, cj.submits],
    ['eager (lazy; re-traced each step)', t.eager!.median, t.eager!.min, ce.dispatches, ce.submits],
  ];
  table(['mode', 'ms/step (median)', 'min', 'GFLOP/s', 'dispatches/step', 'submits/step', 'vs jitted'],
    rows.map(([n, ms, mn, d, s]) => [n, ms, mn, stepFlops / (ms * 1e6), String(d), String(s), ratio(ms / t.jitted!.median)]));
  console.log(`first call (trace + compile${Object.values(ts.compilerOptions).some((v) => typeof v === 'function') ? ' + schedule tuning when not cached' : ''} + run): jitted ${fmt(jitCompileMs)} ms, eager ${fmt(eagerFirstMs)} ms; step = ${fmt(stepFlops / 1e9, 3)} GFLOP; loss after ${4 + 10 * (2 + BURST)}+ steps: ${lossNow.toFixed(4)}`);
  console.log(`fma ceiling ${fmt(c.fmaGFLOPs)} GFLOP/s -> compute floor ${fmt(stepFlops / (c.fmaGFLOPs * 1e6))} ms/step`);

  heading('graph size of one step (ir/node.ts toposort)');
  table(['graph', 'nodes', 'primitive ops', 'compute ops (no views)', 'views', 'matmuls', 'reduces', 'inputs', 'consts'],
    [['as traced', traced.nodes, traced.primitiveOps, traced.computeOps, traced.views, traced.matmuls, traced.reduces, traced.inputs, traced.consts].map(String),
      ['after graph passes', compiled.nodes, compiled.primitiveOps, compiled.computeOps, compiled.views, compiled.matmuls, compiled.reduces, compiled.inputs, compiled.consts].map(String)]);
  console.log(`primitive ops = nodes other than input/const/iota; kernels launched: ${cj.dispatches}`);

  heading('beside the reference numbers (not measured here)');
  table(['system', 'ms/step', 'dispatches', 'submits'], [
    ['Tessera jitted (this run)', fmt(t.jitted!.median), String(cj.dispatches), String(cj.submits)],
    ['jax-js jitted (given)', '210-320', '53', '54'],
    ['tfjs (given)', '420-520', '127', '-'],
    ['target', '< 105-160 (half of jax-js)', '< 40', '1'],
  ]);
  const targets = [
    target('jitted step < half of jax-js (< 105 ms vs its best 210, < 160 vs its worst 320)', t.jitted!.median < 105 ? true : t.jitted!.median < 160 ? null : false,
      `${fmt(t.jitted!.median)} ms = ${ratio(t.jitted!.median / 210)} of jax-js best, ${ratio(t.jitted!.median / 320)} of its worst${t.jitted!.median >= 105 && t.jitted!.median < 160 ? ' (only against the worst)' : ''}`),
    target('dispatches per step < 40', cj.dispatches < 40, `${cj.dispatches}`),
    target('1 submit per step', cj.submits === 1, `${cj.submits}`),
  ];

  // Where the time goes: each kernel of the step's program timed alone (the program eager realize uses).
  const inputs = inputsOf(passed);
  const program = await programFor(e, [...new Set(passed.filter((r) => !aliasOf(r)))], inputs, globalOptions);
  const prof = await profileSteps(e, program, inputs.map((n) => ensureUploaded(e, storageOf(n))), 3);
  const profSum = prof.reduce((a, k) => a + k.ms, 0);
  heading(`kernels of one step, each timed alone (sum ${fmt(profSum)} ms vs ${fmt(t.jitted!.median)} ms for the whole step; top 10)`);
  table(['#', 'kernel', 'grid', 'ms (median of 3)', 'share'], [...prof].sort((a, b) => b.ms - a.ms).slice(0, 10).map((k) => [String(k.index), k.name, k.grid, k.ms, `${fmt((100 * k.ms) / profSum, 1)}%`]));

  const seed = await seedProgram();
  heading('seed program (model-level API)');
  if (!seed.available) console.log('skipped: index.ts exports no Sequential/Dense yet');
  else if (seed.error) console.log(`Sequential exists but the seed program failed: ${seed.error}`);
  else {
    console.log('Dense(10 relu, inputShape [3]) -> Dense(1 sigmoid), adam, binaryCrossentropy, metrics accuracy, fit 10 epochs, predict([[1,2,3]]) + read');
    table(['variant', 'cold ms (1st run)', 'warm ms (median of 9)', 'warm min', 'dispatches', 'submits', 'readbacks', 'P(y=1|[1,2,3])'],
      seed.variants!.map((v) => [v.name, v.coldMs, v.warmMs, v.warmMin, String(v.dispatches), String(v.submits), String(v.readbacks), v.prediction.toFixed(4)]));
    const main0 = seed.variants![0]!;
    targets.push(target('seed program warm < 20 ms (as examples/seed.ts)', main0.warmMs < 20, `${fmt(main0.warmMs)} ms (${ratio(main0.warmMs / 20)} of the target); verbose 0: ${fmt(seed.variants![1]!.warmMs)} ms`));
  }

  writeResults('train-step', {
    env, ceilings: ceilingsJson(c), model: { sizes: SIZES, batch: BATCH, optimizer: 'adam', lr: LR, loss: 'softmax cross-entropy (logSoftmax)' },
    stepGflop: stepFlops / 1e9,
    jitted: { ...brief(t.jitted!), ...cj, firstCallMs: jitCompileMs },
    jittedWithLossReadback: { ...brief(tr), ...cjr },
    jittedBurstPerStep: { medianMs: tb.median / BURST, minMs: tb.min / BURST, steps: BURST },
    eager: { ...brief(t.eager!), ...ce, firstCallMs: eagerFirstMs },
    graph: { traced, compiled },
    kernels: prof,
    reference: { jaxJs: { ms: [210, 320], dispatches: 53, submits: 54 }, tfjs: { ms: [420, 520], dispatches: 127 } },
    seed, targets,
  });
}

if (isMain(import.meta.url)) await main();
