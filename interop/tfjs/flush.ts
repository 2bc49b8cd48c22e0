/**
 * The Flusher: when the lazily recorded tfjs kernels become GPU work. A flush realizes the live
 * tfjs tensors recorded since the flush before (and not computed yet), together: one compiled
 * program, one submit. Tensors tfjs has disposed by then (the tidy'd intermediates of a forward
 * pass, its tape's backward and the optimizer) are no roots, so they never materialize: that is
 * the fusion across op boundaries.
 *
 * When: a microtask after the first kernel of a burst (tfjs-layers' `fit` awaits between
 * batches, so once per training step), on every read, and synchronously when one burst records
 * `cap` kernels (a loop that never awaits) if the program for it is compiled already.
 *
 * What: a flush takes the tensors recorded before it was called, whatever is still running. So a
 * training step is one program with the same structure every step (one compile, then cache hits),
 * however its kernels interleave with the previous step's flush: kernels recorded while a flush
 * runs read its lazy nodes, and are pointed at its results when it completes.
 *
 * Frees are deferred: a tensor tfjs disposes may still be read by pending work (the old value of
 * a variable after `assign`), so an input-backed tensor disposed while lazy work exists is released
 * after the next flush, which covers that work.
 */
import { TesseraError } from '../../ir/error.ts';
import { Node } from '../../ir/node.ts';
import { Tensor } from '../../ops/tensor.ts';
import { realize, realizeIfCompiled } from '../../runtime/engine.ts';
import type { Entry } from './backend.ts';

/** The tensors one flush computes: entries, and the nodes to compute for them (results of earlier flushes substituted). */
interface Batch { entries: Entry[]; nodes: Node[] }

export class Flusher {
  /** Kernels a synchronous burst may record before it is flushed without waiting. */
  cap = 2048;
  private scheduled = false;
  private burst = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Lazy entries recorded since the last flush was called. */
  private readonly fresh = new Set<Entry>();
  /** Batches of flushes called and not finished, oldest first (each waits for the one before). */
  private readonly queued: Batch[] = [];
  private toFree: Tensor[] = [];
  private reads: Entry[] = [];
  private readDone: Promise<void> | null = null;
  private warned = false;

