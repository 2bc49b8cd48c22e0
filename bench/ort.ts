/**
 * onnxruntime-web's WebGPU EP next to Tessera, on the same adapter in one process.
 *
 * Node has no navigator.gpu: the `webgpu` package's GPU is installed as `globalThis.navigator`
 * (with its globals) before either library opens a device, so both run on one adapter, each with
 * its own GPUDevice. Two shims for ORT under Dawn-in-Node: ORT's wasm heap is a SharedArrayBuffer,
 * which Dawn's writeBuffer rejects, so such views are copied first; and V8 runs the wasm with
 * Liftoff only (the notes measured 38-84 s TurboFan first-run stalls otherwise).
 * `dispatches()` counts GPUComputePassEncoder.dispatchWorkgroups calls of both libraries.
 * Import this module before anything that opens a device.
 */
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';
import { BENCH_DIR } from './common.ts';

setFlagsFromString('--liftoff-only');
type Wg = { create: (o: string[]) => GPU; globals: Record<string, { prototype: object }> };
const wg = (await import('webgpu')) as unknown as Wg;
Object.assign(globalThis, wg.globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: wg.create([]) }, configurable: true, writable: true });

const queue = wg.globals.GPUQueue!.prototype as GPUQueue, write = queue.writeBuffer;
queue.writeBuffer = function (this: GPUQueue, b: GPUBuffer, off: number, data: BufferSource, dOff?: number, size?: number) {
  if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
    const copy = new Uint8Array(data.byteLength);
    copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    data = new (data.constructor as new (b: ArrayBuffer) => ArrayBufferView)(copy.buffer) as BufferSource;
  }
  return write.call(this, b, off, data as GPUAllowSharedBufferSource, dOff, size);
} as typeof queue.writeBuffer;
let count = 0;
const pass = wg.globals.GPUComputePassEncoder!.prototype as GPUComputePassEncoder, dispatch = pass.dispatchWorkgroups;
pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number) {
  count++;
  return dispatch.call(this, x, y, z);
};
/** Compute dispatches so far, by either library. */
export const dispatches = () => count;

export const ort = await import('onnxruntime-web/webgpu');
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = join(BENCH_DIR, '..', 'node_modules', 'onnxruntime-web', 'dist') + '/';
ort.env.logLevel = 'error';
