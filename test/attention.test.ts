/**
 * Attention: against the float64 interpreter and hand values (causal masking), gradients by finite
 * differences, the kernel count of the fused forward, and a MultiHeadAttention layer that trains.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { grad, nn, tensor, type Tensor } from '../index.ts';
import { allclose, checkAgainstInterpreter, dispatchesOf, rnd, throwsTessera } from './helpers.ts';
import { checkGrad } from './grad-helpers.ts';

const { scaledDotProductAttention: attention } = nn;

test('attention matches the interpreter, with broadcast batch/head axes and an additive mask', async () => {
  const q = rnd([2, 3, 5, 4], { seed: 1 }), k = rnd([2, 3, 6, 4], { seed: 2 }), v = rnd([2, 3, 6, 7], { seed: 3 });
  await checkAgainstInterpreter(attention(q, k, v), { rtol: 1e-4, atol: 1e-5 });
  const mask = rnd([5, 6], { seed: 4 });
  await checkAgainstInterpreter(attention(q, k, v, { mask, scale: 0.3 }), { rtol: 1e-4, atol: 1e-5 });
});

test('causal attention: the first query sees only the first key (by hand)', async () => {
  const q = rnd([1, 4, 3], { seed: 5 }), k = rnd([1, 4, 3], { seed: 6 }), v = rnd([1, 4, 2], { seed: 7 });
  const out = await attention(q, k, v, { causal: true }).data();
  const vv = await v.data();
  allclose(out.slice(0, 2), vv.slice(0, 2), { rtol: 1e-6, atol: 1e-6 });
  await checkAgainstInterpreter(attention(q, k, v, { causal: true }), { rtol: 1e-4, atol: 1e-5 });
});

test('attention forward is three kernels: scores matmul, one softmax row kernel, weighted sum', async () => {
  const q = rnd([2, 8, 4], { seed: 8 }), k = rnd([2, 8, 4], { seed: 9 }), v = rnd([2, 8, 4], { seed: 10 });
  const { dispatches } = await dispatchesOf(attention(q, k, v, { causal: true }));
  assert.ok(dispatches <= 3, `${dispatches} dispatches`);
});

test('attention gradients (q, k, v) match finite differences', async () => {
  await checkGrad('attention', (q: Tensor, k: Tensor, v: Tensor) => attention(q, k, v, { causal: true }),
    [rnd([2, 3, 4], { seed: 11 }), rnd([2, 3, 4], { seed: 12 }), rnd([2, 3, 2], { seed: 13 })], { rtol: 1e-4, atol: 1e-5 });
});

test('MultiHeadAttention trains on a toy task (copy the first token\'s features to every position)', async () => {
  const B = 16, Tn = 4, F = 6;
  const x = rnd([B, Tn, F], { seed: 14 });
  const first = await x.slice([0, 0, 0], [B, 1, F]).data();
  const target = tensor(Array.from({ length: B * Tn * F }, (_, i) => first[Math.floor(i / (Tn * F)) * F + (i % F)]!), { shape: [B, Tn, F], dtype: 'float32' });
  const model = nn.sequential([new nn.MultiHeadAttention(2, 4, { inputShape: [Tn, F] })]);
  assert.equal([...model.computeOutputShape([Tn, F])], [Tn, F]);
  model.compile({ optimizer: nn.adam({ learningRate: 0.02 }), loss: 'meanSquaredError' });
  const h = await model.fit(x, target, { epochs: 30, batchSize: 16, verbose: 0 });
  const loss = h.history.loss!;
  assert.ok(loss.at(-1)! < loss[0]! * 0.5, `loss ${loss[0]} -> ${loss.at(-1)}`);
});

test('embedding: rows of the table by hand, one fused kernel, and the gradient scatter-adds rows', async () => {
  const table = rnd([5, 3], { seed: 20 });
  const ids = tensor([[4, 0], [4, 2]], { dtype: 'int32' });
  const t = Array.from(await table.data());
  const { data, dispatches } = await dispatchesOf(nn.embedding(ids, table));
  assert.is(dispatches, 1);
  allclose(data, [...t.slice(12, 15), ...t.slice(0, 3), ...t.slice(12, 15), ...t.slice(6, 9)], { rtol: 0, atol: 0 });
  const g = grad((tb: Tensor) => nn.embedding(ids, tb).sum())(table) as Tensor;
  allclose(await g.data(), [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2], { rtol: 0, atol: 0 });
  const layer = new nn.Embedding(5, 3);
  assert.equal([...layer.call(ids).shape], [2, 2, 3]);
});

test('attention bad input: a clear error', async () => {
  await throwsTessera(() => attention(rnd([2, 3, 4]), rnd([2, 3, 5]), rnd([2, 3, 4])), 'attention');
});

test.run();
