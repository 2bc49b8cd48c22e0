/**
 * The fusion graph: live kernels with indexes kept up to date by every merge, so fusion rules ask
 * questions in time proportional to the answer, not to the graph:
 *  - `readsOf(k)`: the buffers k reads (memoized; a merge's reads are the union minus what it now
 *    computes itself);
 *  - `producerOf(n)` / readers of n: which kernel writes a node, which kernels read it;
 *  - a topological order of the kernels, repaired locally after each merge, so the cycle check
 *    only searches between the two kernels being merged.
 * It owns the two invariants of a schedule — the kernel graph is acyclic, and no kernel binds more
 * storage buffers than the device allows — and checks both in one `canMerge`, used by every rule.
 */
import type { Node } from '../node.ts';
import { kernelRoots, type Kernel } from './kernel.ts';

/** canMerge's reason when a path through other kernels joins the two. */
export const CYCLE = 'another kernel lies between them (merging would make a cycle)';

export class FusionGraph {
  private readonly live = new Set<Kernel>();
  private readonly producer = new Map<Node, Kernel>();
  private readonly reads = new Map<Kernel, Set<Node>>();
  private readonly readers = new Map<Node, Set<Kernel>>();
  /** A topological order (holes where kernels were merged away) and each kernel's place in it. */
  private readonly order: (Kernel | null)[] = [];
  private readonly pos = new Map<Kernel, number>();
  /** Stable iteration order: a merged kernel keeps the rank of the kernel that absorbed the other. */
  private readonly rankOf = new Map<Kernel, number>();
  /** Each live kernel's expression roots (kernelRoots). */
  private readonly roots = new Map<Kernel, Node[]>();
  /** Live kernels by kind and iteration space. */
  private readonly spaces = new Map<string, Set<Kernel>>();

  /** `kernels` in topological order, each with the buffers it reads. */
  constructor(kernels: readonly { kernel: Kernel; reads: Set<Node> }[], readonly anchors: ReadonlySet<Node>,
    readonly outputs: ReadonlySet<Node>, readonly maxBuffers: number) {
    for (const { kernel, reads } of kernels) {
      this.pos.set(kernel, this.order.length);
      this.rankOf.set(kernel, this.order.length);
      this.order.push(kernel);
      this.add(kernel, reads);
    }
  }

  /** Live kernels in rank order. */
  kernels(): Kernel[] { return this.order.filter((k): k is Kernel => k !== null).sort((a, b) => this.rank(a) - this.rank(b)); }
  has(k: Kernel): boolean { return this.live.has(k); }
  rank(k: Kernel): number { return this.rankOf.get(k)!; }
  readsOf(k: Kernel): ReadonlySet<Node> { return this.reads.get(k)!; }
  producerOf(n: Node): Kernel | undefined { return this.producer.get(n); }

  /** Kernels whose outputs k reads. */
  producers(k: Kernel): Set<Kernel> {
    const out = new Set<Kernel>();
    for (const n of this.readsOf(k)) { const p = this.producer.get(n); if (p && p !== k) out.add(p); }
    return out;
  }
  /** Kernels that read what k writes, in rank order. */
  consumers(k: Kernel): Kernel[] { return [...this.successors(k)].sort((a, b) => this.rank(a) - this.rank(b)); }
  private successors(k: Kernel): Set<Kernel> {
    const out = new Set<Kernel>();
    for (const n of this.roots.get(k)!) { const rs = this.readers.get(n); if (rs) for (const c of rs) if (c !== k) out.add(c); }
    return out;
  }
  /** Live kernels of k's kind over the same iteration space, in rank order (candidates for sibling fusion). */
  peers(k: Kernel): Kernel[] {
    return [...this.spaces.get(spaceKey(k))!].filter((p) => p !== k).sort((a, b) => this.rank(a) - this.rank(b));
  }

  /** Storage buffers `merged` (replacing a and b) binds: its reads, and the outputs it writes. */
  bindings(merged: Kernel, a: Kernel, b: Kernel): number {
    const inside = new Set(kernelRoots(merged));
    let n = 0;
    for (const r of new Set([...this.readsOf(a), ...this.readsOf(b)])) if (!inside.has(r)) n++;
    for (const o of inside) if (this.isWritten(o, merged, [a, b])) n++;
    return n;
  }

  /** Whether `o`, computed by kernel k (standing for `parts`), must be written to memory. */
  isWritten(o: Node, k: Kernel, parts: readonly Kernel[] = [k]): boolean {
    if (k.kind === 'matmul') return k.outputs.includes(o);
    if (k.kind === 'attention') return o === k.node;
    if (k.kind !== 'row' || this.outputs.has(o)) return true;
    const stage = k.stages.find((s) => s.node === o)!;
    return stage.kind !== 'reduce' || this.readOutside(o, parts);
  }
  /** Whether `n` is a program output or read by a kernel other than `parts`. */
  readOutside(n: Node, parts: readonly Kernel[]): boolean {
    if (this.outputs.has(n)) return true;
    for (const r of this.readers.get(n) ?? []) if (!parts.includes(r)) return true;
    return false;
  }

