/**
 * The scheduler: splits a graph into kernels.
 *  1. anchors.ts: which nodes get a kernel of their own (outputs, reductions, matmuls, costly
 *     matmul operands, and what the storage-buffer limit requires); all else is inlined.
 *  2. rules.ts: the fusion rules, in order (rows, attention, matmul epilogues, siblings), each proposing
 *     merges that graph.ts checks (no cycle, within the buffer limit) and applies.
 *  3. Here: the rules' worklist, and the final kernels in dependency order with their reads.
 * `TESSERA_DEBUG=fusion` (through `ScheduleOptions.log`) prints every rejected merge and why.
 */
import { newVisit, toposort, type Node, type ReduceArg } from '../node.ts';
import { chooseAnchors, fitToLimit } from './anchors.ts';
import { FusionGraph } from './graph.ts';
import { kernelRoots, type Kernel } from './kernel.ts';
import { FUSION_RULES, type FusionRule } from './rules.ts';

export { accessesOf, fullIx, kernelOutputs, kernelRoots, matmulWork, plainMatmul, readsOwnRow, ROW_LIN } from './kernel.ts';
export type { AttentionKernel, ElementwiseKernel, Kernel, MatmulKernel, RowKernel, Stage } from './kernel.ts';
export { FUSION_RULES, type FusionRule } from './rules.ts';

export interface ScheduleOptions {
  fuse: boolean;
  /** Storage buffers one kernel may bind (reads and writes). */
  maxBuffers: number;
  /** Names of fusion rules to leave out (to measure what one buys). */
  skipRules?: readonly string[];
  /** Receives a line for each merge a rule proposed and the graph rejected, and each split. */
  log?: (msg: string) => void;
}

export function schedule(roots: readonly Node[], opts: ScheduleOptions): Kernel[] {
  const order = toposort(roots);
  const outputs = new Set(roots);
  const anchors = chooseAnchors(order, outputs, opts.fuse);
  const reads = fitToLimit(order, anchors, opts.maxBuffers, opts.log);
  const initial = order.filter((n) => anchors.has(n)).map((n) => ({ kernel: kernelOf(n), reads: reads.get(n)! }));
  const g = new FusionGraph(initial, anchors, outputs, opts.maxBuffers);
  if (opts.fuse) for (const rule of FUSION_RULES) if (!opts.skipRules?.includes(rule.name)) applyRule(g, rule, opts.log);
  return finalKernels(g);
}

function kernelOf(n: Node): Kernel {
  if (n.op === 'reduce') {
    const { axes } = n.arg as ReduceArg;
    return { kind: 'row', full: n.src[0]!.shape, axes, stages: [{ kind: 'reduce', node: n, write: true }], reads: [] };
  }
  if (n.op === 'matmul') return { kind: 'matmul', node: n, outputs: [n], reads: [] };
  return { kind: 'elementwise', shape: n.shape, outputs: [n], reads: [] };
}

/**
 * Runs one rule to its fixpoint: kernels are taken lowest rank first; a kernel absorbs its first
 * partner that the rule and the graph accept; after a merge the merged kernel and its neighbours
 * are looked at again (their partners may have changed), nothing else.
 */
function applyRule(g: FusionGraph, rule: FusionRule, log?: (msg: string) => void): void {
  const queue = new RankQueue(g);
  for (const k of g.kernels()) if (rule.seeds(g, k)) queue.push(k);
  for (let k = queue.pop(); k; k = queue.pop()) {
    if (!g.has(k) || !rule.seeds(g, k)) continue;
    for (const c of rule.partners(g, k)) {
      const merged = rule.plan(g, k, c);
      const why = typeof merged === 'string' ? merged : g.canMerge(k, c, merged);
      if (typeof merged === 'string' || why !== null) { log?.(`fusion: ${rule.name}: ${label(k)} + ${label(c)} rejected: ${why}`); continue; }
      g.merge(k, c, merged);
      if (rule.repeat) for (const n of [merged, ...g.producers(merged), ...g.consumers(merged)]) if (rule.seeds(g, n)) queue.push(n);
      break;
    }
  }
}

const label = (k: Kernel) => `${k.kind}(${kernelRoots(k).map((n) => `${n.op}#${n.id}`).join(' ')})`;

/** A min-queue of kernels by rank, each at most once. */
class RankQueue {
  private heap: Kernel[] = [];
  private queued = new Set<Kernel>();
  constructor(private readonly g: FusionGraph) {}
  push(k: Kernel): void {
    if (this.queued.has(k)) return;
    this.queued.add(k);
    const h = this.heap, r = this.g.rank(k);
    let i = h.push(k) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.g.rank(h[p]!) <= r) break;
      h[i] = h[p]!; i = p;
    }
    h[i] = k;
  }
  pop(): Kernel | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0]!, last = h.pop()!;
    this.queued.delete(top);
    if (h.length) {
      const r = this.g.rank(last);
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= h.length) break;
        if (c + 1 < h.length && this.g.rank(h[c + 1]!) < this.g.rank(h[c]!)) c++;
        if (this.g.rank(h[c]!) >= r) break;
        h[i] = h[c]!; i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/**
 * The live kernels in dependency order (producers first, otherwise by rank), each with its reads
 * in a deterministic order (the order its expressions first reach them) and reductions marked
 * written only where something outside their kernel reads them. Kernels are frozen.
 */
function finalKernels(g: FusionGraph): Kernel[] {
  const live = g.kernels();
  const reads = new Map(live.map((k) => [k, orderedReads(k, g.anchors)]));
  const out: Kernel[] = [], done = new Set<Kernel>();
  const visit = (k: Kernel) => {
    if (done.has(k)) return;
    done.add(k);
    for (const n of reads.get(k)!) { const p = g.producerOf(n); if (p && p !== k) visit(p); }
    out.push(k);
  };
  live.forEach(visit);
  return out.map((k) => {
    const r = Object.freeze(reads.get(k)!);
    switch (k.kind) {
      case 'row': {
        const stages = k.stages.map((s) => Object.freeze(s.kind === 'reduce' ? { ...s, write: g.isWritten(s.node, k) } : s));
        return Object.freeze({ ...k, stages: Object.freeze(stages), reads: r });
      }
      case 'elementwise': return Object.freeze({ ...k, outputs: Object.freeze([...k.outputs]), reads: r });
      case 'matmul': case 'attention': return Object.freeze({ ...k, reads: r });
    }
  });
}

/** Inputs and anchors read by k's expressions (not computed inside k), in the order first reached. */
function orderedReads(k: Kernel, anchors: ReadonlySet<Node>): Node[] {
  const inside = new Set(kernelRoots(k));
  const reads = new Set<Node>(), seen = newVisit();
  const visit = (n: Node) => {
    if (n.visited === seen) return;
    n.visited = seen;
    if (n.op === 'input' || (anchors.has(n) && !inside.has(n))) { reads.add(n); return; }
    n.src.forEach(visit);
  };
  for (const r of inside) r.src.forEach(visit);
  return [...reads].filter((n) => !inside.has(n));
}
