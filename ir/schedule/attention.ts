/**
 * The attention rule: softmax(x)·v, with x a function of the scores q·kᵀ, becomes one kernel that
 * never writes the [queries, keys] probabilities or scores (FlashAttention's idea: a running max
 * and sum per query row, so the softmax needs no second pass over memory).
 *
 * Nothing here knows about attention as an op: ops/nn/attention.ts composes it from matmul,
 * softmax and views, and the rule recognizes the composition after the row rule has put softmax's
 * two reductions in one row kernel. It fuses in two merges:
 *  1. the weighted-sum matmul absorbs the softmax row kernel (which only it reads): an
 *     `attention` kernel that still reads the scores from memory;
 *  2. that kernel absorbs the scores matmul (which only it reads, element for element): scores
 *     are computed in registers too.
 * Training graphs keep the unfused form where the backward pass reads the softmax's reductions.
 */
import { Ix, probeScope } from '../indexing.ts';
import type { Node, ReduceArg } from '../node.ts';
import { shapesEqual } from '../shape.ts';
import type { FusionGraph } from './graph.ts';
import { accessesOf, accessesOfAll, fullIx, plainMatmul, readsOwnRow, type AttentionKernel, type Kernel } from './kernel.ts';
import type { FusionRule } from './rules.ts';

/** Head dimensions up to this many values are kept in registers (q row and accumulators). */
export const ATTENTION_MAX_HEAD_DIM = 256;

interface Softmax { x: Node; max: Node; sum: Node }

const isReduce = (n: Node, op: ReduceArg['op'], axis: number) =>
  n.op === 'reduce' && (n.arg as ReduceArg).op === op && (n.arg as ReduceArg).axes.join() === String(axis);
const throughViews = (n: Node): Node => (n.op === 'expand' || n.op === 'reshape' || n.op === 'detach' ? throughViews(n.src[0]!) : n);

/**
 * The softmax over the last axis that `p` computes, as ops/nn/functional.ts writes it:
 * e / sum(e) with e = exp(x - max(x)), each reduction read broadcast along its row. Null otherwise.
 */
export function softmaxOf(p: Node): Softmax | null {
  // Nodes are immutable: the rule's seeds, partners and plan ask about one node and share the answer.
  if (!softmaxMemo.has(p)) softmaxMemo.set(p, matchSoftmax(p));
  return softmaxMemo.get(p)!;
}
const softmaxMemo = new WeakMap<Node, Softmax | null>();

function matchSoftmax(p: Node): Softmax | null {
  const last = p.shape.length - 1;
  if (last < 1 || p.op !== 'div') return null;
  const [e, sb] = p.src as [Node, Node];
  const sum = throughViews(sb);
  if (e.op !== 'exp' || e.src[0]!.op !== 'sub' || !isReduce(sum, 'sum', last) || sum.src[0] !== e) return null;
  const [x, mb] = e.src[0]!.src as [Node, Node];
  const max = throughViews(mb);
  if (!isReduce(max, 'max', last) || max.src[0] !== x || !shapesEqual(x.shape, p.shape)) return null;
  // Both reductions must be read at their own row (a broadcast, not some other element).
  const reads = accessesOfAll(p, fullIx(p.shape), new Set([max, sum]), (n) => n === x);
  return reads.size === 2 && [...reads.values()].every((l) => l.every((ix) => readsOwnRow(p.shape, [last], ix.idx(probeScope)))) ? { x, max, sum } : null;
}

/** The scores matmul that x reads element for element, if x reads exactly one matmul of its shape. */
function scoresOf(g: FusionGraph, x: Node): Node | null {
  const found: Node[] = [];
  const seen = new Set<Node>();
  const walk = (n: Node) => {
    if (seen.has(n)) return;
    seen.add(n);
    if (n.op === 'matmul') { found.push(n); return; }
    if (g.anchors.has(n) && n !== x) return;
    n.src.forEach(walk);
  };
  walk(x);
  if (found.length !== 1 || !shapesEqual(found[0]!.shape, x.shape)) return null;
  const s = found[0]!;
  const acc = accessesOf(x, fullIx(x.shape), s, (n) => g.anchors.has(n) && n !== x);
  const self = new Ix(x.shape, undefined, x.shape.map((_, d) => `i${d}`)).idx(probeScope).join(',');
  return acc.length > 0 && acc.every((ix) => ix.idx(probeScope).join(',') === self) ? s : null;
}

const headDimOk = (n: Node) => n.shape[n.shape.length - 1]! <= ATTENTION_MAX_HEAD_DIM;

export const attention: FusionRule = {
  name: 'attention',
  repeat: true,
  seeds: (g, k) => (plainMatmul(k) && softmaxOf(k.node.src[0]!) !== null) || (k.kind === 'attention' && k.scores === null),
  partners(g, k) {
    if (k.kind === 'matmul') {
      const p = g.producerOf(softmaxOf(k.node.src[0]!)!.max);
      return p ? [p] : [];
    }
    const s = scoresOf(g, (k as AttentionKernel).max.src[0]!), p = s && g.producerOf(s);
    return p ? [p] : [];
  },
  plan(g, k, c): Kernel | string {
    if (k.kind === 'matmul') {
      const sm = softmaxOf(k.node.src[0]!)!;
      if (!headDimOk(k.node)) return `the value head dimension is over ${ATTENTION_MAX_HEAD_DIM}`;
      // The probabilities may be a stage of the row kernel (materialized as a costly matmul operand).
      const own = new Set([sm.max, sm.sum, k.node.src[0]!]);
      if (c.kind !== 'row' || !c.stages.every((s) => own.has(s.node)) || !c.stages.some((s) => s.node === sm.max) || !c.stages.some((s) => s.node === sm.sum)) return 'the softmax row kernel computes other values too';
      if (g.consumers(c).some((o) => o !== k) || [...own].some((n) => g.outputs.has(n))) return 'other kernels read the softmax (a backward pass)';
      return { kind: 'attention', node: k.node, max: sm.max, sum: sm.sum, scores: null, reads: [] };
    }
    const a = k as AttentionKernel;
    if (!plainMatmul(c)) return 'the scores matmul has an epilogue';
    if (!headDimOk(c.node.src[0]!)) return `the query head dimension is over ${ATTENTION_MAX_HEAD_DIM}`;
    if (g.consumers(c).some((o) => o !== k) || g.outputs.has(c.node)) return 'other kernels read the scores';
    return { ...a, scores: c.node };
  },
};
