/**
 * Shared by the strategy benches (row-strategies.ts, matmul-strategies.ts; browser-safe): each
 * candidate schedule of a kernel timed by the tuner's own loop (runtime/tuner.ts tuneKernel) and
 * checked against a reference schedule's output, and the page side of their browser runs.
 */
import type { Schedule } from '../codegen/kernels.ts';
import type { Kernel } from '../ir/schedule/index.ts';
import { keyOf, tuneKernel, type TuneContext } from '../runtime/tuner.ts';

/**
 * ms per kernel of `reference` and each candidate (wrong outputs left out), and the fastest. One
 * candidate per tuneKernel call, after the reference: each is timed in full, as the tuner's budget applies per call.
 */
export async function timeCandidates(k: Kernel, ctx: TuneContext, reference: Schedule, candidates: readonly Schedule[]): Promise<{ ms: Record<string, number>; fastest: string }> {
  const ms: Record<string, number> = {};
  for (const c of candidates) {
    const r = await tuneKernel(k, ctx, [reference, c]);
    for (const t of r.timings) if (t.ok && (t.schedule === keyOf(c) || !(t.schedule in ms))) ms[t.schedule] = t.ms;
  }
  return { ms, fastest: Object.entries(ms).sort((a, b) => a[1] - b[1])[0]![0] };
}

/** Every time of a case, fastest first: "8x8/8x8 30.50, ...". */
export const timesLine = (ms: Record<string, number>) => Object.entries(ms).sort((a, b) => a[1] - b[1]).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(', ');

/** Browser entries: publishes each case as a passing check on `window.__result` (scripts/browser-test.mjs), or the error. */
export async function publishChecks(run: () => Promise<{ name: string; detail: string }[]>): Promise<void> {
  const w = window as { __result?: unknown };
  try {
    const info = (await navigator.gpu.requestAdapter())?.info;
    w.__result = { checks: (await run()).map((c) => ({ name: `${c.name} on ${info?.vendor} ${info?.architecture}`, ok: true, detail: c.detail })) };
  } catch (e) {
    w.__result = { error: String((e as Error)?.stack ?? e) };
  }
}
