/**
 * Which nodes get a kernel of their own (*anchors*); everything else is inlined into the kernels
 * that read it (recomputing an elementwise op or a view is cheaper than a round trip through memory).
 *  - Requested outputs, reductions and matmuls are anchors (with fusion off: every op but views).
 *  - Costly matmul operands: a tiled matmul reads each operand element many times, so an operand
 *    expression that reads several buffers (a backward pass's g * relu'(z)) or calls
 *    transcendental functions or random is computed once into its own buffer.
 *  - The storage-buffer limit: an expression that reads more buffers than one kernel may bind
 *    (a concat of 20 tensors) gets inner nodes materialized until each kernel fits. This is local
 *    (only that expression is looked at) and always succeeds for every limit WebGPU allows (>= 8):
 *    a node has at most three sources, so some inner node reads between 3 and limit - 1 buffers.
 */
import { TesseraError } from '../error.ts';
import { isView, newVisit, OP_INFO, type Node } from '../node.ts';
import { isLeafOp } from './kernel.ts';

/** Reuse (reads of each element) above which a costly matmul operand is computed once. */
const OPERAND_REUSE = 32;

export function chooseAnchors(order: readonly Node[], outputs: ReadonlySet<Node>, fuse: boolean): Set<Node> {
  const anchors = new Set<Node>();
  for (const n of order) {
    if (n.op === 'input' || (isLeafOp(n) && !outputs.has(n))) continue;
    if (n.op === 'reduce' || n.op === 'matmul' || outputs.has(n) || (!fuse && !isView(n.op))) anchors.add(n);
  }
  if (fuse) materializeCostlyOperands(order, anchors);
  return anchors;
}

function materializeCostlyOperands(order: readonly Node[], anchors: Set<Node>): void {
  for (const mm of order) {
    if (mm.op !== 'matmul') continue;
    const r = mm.shape.length, M = mm.shape[r - 2]!, N = mm.shape[r - 1]!;
    mm.src.forEach((operand, i) => {
      if ((i === 0 ? N : M) < OPERAND_REUSE) return;
      let e = operand;
      while (isView(e.op) && !anchors.has(e)) e = e.src[0]!;
      if (anchors.has(e) || isLeafOp(e) || isView(e.op)) return;
      let costly = OP_INFO[e.op].costly;
      const reads = expressionReads(e, anchors, (n) => { costly ||= OP_INFO[n.op].costly; });
      if (costly || reads.size >= 2) anchors.add(e);
    });
  }
}

/**
 * The buffers the expression of `root` reads: inputs and anchors reached from its sources (not
 * through them). `visit` sees every inner node once.
 */
export function expressionReads(root: Node, anchors: ReadonlySet<Node>, visit?: (n: Node) => void): Set<Node> {
  const reads = new Set<Node>(), seen = newVisit();
  const stack = [...root.src];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.visited === seen) continue;
    n.visited = seen;
    if (n === root) continue;
    if (n.op === 'input' || anchors.has(n)) { reads.add(n); continue; }
    visit?.(n);
    stack.push(...n.src);
  }
  return reads;
}

/**
 * Makes inner nodes anchors until every anchor's kernel binds at most `maxBuffers` buffers.
 * Returns the buffers each anchor's expression reads.
 */
export function fitToLimit(order: readonly Node[], anchors: Set<Node>, maxBuffers: number, log?: (msg: string) => void): Map<Node, Set<Node>> {
  const readsOf = new Map<Node, Set<Node>>();
  let split = false;
  for (const n of order) {
    if (!anchors.has(n)) continue;
    let reads = expressionReads(n, anchors);
    while (reads.size + 1 > maxBuffers) {
      const inner = pickSplit(n, anchors, maxBuffers);
      if (!inner) {
        throw new TesseraError(n.op, `a kernel computing ${n} reads ${reads.size} buffers and the device allows ${maxBuffers} per kernel; it could not be split`,
          'realize intermediate results first with await t.realize()');
      }
      log?.(`fusion: limit: ${n} reads ${reads.size} buffers (limit ${maxBuffers}): materializing ${inner}`);
      anchors.add(inner);
      split = true;
      reads = expressionReads(n, anchors);
    }
    readsOf.set(n, reads);
  }
  // A materialized node may also be inlined in other anchors' expressions: their reads changed.
  if (split) for (const n of anchors) readsOf.set(n, expressionReads(n, anchors));
  return readsOf;
}

/** The inner node of `root`'s expression that reads the most buffers while still fitting a kernel of its own. */
function pickSplit(root: Node, anchors: ReadonlySet<Node>, maxBuffers: number): Node | null {
  let best: Node | null = null, bestCount = 1;
  const memo = new Map<Node, Set<Node>>();
  const leaves = (n: Node): Set<Node> => {
    let s = memo.get(n);
    if (s) return s;
    s = new Set<Node>();
    if (n.op === 'input' || anchors.has(n)) s.add(n);
    else for (const c of n.src) for (const l of leaves(c)) s.add(l);
    memo.set(n, s);
    if (!anchors.has(n) && !isLeafOp(n) && s.size < maxBuffers && s.size > bestCount) { best = n; bestCount = s.size; }
    return s;
  };
  root.src.forEach(leaves);
  return best;
}