  /** A kernel recorded lazy work (the entry `e`): schedule the burst's flush. */
  record(e: Entry): void {
    this.fresh.add(e);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => { if (this.scheduled) this.flush().catch(() => {}); });
    }
    if (++this.burst >= this.cap) this.flushNow();
  }

  /** True while lazy work exists: recorded, or taken by a flush that has not finished. */
  private get busy(): boolean { return this.fresh.size > 0 || this.queued.length > 0; }

  /** tfjs disposed the entry `e`. */
  forget(e: Entry): void {
    this.fresh.delete(e);
    this.release(e.t);
  }

  /** Disposes `t` now, or after the next flush when pending work may still read its buffer. */
  release(t: Tensor): void {
    if (t.node.op === 'input' && this.busy) this.toFree.push(t);
    else t.dispose();
  }

  /** Realizes the lazy tensors recorded until now (after earlier flushes), then frees what was disposed before the call. */
  flush(): Promise<void> {
    this.scheduled = false;
    this.burst = 0;
    const entries = [...this.fresh];
    this.fresh.clear();
    const batch: Batch = { entries, nodes: entries.map((e) => e.t.node) };
    if (entries.length) this.queued.push(batch);
    const free = this.toFree;
    this.toFree = [];
    const run = this.chain.then(() => this.realizeBatch(batch)).finally(() => {
      for (const t of free) t.dispose();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private async realizeBatch(batch: Batch): Promise<void> {
    if (!batch.entries.length) return;
    try {
      const out = await realizeInGroups(batch.nodes);
      batch.entries.forEach((e, i) => { if (!e.t.isDisposed) e.t.node = out[i]!; });
      this.done(batch, out);
    } catch (err) {
      for (const e of batch.entries) e.error = err;
      throw err;
    } finally {
      this.queued.splice(this.queued.indexOf(batch), 1);
    }
  }

  /**
   * A batch is computed: later lazy work (later batches, and kernels recorded meanwhile) read its
   * lazy nodes; they now read its results. The results are held until that work is computed too
   * (tfjs may dispose a root meanwhile): until the next flush, like a deferred free. A result no
   * live tensor holds is freed then.
   */
  private done(batch: Batch, out: readonly Node[]): void {
    const results = new Map(batch.nodes.map((n, i) => [n, out[i]!]));
    for (const b of this.queued) {
      if (b === batch) continue;
      b.nodes = substitute(b.nodes, results);
      b.entries.forEach((e, i) => { if (!e.t.isDisposed) e.t.node = b.nodes[i]!; });
    }
    const fresh = [...this.fresh], now = substitute(fresh.map((e) => e.t.node), results);
    fresh.forEach((e, i) => { e.t.node = now[i]!; });
    // Held also frees the results of roots tfjs disposed before they were computed (else only the collector would).
    const held = out.map((n) => new Tensor(n));
    if (this.queued.length > 1 || this.fresh.size) this.toFree.push(...held);
    else for (const t of [...this.toFree.splice(0), ...held]) t.dispose(); // no lazy work is left to read them
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

  /** The cap: run the burst's program synchronously when it is compiled (and no flush is running); else warn once. */
  private flushNow(): void {
    if (this.queued.length) return this.warnOnce();
    const pending = [...this.fresh];
    const out = realizeIfCompiled(pending.map((e) => e.t.node));
    if (!out) return this.warnOnce();
    pending.forEach((e, i) => { e.t.node = out[i]!; });
    this.fresh.clear();
    this.burst = 0;
    for (const t of this.toFree.splice(0)) t.dispose();
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    console.warn(`tessera tfjs backend: more than ${this.cap} kernels ran without an await; their graph keeps growing until the next await. ` +
      'Await something between training steps (e.g. `await tf.nextFrame()`), as tfjs-layers fit() does.');
  }
}

/**
 * Realizes `roots` in one program; when the scheduler cannot fit that program in the device's
 * storage-buffer limit, in halves (one program and submit each), recursively.
 */
async function realizeInGroups(roots: Node[]): Promise<Node[]> {
  try {
    // tfjs writes many scalars per step (learning rates, Adam's beta powers, loss weights), each its
    // own tensor: packed, a fused kernel binds one buffer for them instead of one each.
    return (await realize(roots, false, { packScalars: true })).nodes;
  } catch (err) {
    if (!(err instanceof TesseraError && err.op === 'schedule') || roots.length < 2) throw err;
    const half = Math.ceil(roots.length / 2);
    const a = await realizeInGroups(roots.slice(0, half));
    return [...a, ...await realizeInGroups(roots.slice(half))];
  }
}

/** `roots` with every node found in `memo` replaced by its result (the graph below it is not visited). */
function substitute(roots: readonly Node[], memo: ReadonlyMap<Node, Node>): Node[] {
  if (!memo.size) return [...roots];
  const done = new Map<Node, Node>();
  for (const root of roots) {
    const stack = [root];
    while (stack.length) {
      const n = stack[stack.length - 1]!;
      if (done.has(n)) { stack.pop(); continue; }
      const hit = memo.get(n);
      if (hit || !n.src.length) { done.set(n, hit ?? n); stack.pop(); continue; }
      const todo = n.src.filter((s) => !done.has(s));
      if (todo.length) { stack.push(...todo); continue; }
      const src = n.src.map((s) => done.get(s)!);
      done.set(n, src.every((s, i) => s === n.src[i]) ? n : Node.make(n.op, n.dtype, n.shape, src, n.arg));
      stack.pop();
    }
  }
  return roots.map((r) => done.get(r)!);
}
