/**
 * Matmul register tiles on an adapter (browser-safe: bench/matmul-tiles.ts prints it in Node,
 * bench/browser-matmul.ts in Chromium's SwiftShader): for the
 * matmul kernels of the W5 transformer block and the MLP Adam step (epilogues included, as the
 * models fuse them), every candidate the tuner would try (runtime/tuner.ts CANDIDATES, pruned as it
 * prunes) is timed by the tuner's own loop (tuneKernel) and checked against the template
 * heuristic's output. The measured matmul defaults in runtime/defaults.ts come from these tables.
 */
import * as ts from '../index.ts';
import { scheduleFits } from '../codegen/matmul.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule, type Kernel } from '../ir/schedule/index.ts';
import { engine } from '../runtime/engine.ts';
import { measuredMatmul } from '../runtime/defaults.ts';
import type { Schedule } from '../codegen/kernels.ts';
import { CANDIDATES, heuristicSchedule, keyOf, pruneCandidates } from '../runtime/tuner.ts';
import { timeCandidates } from './candidate-times.ts';

const r = (shape: number[], seed: number) => ts.randn(shape, { seed });
export const MATMUL_CASES: Record<string, () => ts.Tensor> = {
  'W5 projection [512,256]x[256,256] + bias': () => r([512, 256], 1).matmul(r([256, 256], 2)).add(r([256], 3)),
  'W5 FFN up [512,256]x[256,1024] + gelu': () => ts.gelu(r([512, 256], 4).matmul(r([256, 1024], 5)).add(r([1024], 6))),
  'W5 FFN down [512,1024]x[1024,256] + bias': () => r([512, 1024], 7).matmul(r([1024, 256], 8)).add(r([256], 9)),
  'W5 scores [16,128,64]x[16,64,128]': () => r([16, 128, 64], 10).matmul(r([16, 64, 128], 11)),
  'W5 attention x V [16,128,128]x[16,128,64]': () => r([16, 128, 128], 12).matmul(r([16, 128, 64], 13)),
  'MLP [256,784]x[784,512] + relu': () => ts.relu(r([256, 784], 14).matmul(r([784, 512], 15))),
};

export interface MatmulCase { name: string; template: string; measured: string | null; ms: Record<string, number>; fastest: string }

/** Every pruned candidate tile timed on each case (ms per kernel; wrong outputs left out). */
export async function matmulTiles(onCase?: (c: MatmulCase) => void): Promise<MatmulCase[]> {
  const e = await engine();
  const out: MatmulCase[] = [];
  for (const [name, make] of Object.entries(MATMUL_CASES)) {
    const k = schedule(runPasses([make().node]), { fuse: true, maxBuffers: e.dev.caps.maxBuffers }).find((x): x is Kernel & { kind: 'matmul' } => x.kind === 'matmul')!;
    const template = heuristicSchedule(k);
    const cands = pruneCandidates(k, [template, ...CANDIDATES.filter((c) => scheduleFits(c, e.dev.caps))] as Schedule[]);
    const { ms, fastest } = await timeCandidates(k, e, template, cands.slice(1));
    const m = measuredMatmul(k, e.dev);
    const c: MatmulCase = { name, template: keyOf(template), measured: m ? keyOf(m) : null, ms, fastest };
    onCase?.(c);
    out.push(c);
  }
  return out;
}