  /** Why a and b cannot become `merged`, or null if they can. */
  canMerge(a: Kernel, b: Kernel, merged: Kernel): string | null {
    if (this.wouldCycle(a, b)) return CYCLE;
    const n = this.bindings(merged, a, b);
    return n > this.maxBuffers ? `it would bind ${n} storage buffers, over the limit of ${this.maxBuffers}` : null;
  }

  /** True if a path of two or more edges joins a and b (merging them would make a cycle). */
  wouldCycle(a: Kernel, b: Kernel): boolean {
    if (this.lastCycle && this.lastCycle.a === a && this.lastCycle.b === b && this.lastCycle.merges === this.merges) return this.lastCycle.result;
    const result = this.findPath(a, b);
    this.lastCycle = { a, b, merges: this.merges, result };
    return result;
  }
  /** The last wouldCycle answer (rules may ask before planning, canMerge asks again), valid until the next merge. */
  private lastCycle: { a: Kernel; b: Kernel; merges: number; result: boolean } | null = null;
  private merges = 0;

  private findPath(a: Kernel, b: Kernel): boolean {
    const [from, to] = this.pos.get(a)! < this.pos.get(b)! ? [a, b] : [b, a];
    const limit = this.pos.get(to)!;
    const stack: Kernel[] = [], seen = new Set<Kernel>();
    // Depth first over readers of what each kernel writes, among kernels placed before `to`.
    const push = (k: Kernel, first: boolean): boolean => {
      for (const n of this.roots.get(k)!) {
        const rs = this.readers.get(n);
        if (rs) for (const c of rs) {
          if (c === k) continue;
          if (c === to) { if (!first) return true; continue; }
          if (!seen.has(c) && this.pos.get(c)! < limit) { seen.add(c); stack.push(c); }
        }
      }
      return false;
    };
    push(from, true);
    while (stack.length) if (push(stack.pop()!, false)) return true;
    return false;
  }

  /** Replaces a and b by `merged` (a's rank; checked by canMerge). */
  merge(a: Kernel, b: Kernel, merged: Kernel): void {
    const inside = new Set(kernelRoots(merged));
    const reads = new Set([...this.readsOf(a), ...this.readsOf(b)].filter((n) => !inside.has(n)));
    const [lo, hi] = [this.pos.get(a)!, this.pos.get(b)!].sort((x, y) => x - y) as [number, number];
    const later = this.order[hi]!;
    // Kernels between the two that feed the later one must stay before the merged kernel.
    const before = new Set<Kernel>();
    const stack = [later];
    while (stack.length) {
      for (const p of this.producers(stack.pop()!)) {
        if (before.has(p) || this.pos.get(p)! <= lo) continue;
        before.add(p);
        stack.push(p);
      }
    }
    const rank = this.rank(a);
    this.merges++;
    this.remove(a);
    this.remove(b);
    const window = this.order.slice(lo + 1, hi).filter((k): k is Kernel => k !== null);
    const placed = [...window.filter((k) => before.has(k)), merged, ...window.filter((k) => !before.has(k))];
    this.order.fill(null, lo, hi + 1);
    placed.forEach((k, i) => { this.order[lo + 1 + i] = k; this.pos.set(k, lo + 1 + i); });
    this.rankOf.set(merged, rank);
    this.add(merged, reads);
  }

  private add(k: Kernel, reads: Set<Node>): void {
    this.live.add(k);
    this.roots.set(k, kernelRoots(k));
    this.reads.set(k, reads);
    const key = spaceKey(k);
    let peers = this.spaces.get(key);
    if (!peers) this.spaces.set(key, (peers = new Set()));
    peers.add(k);
    for (const n of kernelRoots(k)) this.producer.set(n, k);
    for (const n of reads) {
      let s = this.readers.get(n);
      if (!s) this.readers.set(n, (s = new Set()));
      s.add(k);
    }
  }

  private remove(k: Kernel): void {
    this.live.delete(k);
    this.spaces.get(spaceKey(k))!.delete(k);
    for (const n of this.reads.get(k)!) this.readers.get(n)!.delete(k);
    this.reads.delete(k);
    this.roots.delete(k);
    this.pos.delete(k);
    this.rankOf.delete(k);
  }
}

/** A kernel's kind and iteration space, as a string. */
function spaceKey(k: Kernel): string {
  switch (k.kind) {
    case 'elementwise': return `ew|${k.shape.join(',')}`;
    case 'row': return `row|${k.full.join(',')}|${k.axes.join(',')}`;
    case 'matmul': return `matmul|${k.node.id}`;
    case 'attention': return `attention|${k.node.id}`;
  }
}
