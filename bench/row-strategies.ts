/**
 * Row-reduction strategies on an adapter (browser-safe: bench/rows.ts prints it in Node,
 * bench/browser-rows.ts in Chromium's SwiftShader): for softmax, layernorm and plain sums of the
 * shapes the models here run, every strategy the tuner knows — one invocation per row (serial), a
 * workgroup tree per row, with or without subgroup sums — each timed by the tuner's own loop
 * (runtime/tuner.ts tuneKernel) and checked against the template heuristic's output. The measured
 * row defaults in runtime/defaults.ts come from these tables.
 */
import * as ts from '../index.ts';
import { rowHeuristic } from '../codegen/kernels.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule, type RowKernel } from '../ir/schedule/index.ts';
import { engine } from '../runtime/engine.ts';
import { keyOf, rowCandidates } from '../runtime/tuner.ts';
import { timeCandidates } from './candidate-times.ts';

export const ROW_CASES: Record<string, () => ts.Tensor> = {
  'softmax [4,4,128,128] (W5 attention)': () => ts.softmax(ts.randn([4, 4, 128, 128], { seed: 1 })),
  'softmax [8,4,64,64] (GPT attention)': () => ts.softmax(ts.randn([8, 4, 64, 64], { seed: 2 })),
  'layerNorm [512,256] (W5)': () => ts.nn.layerNorm(ts.randn([512, 256], { seed: 3 }), { gamma: ts.randn([256], { seed: 4 }), beta: ts.randn([256], { seed: 5 }) }),
  'layerNorm [512,128] (GPT)': () => ts.nn.layerNorm(ts.randn([512, 128], { seed: 6 })),
  'softmax [2048,32]': () => ts.softmax(ts.randn([2048, 32], { seed: 7 })),
  'sum over rows [512,128] -> [128] (bias gradient)': () => ts.randn([512, 128], { seed: 8 }).sum(0),
  'sum [8,8192] -> [8]': () => ts.randn([8, 8192], { seed: 9 }).sum(1),
  'sum [65536] -> [] (a loss)': () => ts.randn([65536], { seed: 10 }).sum(),
};

export interface RowCase { name: string; template: string; ms: Record<string, number>; fastest: string }

/** Every row strategy timed on each case (ms per kernel; wrong outputs left out). */
export async function rowStrategies(): Promise<RowCase[]> {
  const e = await engine();
  const out: RowCase[] = [];
  for (const [name, make] of Object.entries(ROW_CASES)) {
    const k = schedule(runPasses([make().node]), { fuse: true, maxBuffers: e.dev.caps.maxBuffers }).find((x): x is RowKernel => x.kind === 'row')!;
    const template = rowHeuristic(k, e.dev.caps);
    const { ms, fastest } = await timeCandidates(k, e, template, rowCandidates(k, e.dev.caps, template));
    out.push({ name, template: keyOf(template), ms, fastest });
  }
  return out;
}
