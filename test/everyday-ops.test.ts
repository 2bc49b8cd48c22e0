/**
 * The everyday ops (ops/math.ts, rearrange.ts, scan.ts, sorting.ts, scatter.ts, einsum.ts and the
 * new reductions): hand-computed values (Math.*, numpy semantics written out in JS), the float64
 * interpreter, gradients by finite differences, and the numpy-style printing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { tensor, type Tensor } from '../index.ts';
import { checkGrad, close, rt } from './grad-helpers.ts';
import { checkAllAgainstInterpreter, throwsTessera } from './helpers.ts';

const arr = async (t: Tensor) => Array.from(await t.data());
const f32 = (x: Parameters<typeof tensor>[0]) => tensor(x, { dtype: 'float32' });

test('elementwise math matches Math.* and the interpreter; gradients match finite differences', async () => {
  const xs = [-3.7, -1, -0.5, -1e-6, 0, 2e-7, 0.3, 0.5, 0.9, 1.5, 2.5, 40];
  const unit = [-0.99, -0.6, -0.2, 0, 1e-5, 0.4, 0.75, 0.99];
  const cases: [string, (t: Tensor) => Tensor, (v: number) => number, number[]][] = [
    ['log1p', ts.log1p, Math.log1p, xs.filter((v) => v > -1)], ['expm1', ts.expm1, Math.expm1, xs.filter((v) => v < 30)],
    ['atan', ts.atan, Math.atan, [...xs, -1e4, 1e4]], ['asin', ts.asin, Math.asin, unit], ['acos', ts.acos, Math.acos, unit],
    ['tan', ts.tan, Math.tan, unit], ['sinh', ts.sinh, Math.sinh, xs.filter((v) => v < 30)], ['cosh', ts.cosh, Math.cosh, xs.filter((v) => v < 30)],
    ['asinh', ts.asinh, Math.asinh, [...xs, -1e4]], ['acosh', ts.acosh, Math.acosh, [1, 1.5, 3, 100]], ['atanh', ts.atanh, Math.atanh, unit],
    ['ceil', ts.ceil, Math.ceil, xs], ['trunc', ts.trunc, Math.trunc, xs],
  ];
  for (const [name, f, ref, vals] of cases) close(await f(f32(vals)).data(), vals.map((v) => Math.fround(ref(Math.fround(v)))), name, { rtol: 2e-6, atol: 1e-7 });
  // numpy rounds halves to even
  close(await ts.round(f32([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6, 3])).data(), [-2, -2, -0, 0, 2, 2, 2, -3, 3], 'round half to even');
  const ys = [1, 1, -1, -1, 0, 0, 2, -3, 0.5, NaN, NaN, 1, 0], xq = [1, -1, 1, -1, 1, -1, 0, 0, 0, 0, 1, NaN, 0];
  close(await ts.atan2(f32(ys), f32(xq)).data(), ys.map((y, i) => Math.atan2(y, xq[i]!)), 'atan2 quadrants', { rtol: 2e-6, atol: 1e-7 });
  const special = f32([NaN, Infinity, -Infinity, 1, 0]);
  assert.equal(Array.from(await ts.isnan(special).data()), [1, 0, 0, 0, 0]);
  assert.equal(Array.from(await ts.isinf(special).data()), [0, 1, 1, 0, 0]);
  assert.equal(Array.from(await ts.isfinite(special).data()), [0, 0, 0, 1, 1]);
  const a = rt([10], 1, -0.9, 0.9), b = rt([10], 2, 0.2, 2);
  await checkAllAgainstInterpreter([ts.log1p(a), ts.expm1(a), ts.atan2(a, b), ts.asinh(a), ts.atanh(a), ts.acos(a), ts.cosh(a), ts.round(b)], { rtol: 1e-5, atol: 1e-6 });
  for (const [name, f] of [['log1p', ts.log1p], ['expm1', ts.expm1], ['asinh', ts.asinh], ['atanh', ts.atanh], ['asin', ts.asin], ['sinh', ts.sinh], ['tan', ts.tan]] as const)
    await checkGrad(name, (t: Tensor) => f(t), [rt([6], 3, -0.8, 0.8)], { rtol: 1e-4, atol: 1e-6 });
  await checkGrad('atan2', (y: Tensor, x: Tensor) => ts.atan2(y, x), [rt([6], 4), rt([6], 5, 0.3, 2)], { rtol: 1e-4, atol: 1e-6 });
  const g = await arr(ts.grad((t: Tensor) => ts.atan(t).sum())(f32([0, 1, 3, -10])));
  close(g, [0, 1, 3, -10].map((v) => 1 / (1 + v * v)), 'd atan = 1/(1+x²)', { rtol: 1e-5, atol: 1e-6 });
});

test('prod (with zeros), all, any, std, norm', async () => {
  const x = f32([[1, 2, 3], [4, 0, -6], [-1, -2, 0.5]]);
  close(await ts.prod(x, 1).data(), [6, 0, 1], 'prod rows');
  close(await ts.prod(x, 0).data(), [-4, 0, -9], 'prod cols');
  close(await ts.prod(x).data(), [0], 'prod all');
  close(await ts.prod(f32([[2, 3, 4, 5, 6]]), 1, true).data(), [720], 'prod non power of two');
  const gp = await arr(ts.grad((t: Tensor) => ts.prod(t))(f32([2, 0, 3])));
  close(gp, [0, 6, 0], 'd prod with a zero = product of the others');
  await checkGrad('prod', (t: Tensor) => ts.prod(t, 1), [rt([2, 5], 6)], { rtol: 1e-4 });
  assert.equal(Array.from(await ts.all(x, 1).data()), [1, 0, 1]);
  assert.equal(Array.from(await ts.any(f32([[0, 0], [0, 1]]), 1).data()), [0, 1]);
  assert.is((await ts.all(tensor([true, true]))).dtype, 'bool');
  const v = [1, 2, 3, 4, 10];
  const m = v.reduce((s, e) => s + e, 0) / 5, ss = v.reduce((s, e) => s + (e - m) ** 2, 0);
  close(await ts.std(f32(v)).data(), [Math.sqrt(ss / 5)], 'std');
  close(await ts.std(f32(v), undefined, false, 1).data(), [Math.sqrt(ss / 4)], 'std ddof 1');
  close(await ts.norm(f32([3, -4])).data(), [5], 'norm 2');
  close(await ts.norm(f32([3, -4]), 1).data(), [7], 'norm 1');
  close(await ts.norm(f32([3, -4]), Infinity).data(), [4], 'norm inf');
  close(await ts.norm(f32([3, -4]), 3).data(), [Math.cbrt(27 + 64)], 'norm 3', { rtol: 1e-5 });
  await checkAllAgainstInterpreter([ts.prod(rt([3, 4], 7), 1), ts.std(rt([3, 4], 8), 0), ts.norm(rt([3, 4], 9), 2, 1)]);
});

test('cumsum and cumprod along any axis; gradients', async () => {
  const x = f32([[1, 2, 3, 4], [0.5, -1, 2, 0]]);
  close(await ts.cumsum(x).data(), [1, 3, 6, 10, 0.5, -0.5, 1.5, 1.5], 'cumsum last');
  close(await ts.cumsum(x, 0).data(), [1, 2, 3, 4, 1.5, 1, 5, 4], 'cumsum axis 0');
  close(await ts.cumprod(x).data(), [1, 2, 6, 24, 0.5, -0.5, -1, -0], 'cumprod last');
  close(await ts.cumprod(f32([1, 2, 3, 4, 5, 6, 7])).data(), [1, 2, 6, 24, 120, 720, 5040], 'cumprod 7');
  assert.equal(Array.from(await ts.cumsum(tensor([1, 2, 3])).data()), [1, 3, 6]);
  await checkAllAgainstInterpreter([ts.cumsum(rt([3, 5], 10), 1), ts.cumprod(rt([3, 5], 11), 1), ts.cumsum(rt([4, 2], 12), 0)]);
  await checkGrad('cumsum', (t: Tensor) => ts.cumsum(t, 1), [rt([2, 5], 13)]);
  await checkGrad('cumprod', (t: Tensor) => ts.cumprod(t, 0), [rt([5, 2], 14)], { rtol: 1e-4 });
});

test('topk, sort and argsort match a JS sort (stable ties); topk values differentiate', async () => {
  const rows = [[3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]];
  const x = f32(rows);
  const { values, indices } = ts.topk(x, 3);
  const want = rows.map((r) => r.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 3));
  close(await values.data(), want.flatMap((r) => r.map((p) => p[0])), 'topk values');
  assert.equal(Array.from(await indices.data()), want.flatMap((r) => r.map((p) => p[1])), 'topk indices');
  close(await ts.sort(x).data(), rows.flatMap((r) => [...r].sort((a, b) => a - b)), 'sort ascending');
  const asc = rows.map((r) => r.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((p) => p[1]));
  assert.equal(Array.from(await ts.argsort(x).data()), asc.flat(), 'argsort stable');
  close(await ts.sort(x, 0, { descending: true }).data(), [3, 7, 4, 8, 5, 9, 2, 8, 2, 1, 1, 1, 2, 8, 1, 6], 'sort axis 0 descending');
  const small = ts.topk(x, 2, { largest: false });
  close(await small.values.data(), [1, 1, 1, 1], 'smallest');
  await throwsTessera(() => ts.topk(x, 9), 'k = 9');
  await checkAllAgainstInterpreter([ts.topk(rt([3, 6], 15), 4).values, ts.sort(rt([3, 6], 16), 1)]);
  await checkGrad('topk values', (t: Tensor) => ts.topk(t, 2).values, [rt([2, 5], 17)]);
});

test('flip, roll, tile, repeat, swapaxes, moveaxis, broadcastTo, split, chunk, tril, triu (numpy semantics)', async () => {
  const x = f32([[1, 2, 3], [4, 5, 6]]);
  close(await ts.flip(x, 1).data(), [3, 2, 1, 6, 5, 4], 'flip 1');
  close(await ts.flip(x).data(), [6, 5, 4, 3, 2, 1], 'flip all');
  close(await ts.roll(x, 1, 1).data(), [3, 1, 2, 6, 4, 5], 'roll axis');
  close(await ts.roll(x, -2).data(), [3, 4, 5, 6, 1, 2], 'roll flat');
  close(await ts.tile(f32([1, 2]), [2, 2]).data(), [1, 2, 1, 2, 1, 2, 1, 2], 'tile');
  close(await ts.repeat(x, 2, 0).data(), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6], 'repeat rows');
  close(await ts.repeat(f32([1, 2]), 3).data(), [1, 1, 1, 2, 2, 2], 'repeat flat');
  assert.equal([...ts.swapaxes(rt([2, 3, 4], 1), 0, 2).shape], [4, 3, 2]);
  assert.equal([...ts.moveaxis(rt([2, 3, 4], 1), 0, -1).shape], [3, 4, 2]);
  close(await ts.moveaxis(x, 1, 0).data(), [1, 4, 2, 5, 3, 6], 'moveaxis');
  close(await ts.broadcastTo(f32([1, 2, 3]), [2, 3]).data(), [1, 2, 3, 1, 2, 3], 'broadcastTo');
  const [p, q] = ts.split(x, [1, 2], 1);
  close(await p!.data(), [1, 4], 'split a'); close(await q!.data(), [2, 3, 5, 6], 'split b');
  assert.equal(ts.chunk(rt([7], 1), 3).map((t) => t.shape[0]), [3, 3, 1]);
  await throwsTessera(() => ts.split(x, 2, 1), 'equal parts');
  const sq = f32([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  close(await ts.tril(sq).data(), [1, 0, 0, 4, 5, 0, 7, 8, 9], 'tril');
  close(await ts.triu(sq, 1).data(), [0, 2, 3, 0, 0, 6, 0, 0, 0], 'triu 1');
  close(await x.flip(0).data(), [4, 5, 6, 1, 2, 3], 'method');
  await checkAllAgainstInterpreter([ts.flip(rt([3, 4], 2), [0, 1]), ts.roll(rt([3, 4], 3), 2, 1), ts.tile(rt([2, 3], 4), [2, 1, 2]), ts.tril(rt([2, 3, 3], 5))]);
  await checkGrad('flip', (t: Tensor) => ts.flip(t, 0), [rt([3, 2], 6)]);
  await checkGrad('roll+tile', (t: Tensor) => ts.tile(ts.roll(t, 1, 1), [2, 1]), [rt([2, 3], 7)]);
  await checkGrad('repeat', (t: Tensor) => ts.repeat(t, 2, 1), [rt([2, 3], 8)]);
});

test('einsum: matmul, batched attention scores, transpose, sums, outer products, three operands', async () => {
  const a = rt([2, 3], 20), b = rt([3, 4], 21), c = rt([4], 22);
  close(await ts.einsum('ij,jk->ik', a, b).data(), await ts.matmul(a, b).data(), 'matmul', { rtol: 1e-5, atol: 1e-6 });
  close(await ts.einsum('ij,jk', a, b).data(), await ts.matmul(a, b).data(), 'implicit output', { rtol: 1e-5, atol: 1e-6 });
  const q = rt([2, 2, 3, 4], 23), k = rt([2, 2, 5, 4], 24);
  close(await ts.einsum('bhqd,bhkd->bhqk', q, k).data(), await ts.matmul(q, ts.transpose(k, -2, -1)).data(), 'attention scores', { rtol: 1e-5, atol: 1e-6 });
  close(await ts.einsum('ij->ji', a).data(), await a.T.data(), 'transpose');
  close(await ts.einsum('ij->', a).data(), await ts.sum(a).data(), 'sum all', { rtol: 1e-5 });
  close(await ts.einsum('ij->j', a).data(), await ts.sum(a, 0).data(), 'column sums', { rtol: 1e-5 });
  close(await ts.einsum('i,j->ij', c, c).data(), await ts.mul(ts.reshape(c, [4, 1]), ts.reshape(c, [1, 4])).data(), 'outer');
  close(await ts.einsum('i,i->i', c, c).data(), await ts.mul(c, c).data(), 'elementwise');
  close(await ts.einsum('ij,jk,k->i', a, b, c).data(), await ts.matmul(ts.matmul(a, b), c).data(), 'three operands', { rtol: 1e-5, atol: 1e-6 });
  await throwsTessera(() => ts.einsum('ii->i', rt([2, 2], 1)), 'repeated letters');
  await throwsTessera(() => ts.einsum('ij,jk->ik', a, rt([4, 4], 1)), "'j' has sizes 3 and 4");
  await checkGrad('einsum', (x: Tensor, y: Tensor) => ts.einsum('ij,kj->ik', x, y), [rt([2, 3], 25), rt([4, 3], 26)]);
});

test('oneHot, scatterAdd (repeated indices accumulate), linspace', async () => {
  assert.equal(Array.from(await ts.oneHot(tensor([2, 0, 5]), 3).data()), [0, 0, 1, 1, 0, 0, 0, 0, 0]);
  close(await ts.oneHot(tensor([1]), 2, { onValue: 5, offValue: -1 }).data(), [-1, 5], 'on/off values');
  const target = f32([[1, 1], [2, 2], [3, 3]]);
  const s = ts.scatterAdd(target, tensor([2, 0, 2]), f32([[10, 20], [1, 2], [100, 200]]));
  close(await s.data(), [2, 3, 2, 2, 113, 223], 'scatterAdd');
  await throwsTessera(() => ts.scatterAdd(target, tensor([0, 1]), f32([[1, 2]])), 'updates have shape [1, 2]');
  await checkGrad('scatterAdd', (t: Tensor, u: Tensor) => ts.scatterAdd(t, tensor([1, 1, 0]), u), [rt([3, 2], 27), rt([3, 2], 28)]);
  close(await ts.linspace(0, 1, 5).data(), [0, 0.25, 0.5, 0.75, 1], 'linspace');
  close(await ts.linspace(2, 3, 4, { endpoint: false }).data(), [2, 2.25, 2.5, 2.75], 'linspace no endpoint');
});

test('printing: numpy-style values after realization, the shape before', async () => {
  const t = f32([[1.5, -2, 0.25], [3, 4.125, 10]]);
  assert.is(String(t), 'tensor([[ 1.5  , -2.   ,  0.25 ],\n        [ 3.   ,  4.125, 10.   ]], dtype=float32)');
  const lazy = ts.add(t, 1);
  assert.is(String(lazy), 'Tensor(float32[2, 3])');
  let printed = '';
  const log = console.log;
  console.log = (s: string) => { printed = s; };
  try { await lazy.print(); } finally { console.log = log; }
  assert.match(printed, '[ 4.   ,  5.125, 11.   ]');
  assert.is(String(tensor([1, 2, 30])), 'tensor([ 1,  2, 30], dtype=int32)');
  assert.is(String(tensor([true, false])), 'tensor([ True, False], dtype=bool)');
  assert.is(String(ts.full([], 2.5)), 'Tensor(float32[])');
  const big = String(tensor(new Float32Array(2000).map((_, i) => i), { shape: [40, 50] }));
  assert.match(big, '...');
  assert.ok(big.split('\n').length < 12, 'large tensors are summarized');
});

test.run();
