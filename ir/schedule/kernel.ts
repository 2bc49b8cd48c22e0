/**
 * What the scheduler produces: kernels, and the index helpers its rules and the codegen templates
 * share. A kernel is one of three templates' iteration spaces:
 *  - elementwise: one invocation per output element (several outputs of one shape may share it);
 *  - row: reductions over the same rows (`full` shape, reduced `axes`) and the elementwise stages
 *    fused after them, in dependency order;
 *  - matmul: one matmul and the elementwise epilogues computed from its result at each element;
 *    `outputs` are what it writes (the product itself only where something else reads it);
 *  - attention: a matmul (`node`, out = probs·v) whose left operand is a softmax over its last axis
 *    (`max` and `sum` are its reductions of the scores `x`), computed FlashAttention-style: one
 *    invocation walks a query row's keys with a running max and sum, never writing probabilities.
 *    With `scores` inlined, the scores matmul q·kᵀ that `x` reads is computed there too, so no
 *    [queries, keys] tensor is written at all.
 * `reads` are the buffers it binds for reading (inputs and other kernels' outputs), in a
 * deterministic order; the outputs follow them in the bindings.
 */
import { Ix, probeScope, SCALAR_IX, viewIx } from '../indexing.ts';
import { OP_INFO, type Node } from '../node.ts';
import { numel, type Shape } from '../shape.ts';

export type Stage =
  | { readonly kind: 'reduce'; readonly node: Node; readonly write: boolean }
  | { readonly kind: 'full'; readonly node: Node }
  | { readonly kind: 'row'; readonly node: Node };

export type Kernel =
  | { readonly kind: 'elementwise'; readonly shape: Shape; readonly outputs: readonly Node[]; readonly reads: readonly Node[] }
  | { readonly kind: 'row'; readonly full: Shape; readonly axes: readonly number[]; readonly stages: readonly Stage[]; readonly reads: readonly Node[] }
  | { readonly kind: 'matmul'; readonly node: Node; readonly outputs: readonly Node[]; readonly reads: readonly Node[] }
  | { readonly kind: 'attention'; readonly node: Node; readonly max: Node; readonly sum: Node; readonly scores: Node | null; readonly reads: readonly Node[] };

export type RowKernel = Kernel & { kind: 'row' };
export type ElementwiseKernel = Kernel & { kind: 'elementwise' };
export type MatmulKernel = Kernel & { kind: 'matmul' };
/** Multiply-adds of a matmul kernel's product (batch included). */
export const matmulWork = (k: MatmulKernel): number => numel(k.node.shape) * k.node.src[0]!.shape[k.node.shape.length - 1]!;
/** A matmul kernel that writes its product and nothing else (no epilogue). */
export const plainMatmul = (k: Kernel): k is MatmulKernel => k.kind === 'matmul' && k.outputs.length === 1 && k.outputs[0] === k.node;
export type AttentionKernel = Kernel & { kind: 'attention' };

/** Nodes a kernel writes. */
export function kernelOutputs(k: Kernel): Node[] {
  switch (k.kind) {
    case 'elementwise': return [...k.outputs];
    case 'matmul': return [...k.outputs];
    case 'attention': return [k.node];
    case 'row': return k.stages.filter((s) => s.kind !== 'reduce' || s.write).map((s) => s.node);
  }
}

/** Expression roots a kernel evaluates (the nodes whose sources it inlines). */
export function kernelRoots(k: Kernel): Node[] {
  switch (k.kind) {
    case 'elementwise': return [...k.outputs];
    case 'matmul': return k.outputs.includes(k.node) ? [...k.outputs] : [k.node, ...k.outputs];
    case 'attention': return [...(k.scores ? [k.scores] : []), k.max, k.sum, k.node.src[0]!, k.node];
    case 'row': return k.stages.map((s) => s.node);
  }
}

/** Leaves that are never bound as buffers unless requested as outputs (constants and iota are inlined). */
export const isLeafOp = (n: Node) => n.op === 'input' || n.op === 'const' || n.op === 'iota';

/** The index patterns at which `root`'s expression (evaluated at `ix`) reads `target`. */
export function accessesOf(root: Node, ix: Ix, target: Node, stop: (n: Node) => boolean): Ix[] {
  return accessesOfAll(root, ix, new Set([target]), stop).get(target) ?? [];
}

/** For each of `targets` that `root`'s expression (evaluated at `ix`) reads, the index patterns it reads it at. */
export function accessesOfAll(root: Node, ix: Ix, targets: ReadonlySet<Node>, stop: (n: Node) => boolean): Map<Node, Ix[]> {
  const found = new Map<Node, Ix[]>();
  // Visited (node, index) pairs: the nodes seen at each index key (no string built per visit).
  const seen = new Map<string, Set<Node>>();
  const walk = (n: Node, at: Ix) => {
    const key = at.key();
    let here = seen.get(key);
    if (!here) seen.set(key, (here = new Set()));
    else if (here.has(n)) return;
    here.add(n);
    if (targets.has(n)) {
      const list = found.get(n);
      if (list) list.push(at); else found.set(n, [at]);
      return;
    }
    if (n !== root && stop(n)) return;
    const kind = OP_INFO[n.op].kind;
    if (kind === 'reduce' || kind === 'matmul') return; // another index space: handled as anchors
    walkSources(n, at, walk);
  };
  // A reduction root reads its source at the full index; a view root at the view's mapped index.
  if (root.op === 'reduce') walk(root.src[0]!, ix);
  else walkSources(root, ix, walk);
  return found;
}

/** Calls `visit` with each source of elementwise, view or random node `n`, at the index it is read when `n` is computed at `at`. */
export function walkSources(n: Node, at: Ix, visit: (src: Node, at: Ix) => void): void {
  const kind = OP_INFO[n.op].kind;
  if (kind === 'view') visit(n.src[0]!, viewIx(n, at, probeScope).ix);
  else if (kind === 'random') visit(n.src[0]!, SCALAR_IX); // the seed, whatever the element
  else for (const s of n.src) visit(s, at);
}

/** Symbolic index of the full shape in a row kernel: dimension d is `i{d}`. */
export const fullIx = (full: Shape) => new Ix(full, undefined, full.map((_, d) => `i${d}`));
/**
 * Whether `idx` (an index into a reduction's keepdims shape, as `fullIx` names the full index) is
 * where a full-shape element reads its own row's result: `i{d}` on kept axes, `0` on reduced ones.
 * On an axis of length 1 both are 0, and index simplification may have written either.
 */
export const readsOwnRow = (full: Shape, axes: readonly number[], idx: readonly string[]) =>
  idx.length === full.length && idx.every((e, d) => e === (axes.includes(d) ? '0' : `i${d}`) || (full[d] === 1 && (e === '0' || e === `i${d}`)));
/** The name of the row index in row-stage expressions. */
export const ROW_LIN = 'r';
