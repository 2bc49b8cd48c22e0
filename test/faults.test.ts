/**
 * Faults: many realizations in flight, interleaved jitted calls, dispose while a computation
 * reading the tensor is in flight, a failed allocation (error scopes), and device loss with its
 * recovery (recoverDevice(); tensors from JS data upload again, GPU-only tensors report they were
 * lost). The device-loss test runs last and leaves a fresh, working device for the files after it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { engine } from '../runtime/engine.ts';
import { throwsTessera } from './helpers.ts';

const range = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i * k) % 17 - 8);

test('32 realizations in flight at once, each correct', async () => {
  const xs = Array.from({ length: 32 }, (_, i) => ts.tensor(range(40 + i, i + 1)));
  const outs = await Promise.all(xs.map((x, i) => x.mul(i).add(1).sum().data()));
  outs.forEach((d, i) => assert.is(d[0], range(40 + i, i + 1).reduce((s, v) => s + v * i + 1, 0), `realization ${i}`));
});

test('interleaved calls of two jitted functions, not awaited in order', async () => {
  const f = ts.jit((x: Tensor) => x.mul(2).add(1)), g = ts.jit((x: Tensor, y: Tensor) => x.matmul(y).sum(0));
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 12; i++) {
    const x = ts.tensor(range(6, i + 2), { shape: [2, 3] });
    calls.push(f(x).then((t) => t.toArray()), g(x, ts.tensor(range(6, 3), { shape: [3, 2] })).then((t) => t.toArray()));
  }
  const res = await Promise.all(calls);
  for (let i = 0; i < 12; i++) {
    const x = range(6, i + 2), y = range(6, 3);
    assert.equal(res[2 * i], [x.slice(0, 3).map((v) => 2 * v + 1), x.slice(3).map((v) => 2 * v + 1)], `f call ${i}`);
    const mm = [0, 1].map((c) => [0, 1].reduce((s, r) => s + [0, 1, 2].reduce((a, k) => a + x[r * 3 + k]! * y[k * 2 + c]!, 0), 0));
    assert.equal(res[2 * i + 1], mm, `g call ${i}`);
  }
  assert.is(f.traceCount, 1); assert.is(g.traceCount, 1);
});

test('dispose while a computation reading the tensor is in flight: correct results or a clear error', async () => {
  const x = ts.tensor([1, 2, 3, 4]);
  const p = x.mul(3).data(); // compiles and submits asynchronously
  x.dispose();
  assert.equal(Array.from(await p), [3, 6, 9, 12], 'an eager read started before the dispose completes');
  const y = ts.tensor([5, 6]), r = y.add(1);
  const q = r.realize();
  y.dispose();
  assert.equal(Array.from(await (await q).data()), [6, 7]);
  const z = ts.tensor([1.5, 2.5]), f = ts.jit((t: Tensor) => t.mul(2));
  await f(ts.tensor([0, 0])); // traced: the next call only waits for the cached program
  const call = f(z);
  z.dispose();
  try { assert.equal(Array.from(await (await call).data()), [3, 5]); } catch (e) { assert.instance(e,
    ts.TesseraError); assert.match((e as Error).message, /dispose/); }
});

test('an allocation that fails on the device is a TesseraError; the pool and other tensors are intact', async () => {
  const e = await engine(), gpu = e.dev.gpu;
  const keep = ts.tensor([1, 2, 3]).mul(2);
  await keep.realize();
  e.pool.trim(); // nothing pooled: the next realization creates its buffers
  const create = gpu.createBuffer.bind(gpu);
  // Inject the failure WebGPU reports for an allocation it cannot make: an error in an error scope, an invalid buffer.
  (gpu as { createBuffer: GPUDevice['createBuffer'] }).createBuffer = (d) => create(d.size === 1024 ? { ...d, size: 2 ** 52 } : d);
  try {
    const big = ts.tensor(range(200, 3)).mul(4).add(1); // 800 bytes: a 1024-byte buffer
    await throwsTessera(() => big.data(), 'realize', 'the device rejected the work', 'Buffer size');
  } finally { (gpu as { createBuffer: GPUDevice['createBuffer'] }).createBuffer = create; }
  assert.equal(Array.from(await keep.data()), [2, 4, 6], 'a tensor computed before the failure');
  const again = ts.tensor(range(200, 3)).mul(4).add(1);
  assert.equal(Array.from(await again.data()), range(200, 3).map((v) => 4 * v + 1), 'the same computation after the failure');
  assert.ok(ts.stats().liveBuffers >= 0);
});

test('device loss: a clear error until recoverDevice(); then data tensors upload again and GPU-only tensors report they were lost', async () => {
  const host = ts.tensor([1, 2, 3, 4]);
  const computed = host.mul(10);
  await computed.realize();
  const lazy = host.add(100); // built before the loss, never realized
  const f = ts.jit((t: Tensor) => t.mul(-1));
  assert.equal(Array.from(await (await f(host)).data()), [-1, -2, -3, -4]);
  const dev = await ts.getDevice();
  const inFlight = host.mul(7).data();
  dev.gpu.destroy();
  try { assert.equal(Array.from(await inFlight), [7, 14, 21, 28]); } catch (e) { assert.instance(e,
    ts.TesseraError); assert.match((e as Error).message, /device was lost/); }
  await dev.gpu.lost;
  await throwsTessera(() => host.add(1).data(), 'device', 'the WebGPU device was lost (destroyed', 'Fix: call recoverDevice()');
  await throwsTessera(() => f(host), 'device was lost');
  await throwsTessera(() => ts.getDevice(), 'device was lost');
  ts.recoverDevice();
  const dev2 = await ts.getDevice();
  assert.ok(dev2.gpu !== dev.gpu, 'a new device');
  assert.equal(Array.from(await host.add(1).data()), [2, 3, 4, 5], 'a tensor made from JS data uploads again');
  assert.equal(Array.from(await lazy.data()), [101, 102, 103, 104], 'a lazy result of data tensors computes on the new device');
  await throwsTessera(() => computed.data(), 'data', 'computed on a WebGPU device that has been lost', 'Fix: recompute it');
  await throwsTessera(() => computed.add(1).data(), 'has been lost');
  assert.equal(Array.from(await (await f(host)).data()), [-1, -2, -3, -4], 'a jitted function traces again for the new device');
  assert.ok(f.traceCount > 1, 'traced again');
  assert.equal(await ts.tensor([[1, 2], [3, 4]]).matmul(ts.tensor([[1], [1]])).toArray(), [[3], [7]]);
});

test.run();
