/**
 * Storage: the data behind an input node. It starts as host data (uploaded on first use) or as
 * a GPU buffer a kernel wrote. A Storage is shared by reference count: tensors that alias the
 * same buffer (a reshape of a realized tensor) hold it together; the buffer returns to the pool
 * when the last holder lets go, by `dispose()` or when the garbage collector drops the node.
 * A borrowed storage (`fromGPUBuffer`) holds an application's buffer: it is only ever read, and
 * letting go of it drops the reference without pooling or destroying the buffer.
 */
import { TesseraError } from '../ir/error.ts';
import { byteSize, f32ToF16, type DType, type TypedArray } from '../ir/dtype.ts';
import type { Node } from '../ir/node.ts';
import type { BufferPool } from './pool.ts';

let pool: BufferPool | null = null;
export const setPool = (p: BufferPool) => { pool = p; };

export class Storage {
  buffer: GPUBuffer | null = null;
  refs = 0;
  freed = false;
  /** Set for an application's buffer (fromGPUBuffer): the data starts at `offset` bytes. */
  borrowed: { offset: number } | null = null;
  constructor(readonly dtype: DType, readonly numel: number, public host: TypedArray | null) {}
  get bytes(): number { return this.numel * byteSize(this.dtype); }
  /** Byte offset of the data in `buffer` (non-zero only for a borrowed buffer). */
  get offset(): number { return this.borrowed?.offset ?? 0; }
  /** The bind-group resource for reading this storage (a borrowed buffer binds only its range). */
  binding(buffer: GPUBuffer): GPUBufferBinding {
    return this.borrowed ? { buffer, offset: this.borrowed.offset, size: Math.max(4, Math.ceil(this.bytes / 4) * 4) } : { buffer };
  }
  /** Host data in the layout the GPU buffer holds (bool as u32, float16 as raw halves). */
  uploadData(): ArrayBufferView {
    const h = this.host!;
    if (this.dtype === 'bool') return Uint32Array.from(h as Uint8Array);
    if (this.dtype === 'float16') {
      const out = new Uint16Array(Math.ceil(h.length / 2) * 2);
      for (let i = 0; i < h.length; i++) out[i] = f32ToF16(h[i]!);
      return out;
    }
    return h;
  }
  retain(): this { this.refs++; return this; }
  release(): void {
    if (--this.refs > 0 || this.freed) return;
    this.freed = true;
    if (this.buffer && pool && !this.borrowed) pool.release(this.buffer);
    this.buffer = null;
    this.host = null;
  }
}

const storageOfNode = new WeakMap<Node, Storage>();
const finalizer = new FinalizationRegistry<Storage>((s) => s.release());

/** Binds an input node to its data; the node holds one reference until it is collected. */
export function bindStorage(node: Node, s: Storage): void {
  storageOfNode.set(node, s.retain());
  finalizer.register(node, s, node);
}
/** Drops the node's reference now (Tensor.dispose) instead of waiting for the collector. */
export function unbindStorage(node: Node): void {
  const s = storageOfNode.get(node);
  if (!s) return;
  storageOfNode.delete(node);
  finalizer.unregister(node);
  s.release();
}
export function storageOf(node: Node): Storage {
  const s = storageOfNode.get(node);
  if (!s || s.freed) throw new TesseraError('realize', `input ${node} has been disposed`, 'do not use a tensor (or a result computed from it) after dispose()');
  return s;
}
export const hasStorage = (node: Node) => storageOfNode.has(node) && !storageOfNode.get(node)!.freed;
/** The host copy of an input's data, if it has one (tensors made from JS data; not GPU results). */
export const hostDataOf = (node: Node): TypedArray | null => storageOfNode.get(node)?.host ?? null;
