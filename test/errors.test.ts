/**
 * Bad input: each case throws a TesseraError naming the op and the shapes, at the call that caused
 * it (or at realization, before any GPU work, for limits only known then); afterwards the device
 * and every other live tensor still work.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { DType, Tensor } from '../index.ts';
import { allclose, assertEqualArrays, throwsTessera } from './helpers.ts';

// A tensor that lives on the GPU across every error below; checked after each one.
let survivor: Tensor;
test.before(async () => {
  survivor = ts.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
  await survivor.realize();
});

/** The device and the live tensor still work after an error; no GPU work was done for the failed call. */
async function stillWorks(): Promise<void> {
  assert.equal(await survivor.matmul(survivor).add(1).toArray(), [[8, 11], [16, 23]]);
  assert.equal(await ts.tensor([1, 2, 3]).mul(2).toArray(), [2, 4, 6]);
}

/** Asserts `f` throws the TesseraError and submits nothing to the GPU. */
async function rejects(f: () => unknown, ...patterns: (string | RegExp)[]): Promise<void> {
  const before = ts.stats();
  await throwsTessera(f, ...patterns);
  const after = ts.stats();
  assert.is(after.dispatches, before.dispatches, 'no kernel ran');
  assert.is(after.submits, before.submits, 'nothing was submitted');
  await stillWorks();
}

test('broadcasting shape mismatch', async () => {
  const a = ts.zeros([2, 3]), b = ts.zeros([4]);
  await rejects(() => a.add(b), 'add', '[2, 3]', '[4]');
  await rejects(() => ts.mul(ts.zeros([2, 3, 4]), ts.zeros([3, 3, 1])), 'mul', '[2, 3, 4]', '[3, 3, 1]');
  await rejects(() => ts.where(ts.zeros([2], 'bool'), ts.zeros([3]), 0), 'where', '[2]', '[3]');
  await rejects(() => ts.maximum(ts.zeros([5]), ts.zeros([6])), 'maximum', '[5]', '[6]');
  await rejects(() => ts.lt(ts.zeros([5]), ts.zeros([2, 6])), 'lt', '[5]', '[2, 6]');
  await rejects(() => ts.zeros([2, 3]).expand([4, 3]), 'expand', '[2, 3]', '[4, 3]');
  await rejects(() => ts.concat([ts.zeros([2, 3]), ts.zeros([2, 4])], 0), 'concat', '[2, 3]', '[2, 4]');
  await rejects(() => ts.zeros([2, 3]).reshape([4, 2]), 'reshape', '[2, 3]', '[4, 2]');
});

test('matmul inner-dimension and batch mismatches', async () => {
  await rejects(() => ts.matmul(ts.zeros([2, 3]), ts.zeros([4, 5])), 'matmul', '[2, 3]', '[4, 5]');
  await rejects(() => ts.matmul(ts.zeros([3]), ts.zeros([4])), 'matmul', '[3]', '[4]');
  await rejects(() => ts.matmul(ts.zeros([2, 2, 3]), ts.zeros([3, 3, 5])), 'matmul', '[2]', '[3]');
  await rejects(() => ts.matmul(ts.zeros([]), ts.zeros([3])), 'matmul', '[]', '[3]');
});

test('axis out of range', async () => {
  const x = ts.zeros([2, 3]);
  await rejects(() => x.sum(2), 'sum', 'axis 2', 'rank 2');
  await rejects(() => x.sum([0, -3]), 'sum', 'axis -3');
  await rejects(() => x.max(5), 'max', 'axis 5');
  await rejects(() => x.mean(-3), 'mean', 'axis -3');
  await rejects(() => x.argmax(2), 'argmax', 'axis 2');
  await rejects(() => ts.softmax(x, 2), 'softmax', 'axis 2');
  await rejects(() => x.transpose(0, 2), 'transpose', 'axis 2');
  await rejects(() => x.permute([0, 2]), 'permute');
  await rejects(() => x.unsqueeze(4), 'unsqueeze', 'axis 4');
  await rejects(() => x.squeeze(0), 'squeeze', '[2, 3]');
  await rejects(() => ts.concat([x, x], 2), 'concat', 'axis 2');
  await rejects(() => x.sum(0.5), 'sum', 'axis 0.5');
  await rejects(() => x.sum([1, 1]), 'sum', 'repeated axis');
});

test('unknown dtype', async () => {
  const bad = 'float64' as DType;
  await rejects(() => ts.tensor([1, 2], { dtype: bad }), 'tensor', "'float64'");
  await rejects(() => ts.zeros([2], bad), 'full', "'float64'");
  await rejects(() => ts.tensor([1]).cast('int8' as DType), 'cast', "'int8'");
  await rejects(() => ts.full([2], 1, 'complex64' as DType), "'complex64'");
  await rejects(() => ts.arange(0, 4, 1, 'int64' as DType), 'arange', "'int64'");
  await rejects(() => ts.eye(2, 2, 'x' as DType), 'eye', "'x'");
  await rejects(() => ts.rand([2], { dtype: 'double' as DType }), "'double'");
});

