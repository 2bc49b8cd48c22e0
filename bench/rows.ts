/**
 * Row-reduction strategies on this adapter: for softmax, layernorm and plain sums of the shapes
 * the models here run (W5 attention rows, the GPT's, layernorm rows, losses), every strategy the
 * tuner knows — one invocation per row (serial), a workgroup tree per row, with or without
 * subgroup sums — each timed by the tuner's own loop (runtime/tuner.ts tuneKernel), checked
 * against the same kernel's heuristic output. The adapter's measured row default
 * (runtime/defaults.ts) comes from this table.
 *
 * Standalone: npx tsx bench/rows.ts
 */
import * as ts from '../index.ts';
import { rowHeuristic } from '../codegen/kernels.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule, type RowKernel } from '../ir/schedule/index.ts';
import { engine } from '../runtime/engine.ts';
import { keyOf, rowCandidates, tuneKernel } from '../runtime/tuner.ts';
import { measuredRow } from '../runtime/defaults.ts';
import { environment, fmt, heading, isMain, printEnvironment, ratio, table, writeResults } from './common.ts';

const CASES: Record<string, () => ts.Tensor> = {
  'softmax [4,4,128,128] (W5 attention)': () => ts.softmax(ts.randn([4, 4, 128, 128], { seed: 1 })),
  'softmax [8,4,64,64] (GPT attention)': () => ts.softmax(ts.randn([8, 4, 64, 64], { seed: 2 })),
  'layerNorm [512,256] (W5)': () => ts.nn.layerNorm(ts.randn([512, 256], { seed: 3 }), { gamma: ts.randn([256], { seed: 4 }), beta: ts.randn([256], { seed: 5 }) }),
  'layerNorm [512,128] (GPT)': () => ts.nn.layerNorm(ts.randn([512, 128], { seed: 6 })),
  'softmax [2048,32]': () => ts.softmax(ts.randn([2048, 32], { seed: 7 })),
  'sum over rows [512,128] -> [128] (bias gradient)': () => ts.randn([512, 128], { seed: 8 }).sum(0),
  'sum [8,8192] -> [8]': () => ts.randn([8, 8192], { seed: 9 }).sum(1),
  'sum [65536] -> [] (a loss)': () => ts.randn([65536], { seed: 10 }).sum(),
};

export async function rowStrategies() {
  const e = await engine();
  const out: Record<string, Record<string, number>> = {};
  const rows: (string | number)[][] = [];
  for (const [name, make] of Object.entries(CASES)) {
    const k = schedule(runPasses([make().node]), { fuse: true, maxBuffers: e.dev.caps.maxBuffers }).find((x): x is RowKernel => x.kind === 'row')!;
    const template = rowHeuristic(k, e.dev.caps);
    const ms: Record<string, number> = {};
    // One candidate per call: each is timed in full (the tuner's budget applies per call).
    for (const c of rowCandidates(k, e.dev.caps, template)) {
      const r = await tuneKernel(k, e, [template, c]);
      for (const t of r.timings) if (t.ok && !(keyOf(c) !== t.schedule && t.schedule in ms)) ms[t.schedule] = t.ms;
    }
    const best = Object.entries(ms).sort((a, b) => a[1] - b[1])[0]!;
    out[name] = ms;
    rows.push([name, keyOf(template), ms[keyOf(template)] ?? NaN, best[0], best[1], ratio(ms[keyOf(template)]! / best[1])]);
  }
  heading('row kernels: the template heuristic vs the fastest strategy (ms per kernel)');
  table(['kernel', 'template', 'ms', 'fastest', 'ms', 'speedup'], rows);
  const m = measuredRow(e.dev);
  console.log(`measured default for this adapter (runtime/defaults.ts): ${m ? keyOf(m) : 'none (template heuristic)'}`);
  for (const [name, ms] of Object.entries(out)) console.log(`  ${name}: ${Object.entries(ms).map(([s, v]) => `${s} ${fmt(v)}`).join(', ')}`);
  return out;
}

if (isMain(import.meta.url)) {
  const env = await environment();
  printEnvironment(env);
  const res = await rowStrategies();
  console.log(`results: ${writeResults('rows', { env, res })}`);
}
