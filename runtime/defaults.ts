/**
 * Measured defaults: per adapter class, the schedules tuning picked on this project's workloads
 * (bench/compile.ts records each tuning decision in its results), used as the untuned choice, so
 * a kernel runs near its tuned speed with tuning off (in background mode the first call keeps the
 * template heuristic, cheaper to compile, and tuning swaps the winner in). Only
 * measured classes are listed; others keep the template heuristics (tuner.ts heuristicSchedule,
 * codegen rowHeuristic). The tuner still times these against every other candidate.
 */
import type { RowSchedule } from '../codegen/kernels.ts';
import { scheduleFits, type MatmulSchedule } from '../codegen/matmul.ts';
import { matmulWork, type Kernel } from '../ir/schedule/index.ts';
import type { Device } from './device.ts';

export type AdapterClass = 'lavapipe' | 'swiftshader' | 'other';

/** The class of an adapter, from what it reports (lavapipe reports itself as llvmpipe). */
export function adapterClass(info: Device['adapterInfo']): AdapterClass {
  const s = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  if (/llvmpipe|lavapipe/.test(s)) return 'lavapipe';
  if (/swiftshader/.test(s)) return 'swiftshader';
  return 'other';
}

/**
 * Fusion rules measured to lose on an adapter class, left out unless `compilerOptions.skipRules`
 * says otherwise. lavapipe: the attention kernel is 0.33-0.43x the speed of the unfused
 * composition's tuned large-tile matmuls at W5 (bench/attention.ts), so attention stays unfused there.
 */
const SLOWER_RULES: Partial<Record<AdapterClass, readonly string[]>> = { lavapipe: ['attention'] };
export const measuredSkipRules = (dev: Pick<Device, 'adapterInfo'>): readonly string[] => SLOWER_RULES[adapterClass(dev.adapterInfo)] ?? [];

/** A matmul default: the first rule whose minimum output rows, columns, reduction length and work all fit applies. */
interface MatmulRule { minM: number; minN: number; minK: number; /** minimum multiply-adds (batch included; default 0) */ minWork?: number; schedule: MatmulSchedule }
interface ClassDefaults { matmul: MatmulRule[]; row?: RowSchedule }

export const MEASURED: Partial<Record<AdapterClass, ClassDefaults>> = {
  // Mesa lavapipe 25.0 (LLVM 15), 2 cores. Tuning (bench/compile.ts, bench/matmul-tiles.ts) picks
  // large register tiles here: 4x8/16x16, 8x8/16x8 or 8x8/8x16, 1.5-5x faster than the template's
  // 8x8/4x4. lavapipe builds a pipeline at its first dispatch, and large tiles build slowly, so the
  // default weighs the first call too. Stored in a loop (codegen/matmul.ts), a 4x8/16x16 tile of
  // 512x256x1024 builds in 1.3 s (8.3 s unrolled) and runs in 59 ms vs 83 ms for 8x8/8x8. So the
  // biggest products (>= 2^27 multiply-adds: the W5 FFN, ~100 ms a call) take 4x8/16x16, and
  // anything with a 64x64 tile of output 8x8/8x8. bench/compile.ts 1b, side by side: untuned/tuned
  // steady state 0.89-0.96x (W5) and 0.97-1.18x (MLP Adam step); with 8x8/8x8 everywhere it was
  // 1.23x and 1.07x. The cost: the W5 block's first call with tuning off took 5.6 s instead of
  // 2.4 s (8.4 s with 16x16 everywhere).
  // Row kernels (bench/rows.ts): one invocation per row (serial, 64 per workgroup) was fastest or
  // within 1.7x of it on every shape measured, 3-15x faster than the template's workgroup trees
  // (layernorm [512,256] 1.2 vs 19.3 ms; softmax [4,4,128,128] 3.7 vs 33 ms; a sum of 65536 into
  // one 0.45 vs 1.8 ms): lavapipe's barriers are costly and its lanes gain nothing from neighbouring loads.
  lavapipe: { matmul: [
    { minM: 64, minN: 128, minK: 64, minWork: 1 << 27, schedule: { wgM: 4, wgN: 8, tm: 16, tn: 16, bk: 8, shared: false } },
    { minM: 64, minN: 64, minK: 64, schedule: { wgM: 8, wgN: 8, tm: 8, tn: 8, bk: 8, shared: false } },
  ], row: { serial: true, wg: 64 } },
  // Chromium's SwiftShader (bench/browser-rows.ts): one invocation per row was within 1.3x of the
  // fastest strategy on every shape and 10-50x faster than the template's trees (layernorm
  // [512,256] 6.2 vs 310 ms; softmax [4,4,128,128] 9.8 vs 474 ms). Matmul tiles
  // (bench/browser-matmul.ts, the W5 block's and the MLP's products with their epilogues):
  // 8x8/16x8 was fastest on 4 of 6 and within 1.19x on the others; the template's 8x8/4x4 ran
  // 1.7-2.9x slower (W5 FFN up 103 vs 195 ms, scores 20 vs 44 ms); 8x8/8x8 within 1.7x.
  swiftshader: { matmul: [
    { minM: 128, minN: 64, minK: 32, schedule: { wgM: 8, wgN: 8, tm: 16, tn: 8, bk: 8, shared: false } },
    { minM: 64, minN: 64, minK: 32, schedule: { wgM: 8, wgN: 8, tm: 8, tn: 8, bk: 8, shared: false } },
  ], row: { serial: true, wg: 64 } },
};

/** The measured default row-reduction schedule for this adapter, if one is known and fits. */
export function measuredRow(dev: Pick<Device, 'adapterInfo' | 'caps'>): RowSchedule | undefined {
  const r = MEASURED[adapterClass(dev.adapterInfo)]?.row;
  return r && r.wg <= dev.caps.maxWorkgroupSize ? r : undefined;
}

/** The measured default matmul schedule for this adapter, if one applies and fits the device. */
export function measuredMatmul(k: Kernel & { kind: 'matmul' }, dev: Pick<Device, 'adapterInfo' | 'caps'>): MatmulSchedule | undefined {
  const d = MEASURED[adapterClass(dev.adapterInfo)];
  const r = k.node.shape.length, M = k.node.shape[r - 2]!, N = k.node.shape[r - 1]!, K = k.node.src[0]!.shape[r - 1]!, work = matmulWork(k);
  return d?.matmul.find((m) => M >= m.minM && N >= m.minN && K >= m.minK && work >= (m.minWork ?? 0) && scheduleFits(m.schedule, dev.caps))?.schedule;
}
