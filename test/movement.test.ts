/** Movement ops as views (no copies): reshape permute transpose expand slice pad concat stack squeeze unsqueeze flatten, and compositions. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { assertEqualArrays, checkAgainstInterpreter, rnd, rndInt } from './helpers.ts';

const iota = (shape: number[]) => ts.arange(shape.reduce((a, b) => a * b, 1)).reshape(shape);

test('each movement op alone', async () => {
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 1 }).reshape([4, -1]));
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 2 }).permute([2, 0, 1]));
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 3 }).permute([-1, 1, 0]));
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 4 }).transpose());
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 5 }).transpose(0, 2));
  await checkAgainstInterpreter(rnd([3, 1], { seed: 6 }).expand([2, 3, 5]));
  await checkAgainstInterpreter(rnd([3, 1], { seed: 7 }).expand([-1, 4]));
  await checkAgainstInterpreter(rnd([2, 1, 4, 1], { seed: 8 }).squeeze());
  await checkAgainstInterpreter(rnd([2, 1, 4, 1], { seed: 9 }).squeeze(-1));
  await checkAgainstInterpreter(rnd([2, 4], { seed: 10 }).unsqueeze(1));
  await checkAgainstInterpreter(rnd([2, 4], { seed: 11 }).unsqueeze(-1));
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 12 }).permute([1, 2, 0]).flatten());
});

test('slice with begins, ends, steps and negative indices', async () => {
  await checkAgainstInterpreter(rnd([6, 7], { seed: 21 }).slice([1, 2], [5, 7]));
  await checkAgainstInterpreter(rnd([6, 7], { seed: 22 }).slice([0, 1], [6, 7], [2, 3]));
  await checkAgainstInterpreter(rnd([6, 7], { seed: 23 }).slice([-4, -1]));
  await checkAgainstInterpreter(rnd([6, 7], { seed: 24 }).slice([1], [-1]));
  await checkAgainstInterpreter(rnd([5, 4, 3], { seed: 25 }).slice([0, 0, 1], [5, undefined, 3], [3, 2, 1]));
  const y = iota([4, 5]).slice([1, 0], [4, 5], [2, 2]);
  assert.equal(y.shape, [2, 3]);
  assert.equal(await y.toArray(), [[5, 7, 9], [15, 17, 19]]);
  assert.equal(iota([4, 5]).slice([3], [1]).shape, [0, 5]); // empty slice
});

test('pad with zero and non-zero values', async () => {
  await checkAgainstInterpreter(rnd([2, 3], { seed: 31 }).pad([[1, 0], [2, 3]]));
  await checkAgainstInterpreter(rnd([2, 3], { seed: 32 }).pad([[0, 2], [1, 1]], -5));
  await checkAgainstInterpreter(rndInt([3], { seed: 33 }).pad([[2, 2]], 7));
  assert.equal(await ts.tensor([1, 2]).pad([[1, 2]], 9).toArray(), [9, 1, 2, 9, 9]);
  assert.equal(await ts.tensor([[1, 2]]).pad([[1, 0], [0, 1]]).toArray(), [[0, 0, 0], [1, 2, 0]]);
});

test('concat and stack along every axis', async () => {
  for (const axis of [0, 1, -1]) {
    const a = rnd([2, 3], { seed: 41 + axis }), b = rnd([2, 3], { seed: 51 + axis });
    await checkAgainstInterpreter(ts.concat([a, b, rnd([2, 3], { seed: 61 })], axis));
    await checkAgainstInterpreter(ts.stack([rnd([2, 3], { seed: 71 }), rnd([2, 3], { seed: 72 })], axis));
  }
  await checkAgainstInterpreter(ts.concat([rnd([1, 4], { seed: 81 }), rnd([3, 4], { seed: 82 })], 0));
  assert.equal(await ts.concat([ts.tensor([[1, 2]]), ts.tensor([[3, 4], [5, 6]])]).toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.equal(await ts.stack([ts.tensor([1, 2]), ts.tensor([3, 4])], 1).toArray(), [[1, 3], [2, 4]]);
  assert.equal(await ts.concat([ts.tensor([true]), ts.tensor([false, true])]).toArray(), [true, false, true]);
  await checkAgainstInterpreter(ts.concat([ts.tensor([-0.5, NaN], { dtype: 'float32' }), ts.tensor([Infinity], { dtype: 'float32' })]));
});

test('compositions: transpose then reshape then add; slice of a transposed tensor; pad of an expression', async () => {
  const x = rnd([4, 6], { seed: 91 });
  await checkAgainstInterpreter(x.T.reshape([3, 8]).add(rnd([8], { seed: 92 })));
  await checkAgainstInterpreter(rnd([5, 7], { seed: 93 }).T.slice([1, 0], [6, 5], [2, 2]));
  await checkAgainstInterpreter(rnd([3, 4], { seed: 94 }).exp().mul(2).pad([[1, 1], [2, 0]], 1));
  await checkAgainstInterpreter(rnd([2, 3, 4], { seed: 95 }).permute([2, 0, 1]).reshape([4, 6]).slice([1, 1], [4, 6], [1, 2]).add(1));
  await checkAgainstInterpreter(rnd([3, 4], { seed: 96 }).pad([[1, 1], [1, 1]]).T.reshape([-1]).slice([2], [30], [3]));
  await checkAgainstInterpreter(rnd([2, 1, 3], { seed: 97 }).expand([2, 4, 3]).permute([1, 0, 2]).reshape([8, 3]).mul(rnd([8, 1], { seed: 98 })));
  await checkAgainstInterpreter(rnd([6], { seed: 99 }).reshape([2, 3]).T.reshape([6]).reshape([3, 2]).T);
  await checkAgainstInterpreter(rnd([4, 4], { seed: 100 }).slice([1, 1], [3, 3]).pad([[1, 1], [1, 1]]).add(rnd([4, 4], { seed: 101 }).T));
  // hand value: transpose then reshape
  assert.equal(await iota([2, 3]).T.reshape([2, 3]).toArray(), [[0, 3, 1], [4, 2, 5]]);
  assert.equal(await iota([2, 3]).T.slice([1, 0]).add(10).toArray(), [[11, 14], [12, 15]]);
});

test('views of realized (GPU-resident) tensors are non-contiguous reads of the buffer', async () => {
  const x = iota([3, 4]).mul(1.5);
  await x.realize(); // now an input bound to a GPU buffer
  assert.equal(await x.T.toArray(), [[0, 6, 12], [1.5, 7.5, 13.5], [3, 9, 15], [4.5, 10.5, 16.5]]);
  assert.equal(await x.slice([0, 1], [3, 4], [2, 2]).toArray(), [[1.5, 4.5], [13.5, 16.5]]);
  assert.equal(await x.reshape([2, 6]).sum(0).toArray(), [9, 12, 15, 18, 21, 24]);
  assert.equal(await x.reshape([12]).slice([10]).toArray(), [15, 16.5]);
  const y = x.T.add(x.sum(1)); // broadcast a reduction against a transposed view
  assert.equal(await y.toArray(), [[9, 39, 69], [10.5, 40.5, 70.5], [12, 42, 72], [13.5, 43.5, 73.5]]);
});

test('views on int32 and bool tensors', async () => {
  await checkAgainstInterpreter(rndInt([3, 4], { seed: 111 }).T.slice([1], [4]).pad([[0, 1], [1, 0]], -1));
  await checkAgainstInterpreter(ts.gt(rnd([3, 4], { seed: 112 }), 0).T.reshape([2, 6]));
  await checkAgainstInterpreter(ts.tensor([true, false, true]).pad([[1, 1]]));
  await checkAgainstInterpreter(ts.tensor([true, false, true]).pad([[1, 1]], 1));
});

test('views of 0-d scalars and size-1 tensors', async () => {
  await checkAgainstInterpreter(ts.tensor(3).reshape([1, 1]).expand([2, 3]));
  await checkAgainstInterpreter(ts.tensor([5.5]).reshape([]).add(1));
  await checkAgainstInterpreter(ts.tensor(2.5).unsqueeze(0).pad([[1, 2]]));
  assertEqualArrays(await ts.tensor([[7]]).squeeze().data(), [7]);
});

test.run();
