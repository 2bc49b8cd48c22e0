/**
 * Which nodes get a kernel of their own (*anchors*); everything else is inlined into the kernels
 * that read it (recomputing an elementwise op or a view is cheaper than a round trip through memory).
 *  - Requested outputs, reductions and matmuls are anchors (with fusion off: every op but views).
 *  - Costly matmul operands: a tiled matmul reads each operand element many times, so an operand
 *    expression that reads several buffers (a backward pass's g * relu'(z)) or calls
 *    transcendental functions or random is computed once into its own buffer, when its elements
 *    are read often enough: the product's other dimension times the repetition of the views in
 *    between (a convolution's sliding window over a BatchNorm-ReLU output: k×k reads per pixel).
 *  - Costly stencil operands: an expression that reads a costly inner node at several elements
 *    (a depthwise conv's 9 or 25 taps of batch norm + activation) would recompute it at each; it
 *    is computed once instead (usually as the epilogue of the matmul that produced its input).
 *  - Shared stencils: a node whose own expression is a stencil (it reads something at several
 *    elements: a depthwise conv) is computed once when several kernels, or a matmul's tile loads,
 *    would each compute it (an SE block's global pooling and the next conv both read it).
 *  - The storage-buffer limit: an expression that reads more buffers than one kernel may bind
 *    (a concat of 20 tensors) gets inner nodes materialized until each kernel fits. This is local
 *    (only that expression is looked at) and always succeeds for every limit WebGPU allows (>= 8):
 *    a node has at most three sources, so some inner node reads between 3 and limit - 1 buffers.
 */
import { TesseraError } from '../error.ts';
import { isView, newVisit, OP_INFO, type Node } from '../node.ts';
import { Ix } from '../indexing.ts';
import { fullIx, isLeafOp, walkSources } from './kernel.ts';

/** Reuse (reads of each element) above which a costly matmul operand is computed once. */
const OPERAND_REUSE = 32;
/** Distinct elements of an inner node one expression reads, from which a costly node is computed once. */
const STENCIL_READS = 4;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function chooseAnchors(order: readonly Node[], outputs: ReadonlySet<Node>, fuse: boolean): Set<Node> {
  const anchors = new Set<Node>();
  for (const n of order) {
    if (n.op === 'input' || (isLeafOp(n) && !outputs.has(n))) continue;
    if (n.op === 'reduce' || n.op === 'matmul' || outputs.has(n) || (!fuse && !isView(n.op))) anchors.add(n);
  }
  if (fuse) {
    materializeCostlyOperands(order, anchors);
    materializeStencilOperands(order, anchors);
    materializeSharedStencils(order, anchors);
  }
  return anchors;
}

function materializeCostlyOperands(order: readonly Node[], anchors: Set<Node>): void {
  for (const mm of order) {
    if (mm.op !== 'matmul') continue;
    const r = mm.shape.length, M = mm.shape[r - 2]!, N = mm.shape[r - 1]!;
    mm.src.forEach((operand, i) => {
      let e = operand;
      while (isView(e.op) && !anchors.has(e)) e = e.src[0]!;
      if (anchors.has(e) || isLeafOp(e) || isView(e.op)) return;
      // Each operand element is read once per column (A) or row (B) of the product, and each
      // element of e as often as the views between them repeat it (a convolution's sliding
      // window reads every pixel k×k times; an expand, once per copy).
      const repeats = Math.max(1, sizeOf(operand.shape) / sizeOf(e.shape));
      if ((i === 0 ? N : M) * repeats < OPERAND_REUSE) return;
      if (costlyToRecompute(e, anchors)) anchors.add(e);
    });
  }
}

/** Whether recomputing `e`'s expression costs more than a load: it calls transcendentals (or random) or reads several buffers. */
function costlyToRecompute(e: Node, anchors: ReadonlySet<Node>): boolean {
  let costly = OP_INFO[e.op].costly;
  const reads = expressionReads(e, anchors, (n) => { costly ||= OP_INFO[n.op].costly; });
  return costly || reads.size >= 2;
}

