/**
 * Tensor: a lazy handle on a graph node. Operations build nodes; nothing runs until a value is
 * read (`data()`, `toArray()`, `item()`) or `realize()` is called. Then the engine compiles the
 * graph behind the tensor into fused kernels and runs them; the tensor now points at the result
 * buffer. Memory is released by `dispose()` or, if you never call it, when the tensor is garbage
 * collected: no manual reference counting.
 */
import { hostArray, type DType, type TypedArray } from '../ir/dtype.ts';
import { TesseraError } from '../ir/error.ts';
import { inputNode, type Node } from '../ir/node.ts';
import { numel, type Shape } from '../ir/shape.ts';
import { checkNotTraced, engine, realize, realizeSoon } from '../runtime/engine.ts';
import { exportBuffer } from '../runtime/external.ts';
import { bindStorage, hostDataOf, Storage, storageOf, unbindStorage } from '../runtime/storage.ts';
import { formatTensor } from './format.ts';

export type NestedArray = number | boolean | NestedArray[];

/** The values last read back for a node (so toString can show them without a readback). */
const lastRead = new WeakMap<Node, TypedArray>();

export class Tensor {
  private _node!: Node;
  private disposed = false;
  constructor(node: Node) { this.node = node; }

  /** @internal the graph node this tensor currently stands for */
  get node(): Node { return this._node; }
  set node(n: Node) {
    // How many tensors stand for each node (Node.holders), so dispose() frees a buffer only when no
    // other tensor (e.g. the result of a reshape to the same shape) still holds it.
    if (this._node) this._node.holders--;
    n.holders++;
    this._node = n;
  }

  get shape(): Shape { return this.node.shape; }
  get dtype(): DType { return this.node.dtype; }
  get rank(): number { return this.node.shape.length; }
  get size(): number { return numel(this.node.shape); }
  get isDisposed(): boolean { return this.disposed; }

  /** @internal the node, checking the tensor is still usable */
  use(op: string): Node {
    if (this.disposed) throw new TesseraError(op, `tensor of shape [${this.shape.join(', ')}] was used after dispose()`, 'keep the tensor alive until its last use, or recompute it');
    return this.node;
  }

  /**
   * The node to read, checked now: reading a traced tensor (inside jit or grad) throws at the call,
   * so an un-awaited read fails the trace instead of leaving a rejected promise nobody handles.
   */
  private readable(op: string): Node | Promise<never> {
    let n: Node;
    try { n = this.use(op); } catch (e) { return Promise.reject(e); }
    checkNotTraced([n]);
    return n;
  }

  /** Computes the value (if not yet computed) and keeps it on the device. */
  realize(): Promise<this> {
    const n = this.readable('realize');
    if (n instanceof Promise) return n;
    return realize([n]).then(({ nodes }) => { this.node = nodes[0]!; return this; });
  }

  /** The values as a typed array (Float32Array, Int32Array, Uint32Array, or Uint8Array for bool). */
  data(): Promise<TypedArray> {
    const n = this.readable('data');
    if (n instanceof Promise) return n;
    return realize([n], true).then(({ nodes, data }) => {
      this.node = nodes[0]!;
      lastRead.set(this.node, data![0]!);
      return data![0]!;
    });
  }

  /** Reads the values and prints them (numpy's repr style); returns the text. */
  async print(): Promise<string> {
    await this.data();
    const s = this.toString();
    console.log(s);
    return s;
  }

  /** The values as nested JS arrays (numbers, or booleans for bool tensors). */
  toArray(): Promise<NestedArray> {
    return this.data().then((d) => this.nest(d));
  }
  private nest(d: TypedArray): NestedArray {
    const vals: (number | boolean)[] = this.dtype === 'bool' ? Array.from(d, (v) => v !== 0) : Array.from(d);
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.rank) return vals[off]!;
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /**
   * The GPUBuffer holding the value, computed if needed, with no readback. Without `copy` it is
   * Tessera's buffer, valid while this tensor lives: read it, never write or destroy it (it may be
   * larger than the data). With `copy: true`, a new buffer of the data's size (rounded up to 4
   * bytes; usage STORAGE | COPY_SRC | COPY_DST) that the caller owns and destroys. Either way the
   * copy or computation is already submitted, so the caller's later submits see the data.
   */
  async gpuBuffer(opts: { copy?: boolean } = {}): Promise<GPUBuffer> {
    await this.realize();
    const node = this.use('gpuBuffer');
    const { buffer, own } = await exportBuffer(await engine(), storageOf(node), opts.copy === true);
    if (own) { // a borrowed tensor now holds Tessera's copy, so the buffer returned is never the application's
      const n = inputNode(node.dtype, node.shape, 'gpuBuffer');
      bindStorage(n, own);
      this.node = n;
    }
    return buffer;
  }

  /** The single value of a tensor with one element. */
  item(): Promise<number> {
    if (this.size !== 1) throw new TesseraError('item', `tensor of shape [${this.shape.join(', ')}] has ${this.size} elements, not 1`, 'reduce it first, e.g. with sum() or mean()');
    return this.data().then((d) => d[0]!);
  }

  /** Frees the device memory now. Using the tensor afterwards throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const left = --this._node.holders;
    if (this._node.op === 'input' && left <= 0) unbindStorage(this._node);
  }

  /** The values in numpy's repr style once they are known on the host (after data(), toArray(), item(), print(), or for tensors made from JS data); else the dtype and shape. */
  toString(): string {
    const vals = this.disposed ? undefined : lastRead.get(this._node) ?? hostDataOf(this._node) ?? undefined;
    return vals && vals.length === this.size ? formatTensor(vals, this.shape, this.dtype) : `Tensor(${this.dtype}[${this.shape.join(', ')}])`;
  }

  /** A tensor is not a JS number: `t > 0` or `t * 2` would silently compute with NaN, so they throw. */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === 'number')
      throw new TesseraError('Tensor', `a ${this.dtype} tensor of shape [${this.shape.join(', ')}] cannot be used as a JS number (comparison or arithmetic)`,
        'use tensor ops (gt, mul, where) on tensors, or read a value first with await t.item() outside traced functions');
    return this.toString();
  }
}

/** @internal a tensor over host data (uploaded on first use). */
export function fromHost(data: TypedArray, dtype: DType, shape: Shape, name = 'data'): Tensor {
  const node = inputNode(dtype, shape, name);
  bindStorage(node, new Storage(dtype, numel(shape), data));
  return new Tensor(node);
}

/** Realizes several tensors with one compile and one submit. */
export async function realizeAll(ts: readonly Tensor[]): Promise<void> {
  const { nodes } = await realize(ts.map((t) => t.use('realizeAll')));
  ts.forEach((t, i) => { t.node = nodes[i]!; });
}

/**
 * Starts realizing the lazy ones of `ts` at the end of the current synchronous code (an optimizer
 * step's new parameters and state); reads made meanwhile join the same program and submit. A
 * failure surfaces when the tensors are next used (they stay lazy).
 */
export function realizeSoonAll(ts: readonly Tensor[]): void {
  const lazy = ts.filter((t) => !t.isDisposed && t.node.op !== 'input');
  if (!lazy.length) return;
  const nodes = lazy.map((t) => t.node);
  realizeSoon(nodes).then(({ nodes: out }) => lazy.forEach((t, i) => { if (!t.isDisposed && t.node === nodes[i]) t.node = out[i]!; }), () => {});
}

export { hostArray };
