/** matmul: 2-D, batched, broadcast batch, 1-D vectors, transposed operands, fused prologues, int dtypes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { allclose, assertEqualArrays, checkAgainstInterpreter, checkAllAgainstInterpreter, kernelSummary, rnd, rndInt, scheduleOf } from './helpers.ts';

const TOL = { rtol: 1e-5, atol: 1e-5 };

test('hand-computed 2x2 and 2x3 @ 3x2', async () => {
  assert.equal(await ts.matmul(ts.tensor([[1, 2], [3, 4]], { dtype: 'float32' }), ts.tensor([[5, 6], [7, 8]], { dtype: 'float32' })).toArray(), [[19, 22], [43, 50]]);
  const a = ts.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
  assert.equal(await a.matmul(a.T).toArray(), [[14, 32], [32, 77]]);
  assert.equal(await ts.matmul(ts.tensor([1, 2, 3]), ts.tensor([4, 5, 6])).toArray(), 32);
});

test('2-D, awkward sizes (edge tiles)', async () => {
  for (const [m, k, n] of [[1, 1, 1], [17, 33, 9], [33, 5, 65]]) {
    const y = ts.matmul(rnd([m!, k!], { seed: m! * 7 + 1 }), rnd([k!, n!], { seed: n! * 3 + 2 }));
    assert.equal(y.shape, [m, n]);
    await checkAgainstInterpreter(y, { ...TOL, msg: `${m}x${k}x${n}` });
  }
});

test('batched and broadcast batch dims', async () => {
  const y = ts.matmul(rnd([2, 5, 7], { seed: 1 }), rnd([2, 7, 3], { seed: 2 }));
  assert.equal(y.shape, [2, 5, 3]);
  await checkAgainstInterpreter(y, TOL);
  const z = ts.matmul(rnd([2, 1, 5, 7], { seed: 3 }), rnd([3, 7, 4], { seed: 4 }));
  assert.equal(z.shape, [2, 3, 5, 4]);
  await checkAgainstInterpreter(z, TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([4, 6], { seed: 5 }), rnd([3, 6, 2], { seed: 6 })), TOL); // 2-D operand broadcast over the batch
});

test('1-D vector operands (numpy semantics)', async () => {
  const vm = ts.matmul(rnd([7], { seed: 11 }), rnd([7, 3], { seed: 12 }));
  assert.equal(vm.shape, [3]);
  await checkAgainstInterpreter(vm, TOL);
  const mv = ts.matmul(rnd([5, 7], { seed: 13 }), rnd([7], { seed: 14 }));
  assert.equal(mv.shape, [5]);
  await checkAgainstInterpreter(mv, TOL);
  const vv = ts.dot(rnd([7], { seed: 15 }), rnd([7], { seed: 16 }));
  assert.equal(vv.shape, []);
  await checkAgainstInterpreter(vv, TOL);
  const bv = ts.matmul(rnd([2, 5, 7], { seed: 17 }), rnd([7], { seed: 18 }));
  assert.equal(bv.shape, [2, 5]);
  await checkAgainstInterpreter(bv, TOL);
});

test('transposed and non-contiguous operands, fused prologue expressions', async () => {
  await checkAgainstInterpreter(ts.matmul(rnd([7, 5], { seed: 21 }).T, rnd([7, 3], { seed: 22 })), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([5, 7], { seed: 23 }), rnd([3, 7], { seed: 24 }).T), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([7, 5], { seed: 25 }).T, rnd([3, 7], { seed: 26 }).T), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([2, 7, 5], { seed: 27 }).transpose(1, 2), rnd([7, 2, 3], { seed: 28 }).permute([1, 0, 2])), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([10, 8], { seed: 29 }).slice([1, 0], [10, 8], [2, 2]), rnd([4, 6], { seed: 30 }).exp()), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([4, 3], { seed: 31 }).pad([[0, 1], [1, 1]]), rnd([5, 2], { seed: 32 }).relu().add(1)), TOL);
});

test('epilogues: bias, activation, residual; a matmul read twice', async () => {
  const x = rnd([6, 5], { seed: 41 }), w = rnd([5, 4], { seed: 42 }), b = rnd([4], { seed: 43 });
  await checkAgainstInterpreter(ts.relu(ts.matmul(x, w).add(b)), TOL);
  const r = rnd([6, 4], { seed: 44 });
  await checkAgainstInterpreter(ts.matmul(rnd([6, 5], { seed: 45 }), rnd([5, 4], { seed: 46 })).mul(0.5).add(r).tanh(), TOL);
  const m = ts.matmul(rnd([3, 5], { seed: 47 }), rnd([5, 3], { seed: 48 }));
  await checkAgainstInterpreter(m.add(m.T), TOL); // epilogue reads the matmul at a transposed index: not fusable
  await checkAgainstInterpreter(ts.softmax(ts.matmul(rnd([4, 5], { seed: 49 }), rnd([5, 6], { seed: 50 }))), TOL);
  await checkAgainstInterpreter(ts.sum(ts.matmul(rnd([4, 5], { seed: 51 }), rnd([5, 6], { seed: 52 })), 0), TOL);
});

test('epilogues that change dtype or shape, and two matmuls added', async () => {
  await checkAgainstInterpreter(ts.matmul(rndInt([3, 4], { seed: 81 }), rndInt([4, 5], { seed: 82 })).add(0.5));
  await checkAgainstInterpreter(ts.matmul(rndInt([3, 4], { seed: 83 }), rndInt([4, 5], { seed: 84 })).mul(1.5).relu());
  await checkAgainstInterpreter(ts.matmul(rnd([3, 4], { seed: 85 }), rnd([4, 5], { seed: 86 })).gt(0));
  await checkAgainstInterpreter(ts.matmul(rnd([2, 3, 4], { seed: 87 }), rnd([2, 4, 5], { seed: 88 })).reshape([6, 5]).add(rnd([5], { seed: 89 })), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([3, 4], { seed: 90 }), rnd([4, 5], { seed: 91 })).add(ts.matmul(rnd([3, 2], { seed: 92 }), rnd([2, 5], { seed: 93 }))), TOL);
});

test('several epilogues in one matmul kernel: the product kept where another kernel reads it; an Adam update of the weight a gradient matmul computes', async () => {
  // gelu(z) and z itself (read again by a later reduction): one kernel writing both.
  const z = ts.matmul(rnd([6, 5], { seed: 101 }), rnd([5, 4], { seed: 102 })).add(rnd([4], { seed: 103 }));
  const outs = [ts.gelu(z).mul(2), z.sum(0)];
  const ks = scheduleOf(outs);
  const mms = ks.filter((k) => k.kind === 'matmul');
  assert.is(mms.length, 1, kernelSummary(ks).join('\n'));
  assert.is(mms[0]!.outputs.length, 2, kernelSummary(ks).join('\n'));
  await checkAllAgainstInterpreter(outs, TOL);
  // dW = xᵀ·dy, then m, v and the weight updated from it at each element: one kernel, three outputs.
  const x = rnd([7, 5], { seed: 104 }), dy = rnd([7, 3], { seed: 105 }), w = rnd([5, 3], { seed: 106 });
  const m = rnd([5, 3], { seed: 107 }), v = rnd([5, 3], { seed: 108 }).abs();
  const g = ts.matmul(x.T, dy);
  const m2 = m.mul(0.9).add(g.mul(0.1)), v2 = v.mul(0.999).add(g.mul(g).mul(0.001));
  const w2 = w.sub(m2.div(v2.sqrt().add(1e-3)).mul(0.01));
  const step = scheduleOf([w2, m2, v2]);
  assert.is(step.length, 1, kernelSummary(step).join('\n'));
  await checkAllAgainstInterpreter([w2, m2, v2], TOL);
});

test('[..., M, K] · [K, N] is one 2-D product: the weight gradient contracts over every row in one matmul', async () => {
  const x = rnd([3, 4, 5], { seed: 111 }), w = rnd([5, 6], { seed: 112 });
  const y = ts.matmul(x, w);
  assert.equal(y.shape, [3, 4, 6]);
  await checkAgainstInterpreter(y, TOL);
  await checkAgainstInterpreter(ts.matmul(x.permute([1, 0, 2]), w).relu(), TOL); // a permuted operand: its flattening is a view
  await checkAgainstInterpreter(ts.matmul(x, rnd([5], { seed: 113 })), TOL);      // matrix · vector keeps [3, 4]
  const dw = ts.grad((ww: ts.Tensor) => ts.matmul(x, ww).square().sum())(w);
  const ks = scheduleOf(dw);
  assert.ok(ks.every((k) => k.kind === 'matmul'), kernelSummary(ks).join('\n')); // no batched product summed afterwards
  await checkAgainstInterpreter(dw, TOL);
});

test('int32 and bool matmul', async () => {
  const y = ts.matmul(rndInt([4, 5], { seed: 61 }), rndInt([5, 3], { seed: 62 }));
  assert.is(y.dtype, 'int32');
  await checkAgainstInterpreter(y);
  const b = ts.matmul(ts.tensor([[true, false], [true, true]]), ts.tensor([[true, true], [false, true]]));
  assert.is(b.dtype, 'int32');
  assertEqualArrays(await b.data(), [1, 1, 1, 2]);
  await checkAgainstInterpreter(ts.matmul(rndInt([3, 4], { seed: 63 }), rnd([4, 2], { seed: 64 }))); // promoted to float32
  await checkAgainstInterpreter(ts.matmul(rndInt([4, 5], { seed: 65 }), rndInt([5, 3], { seed: 66 })).add(1).maximum(0));
});

test('matmul with a size-1 dimension and K = 1', async () => {
  await checkAgainstInterpreter(ts.matmul(rnd([1, 9], { seed: 71 }), rnd([9, 1], { seed: 72 })), TOL);
  await checkAgainstInterpreter(ts.matmul(rnd([6, 1], { seed: 73 }), rnd([1, 5], { seed: 74 })), TOL);
  allclose(await ts.matmul(ts.tensor([[2]], { dtype: 'float32' }), ts.tensor([[3]], { dtype: 'float32' })).data(), [6]);
});

test.run();
