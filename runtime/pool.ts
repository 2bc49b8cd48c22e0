/**
 * Buffer pool: GPU buffers are expensive to create, so freed buffers are kept by size class and
 * handed out again. Size classes are 4 steps per power of two (at most 25% slack).
 * Stats: `liveBuffers` counts buffers handed out and not yet released; `bytesAllocated` counts
 * all GPU memory the pool created (in use or kept for reuse).
 */
import { BufferUsage } from './gpu.ts';
import { counters } from './stats.ts';
import { submitOpen } from './submit.ts';

const USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 4;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  constructor(private device: GPUDevice) {}
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    counters.liveBuffers++;
    const hit = this.free.get(size)?.pop();
    if (hit) return hit;
    counters.bytesAllocated += size;
    return this.device.createBuffer({ size, usage: USAGE });
  }
  release(buf: GPUBuffer): void {
    counters.liveBuffers--;
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
  }
  /** Destroys every pooled (unused) buffer. */
  trim(): void {
    submitOpen(); // work encoded but not yet submitted may use them
    for (const list of this.free.values()) for (const b of list) { counters.bytesAllocated -= b.size; b.destroy(); }
    this.free.clear();
  }
}
