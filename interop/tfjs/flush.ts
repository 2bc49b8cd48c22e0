/**
 * The Flusher: when the lazily recorded tfjs kernels become GPU work. A flush realizes every live
 * tfjs tensor that is not computed yet, together: one compiled program, one submit. Tensors tfjs
 * has disposed by then (the tidy'd intermediates of a forward pass, its tape's backward and the
 * optimizer) are no roots, so they never materialize: that is the fusion across op boundaries.
 *
 * When: a microtask after the first kernel of a burst (tfjs-layers' `fit` awaits between
 * batches, so once per training step), on every read, and synchronously when one burst records
 * `cap` kernels (a loop that never awaits) if the program for it is compiled already.
 *
 * Frees are deferred: a tensor tfjs disposes may still be read by pending work (the old value of
 * a variable after `assign`), so an input-backed tensor disposed while kernels are pending or a
 * flush is running is released after the flush that covers that work.
 */
import { TesseraError } from '../../ir/error.ts';
import { hostArray, type DType } from '../../ir/dtype.ts';
import { Node, toposort } from '../../ir/node.ts';
import { numel } from '../../ir/shape.ts';
import { reshape, slice } from '../../ops/movement.ts';
import { fromHost, Tensor } from '../../ops/tensor.ts';
import { hostDataOf } from '../../runtime/storage.ts';
import { realize, realizeIfCompiled } from '../../runtime/engine.ts';
import type { Entry, TesseraBackend } from './backend.ts';

export class Flusher {
  /** Kernels a synchronous burst may record before it is flushed without waiting. */
  cap = 2048;
  private scheduled = false;
  private burst = 0;
  private running = 0;
  private chain: Promise<void> = Promise.resolve();
  private toFree: Tensor[] = [];
  private reads: Entry[] = [];
  private readDone: Promise<void> | null = null;
  private warned = false;
  constructor(private readonly backend: TesseraBackend) {}