test('data whose length disagrees with the shape; bad shapes; ragged nested arrays', async () => {
  await rejects(() => ts.tensor([1, 2, 3], { shape: [2, 2] }), 'tensor', '3 values', '[2, 2]');
  await rejects(() => ts.tensor(new Float32Array(5), { shape: [2, 3] }), 'tensor', '5 values', '[2, 3]');
  await rejects(() => ts.tensor([[1, 2], [3]]), 'tensor', 'ragged');
  await rejects(() => ts.tensor([1, 2], { shape: [-2, -1] }), 'tensor', '[-2, -1]');
  await rejects(() => ts.zeros([2.5]), 'full', '[2.5]');
  await rejects(() => ts.tensor(['a' as unknown as number]), 'tensor');
});

test('other bad arguments: item() of many values, negative pads, zero steps, two -1s, empty lists', async () => {
  await rejects(() => ts.zeros([2, 3]).item(), 'item', '[2, 3]');
  await rejects(() => ts.zeros([2, 3]).pad([[0, -1], [0, 0]]), 'pad');
  await rejects(() => ts.zeros([2, 3]).pad([[0, 1]]), 'pad', '[2, 3]');
  await rejects(() => ts.zeros([2, 3]).slice([0, 0], [2, 3], [1, 0]), 'slice', 'step 0');
  await rejects(() => ts.zeros([2, 3]).reshape([-1, -1]), 'reshape', '[-1, -1]');
  await rejects(() => ts.zeros([2, 3]).reshape([4, -1]), 'reshape', '[2, 3]', '[4, -1]');
  await rejects(() => ts.arange(0, 5, 0), 'arange', 'step');
  await rejects(() => ts.concat([]), 'concat');
  await rejects(() => ts.stack([]), 'stack');
  await rejects(() => ts.max(ts.zeros([3, 0]), 1), 'max', '[3, 0]');
  await rejects(() => ts.argmax(ts.zeros([0])), 'argmax', '[0]');
  await rejects(() => ts.add(ts.zeros([2]), [1, 2] as unknown as number), 'add', 'an array', 'tensor(');
  await rejects(() => ts.mul('3' as unknown as number, ts.zeros([2])), 'mul', 'string');
  await rejects(() => ts.exp([1] as unknown as number), 'exp', 'an array');
});

test('use of a disposed tensor', async () => {
  const x = ts.tensor([1, 2, 3]);
  x.dispose();
  assert.ok(x.isDisposed);
  await rejects(() => x.add(1), 'add', 'dispose', '[3]');
  await rejects(() => x.data(), 'data', 'dispose');
  await rejects(() => ts.matmul(x, x), 'matmul', 'dispose');
  // a lazy result built before the dispose can no longer be computed either
  const y = ts.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
  await y.realize();
  const z = y.mul(2);
  y.dispose();
  await rejects(() => z.data(), 'dispose', '[2, 2]');
  // disposing twice is harmless; a reshape sharing the buffer keeps it alive
  x.dispose();
  const w = ts.tensor([5, 6, 7, 8], { dtype: 'float32' });
  await w.realize();
  const v = w.reshape([2, 2]);
  await v.realize();
  w.dispose();
  assert.equal(await v.add(1).toArray(), [[6, 7], [8, 9]]);
});

test('a tensor larger than the device storage binding limit fails before any GPU work', async () => {
  const dev = await ts.getDevice();
  const n = 2 ** 30;
  assert.ok(n * 4 > dev.caps.maxBindingSize, 'this test needs 2^30 float32 to exceed the binding limit');
  await rejects(() => ts.zeros([n]).add(1).data(), 'add', `[${n}]`, 'binding limit');
  await rejects(() => ts.zeros([n]).add(1).realize(), `[${n}]`);
  await rejects(() => ts.arange(n).mul(2).data(), 'mul', `[${n}]`);
  const big = ts.full([2 ** 15, 2 ** 15], 1);
  await rejects(() => big.exp().sum().data(), 'exp', `[${2 ** 15}, ${2 ** 15}]`, 'binding limit');
  await rejects(() => ts.sum(ts.zeros([n]).exp(), 0).data(), `[${n}]`);
});

test('NaN and Infinity in inputs are allowed (no error)', async () => {
  allclose(await ts.tensor([NaN, Infinity, -Infinity], { dtype: 'float32' }).add(1).data(), [NaN, Infinity, -Infinity]);
  await stillWorks();
});

test('errors name the op and say how to fix it', async () => {
  const e = await throwsTessera(() => ts.add(ts.zeros([2, 3]), ts.zeros([4])));
  assert.is((e as ts.TesseraError).op, 'add');
  assert.match(e.message, /Fix:/);
  const m = await throwsTessera(() => ts.matmul(ts.zeros([2, 3]), ts.zeros([4, 5])));
  assert.is((m as ts.TesseraError).op, 'matmul');
  assert.match(m.message, /Fix:/);
  assertEqualArrays(await survivor.sum().data(), [10]);
});

test.run();
