/** Reductions: sum mean max min argmax argmin over single, multiple, all and negative axes, with keepdims. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { allclose, assertEqualArrays, checkAgainstInterpreter, rnd, rndInt } from './helpers.ts';

const SUM_TOL = { rtol: 1e-5, atol: 1e-5 };
type Red = (x: Tensor, axes?: number | number[], keepdims?: boolean) => Tensor;
const reds: [string, Red][] = [['sum', ts.sum], ['mean', ts.mean], ['max', ts.max], ['min', ts.min]];
const axesCases: [number | number[] | undefined, number[], number[]][] = [
  // axes, result shape, keepdims shape, for input [3, 4, 5]
  [0, [4, 5], [1, 4, 5]],
  [1, [3, 5], [3, 1, 5]],
  [2, [3, 4], [3, 4, 1]],
  [-1, [3, 4], [3, 4, 1]],
  [-2, [3, 5], [3, 1, 5]],
  [[0, 2], [4], [1, 4, 1]],
  [[-1, -3], [4], [1, 4, 1]],
  [[1, 2], [3], [3, 1, 1]],
  [[0, 1], [5], [1, 1, 5]],
  [undefined, [], [1, 1, 1]],
];

reds.forEach(([name, f], opIndex) => {
  // keepdims alternates per axis set and per op, so every (op, axes) and (axes, keepdims) pair is covered
  test(`${name} float32 [3,4,5] over every axis set, with and without keepdims`, async () => {
    let seed = 100;
    for (const [c, [axes, shape, kshape]] of axesCases.entries()) {
      const keep = (c + opIndex) % 2 === 0;
      const y = f(rnd([3, 4, 5], { seed: seed++ }), axes, keep);
      assert.equal(y.shape, keep ? kshape : shape, `${name}(${JSON.stringify(axes)}, ${keep}) shape`);
      assert.equal(f(rnd([3, 4, 5], { seed }), axes, !keep).shape, keep ? shape : kshape, `${name}(${JSON.stringify(axes)}, ${!keep}) shape`);
      await checkAgainstInterpreter(y, { ...SUM_TOL, msg: `${name} axes ${JSON.stringify(axes)} keepdims ${keep}` });
    }
  });
  test(`${name} int32 over non-last and all axes`, async () => {
    if (name === 'mean') {
      const y = ts.mean(rndInt([4, 6], { seed: 7 }), 0);
      assert.is(y.dtype, 'float32');
      return void await checkAgainstInterpreter(y, SUM_TOL);
    }
    await checkAgainstInterpreter(f(rndInt([4, 6], { seed: 8 }), 0));
    await checkAgainstInterpreter(f(rndInt([2, 3, 4], { seed: 9 }), [0, 2], true));
    await checkAgainstInterpreter(f(rndInt([2, 3, 4], { seed: 10 })));
  });
});

const argCases: [number | undefined, boolean, number[]][] = [[0, false, [4, 5]], [1, true, [3, 1, 5]], [-1, false, [3, 4]], [2, true, [3, 4, 1]], [undefined, false, []]];
for (const [name, f] of [['argmax', ts.argmax], ['argmin', ts.argmin]] as [string, (x: Tensor, a?: number, k?: boolean) => Tensor][]) {
  test(`${name} over each axis (ties pick the first index), keepdims, all`, async () => {
    let seed = 200;
    for (const [axis, keep, shape] of argCases) {
      const x = rndInt([3, 4, 5], { lo: -3, hi: 3, seed: seed++ }); // small range: many ties
      const y = f(x, axis, keep);
      assert.is(y.dtype, 'int32');
      assert.equal(y.shape, shape);
      await checkAgainstInterpreter(y, { msg: `${name} axis ${axis}` });
      if (axis === undefined || axis === 1) await checkAgainstInterpreter(f(rnd([3, 4, 5], { seed: seed++ }), axis, keep), { msg: `${name} float axis ${axis}` });
    }
  });
}

test('hand-computed reductions', async () => {
  const x = () => ts.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
  assert.equal(await ts.sum(x(), 0).toArray(), [5, 7, 9]);
  assert.equal(await ts.sum(x(), 1, true).toArray(), [[6], [15]]);
  assert.equal(await ts.sum(x()).toArray(), 21);
  assert.equal(await ts.mean(x(), -1).toArray(), [2, 5]);
  assert.equal(await ts.max(x(), 0).toArray(), [4, 5, 6]);
  assert.equal(await ts.min(x(), [0, 1]).toArray(), 1);
  assert.equal(await ts.argmax(ts.tensor([[3, 9, 9], [7, 1, 7]]), 1).toArray(), [1, 0]);
  assert.equal(await ts.argmin(ts.tensor([[3, 9, 9], [7, 1, 7]]), 0).toArray(), [0, 1, 1]);
  assert.equal(await ts.argmax(ts.tensor([[3, 9, 9], [7, 1, 17]])).toArray(), 5);
  allclose(await ts.variance(x(), 1).data(), [2 / 3, 2 / 3]);
  allclose(await ts.logsumexp(x(), 1).data(), [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(5) + Math.exp(6))]);
});

test('reductions of expressions and of non-contiguous views', async () => {
  await checkAgainstInterpreter(ts.sum(rnd([4, 6], { seed: 1 }).mul(rnd([6], { seed: 2 })).exp(), 1), SUM_TOL);
  await checkAgainstInterpreter(ts.max(rnd([4, 6], { seed: 3 }).T, 1), SUM_TOL);
  await checkAgainstInterpreter(ts.sum(rnd([5, 6, 7], { seed: 4 }).permute([2, 0, 1]).slice([1, 0, 0], [7, 5, 6], [2, 2, 1]), [0, 2]), SUM_TOL);
  await checkAgainstInterpreter(ts.mean(rnd([3, 4], { seed: 5 }).pad([[1, 2], [0, 3]], 2), 0), SUM_TOL);
  await checkAgainstInterpreter(ts.argmax(rnd([4, 1], { seed: 6 }).expand([4, 9]).add(rnd([9], { seed: 7 })), 1));
});

test('reductions with many rows (one invocation per row) and few long rows (one workgroup per row)', async () => {
  await checkAgainstInterpreter(ts.sum(rnd([300, 20], { seed: 11 }), 0), SUM_TOL); // strided, many columns
  await checkAgainstInterpreter(ts.sum(rnd([20, 300], { seed: 12 }), 0), SUM_TOL); // non-last axis, 300 rows
  await checkAgainstInterpreter(ts.max(rnd([700, 3], { seed: 13 }), 1));           // many short rows
  await checkAgainstInterpreter(ts.min(rnd([2, 1000], { seed: 14 }), 1));          // few long rows
  await checkAgainstInterpreter(ts.sum(rnd([3, 257, 5], { seed: 15 }), [0, 2]), SUM_TOL);
  await checkAgainstInterpreter(ts.argmin(rnd([2, 777], { seed: 16 }), 1));
});

test('long reductions split in two stages (split-reductions pass), awkward lengths', async () => {
  const n = 65536 * 3 + 1;
  const x = rnd([n], { seed: 21 });
  await checkAgainstInterpreter(ts.sum(x), { rtol: 1e-4, atol: 1e-3 });
  await checkAgainstInterpreter(ts.max(rnd([n], { seed: 22 })));
  await checkAgainstInterpreter(ts.min(rnd([2, 9001], { seed: 23 }), 1));
  await checkAgainstInterpreter(ts.argmax(rnd([n], { seed: 24 })));
  await checkAgainstInterpreter(ts.sum(rndInt([3, 10007], { seed: 25 }), [1]));
  await checkAgainstInterpreter(ts.mean(rnd([10007, 2], { seed: 26 }), 0), { rtol: 1e-4, atol: 1e-5 });
  // exact hand values: sum of 0..n-1 in int32 (wraps), and of 0..9999
  assertEqualArrays(await ts.sum(ts.arange(n)).data(), [Number(BigInt.asIntN(32, BigInt(((n - 1) * n) / 2)))]);
  assertEqualArrays(await ts.sum(ts.arange(10000)).data(), [49995000]);
});

test('composed reductions: softmax / logSoftmax over any axis, layerNorm, variance, logsumexp', async () => {
  await checkAgainstInterpreter(ts.softmax(rnd([7, 300], { lo: -3, hi: 3, seed: 41 }), 0));
  await checkAgainstInterpreter(ts.softmax(rnd([3, 7, 5], { lo: -3, hi: 3, seed: 42 }), 1));
  await checkAgainstInterpreter(ts.softmax(rnd([5, 5], { seed: 43 }).add(rnd([5, 5], { seed: 44 }).T)));
  await checkAgainstInterpreter(ts.logSoftmax(rnd([3, 7, 5], { lo: -3, hi: 3, seed: 45 }), -1), SUM_TOL);
  await checkAgainstInterpreter(ts.layerNorm(rnd([4, 9], { seed: 46 }), { gamma: rnd([9], { seed: 47 }), beta: rnd([9], { seed: 48 }) }), { rtol: 1e-4, atol: 1e-5 });
  await checkAgainstInterpreter(ts.layerNorm(rnd([4, 3, 9], { seed: 49 }), { axes: [-2, -1] }), { rtol: 1e-4, atol: 1e-5 });
  await checkAgainstInterpreter(ts.variance(rnd([4, 9], { seed: 50 }), [0, 1]), { rtol: 1e-4 });
  await checkAgainstInterpreter(ts.logsumexp(rnd([4, 9], { lo: -3, hi: 3, seed: 51 }), 0), SUM_TOL);
  await checkAgainstInterpreter(ts.sum(ts.sum(rnd([4, 5, 6], { seed: 52 }), 2).exp(), 0), SUM_TOL);
  const x = rnd([5, 8], { seed: 53 });
  const s = x.sum(1, true);
  await checkAgainstInterpreter(x.div(s).add(s.T.reshape([5, 1])), SUM_TOL);
});

test('reductions of int32, uint32 and bool long enough to be split (identity padding per dtype)', async () => {
  await checkAgainstInterpreter(ts.max(rndInt([20000], { lo: -1000000, hi: -10, seed: 61 })));
  await checkAgainstInterpreter(ts.min(rndInt([20000], { lo: 100, hi: 1000000, seed: 62, dtype: 'uint32' })));
  await checkAgainstInterpreter(ts.argmin(rndInt([20001], { lo: 5, hi: 1000, seed: 63 })));
  assertEqualArrays(await ts.max(ts.tensor(new Array(20000).fill(false))).data(), [0]);
  assertEqualArrays(await ts.min(ts.tensor(new Array(20001).fill(true))).data(), [1]);
  assertEqualArrays(await ts.sum(ts.tensor(new Array(20001).fill(true))).data(), [20001]);
});

test('reductions of a 0-d scalar and over size-1 axes', async () => {
  assertEqualArrays(await ts.sum(ts.tensor(4.5)).data(), [4.5]);
  assertEqualArrays(await ts.max(ts.tensor([[7]]), [0, 1]).data(), [7]);
  assertEqualArrays(await ts.argmax(ts.tensor([[7], [8]]), 1).data(), [0, 0]);
  await checkAgainstInterpreter(ts.sum(rnd([1, 5, 1], { seed: 31 }), [0, 2]));
});

test.run();