  /** A kernel recorded lazy work: schedule the burst's flush. */
  record(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => { if (this.scheduled) this.flush().catch(() => {}); });
    }
    if (++this.burst >= this.cap) this.flushNow();
  }

  /** Disposes `t` now, or after the next flush when pending work may still read its buffer. */
  release(t: Tensor): void {
    if (t.node.op === 'input' && (this.scheduled || this.running)) this.toFree.push(t);
    else t.dispose();
  }

  /** Realizes the live lazy tensors (after earlier flushes), then frees what was disposed before the call. */
  flush(): Promise<void> {
    this.scheduled = false;
    this.burst = 0;
    const free = this.toFree;
    this.toFree = [];
    this.running++;
    const run = this.chain.then(() => this.realizeLive()).finally(() => {
      this.running--;
      for (const t of free) t.dispose();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Kernels recorded while a flush compiles read the lazy nodes it is computing. `memo` maps those
   * nodes (the previous flush's roots) to their results and holds the results alive (tfjs may
   * dispose a root meanwhile), so the next flush reads them instead of recomputing them from
   * inputs that may be freed by then. Every live lazy tensor is realized at each flush, so the
   * memo of the flush before is no longer needed afterwards.
   */
  private memo = new Map<Node, Tensor>();

  private async realizeLive(): Promise<void> {
    const live = this.pending();
    const nodes = live.map((e) => e.t.node);
    const packed = packScalars(substitute(nodes, this.memo));
    try {
      const out = await realizeInGroups(packed.roots);
      const memo = new Map(nodes.map((n, i) => [n, new Tensor(out[i]!)]));
      live.forEach((e, i) => { if (!e.t.isDisposed) e.t.node = out[i]!; });
      for (const t of this.memo.values()) t.dispose();
      this.memo = memo;
    } catch (err) {
      for (const e of live) e.error = err;
      throw err;
    } finally {
      for (const t of packed.packs) t.dispose();
    }
  }

  /** Reads an entry's values; reads requested in the same tick share one flush and one readback. */
  async read(e: Entry): Promise<void> {
    this.reads.push(e);
    this.readDone ??= Promise.resolve().then(async () => {
      const reads = this.reads;
      this.reads = [];
      this.readDone = null;
      await this.flush().catch(() => {});
      const ok = reads.filter((r) => !r.error && !r.t.isDisposed && !r.host);
      if (!ok.length) return;
      const { nodes, data } = await realize(ok.map((r) => r.t.use('read')), true);
      ok.forEach((r, i) => { r.t.node = nodes[i]!; r.host = data![i]!; });
    });
    await this.readDone;
    if (e.error) throw e.error;
    if (!e.host) throw new TesseraError('read', 'the tensor was disposed before its values were read', 'await data() before disposing the tensor');
  }

  /** The cap: run the burst's program synchronously when it is compiled; else warn once. */
  private flushNow(): void {
    if (this.running) return this.warnOnce();
    const pending = this.pending();
    const out = realizeIfCompiled(substitute(pending.map((e) => e.t.node), this.memo));
    if (!out) return this.warnOnce();
    pending.forEach((e, i) => { e.t.node = out[i]!; });
    this.burst = 0;
    for (const t of this.toFree.splice(0)) t.dispose();
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    console.warn(`tessera tfjs backend: more than ${this.cap} kernels ran without an await; their graph keeps growing until the next await. ` +
      'Await something between training steps (e.g. `await tf.nextFrame()`), as tfjs-layers fit() does.');
  }

  /** Live entries whose tensors are not computed yet (and did not fail before). */
  private pending(): Entry[] {
    return [...this.backend.entries.values()].filter((e) => e.t.node.op !== 'input' && !e.error);
  }
}

/**
 * Realizes `roots` in one program; when the scheduler cannot fit that program in the device's
 * storage-buffer limit, in halves (one program and submit each), recursively.
 */
async function realizeInGroups(roots: Node[]): Promise<Node[]> {
  try {
    return (await realize(roots)).nodes;
  } catch (err) {
    if (!(err instanceof TesseraError && err.op === 'schedule') || roots.length < 2) throw err;
    const half = Math.ceil(roots.length / 2);
    const a = await realizeInGroups(roots.slice(0, half));
    return [...a, ...await realizeInGroups(roots.slice(half))];
  }
}

/**
 * tfjs writes many scalars per step (learning rates, Adam's beta powers, loss weights), each its
 * own input buffer: a fused kernel would bind a buffer per scalar. They are packed into one input
 * per dtype, read as views; they stay inputs (not constants), so every step has the same structure.
 */
function packScalars(roots: Node[]): { roots: Node[]; packs: Tensor[] } {
  const byDtype = new Map<DType, Node[]>();
  for (const n of toposort(roots))
    if (n.op === 'input' && numel(n.shape) === 1 && hostDataOf(n)) byDtype.set(n.dtype, [...(byDtype.get(n.dtype) ?? []), n]);
  const swap = new Map<Node, Tensor>(), packs: Tensor[] = [];
  for (const [dtype, scalars] of byDtype) {
    if (scalars.length < 2) continue;
    const data = hostArray(dtype, scalars.length);
    scalars.forEach((n, i) => { data[i] = hostDataOf(n)![0]!; });
    const pack = fromHost(data, dtype, [scalars.length], 'tfjs-scalars');
    packs.push(pack);
    scalars.forEach((n, i) => swap.set(n, reshape(slice(pack, [i], [i + 1]), n.shape)));
  }
  return { roots: substitute(roots, swap), packs };
}

/** `roots` with every node found in `memo` replaced by its result (the graph below it is not visited). */
function substitute(roots: readonly Node[], memo: ReadonlyMap<Node, Tensor>): Node[] {
  if (!memo.size) return [...roots];
  const done = new Map<Node, Node>();
  for (const root of roots) {
    const stack = [root];
    while (stack.length) {
      const n = stack[stack.length - 1]!;
      if (done.has(n)) { stack.pop(); continue; }
      const hit = memo.get(n);
      if (hit || !n.src.length) { done.set(n, hit ? hit.node : n); stack.pop(); continue; }
      const todo = n.src.filter((s) => !done.has(s));
      if (todo.length) { stack.push(...todo); continue; }
      const src = n.src.map((s) => done.get(s)!);
      done.set(n, src.every((s, i) => s === n.src[i]) ? n : Node.make(n.op, n.dtype, n.shape, src, n.arg));
      stack.pop();
    }
  }
  return roots.map((r) => done.get(r)!);
}
