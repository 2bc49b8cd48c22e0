/** Counters the runtime keeps: what fusion and caching buy is measured with these. */
export interface Stats {
  dispatches: number;
  submits: number;
  kernelsCompiled: number;
  pipelineCacheHits: number;
  programsCompiled: number;
  programCacheHits: number;
  /** Realizations run from the recorded plan of an earlier graph of the same raw structure (no graph passes; runtime/replay.ts). */
  replays: number;
  bytesAllocated: number;
  liveBuffers: number;
  uploads: number;
  readbacks: number;
  /** Kernels waiting for (or in) background tuning now. */
  tuningQueued: number;
  /** Kernels tuned (in the background or blocking). */
  kernelsTuned: number;
  /** Program steps rebuilt with a tuned schedule and swapped in after background tuning. */
  kernelsSwapped: number;
  /** Tuning candidates costly to compile, put off until the user was quiet (tuner.ts compileSize). */
  tuningDeferred: number;
  /** Programs built from the persistent plan cache (runtime/plan-cache.ts): no scheduling or codegen. */
  planCacheHits: number;
  /** Programs looked up in the plan cache and not found there. */
  planCacheMisses: number;
  /** Plan-cache entries found but ignored: corrupted, stale, or not fitting the graph. */
  planCacheRejected: number;
}
export const counters: Stats = {
  dispatches: 0, submits: 0, kernelsCompiled: 0, pipelineCacheHits: 0, programsCompiled: 0, programCacheHits: 0, replays: 0,
  bytesAllocated: 0, liveBuffers: 0, uploads: 0, readbacks: 0, tuningQueued: 0, kernelsTuned: 0, kernelsSwapped: 0, tuningDeferred: 0,
  planCacheHits: 0, planCacheMisses: 0, planCacheRejected: 0,
};
/** A snapshot of the runtime counters. */
export const stats = (): Stats => ({ ...counters });
export function resetStats(): void {
  for (const k of ['dispatches', 'submits', 'kernelsCompiled', 'pipelineCacheHits', 'programsCompiled', 'programCacheHits', 'replays', 'uploads', 'readbacks', 'kernelsTuned', 'kernelsSwapped', 'tuningDeferred',
    'planCacheHits', 'planCacheMisses', 'planCacheRejected'] as const) counters[k] = 0;
}

/** TESSERA_DEBUG=wgsl,ir,kernels,tune (env in Node, globalThis.TESSERA_DEBUG in a browser). */
export function debugFlags(): Set<string> {
  const g = globalThis as { TESSERA_DEBUG?: string; process?: { env?: Record<string, string | undefined> } };
  const v = g.TESSERA_DEBUG ?? g.process?.env?.TESSERA_DEBUG ?? '';
  return new Set(v.split(',').map((s) => s.trim()).filter(Boolean));
}
