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
import type { Kernel } from '../ir/schedule/index.ts';
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

/** A matmul default: the first rule whose minimum output rows, columns and reduction length all fit applies. */
interface MatmulRule { minM: number; minN: number; minK: number; schedule: MatmulSchedule }
interface ClassDefaults { matmul: MatmulRule[]; row?: RowSchedule }

export const MEASURED: Partial<Record<AdapterClass, ClassDefaults>> = {
  // Mesa lavapipe 25.0 (LLVM 15), 2 cores. bench/compile.ts, MLP Adam step: every large matmul
  // ([256,512] K=784/512, backward [784,512] K=256, [512,512] K=256) was won by 8x8/8x16, by
  // 1.5-5x over the 8x8/4x4 template default; the default is 8x8/8x8, which ran as fast on the W5
  // block's matmuls ([512,256]x[256,256] with a gelu epilogue: 24 vs 26 ms; N=1024: 91 vs 111 ms)
  // and builds 3-4x faster (lavapipe compiled the 8x16 tile for ~3 s per kernel at its first
  // dispatch: the W5 block's first call with tuning off took 11.5 s with it, 5.9 s with 8x8).
  // The rule asks for a full 64x128 tile of output. Since results are stored in a loop over the
  // register block (codegen/matmul.ts), large tiles build much faster (512x256x1024, 4x8/16x16:
  // 8.3 -> 1.3 s at the first dispatch), but the W5 block's first call with tuning off still took
  // 8.4 s with 4x8/16x16 as the default vs 2.4 s with 8x8/8x8, for a steady state 1.23x faster
  // (bench/compile.ts 1b: off 295 vs tuned 240 ms): with tuning off the first call wins.
  // Row kernels (bench/rows.ts): one invocation per row (serial, 64 per workgroup) was fastest or
  // within 1.7x of it on every shape measured, 3-15x faster than the template's workgroup trees
  // (layernorm [512,256] 1.2 vs 19.3 ms; softmax [4,4,128,128] 3.7 vs 33 ms; a sum of 65536 into
  // one 0.45 vs 1.8 ms): lavapipe's barriers are costly and its lanes gain nothing from neighbouring loads.
  lavapipe: { matmul: [{ minM: 64, minN: 128, minK: 64, schedule: { wgM: 8, wgN: 8, tm: 8, tn: 8, bk: 8, shared: false } }], row: { serial: true, wg: 64 } },
  // Chromium's SwiftShader (bench/browser-rows.ts): one invocation per row was within 1.3x of the
  // fastest strategy on every shape and 10-50x faster than the template's trees (layernorm
  // [512,256] 6.2 vs 310 ms; softmax [4,4,128,128] 9.8 vs 474 ms). Matmul tiles: not measured yet.
  swiftshader: { matmul: [], row: { serial: true, wg: 64 } },
};

/** The measured default row-reduction schedule for this adapter, if one is known and fits. */
export function measuredRow(dev: Pick<Device, 'adapterInfo' | 'caps'>): RowSchedule | undefined {
  const r = MEASURED[adapterClass(dev.adapterInfo)]?.row;
  return r && r.wg <= dev.caps.maxWorkgroupSize ? r : undefined;
}

/** The measured default matmul schedule for this adapter, if one applies and fits the device. */
export function measuredMatmul(k: Kernel & { kind: 'matmul' }, dev: Pick<Device, 'adapterInfo' | 'caps'>): MatmulSchedule | undefined {
  const d = MEASURED[adapterClass(dev.adapterInfo)];
  const r = k.node.shape.length, M = k.node.shape[r - 2]!, N = k.node.shape[r - 1]!, K = k.node.src[0]!.shape[r - 1]!;
  return d?.matmul.find((m) => M >= m.minM && N >= m.minN && K >= m.minK && scheduleFits(m.schedule, dev.caps))?.schedule;
}
