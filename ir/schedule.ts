/**
 * The scheduler: splits a graph into kernels. Its fusion rules, each a named step below:
 *
 *  1. Elementwise ops and views never get a kernel of their own: they are inlined into every
 *     kernel that reads them (recomputing is cheaper than a round trip through memory).
 *     Anchors, which do get kernels: requested outputs, reductions, matmuls.
 *  2. `fuseRows`: reductions over the same full shape and axes join one *row kernel* when the
 *     later reads the earlier only broadcast along the reduced axes (softmax: max then sum of
 *     exp(x - max)); elementwise outputs over the full shape that read them that way, or over the
 *     row shape at the row's own index (mean = sum * 1/n), join as well. Softmax and layernorm are
 *     one kernel each.
 *  3. `fuseMatmulEpilogues`: a matmul whose only reader is one elementwise output at the same
 *     element (bias, activation, residual, scale) computes that output in its own kernel.
 *     Elementwise producers of matmul operands are inlined by rule 1 (prologue fusion), unless
 *     `materializeCostlyOperands` finds them costly: a tiled matmul reads each operand element
 *     many times, so an operand that reads several buffers (a backward pass's g * relu'(z)) or
 *     calls transcendental functions or random is computed once into its own buffer instead.
 *  4. `fuseSiblings`: independent elementwise outputs of one shape share a kernel (an optimizer
 *     update writes parameter and moments in one dispatch) while it fits the storage-buffer limit.
 *  5. `respectBufferLimit`: a kernel never binds more storage buffers than the device allows;
 *     if one would, an intermediate node is made an anchor and the graph is scheduled again.
 * A merge never creates a cycle between kernels (checked before each merge).
 */
import { TesseraError } from './error.ts';
import { Ix, probeScope, SCALAR_IX, viewIx } from './indexing.ts';
import { isView, toposort, type Node, type ReduceArg } from './node.ts';
import { numel, shapesEqual, type Shape } from './shape.ts';

export type Stage =
  | { kind: 'reduce'; node: Node; write: boolean }
  | { kind: 'full'; node: Node }
  | { kind: 'row'; node: Node };

export type Kernel =
  | { kind: 'elementwise'; shape: Shape; outputs: Node[]; reads: Node[] }
  | { kind: 'row'; full: Shape; axes: readonly number[]; stages: Stage[]; reads: Node[] }
  | { kind: 'matmul'; node: Node; output: Node; reads: Node[] };

export interface ScheduleOptions { fuse: boolean; maxBuffers: number }

