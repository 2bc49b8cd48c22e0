/**
 * The fusion rules (the attention rule is in attention.ts), applied in this order (each to a fixpoint, or once per kernel where `repeat`
 * is false). A rule only proposes: given a kernel and a partner, it returns the kernel the two
 * would become, or the reason they cannot fuse. The engine (index.ts) checks the invariants
 * (FusionGraph.canMerge: no cycle, the storage-buffer limit) and applies the merge.
 * Adding a rule: write a FusionRule below and put it in FUSION_RULES where it belongs.
 */
import { isFloat } from '../dtype.ts';
import { Ix, probeScope } from '../indexing.ts';
import type { Node } from '../node.ts';
import { numel, shapesEqual } from '../shape.ts';
import { attention } from './attention.ts';
import { CYCLE, type FusionGraph } from './graph.ts';
import { accessesOfAll, fullIx, kernelRoots, readsOwnRow, ROW_LIN, type ElementwiseKernel, type Kernel, type MatmulKernel, type RowKernel, type Stage } from './kernel.ts';

export interface FusionRule {
  readonly name: string;
  /** Whether the rule grows kernel k (k absorbs its partners). */
  seeds(g: FusionGraph, k: Kernel): boolean;
  /** The kernels k may absorb, in the order they are tried. */
  partners(g: FusionGraph, k: Kernel): readonly Kernel[];
  /** The kernel that k and c become, or why they cannot fuse. */
  plan(g: FusionGraph, k: Kernel, c: Kernel): Kernel | string;
  /** Look at a merged kernel (and its neighbours) again until nothing fuses, or try each kernel once. */
  readonly repeat: boolean;
}

/**
 * Reductions over the same full shape and axes join one *row kernel* when the later reads the
 * earlier only broadcast along the reduced axes (softmax: max, then the sum of exp(x - max));
 * elementwise outputs over the full shape that read them that way, or over the row shape at the
 * row's own index (mean = sum * 1/n), join as well. Softmax and layernorm are one kernel each.
 */
export const rows: FusionRule = {
  name: 'rows',
  repeat: true,
  seeds: (_, k) => k.kind === 'row',
  partners: (g, k) => g.consumers(k),
  plan(g, k, c) {
    const row = k as RowKernel;
    const reduces = row.stages.filter((s) => s.kind === 'reduce').map((s) => s.node);
    const stop = (n: Node) => g.anchors.has(n) && !reduces.includes(n);
    const targets = new Set(reduces);
    const okAt = (root: Node, at: Ix, ok: (ix: Ix) => boolean) => [...accessesOfAll(root, at, targets, stop).values()].every((l) => l.every(ok));
    const okFull = (root: Node) => okAt(root, fullIx(row.full), (ix) => readsOwnRow(row.full, row.axes, ix.idx(probeScope)));
    const okRow = (root: Node) => okAt(root, new Ix(root.shape, ROW_LIN), (ix) => ix.knownLin === ROW_LIN);
    // Cheap checks first, then the graph's cycle check (canMerge reuses its answer), then the access checks.
    if (c.kind === 'matmul' || c.kind === 'attention' || (c.kind === 'elementwise' && c.outputs.length !== 1))
      return `a ${c.kind} kernel${c.kind === 'elementwise' ? ' with several outputs' : ''} does not join a row kernel`;
    if (c.kind === 'row' && (!shapesEqual(c.full, row.full) || c.axes.join() !== row.axes.join())) return 'it reduces other rows';
    if (g.wouldCycle(k, c)) return CYCLE;
    let stages: readonly Stage[];
    if (c.kind === 'row') {
      if (!c.stages.every((s) => (s.kind === 'row' ? okRow(s.node) : okFull(s.node)))) return 'it reads the reductions at other elements';
      stages = c.stages;
    } else {
      const o = c.outputs[0]!;
      const rowCount = numel(row.full) / Math.max(1, numel(row.axes.map((a) => row.full[a]!)));
      if (shapesEqual(o.shape, row.full) && okFull(o)) stages = [{ kind: 'full', node: o }];
      else if (numel(o.shape) === rowCount && okRow(o)) stages = [{ kind: 'row', node: o }];
      else return 'it reads the reductions at other elements, or has another shape';
    }
    return { kind: 'row', full: row.full, axes: row.axes, stages: [...row.stages, ...stages], reads: [] };
  },
};

/**
 * Elementwise kernels that read a matmul's result (and its other epilogues) only at their own
 * element — bias, activation, residual, scale, an optimizer's update of the weight whose gradient
 * the matmul is — are computed in the matmul's kernel, from the accumulator. The product itself
 * is still written where another kernel or the program reads it (a backward pass reading an
 * activation's input). (Elementwise producers of matmul operands are inlined as its prologue:
 * see anchors.ts for the costly ones that are not.)
 */
export const matmulEpilogue: FusionRule = {
  name: 'matmul-epilogue',
  repeat: true,
  seeds: (_, k) => k.kind === 'matmul',
  partners: (g, k) => g.consumers(k),
  plan(g, k, c) {
    const mm = k as MatmulKernel;
    if (c.kind !== 'elementwise') return 'its reader is not elementwise';
    if (!c.outputs.every((o) => numel(o.shape) === numel(mm.node.shape) && isFloat(o.dtype))) return 'the epilogue has another size or dtype';
    const mine = new Set(kernelRoots(mm)), stop = (n: Node) => g.anchors.has(n);
    if (!c.outputs.every((o) => [...accessesOfAll(o, new Ix(o.shape, 'lin'), mine, stop).values()].every((l) => l.every((ix) => ix.knownLin === 'lin'))))
      return 'the epilogue reads the matmul at other elements';
    const product = mm.outputs.includes(mm.node) && g.readOutside(mm.node, [k, c]) ? [mm.node] : [];
    return { kind: 'matmul', node: mm.node, outputs: [...product, ...mm.outputs.filter((o) => o !== mm.node), ...c.outputs], reads: [] };
  },
};

/**
 * Elementwise outputs of one shape share a kernel when they are independent, or when one reads
 * the other only at its own element (Adam: the new weight reads the new moments), which the
 * kernel then computes once and keeps in registers.
 */
export const siblings: FusionRule = {
  name: 'siblings',
  repeat: true,
  seeds: (_, k) => k.kind === 'elementwise',
  partners: (g, k) => g.peers(k).filter((p) => g.rank(p) > g.rank(k)),
  plan(g, k, c) {
    const a = k as ElementwiseKernel, b = c as ElementwiseKernel;
    const ab = g.producers(b).has(a), ba = g.producers(a).has(b);
    if (ab && ba) return 'they read each other';
    if ((ab && !readsInPlace(g, a, b)) || (ba && !readsInPlace(g, b, a))) return 'one reads the other at other elements';
    // Producers first, so each output's value exists before a sibling uses it.
    const outputs = ba ? [...b.outputs, ...a.outputs] : [...a.outputs, ...b.outputs];
    return { kind: 'elementwise', shape: a.shape, outputs, reads: [] };
  },
};

/** c reads p's outputs only element for element (at the flat index of its own element). */
function readsInPlace(g: FusionGraph, p: ElementwiseKernel, c: ElementwiseKernel): boolean {
  const targets = new Set(p.outputs), stop = (n: Node) => g.anchors.has(n);
  return c.outputs.every((o) => [...accessesOfAll(o, new Ix(o.shape, 'gid'), targets, stop).values()].every((l) => l.every((ix) => ix.knownLin === 'gid')));
}

export const FUSION_RULES: readonly FusionRule[] = [rows, attention, matmulEpilogue, siblings];
