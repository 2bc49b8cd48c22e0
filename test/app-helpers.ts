/**
 * A stand-in for an application's own WebGPU code (used by the device-sharing tests in Node and in
 * the browser): hand-written WGSL passes and the application's own readback, none through Tessera.
 */
import { BufferUsage } from '../runtime/gpu.ts';

export const APP_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

function pass(device: GPUDevice, wgsl: string, buffers: GPUBuffer[], n: number): void {
  const module = device.createShaderModule({ code: wgsl });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  const enc = device.createCommandEncoder();
  const p = enc.beginComputePass();
  p.setPipeline(pipeline);
  p.setBindGroup(0, bindGroup);
  p.dispatchWorkgroups(Math.ceil(n / 64));
  p.end();
  device.queue.submit([enc.finish()]);
}

/** out[first + i] = expr for i < n, where `expr` is WGSL over `x = f32(i)`. */
export function fillPass(device: GPUDevice, out: GPUBuffer, n: number, expr: string, first = 0): void {
  pass(device, `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i < ${n}u) { let x = f32(i); out[${first}u + i] = ${expr}; }
}`, [out], n);
}

/** dst[i] = expr for i < n, where `expr` is WGSL over `v = src[i]`. */
export function mapPass(device: GPUDevice, src: GPUBuffer, dst: GPUBuffer, n: number, expr: string): void {
  pass(device, `@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i < ${n}u) { let v = src[i]; dst[i] = ${expr}; }
}`, [src, dst], n);
}

/** The application's own readback of n float32 values from `offset` bytes. */
export async function appRead(device: GPUDevice, buffer: GPUBuffer, n: number, offset = 0): Promise<Float32Array> {
  const staging = device.createBuffer({ size: n * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, offset, staging, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(1);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}
