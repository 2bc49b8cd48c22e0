/**
 * Issue 13: the models' costs.
 *  1. A character-GPT training step built with the functional API (examples/transformer.ts: token
 *     embedding + learned positions, 2 pre-norm blocks, causal attention, AdamW), jitted as
 *     Model.makeTrainStep: first-step latency (trace + compile + run), then steady-state ms per
 *     step, tokens/s, dispatches and submits per step — fused vs unfused (compilerOptions.fuse =
 *     false), interleaved.
 *  2. The W5 transformer-block forward (B=4, S=128, D=256, 4 heads, FFN 1024): ms per forward,
 *     fused vs unfused vs jax-js's jit of the same block with the same weights (bench/jaxjs.ts),
 *     interleaved; dispatches per forward; first-call latency; the outputs compared.
 * Each timed call waits for the GPU (queue.onSubmittedWorkDone). Compare ratios: absolute numbers
 * move with the load on the shared cores.
 *
 * Standalone: npx tsx bench/gpt.ts   (TESSERA_BENCH_QUICK=1: fewer repetitions; --block: the W5 block alone)
 */
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { gpt, transformerBlock } from '../examples/transformer.ts';
import { brief, environment, fmt, gpuIdle, heading, isMain, printEnvironment, ratio, table, target, timeInterleaved, writeResults } from './common.ts';

// jax-js, the peer of item 6, on the same adapter (bench/jaxjs.ts); the bench runs without it if absent.
const peer = await import('./jaxjs.ts').catch((e: Error) => { console.log(`jax-js not available (${e.message}): the W5 block runs without it`); return null; });

const QUICK = !!process.env.TESSERA_BENCH_QUICK;
const reps = QUICK ? 4 : 10;

async function gptStep() {
  const cfg = { vocab: 48, context: 64, dModel: 128, blocks: 2, heads: 4, ffn: 512 }, B = 8;
  ts.seed(1);
  const model = gpt(cfg);
  model.compile({ optimizer: nn.adamw({ learningRate: 1e-3 }), loss: new nn.SparseCategoricalCrossentropy({ fromLogits: true }) });
  const ids = ts.tensor(Float32Array.from({ length: B * cfg.context }, (_, i) => (i * 7) % cfg.vocab), { shape: [B, cfg.context] });
  const next = ts.tensor(Float32Array.from({ length: B * cfg.context }, (_, i) => (i * 7 + 7) % cfg.vocab), { shape: [B, cfg.context] });
  const seedT = ts.tensor(Uint32Array.of(1), { shape: [], dtype: 'uint32' });
  const variants: Record<string, { step: ts.Jitted<any[], any>; opt: nn.OptState; first: number }> = {};
  for (const fuse of [true, false]) {
    ts.compilerOptions.fuse = fuse;
    const step = ts.jit(model.makeTrainStep());
    const opt = model.initOptimizerState();
    const t0 = performance.now();
    await step(model.params, opt, ids, next, seedT, model.states);
    await gpuIdle();
    variants[fuse ? 'fused' : 'unfused'] = { step, opt, first: performance.now() - t0 };
  }
  ts.compilerOptions.fuse = true;
  const counts: Record<string, { dispatches: number; submits: number }> = {};
  for (const [k, v] of Object.entries(variants)) {
    const s0 = ts.stats();
    await v.step(model.params, v.opt, ids, next, seedT, model.states);
    await gpuIdle();
    const s1 = ts.stats();
    counts[k] = { dispatches: s1.dispatches - s0.dispatches, submits: s1.submits - s0.submits };
  }
  const times = await timeInterleaved(Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, async () => {
    await v.step(model.params, v.opt, ids, next, seedT, model.states);
    await gpuIdle();
  }])), { reps, warmup: 1 });
  const tokens = B * cfg.context;
  heading(`GPT training step: ${cfg.blocks} blocks, d_model ${cfg.dModel}, ${cfg.heads} heads, context ${cfg.context}, batch ${B}, vocab ${cfg.vocab}, AdamW`);
  table(['variant', 'ms/step', 'tokens/s', 'dispatches', 'submits', 'first step ms'], Object.keys(variants).map((k) => [
    k, times[k]!.median, tokens / (times[k]!.median / 1000), String(counts[k]!.dispatches), String(counts[k]!.submits), variants[k]!.first]));
  console.log(`fused vs unfused: ${ratio(times.unfused!.median / times.fused!.median)} faster, ${ratio(counts.unfused!.dispatches / counts.fused!.dispatches)} fewer dispatches`);
  return { cfg, batch: B, times: Object.fromEntries(Object.entries(times).map(([k, t]) => [k, brief(t)])), counts, firstStepMs: Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, v.first])) };
}

