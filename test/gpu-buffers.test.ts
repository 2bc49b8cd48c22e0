/**
 * GPU buffers in and out (ops/gpu-buffers.ts, runtime/external.ts): an application's WGSL pass
 * writes a buffer, Tessera computes from it in place, a second application pass reads Tessera's
 * result buffer; no value crosses to the CPU except the application's own final check. Ownership:
 * a borrowed buffer is never written, pooled, donated or destroyed. Misuse is a TesseraError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { BufferUsage } from '../runtime/gpu.ts';
import { APP_USAGE, appRead, fillPass, mapPass } from './app-helpers.ts';
import { close } from './grad-helpers.ts';
import { throwsTessera } from './helpers.ts';

const N = 300;
const device = async () => (await ts.init()).gpu;
const appBuffer = (d: GPUDevice, bytes: number, usage: number = APP_USAGE) => d.createBuffer({ size: bytes, usage });
const ref = (f: (i: number) => number, n = N) => Array.from({ length: n }, (_, i) => f(i));
const f32 = (v: number) => Math.fround(v);

test('round trip: app WGSL pass -> fromGPUBuffer -> fused ops -> gpuBuffer -> app WGSL pass, zero readbacks', async () => {
  const d = await device();
  const a = appBuffer(d, N * 4), out = appBuffer(d, N * 4);
  fillPass(d, a, N, '(x - 150.0) * 0.02');
  const s0 = ts.stats();
  const x = ts.fromGPUBuffer(a, { shape: [3, 100], dtype: 'float32' });
  const y = ts.softmax(x.mul(x).add(x.relu()), -1);
  const yb = await y.gpuBuffer();
  mapPass(d, yb, out, N, 'v * 100.0 + 1.0');
  const s1 = ts.stats();
  assert.is(s1.readbacks - s0.readbacks, 0, 'no readback');
  assert.is(s1.uploads - s0.uploads, 0, 'no upload');
  assert.is(s1.submits - s0.submits, 1, 'one submit');
  const xs = ref((i) => f32((i - 150) * f32(0.02)));
  const want: number[] = [];
  for (let r = 0; r < 3; r++) {
    const row = xs.slice(r * 100, r * 100 + 100).map((v) => v * v + Math.max(v, 0));
    const m = Math.max(...row), e = row.map((v) => Math.exp(v - m)), s = e.reduce((p, q) => p + q, 0);
    want.push(...e.map((v) => (v / s) * 100 + 1));
  }
  close(await appRead(d, out, N), want, 'app pass over the softmax', { rtol: 1e-4, atol: 1e-5 });
  close(await appRead(d, a, N), xs, 'the borrowed buffer is unchanged', { rtol: 1e-6 });
  assert.ok(yb.size >= N * 4, 'Tessera buffer holds the data');
  assert.is(await y.gpuBuffer(), yb, 'the same buffer while the tensor lives');
  a.destroy(); out.destroy();
});

test('under jit: a borrowed argument replays without retrace and is read at each call', async () => {
  const d = await device();
  const a = appBuffer(d, N * 4), out = appBuffer(d, N * 4);
  const f = ts.jit((x: Tensor) => x.mul(2).add(x.exp()).sum(-1, true).add(x));
  for (const k of [1, 2]) {
    fillPass(d, a, N, `(x - 100.0) * 0.01 * ${k}.0`); // the app rewrites its buffer: the next call reads the new contents
    const s0 = ts.stats();
    const y = await f(ts.fromGPUBuffer(a, { shape: [30, 10], dtype: 'float32' }));
    mapPass(d, await y.gpuBuffer(), out, N, 'v - 1.0');
    assert.is(ts.stats().readbacks - s0.readbacks, 0, 'no readback');
    const xs = ref((i) => f32(f32((i - 100) * f32(0.01)) * k));
    const rows = ref((r) => xs.slice(r * 10, r * 10 + 10).reduce((p, v) => p + 2 * v + Math.exp(v), 0), 30);
    close(await appRead(d, out, N), xs.map((v, i) => rows[Math.floor(i / 10)]! + v - 1), `call ${k}`, { rtol: 1e-5, atol: 1e-5 });
  }
  assert.is(f.traceCount, 1, 'one trace');
  a.destroy(); out.destroy();
});

test('offset: a borrowed range starting at minStorageBufferOffsetAlignment', async () => {
  const d = await device();
  const off = d.limits.minStorageBufferOffsetAlignment;
  const a = appBuffer(d, off + 64 * 4);
  fillPass(d, a, off / 4 + 64, 'x');
  const x = ts.fromGPUBuffer(a, { shape: [64], dtype: 'float32', offset: off });
  close(await x.data(), ref((i) => off / 4 + i, 64), 'read directly (an input root)');
  close(await x.add(0.5).data(), ref((i) => off / 4 + i + 0.5, 64), 'read by a kernel');
  const c = await x.gpuBuffer({ copy: true });
  assert.is(c.size, 64 * 4, 'exact size');
  close(await appRead(d, c, 64), ref((i) => off / 4 + i, 64), 'copied from the offset');
  c.destroy();
  a.destroy();
});

test('borrow vs copy: a borrowed buffer is read at realization, a copy at the call; flush() orders the app\'s writes after', async () => {
  const d = await device();
  const a = appBuffer(d, 16 * 4);
  d.queue.writeBuffer(a, 0, new Float32Array(16).fill(1));
  const borrowed = ts.fromGPUBuffer(a, { shape: [16], dtype: 'float32' });
  const snap = ts.fromGPUBuffer(a, { shape: [16], dtype: 'float32', copy: true });
  const early = borrowed.mul(10);
  void early.realize(); // not awaited: flush() waits until it is submitted
  await ts.flush();
  d.queue.writeBuffer(a, 0, new Float32Array(16).fill(5)); // after flush: ordered after Tessera's reads
  close(await early.data(), new Array(16).fill(10), 'computed before the write');
  close(await ts.fromGPUBuffer(a, { shape: [16], dtype: 'float32' }).mul(10).data(), new Array(16).fill(50), 'wrapped again: the new contents');
  close(await snap.mul(10).data(), new Array(16).fill(10), 'copy: the contents at the call');
  // a jit call in flight (its first call compiles first) is submitted once flush() resolves
  const f = ts.jit((t: Tensor) => t.add(0.25).sqrt());
  const pending = f(ts.fromGPUBuffer(a, { shape: [16], dtype: 'float32' }));
  await ts.flush();
  d.queue.writeBuffer(a, 0, new Float32Array(16).fill(-1));
  close(await (await pending).data(), new Array(16).fill(Math.sqrt(5.25)), 'jit result from the contents before the write');
  await ts.flush(); // nothing pending: resolves at once
  a.destroy();
});

test('ownership: dispose, donation and gpuBuffer never pool, destroy or hand out the borrowed buffer', async () => {
  const d = await device();
  const a = appBuffer(d, 32 * 4);
  fillPass(d, a, 32, 'x + 1.0');
  const live0 = ts.stats().liveBuffers;
  const x = ts.fromGPUBuffer(a, { shape: [32], dtype: 'float32' });
  assert.is(ts.stats().liveBuffers, live0, 'borrowing allocates nothing');
  const own = await x.gpuBuffer();
  assert.is.not(own, a, 'gpuBuffer of a borrowed tensor is Tessera\'s copy, not the app buffer');
  close(await x.data(), ref((i) => i + 1, 32), 'the tensor now reads its copy');
  x.dispose();
  const step = ts.jit((w: Tensor) => w.mul(2), { donate: [0] });
  const y = await step(ts.fromGPUBuffer(a, { shape: [32], dtype: 'float32' }));
  close(await y.data(), ref((i) => 2 * (i + 1), 32), 'jit result');
  // The buffer was neither destroyed nor recycled: fresh Tessera work does not land in it.
  const z = await ts.full([32], 7).add(0).realize();
  close(await appRead(d, a, 32), ref((i) => i + 1, 32), 'the app buffer after dispose and donation');
  close(await z.data(), new Array(32).fill(7), 'other work');
  const c = await y.gpuBuffer({ copy: true });
  y.dispose();
  close(await appRead(d, c, 32), ref((i) => 2 * (i + 1), 32), 'a copy outlives its tensor');
  c.destroy(); z.dispose();
  a.destroy();
});

test('misuse is a TesseraError at the call: usage, size, offset, mapping, no buffer, empty and odd shapes', async () => {
  const d = await device();
  const opts = { shape: [8], dtype: 'float32' as const };
  const noStorage = appBuffer(d, 64, BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
  await throwsTessera(() => ts.fromGPUBuffer(noStorage, opts), 'fromGPUBuffer', 'usage is COPY_SRC|COPY_DST', 'needs COPY_SRC|STORAGE');
  const noSrc = appBuffer(d, 64, BufferUsage.STORAGE);
  await throwsTessera(() => ts.fromGPUBuffer(noSrc, { ...opts, copy: true }), 'a copy needs COPY_SRC');
  const small = appBuffer(d, 16);
  await throwsTessera(() => ts.fromGPUBuffer(small, opts), 'needs 32 bytes from offset 0, but the buffer has 16 bytes');
  const big = appBuffer(d, 1024);
  await throwsTessera(() => ts.fromGPUBuffer(big, { ...opts, offset: 4 }), 'offset 4', 'minStorageBufferOffsetAlignment');
  await throwsTessera(() => ts.fromGPUBuffer(big, { ...opts, offset: 6, copy: true }), 'offset 6 is not a non-negative multiple of 4');
  await throwsTessera(() => ts.fromGPUBuffer(big, { ...opts, offset: 1024 - 16 + 256 }), 'minStorageBufferOffsetAlignment');
  await throwsTessera(() => ts.fromGPUBuffer({} as GPUBuffer, opts), 'expected a GPUBuffer');
  await throwsTessera(() => ts.fromGPUBuffer(big, { shape: [-1], dtype: 'float32' }), 'invalid shape');
  await throwsTessera(() => ts.fromGPUBuffer(big, { shape: [2], dtype: 'float64' as 'float32' }), "unknown dtype 'float64'");
  const mapped = d.createBuffer({ size: 64, usage: APP_USAGE, mappedAtCreation: true });
  await throwsTessera(() => ts.fromGPUBuffer(mapped, opts), 'the buffer is mapped', 'unmap');
  const x = ts.fromGPUBuffer(big, { shape: [0, 3], dtype: 'float32' });
  assert.equal(Array.from(await x.data()), [], 'an empty tensor');
  for (const b of [noStorage, noSrc, small, big, mapped]) b.destroy();
});

test('a buffer from another device, or destroyed before Tessera read it, fails at realization; tensors stay usable', async () => {
  const d = await device();
  const other = await ts.requestPreferredDevice();
  const foreign = appBuffer(other, 64);
  const before = ts.tensor([1, 2, 3]).mul(2);
  const x = ts.fromGPUBuffer(foreign, { shape: [16], dtype: 'float32' });
  await throwsTessera(() => x.add(1).data(), 'failed WebGPU validation', 'init({ device })');
  const gone = appBuffer(d, 64);
  const y = ts.fromGPUBuffer(gone, { shape: [16], dtype: 'float32' });
  gone.destroy();
  await throwsTessera(() => y.mul(3).data(), 'destroyed', 'await flush()');
  const snapForeign = ts.fromGPUBuffer(foreign, { shape: [16], dtype: 'float32', copy: true });
  await throwsTessera(() => snapForeign.data(), 'failed WebGPU validation');
  close(await before.data(), [2, 4, 6], 'other tensors still compute');
  foreign.destroy();
  other.destroy();
});

test('bool, int32 and float16 layouts', async () => {
  const d = await device();
  const a = appBuffer(d, 16);
  d.queue.writeBuffer(a, 0, new Uint32Array([0, 1, 1, 0]));
  assert.equal(Array.from(await ts.fromGPUBuffer(a, { shape: [4], dtype: 'bool' }).logicalNot().data()), [1, 0, 0, 1], 'bool is one u32 per element');
  d.queue.writeBuffer(a, 0, new Int32Array([-3, 5, 7, -9]));
  assert.equal(Array.from(await ts.fromGPUBuffer(a, { shape: [2, 2], dtype: 'int32' }).mul(2).data()), [-6, 10, 14, -18], 'int32');
  if (d.features.has('shader-f16')) {
    d.queue.writeBuffer(a, 0, new Uint16Array([0x3c00, 0x4000, 0xc200, 0x3800, 0, 0, 0, 0])); // 1, 2, -3, 0.5
    close(await ts.fromGPUBuffer(a, { shape: [4], dtype: 'float16' }).mul(2).data(), [2, 4, -6, 1], 'float16 packed halves');
  }
  a.destroy();
});

test('init: the device in use is returned again; another device after first use is a TesseraError', async () => {
  const dev = await ts.init();
  assert.is(await ts.init({ device: dev.gpu }), dev, 'same device: same Device');
  const other = await ts.requestPreferredDevice();
  await throwsTessera(() => ts.init({ device: other }), 'init', 'already runs on another GPUDevice', 'before the first realization');
  await throwsTessera(() => ts.init({ adapter: {} as GPUAdapter }), 'already chosen', 'cannot request another one');
  await throwsTessera(() => ts.init({ device: other, adapter: {} as GPUAdapter }), 'both `device` and `adapter`');
  other.destroy();
});

test('requestPreferredDevice: the adapter\'s limits and optional features, plus the app\'s; missing features are a TesseraError', async () => {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? (await ts.init(), (await import('webgpu')).create([]));
  const adapter = (await gpu.requestAdapter())!;
  const lim = adapter.limits.maxStorageBuffersPerShaderStage;
  const dev = await ts.requestPreferredDevice(adapter, { requiredLimits: { maxBindGroups: 4 } });
  assert.is(dev.limits.maxStorageBuffersPerShaderStage, lim, 'storage buffers per stage at the adapter\'s maximum');
  assert.is(dev.limits.maxBindGroups, 4, 'the app\'s limit wins');
  for (const f of ['shader-f16', 'timestamp-query', 'subgroups']) assert.is(dev.features.has(f), adapter.features.has(f), f);
  dev.destroy();
  const adapter2 = (await gpu.requestAdapter())!;
  const requiredFeatures = ['no-such-feature' as GPUFeatureName];
  await throwsTessera(() => ts.requestPreferredDevice(adapter2, { requiredFeatures }), "lacks feature 'no-such-feature'");
});

test.run();