/**
 * Consumers first (so an anchor added here is itself looked at later), each elementwise or
 * reduction anchor's expression is walked at symbolic indices; an inner node it reaches at
 * STENCIL_READS distinct indices and that is costly to recompute becomes an anchor, and the walk
 * starts again (the expression is smaller now) until none is left. Matmul operands are left to
 * materializeCostlyOperands (their reuse is in the tile loop, not in the index expressions).
 */
function materializeStencilOperands(order: readonly Node[], anchors: Set<Node>): void {
  for (let i = order.length - 1; i >= 0; i--) {
    const root = order[i]!;
    if (!anchors.has(root) || root.op === 'matmul') continue;
    for (let n = stencilOperand(root, anchors); n; n = stencilOperand(root, anchors)) anchors.add(n);
  }
}

function stencilOperand(root: Node, anchors: ReadonlySet<Node>): Node | null {
  const seen = new Set<string>(), count = new Map<Node, number>();
  let found: Node | null = null;
  const walk = (n: Node, at: Ix): void => {
    if (found || n.op === 'input' || anchors.has(n) || isLeafOp(n)) return;
    const kind = OP_INFO[n.op].kind;
    if (kind === 'reduce' || kind === 'matmul') return;
    const key = `${n.id}@${at.key()}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (kind !== 'view') {
      const c = (count.get(n) ?? 0) + 1;
      count.set(n, c);
      if (c === STENCIL_READS && costlyToRecompute(n, anchors)) { found = n; return; }
    }
    walkSources(n, at, walk);
  };
  if (root.op === 'reduce') walk(root.src[0]!, fullIx(root.src[0]!.shape));
  else walkSources(root, new Ix(root.shape, 'gid'), walk);
  return found;
}

/**
 * Nodes whose expression is a stencil, read by two or more anchors' expressions (a matmul's
 * operand counts twice: its tiles load each element more than once) become anchors, the latest in
 * topological order first (a stencil's consumer before the nodes it contains, which then have one
 * reader left), until none is left.
 */
function materializeSharedStencils(order: readonly Node[], anchors: Set<Node>): void {
  // Memo of isStencil; a node's answer only changes when an anchor is added inside its
  // expression, which happens only below the node picked, and nodes above it are never shared.
  const memo = new Map<Node, boolean>();
  for (;;) {
    const readers = new Map<Node, number>();
    for (const a of order) {
      if (!anchors.has(a)) continue;
      const weight = a.op === 'matmul' ? 2 : 1;
      expressionReads(a, anchors, (n) => { if (!isLeafOp(n) && !isView(n.op)) readers.set(n, (readers.get(n) ?? 0) + weight); });
    }
    let pick: Node | null = null;
    for (let i = order.length - 1; i >= 0 && !pick; i--) {
      const n = order[i]!;
      if ((readers.get(n) ?? 0) >= 2 && isStencil(n, anchors, memo)) pick = n;
    }
    if (!pick) return;
    anchors.add(pick);
  }
}

/** Whether `root`'s expression reads some node (a buffer, or an inner node) at STENCIL_READS or more distinct indices. */
function isStencil(root: Node, anchors: ReadonlySet<Node>, memo: Map<Node, boolean>): boolean {
  const known = memo.get(root);
  if (known !== undefined) return known;
  const seen = new Set<string>(), count = new Map<Node, number>();
  let found = false;
  const walk = (n: Node, at: Ix): void => {
    if (found || n.op === 'const' || n.op === 'iota') return;
    const key = `${n.id}@${at.key()}`;
    if (seen.has(key)) return;
    seen.add(key);
    const c = (count.get(n) ?? 0) + 1;
    count.set(n, c);
    if (c >= STENCIL_READS || memo.get(n) === true) { found = true; return; }
    const kind = OP_INFO[n.op].kind;
    if (n.op === 'input' || anchors.has(n) || kind === 'reduce' || kind === 'matmul') return;
    walkSources(n, at, walk);
  };
  walkSources(root, new Ix(root.shape, 'gid'), walk);
  memo.set(root, found);
  return found;
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