async function blockForward() {
  const B = 4, S = 128, D = 256, heads = 4, ffn = 1024;
  ts.seed(2);
  const x = nn.input({ shape: [S, D] });
  const model = nn.model({ inputs: x, outputs: transformerBlock(x, { heads, ffn, causal: false }) });
  const xs = ts.randn([B, S, D], { seed: 3 });
  const fns: Record<string, () => Promise<unknown>> = {};
  const dispatches: Record<string, number> = {};
  const firstMs: Record<string, number> = {};
  let tesseraOut: Float32Array | null = null;
  for (const fuse of [true, false]) {
    ts.compilerOptions.fuse = fuse;
    const f = ts.jit((p: nn.Params[], t: Tensor) => model.forward(p, [t]).outs[0]!);
    const t0 = performance.now();
    const out = await f(model.params, xs);
    await gpuIdle();
    firstMs[fuse ? 'fused' : 'unfused'] = performance.now() - t0;
    if (fuse) tesseraOut = (await out.data()) as Float32Array;
    fns[fuse ? 'fused' : 'unfused'] = async () => { await f(model.params, xs); await gpuIdle(); };
    dispatches[fuse ? 'fused' : 'unfused'] = f.dispatches;
  }
  ts.compilerOptions.fuse = true;
  let maxDiff: number | null = null;
  if (peer) {
    // The same weights and input in jax-js (layers: input, ln1, attention, add, ln2, ffn1, ffn2, add).
    const [, ln1, att, , ln2, ff1, ff2] = model.params as Record<string, Tensor>[];
    const get = async (t: Tensor) => (await t.data()) as Float32Array;
    const j = peer.jaxBlock({
      ln1g: await get(ln1!.gamma!), ln1b: await get(ln1!.beta!), ln2g: await get(ln2!.gamma!), ln2b: await get(ln2!.beta!),
      wq: await get(att!.query!), bq: await get(att!.queryBias!), wk: await get(att!.key!), bk: await get(att!.keyBias!),
      wv: await get(att!.value!), bv: await get(att!.valueBias!), wo: await get(att!.output!), bo: await get(att!.outputBias!),
      w1: await get(ff1!.kernel!), b1: await get(ff1!.bias!), w2: await get(ff2!.kernel!), b2: await get(ff2!.bias!),
    }, { B, S, D, heads, ffn });
    const jx = j.input(await get(xs));
    const t0 = performance.now();
    const out = await j.run(jx);
    firstMs['jax-js jit'] = performance.now() - t0;
    const jd = (await out.data()) as Float32Array;
    maxDiff = jd.reduce((m, v, i) => Math.max(m, Math.abs(v - tesseraOut![i]!)), 0);
    fns['jax-js jit'] = async () => (await j.run(jx)).dispose();
  }
  const times = await timeInterleaved(fns, { reps, warmup: 1 });
  heading(`transformer block forward (W5): B=${B}, S=${S}, D=${D}, ${heads} heads, FFN ${ffn}`);
  table(['variant', 'ms', 'dispatches', 'first call ms'], Object.keys(fns).map((k) => [k, times[k]!.median, dispatches[k] === undefined ? '-' : String(dispatches[k]), firstMs[k]!]));
  console.log(`fused vs unfused: ${ratio(times.unfused!.median / times.fused!.median)}`);
  console.log(`first calls with tuning ${ts.tuning.mode}${ts.tuning.mode === 'blocking' ? ' (they include tuning; bench/compile.ts measures first calls per mode in fresh processes)' : ''}`);
  if (peer) console.log(`Tessera fused / jax-js: ${ratio(times.fused!.median / times['jax-js jit']!.median)} of its time; max |diff| of the outputs ${maxDiff!.toExponential(1)}`);
  return { times: Object.fromEntries(Object.entries(times).map(([k, t]) => [k, brief(t)])), dispatches, firstCallMs: firstMs, maxDiffVsJax: maxDiff };
}

if (isMain(import.meta.url)) {
  const env = await environment();
  printEnvironment(env);
  // --block: the W5 block alone (the GPT step takes most of the run).
  const step = process.argv.includes('--block') ? null : await gptStep();
  const block = await blockForward();
  heading('targets');
  const t1 = target('GPT step under ~100 dispatches', step ? step.counts.fused!.dispatches <= 100 : null, step ? `${step.counts.fused!.dispatches} dispatches, ${step.counts.fused!.submits} submit(s) per step` : 'not run (--block)');
  const t2 = target('W5 block forward, fused faster than unfused', block.times.fused!.medianMs < block.times.unfused!.medianMs, `${fmt(block.times.fused!.medianMs)} ms vs ${fmt(block.times.unfused!.medianMs)} ms`);
  const jaxMs = block.times['jax-js jit']?.medianMs;
  const t3 = target('W5 block forward <= 0.5x jax-js', jaxMs === undefined ? null : block.times.fused!.medianMs <= 0.5 * jaxMs,
    jaxMs === undefined ? 'jax-js not run' : `${fmt(block.times.fused!.medianMs)} ms vs ${fmt(jaxMs)} ms (${ratio(block.times.fused!.medianMs / jaxMs)})`);
  console.log(`results: ${writeResults('gpt', { env, step, block, targets: [t1, t2, t3] })}`);
}
