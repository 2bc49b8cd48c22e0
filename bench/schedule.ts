/**
 * Issue 10: how the compiler's own cost grows with model size. For a pre-LN transformer training
 * step (forward, backward, Adam/AdamW; B=4, T=64, D=128, 4 heads) of 1, 2, 4, 8 and 12 blocks:
 *  - schedule: `schedule()` alone on the graph after the passes (storage-buffer limits 8 and 16);
 *  - JS-side compile: trace (ops + valueAndGrad + optimizer) + graph passes + schedule + WGSL
 *    codegen of every kernel (heuristic schedules), i.e. everything but the GPU driver's work.
 * Medians of several runs after a warm-up, with the growth factor per doubling of the blocks
 * (2 = linear). No GPU is needed. Standalone: npx tsx bench/schedule.ts
 */
import { generate } from '../codegen/kernels.ts';
import { clearCodegenMemo } from '../codegen/memo.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule, type Kernel } from '../ir/schedule/index.ts';
import { fmt, heading, isMain, median, table, target, writeResults } from './common.ts';
import { stepInputs, transformerStep, type StepConfig } from './workloads/transformer-step.ts';

const BLOCKS = [1, 2, 4, 8, 12];
/** Codegen needs only these device limits; lavapipe's values. */
const CAPS = { maxWorkgroupsPerDim: 65535, maxWorkgroupSize: 256, f16: false };

interface Sample { trace: number; passes: number; schedule: number; codegen: number; kernels: number; nodes: number }

function compileOnce(cfg: StepConfig, maxBuffers: number): Sample {
  const inputs = stepInputs(cfg);
  clearCodegenMemo(); // a first compile: no kernels generated before (repeated blocks still share code)
  const t0 = performance.now();
  const outs = transformerStep(cfg, inputs);
  const t1 = performance.now();
  const roots = runPasses(outs.map((t) => t.node)).filter((r) => r.op !== 'input');
  const t2 = performance.now();
  const kernels: Kernel[] = schedule(roots, { fuse: true, maxBuffers });
  const t3 = performance.now();
  for (const k of kernels) generate(k, CAPS);
  const t4 = performance.now();
  return { trace: t1 - t0, passes: t2 - t1, schedule: t3 - t2, codegen: t4 - t3, kernels: kernels.length, nodes: roots.length };
}

export async function main(): Promise<void> {
  heading('compile-time scaling: transformer training step (B=4, T=64, D=128, 4 heads)');
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const optimizer of ['adam', 'adamw'] as const) {
    for (const maxBuffers of [16, 8]) {
      let prev: { blocks: number; schedule: number; total: number } | null = null;
      for (const blocks of BLOCKS) {
        const cfg: StepConfig = { blocks, B: 4, T: 64, D: 128, H: 4, optimizer };
        compileOnce(cfg, maxBuffers); // warm-up (JIT of the compiler itself)
        const reps = blocks <= 4 ? 7 : 5;
        const samples = Array.from({ length: reps }, () => compileOnce(cfg, maxBuffers));
        const m = (f: (s: Sample) => number) => median(samples.map(f));
        const sched = m((s) => s.schedule), total = m((s) => s.trace + s.passes + s.schedule + s.codegen);
        const growth = (now: number, before?: number) => (prev && before ? fmt((now / before) ** (1 / Math.log2(blocks / prev.blocks)), 2) : '');
        rows.push([optimizer, String(maxBuffers), String(blocks), String(samples[0]!.kernels), fmt(m((s) => s.trace)), fmt(m((s) => s.passes)),
          fmt(sched), growth(sched, prev?.schedule), fmt(m((s) => s.codegen)), fmt(total), growth(total, prev?.total)]);
        results.push({ optimizer, maxBuffers, blocks, kernels: samples[0]!.kernels, scheduleMs: sched, compileMs: total });
        prev = { blocks, schedule: sched, total };
      }
    }
  }
  table(['optimizer', 'max buffers', 'blocks', 'kernels', 'trace ms', 'passes ms', 'schedule ms', 'growth/doubling', 'codegen ms', 'JS compile ms', 'growth/doubling'], rows);
  const at = (o: string, mb: number, b: number) => results.find((r) => r.optimizer === o && r.maxBuffers === mb && r.blocks === b)!;
  const s8 = at('adam', 16, 8).scheduleMs as number, c12 = at('adamw', 16, 12).compileMs as number;
  const targets = [
    target('8-block step scheduled (limit 16) <= 50 ms', s8 <= 50, `${fmt(s8)} ms`),
    target('12-block fwd+bwd+AdamW JS-side compile (limit 16) <= 100 ms', c12 <= 100, `${fmt(c12)} ms`),
  ];
  writeResults('schedule', { results, targets });
}

if (isMain(import.meta.url)) await main();
