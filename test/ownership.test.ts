/**
 * Buffer ownership (runtime/engine.ts, program.ts, storage.ts; jit in ops/transforms.ts): no
 * buffer is read after it was freed or written by two owners. Cached programs are reused only
 * with the input count they were compiled for; a node remembered as realized is recomputed once
 * the tensor that held its buffer is disposed or donated; a read in flight keeps its inputs; a
 * jitted function keeps the constants it captured.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { close } from './grad-helpers.ts';

const { jit, stats } = ts;
const f32 = (x: Parameters<typeof ts.tensor>[0], o: Parameters<typeof ts.tensor>[1] = {}) => ts.tensor(x, { dtype: 'float32', ...o });

/** A full garbage collection, then the finalizers it queued. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 0)); }
}

test('a cached program runs only with as many inputs as it was compiled for (an unused input is never written)', async () => {
  // eager: x + c compiles a program with one input slot, its output in slot 1
  close(await ts.add(f32([1, 2, 3, 4, 5]), 0.8125).data(), [1.8125, 2.8125, 3.8125, 4.8125, 5.8125], 'eager');
  // the same computation jitted with a second, unused argument: a program with two input slots
  const g = jit((a: Tensor, _b: Tensor) => ts.add(a, 0.8125));
  const b = f32([10, 20, 30, 40, 50]);
  const r = await g(f32([0, 1, 2, 3, 4]), b);
  close(await r.data(), [0.8125, 1.8125, 2.8125, 3.8125, 4.8125], 'jit result');
  close(await b.data(), [10, 20, 30, 40, 50], 'the unused argument is unchanged');
  b.dispose(); // b's buffer goes back to the pool; the result's must not be the same one
  const other = await ts.full([5], 99).add(0).realize(); // likely gets b's old buffer from the pool
  close(await r.data(), [0.8125, 1.8125, 2.8125, 3.8125, 4.8125], 'the result keeps its own buffer');
  other.dispose();
  // realizeAll with an input root that is only aliased (not read by the kernel)
  const [p, q] = [f32([1, 2, 3]), f32([7, 8, 9])];
  await ts.realizeAll([p, q]);
  const s = ts.mul(q, 0.375);
  await ts.realizeAll([p, s]);
  const [p2, q2, extra] = [f32([1, 2, 3]), f32([7, 8, 9]), f32([5, 5, 5])];
  await ts.realizeAll([p2, q2, extra]);
  const s2 = ts.mul(q2, 0.375);
  await ts.realizeAll([p2, s2, extra]);
  close(await extra.data(), [5, 5, 5], 'the aliased input is unchanged');
  close(await s2.data(), [2.625, 3, 3.375], 'the computed root');
});

test('a tensor of the same (hash-consed) node as a disposed one is computed again', async () => {
  const base = f32([1, 2, 3]);
  const t1 = base.mul(10), t2 = base.mul(10); // one node, two tensors
  await t1.realize(); // remembered: that node's value is t1's buffer
  t1.dispose();
  close(await t2.data(), [10, 20, 30], 't2 after t1 was disposed');
  // the same after a collection (node and memo may or may not survive it)
  const u1 = base.mul(20);
  await u1.realize();
  u1.dispose();
  await collectGarbage();
  close(await base.mul(20).data(), [20, 40, 60], 'rebuilt after a collection');
});

test('fit consuming lazy weights (setWeights) leaves other tensors of the same nodes usable', async () => {
  ts.seed(21);
  const m = nn.sequential([nn.dense(10, { activation: 'relu', inputShape: [3] }), nn.dense(1, { activation: 'sigmoid' })]);
  m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
  m.setWeights(m.getWeights().map((w) => ts.onesLike(w))); // lazy: the layers now hold `ones` nodes
  const ones = ts.ones([3, 10]); // the kernel's node (hash-consing)
  await m.fit([[1, 2, 3], [4, 5, 6]], [[0], [1]], { epochs: 1, verbose: 0 }); // realizes and donates the weights
  close(await ones.data(), new Array(30).fill(1), 'ones([3, 10]) after fit');
  close(await ts.ones([10]).data(), new Array(10).fill(1), 'ones([10]) after fit');
});

test('a read in flight keeps its inputs: dispose() during the compile neither frees nor garbles them', async () => {
  await f32([0]).add(1).data(); // the device is up
  await collectGarbage();
  const live = stats().liveBuffers;
  const x = f32([1, 2, 3]);
  const y = ts.exp(ts.mul(x, 0.4375)).add(7.25); // a new program: the read waits for its pipelines
  const pending = y.data();
  for (let i = 0; i < 20; i++) await null; // the read has taken its inputs and is compiling
  x.dispose();
  close(await pending, [1, 2, 3].map((v) => Math.exp(v * 0.4375) + 7.25), 'values read after the dispose', { rtol: 1e-5 });
  y.dispose();
  await collectGarbage();
  assert.is(stats().liveBuffers, live, 'no buffer left behind');
});

test('a jitted function keeps the constants it captured', async () => {
  const base = f32([1, 2, 3]);
  const c = base.mul(10); // lazy, captured below
  const t = base.mul(10); // the same node, realized: the trace reads t's buffer for c
  await t.realize();
  const g = jit((x: Tensor) => x.add(c));
  close(await (await g(f32([0, 0, 0]))).data(), [10, 20, 30], 'first call');
  t.dispose();
  close(await (await g(f32([1, 1, 1]))).data(), [11, 21, 31], 'after the captured buffer\'s tensor was disposed');
  close(await c.data(), [10, 20, 30], 'c itself');
  // a realized tensor captured directly, then disposed by its owner
  const w = f32([4, 5, 6]);
  await w.realize();
  const h = jit((x: Tensor) => x.mul(w));
  close(await (await h(f32([1, 1, 1]))).data(), [4, 5, 6], 'first call');
  w.dispose();
  close(await (await h(f32([2, 2, 2]))).data(), [8, 10, 12], 'after w.dispose()');
  assert.is(h.traceCount, 1);
});

test.run();