/** Reuse (reads of each element) above which a costly matmul operand is computed once. */
const OPERAND_REUSE = 32;
/** Ops too costly to recompute per tile load: transcendentals, and random (20 rounds of a hash). */
const COSTLY = new Set(['exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'pow', 'sqrt', 'random']);

/** Makes costly elementwise matmul operands anchors (see rule 3). */
function materializeCostlyOperands(order: readonly Node[], anchors: Set<Node>): void {
  for (const mm of order) {
    if (mm.op !== 'matmul') continue;
    const r = mm.shape.length, M = mm.shape[r - 2]!, N = mm.shape[r - 1]!;
    mm.src.forEach((operand, i) => {
      if ((i === 0 ? N : M) < OPERAND_REUSE) return;
      let e = operand;
      while (isView(e.op) && !anchors.has(e)) e = e.src[0]!;
      if (anchors.has(e) || isLeafOp(e) || isView(e.op)) return;
      const reads = new Set<Node>();
      let costly = false;
      const seen = new Set<Node>();
      const walk = (n: Node) => {
        if (seen.has(n)) return;
        seen.add(n);
        if (n.op === 'input' || anchors.has(n)) { reads.add(n); return; }
        if (COSTLY.has(n.op)) costly = true;
        n.src.forEach(walk);
      };
      walk(e);
      if (costly || reads.size >= 2) anchors.add(e);
    });
  }
}

/** Nodes a kernel writes. */
export function kernelOutputs(k: Kernel): Node[] {
  switch (k.kind) {
    case 'elementwise': return k.outputs;
    case 'matmul': return [k.output];
    case 'row': return k.stages.filter((s) => s.kind !== 'reduce' || s.write).map((s) => s.node);
  }
}

/** Expression roots a kernel evaluates (the nodes whose inputs it inlines). */
function kernelRoots(k: Kernel): Node[] {
  switch (k.kind) {
    case 'elementwise': return k.outputs;
    case 'matmul': return k.output === k.node ? [k.node] : [k.node, k.output];
    case 'row': return k.stages.map((s) => s.node);
  }
}

const isLeafOp = (n: Node) => n.op === 'input' || n.op === 'const' || n.op === 'iota';

export function schedule(roots: readonly Node[], opts: ScheduleOptions): Kernel[] {
  const forced = new Set<Node>();
  for (let attempt = 0; attempt < 64; attempt++) {
    const kernels = scheduleOnce(roots, opts, forced);
    const over = kernels.find((k) => k.reads.length + kernelOutputs(k).length > opts.maxBuffers);
    if (!over) return kernels;
    const split = pickSplit(over, opts.maxBuffers);
    if (!split) throw new TesseraError('schedule', `a kernel needs ${over.reads.length + kernelOutputs(over).length} storage buffers and the device allows ${opts.maxBuffers}; it could not be split`, 'realize intermediate results first with await t.realize()');
    forced.add(split);
  }
  throw new TesseraError('schedule', 'could not fit kernels in the device storage-buffer limit');
}

function scheduleOnce(roots: readonly Node[], opts: ScheduleOptions, forced: Set<Node>): Kernel[] {
  const order = toposort(roots);
  const rootSet = new Set(roots);
  const anchors = new Set<Node>();
  for (const n of order) {
    if (n.op === 'input') continue;
    if (isLeafOp(n) && !rootSet.has(n)) continue;
    const anchor = n.op === 'reduce' || n.op === 'matmul' || rootSet.has(n) || forced.has(n) || (!opts.fuse && !isView(n.op) && !isLeafOp(n));
    if (anchor) anchors.add(n);
  }
  if (opts.fuse) materializeCostlyOperands(order, anchors);
  // Rule 1: one kernel per anchor.
  let kernels: Kernel[] = order.filter((n) => anchors.has(n)).map((n): Kernel => {
    if (n.op === 'reduce') return { kind: 'row', full: n.src[0]!.shape, axes: (n.arg as ReduceArg).axes, stages: [{ kind: 'reduce', node: n, write: true }], reads: [] };
    if (n.op === 'matmul') return { kind: 'matmul', node: n, output: n, reads: [] };
    return { kind: 'elementwise', shape: n.shape, outputs: [n], reads: [] };
  });
  const g = new KernelGraph(kernels, anchors);
  if (opts.fuse) {
    fuseRows(g, rootSet);
    fuseMatmulEpilogues(g, rootSet);
    fuseSiblings(g, opts.maxBuffers);
  }
  kernels = g.ordered();
  for (const k of kernels) k.reads = g.readsOf(k);
  return kernels;
}

/** Kernels with the nodes they produce and read, and the dependencies between them. */
class KernelGraph {
  producer = new Map<Node, Kernel>();
  constructor(public kernels: Kernel[], readonly anchors: Set<Node>) {
    for (const k of kernels) for (const r of kernelRoots(k)) this.producer.set(r, k);
  }
  /** Anchor/input nodes read by the expressions of k (not produced inside k). */
  readsOf(k: Kernel): Node[] {
    const inside = new Set(kernelRoots(k));
    const reads = new Set<Node>();
    const seen = new Set<Node>();
    const visit = (n: Node) => {
      if (seen.has(n)) return;
      seen.add(n);
      if (n.op === 'input') { reads.add(n); return; }
      if (this.anchors.has(n) && !inside.has(n)) { reads.add(n); return; }
      n.src.forEach(visit);
    };
    for (const r of kernelRoots(k)) r.src.forEach(visit);
    return [...reads].filter((n) => !inside.has(n));
  }
  deps(k: Kernel): Set<Kernel> {
    const out = new Set<Kernel>();
    for (const n of this.readsOf(k)) { const p = this.producer.get(n); if (p && p !== k) out.add(p); }
    return out;
  }
  consumers(k: Kernel): Kernel[] { return this.kernels.filter((c) => c !== k && this.deps(c).has(k)); }
  /** True if some kernel other than a and b lies on a path between them (merging would cycle). */
  wouldCycle(a: Kernel, b: Kernel): boolean {
    const reaches = (from: Kernel, to: Kernel) => {
      const stack = [...this.deps(from)].filter((d) => d !== to);
      const seen = new Set<Kernel>();
      while (stack.length) {
        const k = stack.pop()!;
        if (k === to) return true;
        if (seen.has(k)) continue;
        seen.add(k);
        stack.push(...this.deps(k));
      }
      return false;
    };
    return reaches(a, b) || reaches(b, a);
  }
  merge(into: Kernel, from: Kernel, apply: () => void): void {
    apply();
    this.kernels = this.kernels.filter((k) => k !== from);
    for (const r of kernelRoots(into)) this.producer.set(r, into);
  }
  ordered(): Kernel[] {
    const out: Kernel[] = [], seen = new Set<Kernel>();
    const visit = (k: Kernel) => { if (seen.has(k)) return; seen.add(k); this.deps(k).forEach(visit); out.push(k); };
    this.kernels.forEach(visit);
    return out;
  }
}

/** The index patterns at which `root`'s expression (evaluated at `ix`) reads `target`. */
export function accessesOf(root: Node, ix: Ix, target: Node, stop: (n: Node) => boolean): Ix[] {
  const found: Ix[] = [];
  const seen = new Set<string>();
  const walk = (n: Node, at: Ix) => {
    const key = `${n.id}@${at.key()}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (n === target) { found.push(at); return; }
    if (n !== root && stop(n)) return;
    if (isView(n.op)) { walk(n.src[0]!, viewIx(n, at, probeScope).ix); return; }
    if (n.op === 'reduce' || n.op === 'matmul') return; // a different index space; handled as anchors
    if (n.op === 'random') { walk(n.src[0]!, SCALAR_IX); return; } // the seed, whatever the element
    for (const s of n.src) walk(s, at);
  };
  // A view root reads its source at the view's mapped index, not at `ix` (matmul(a, b).T as an output).
  if (root.op === 'reduce') walk(root.src[0]!, ix);
  else if (root.op === 'random') walk(root.src[0]!, SCALAR_IX);
  else if (isView(root.op)) walk(root.src[0]!, viewIx(root, ix, probeScope).ix);
  else for (const s of root.src) walk(s, ix);
  return found;
}

/** Symbolic index of the full shape in a row kernel: dimension d is `i{d}`. */
export const fullIx = (full: Shape) => new Ix(full, undefined, full.map((_, d) => `i${d}`));
/** The index at which a full-shape element reads its row's reduction result (keepdims shape). */
export const rowPattern = (full: Shape, axes: readonly number[]) => full.map((_, d) => (axes.includes(d) ? '0' : `i${d}`)).join(',');
export const ROW_LIN = 'r';

function sameRows(k: Kernel & { kind: 'row' }, full: Shape, axes: readonly number[]): boolean {
  return shapesEqual(k.full, full) && k.axes.length === axes.length && k.axes.every((a, i) => a === axes[i]);
}

/** Rule 2. */
function fuseRows(g: KernelGraph, rootSet: Set<Node>): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const k of g.kernels) {
      if (k.kind !== 'row') continue;
      const reduces = k.stages.filter((s) => s.kind === 'reduce').map((s) => s.node);
      const stop = (n: Node) => g.anchors.has(n) && !reduces.includes(n);
      const pattern = rowPattern(k.full, k.axes);
      const rows = numel(k.full) / Math.max(1, numel(k.axes.map((a) => k.full[a]!)));
      for (const c of g.consumers(k)) {
        const okFull = (root: Node) => reduces.every((r) => accessesOf(root, fullIx(k.full), r, stop).every((ix) => ix.idx(probeScope).join(',') === pattern));
        let stages: Stage[] | null = null;
        const okRow = (root: Node) => reduces.every((r) => accessesOf(root, new Ix(root.shape, ROW_LIN), r, stop).every((ix) => ix.knownLin === ROW_LIN));
        if (c.kind === 'row' && sameRows(c, k.full, k.axes) && c.stages.every((s) => (s.kind === 'row' ? okRow(s.node) : okFull(s.node)))) stages = c.stages;
        else if (c.kind === 'elementwise' && c.outputs.length === 1) {
          const o = c.outputs[0]!;
          if (shapesEqual(o.shape, k.full) && okFull(o)) stages = [{ kind: 'full', node: o }];
          else if (numel(o.shape) === rows && okRow(o)) stages = [{ kind: 'row', node: o }];
        }
        if (!stages || g.wouldCycle(k, c)) continue;
        g.merge(k, c, () => { k.stages.push(...stages!); });
        changed = true;
        break;
      }
      if (changed) break;
    }
  }
  // A reduction is written only if something outside its kernel reads it.
  for (const k of g.kernels) {
    if (k.kind !== 'row') continue;
    for (const s of k.stages) {
      if (s.kind !== 'reduce') continue;
      s.write = rootSet.has(s.node) || g.kernels.some((o) => o !== k && g.readsOf(o).includes(s.node));
    }
  }
}

/** Rule 3. */
function fuseMatmulEpilogues(g: KernelGraph, rootSet: Set<Node>): void {
  for (const k of [...g.kernels]) {
    if (k.kind !== 'matmul' || rootSet.has(k.node)) continue;
    const cons = g.consumers(k);
    if (cons.length !== 1) continue;
    const c = cons[0]!;
    if (c.kind !== 'elementwise' || c.outputs.length !== 1) continue;
    const o = c.outputs[0]!;
    if (numel(o.shape) !== numel(k.node.shape) || !['float32', 'float16'].includes(o.dtype)) continue;
    const acc = accessesOf(o, new Ix(o.shape, 'lin'), k.node, (n) => g.anchors.has(n));
    if (!acc.every((ix) => ix.knownLin === 'lin') || g.wouldCycle(k, c)) continue;
    g.merge(k, c, () => { k.output = o; });
  }
}

/** Rule 4. Outputs of one shape share a kernel when they are independent, or when one reads the
 * other only at its own element (Adam: the new weight reads the new moments), which the kernel
 * then computes once and keeps in registers. */
function fuseSiblings(g: KernelGraph, maxBuffers: number): void {
  type EW = Kernel & { kind: 'elementwise' };
  // The merged kernel binds the reads of both, minus what it now computes itself, and all outputs.
  const fits = (a: EW, b: EW) => {
    const outs = new Set([...a.outputs, ...b.outputs]);
    return new Set([...g.readsOf(a), ...g.readsOf(b)].filter((n) => !outs.has(n))).size + outs.size <= maxBuffers;
  };
  /** c reads p's outputs only element-for-element (at the flat index of its own element). */
  const readsInPlace = (p: EW, c: EW) => c.outputs.every((o) => p.outputs.every((po) =>
    accessesOf(o, new Ix(o.shape, 'gid'), po, (n) => g.anchors.has(n)).every((ix) => ix.knownLin === 'gid')));
  for (let changed = true; changed;) {
    changed = false;
    const ew = g.kernels.filter((k): k is Kernel & { kind: 'elementwise' } => k.kind === 'elementwise');
    outer: for (let i = 0; i < ew.length; i++)
      for (let j = i + 1; j < ew.length; j++) {
        const a = ew[i]!, b = ew[j]!;
        const ab = g.deps(b).has(a), ba = g.deps(a).has(b);
        if (!shapesEqual(a.shape, b.shape) || (ab && ba) || !fits(a, b) || g.wouldCycle(a, b)) continue;
        if ((ab && !readsInPlace(a, b)) || (ba && !readsInPlace(b, a))) continue;
        // Producers first, so each output's value exists before a sibling uses it.
        g.merge(a, b, () => { a.outputs.splice(0, a.outputs.length, ...(ba ? [...b.outputs, ...a.outputs] : [...a.outputs, ...b.outputs])); });
        changed = true;
        break outer;
      }
  }
}

/** Rule 5: the inlined node whose subgraph reads the most buffers that still fit in one kernel. */
function pickSplit(k: Kernel, max: number): Node | null {
  if (k.kind === 'elementwise' && k.outputs.length > 1) return k.outputs[0]!;
  const reads = new Set(k.reads);
  let best: Node | null = null, bestCount = 1;
  const leafCount = new Map<Node, Set<Node>>();
  const leaves = (n: Node): Set<Node> => {
    let s = leafCount.get(n);
    if (s) return s;
    s = new Set<Node>();
    if (reads.has(n)) s.add(n);
    else for (const c of n.src) for (const l of leaves(c)) s.add(l);
    leafCount.set(n, s);
    if (!reads.has(n) && !isLeafOp(n) && n.op !== 'reduce' && n.op !== 'matmul' && s.size < max && s.size > bestCount) { best = n; bestCount = s.size; }
    return s;
  };
  for (const r of kernelRoots(k)) r.src.forEach(leaves);
  return best;
}
