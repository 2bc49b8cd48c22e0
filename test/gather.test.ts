/** take / gather / takeAlongAxis: against the float64 interpreter, hand-computed values, and finite differences. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gather, grad, take, takeAlongAxis, tensor, nn, type Tensor } from '../index.ts';
import { SELECT_MAX } from '../ops/gather.ts';
import { checkAllAgainstInterpreter, dispatchesOf, rnd, throwsTessera } from './helpers.ts';
import { checkGrad, rt } from './grad-helpers.ts';

const ids = (v: number[], shape = [v.length]) => tensor(v, { shape, dtype: 'int32' });

test('gather: hand-computed values, negative indices, scalar and 2-D indices', async () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(await gather(x, ids([2, 0, -1]), 1).toArray(), [[3, 1, 3], [6, 4, 6]]);
  assert.equal(await gather(x, ids([1, 0]), 0).toArray(), [[4, 5, 6], [1, 2, 3]]);
  assert.equal(await gather(x, tensor(1, { dtype: 'int32' }), 1).toArray(), [2, 5]);
  assert.equal(await take(x, ids([[5, 0], [3, 1]].flat(), [2, 2])).toArray(), [[6, 1], [4, 2]]);
  assert.equal(await gather(x, ids([3]), 1).toArray(), [[0], [0]], 'out of range selects nothing');
});

test('gather and takeAlongAxis: every dtype and axis against the interpreter', async () => {
  const x = rnd([3, 4, 5], { seed: 3 });
  const xi = tensor(Array.from({ length: 60 }, (_, i) => i * 7 - 100), { shape: [3, 4, 5], dtype: 'int32' });
  const xb = tensor(Array.from({ length: 60 }, (_, i) => i % 3 === 0), { shape: [3, 4, 5] });
  const i2 = ids([3, -4, 0, 2, 1, 1], [2, 3]);
  const along = ids([0, 4, 2, -1, 3, 1, 1, 0, 2, 2, 4, 3].concat([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4]).slice(0, 24), [3, 4, 2]);
  await checkAllAgainstInterpreter([
    gather(x, i2, 0), gather(x, i2, 1), gather(x, i2, -1), gather(xi, i2, 1), gather(xb, i2, 2),
    takeAlongAxis(x, along, 2), takeAlongAxis(xi, ids(Array.from({ length: 40 }, (_, i) => (i * 5) % 3 - 1), [2, 4, 5]), 0),
    takeAlongAxis(x, ids([3, 0, 1], [1, 3, 1]), 1),
  ]);
});

test('gather fuses: gather of an elementwise expression is one kernel', async () => {
  const x = rnd([6, 8], { seed: 4 });
  const { dispatches } = await dispatchesOf(gather(x.mul(2).exp(), ids([1, 3, 5]), 0).add(1));
  assert.is(dispatches, 1);
});

test('gradients by finite differences: gather (repeated indices accumulate), takeAlongAxis, take', async () => {
  const x = rt([3, 4], 5);
  await checkGrad('gather axis 0', (a) => gather(a, ids([2, 0, 2, -1]), 0), [x]);
  await checkGrad('gather axis 1', (a) => gather(a, ids([1, 1, 3], [3]), 1).mul(a.sum(1, true)), [x]);
  await checkGrad('takeAlongAxis', (a) => takeAlongAxis(a, ids([0, 3, 3, 1, 2, 2], [3, 2]), 1), [x]);
  await checkGrad('take flat', (a) => take(a.tanh(), ids([11, 0, 5, 5])), [x]);
});

test('a large float gather (over SELECT_MAX) takes the one-hot matmul path: values and gradient against the interpreter', async () => {
  const x = rnd([300, 8], { seed: 8 });
  const n = Math.ceil(SELECT_MAX / (300 * 8)) + 10;
  const i = ids(Array.from({ length: n }, (_, k) => (k * 37) % 300 - (k % 5 === 0 ? 300 : 0)));
  const gx = grad((a: Tensor) => gather(a, i, 0).mul(gather(a, i, 0)).sum())(x) as Tensor;
  await checkAllAgainstInterpreter([gather(x, i, 0), gx], { rtol: 1e-4, atol: 1e-4 });
});

test('both gather methods agree on every axis', async () => {
  const x = rnd([4, 5, 3], { seed: 9 }), i = ids([4, 0, -2, 1]);
  for (const axis of [0, 1, 2]) {
    const j = ids([2, 0, -1, 1].map((v) => (axis === 2 ? v % 3 : v)));
    assert.equal(Array.from(await gather(x, axis === 1 ? i : j, axis, 'onehot').data()), Array.from(await gather(x, axis === 1 ? i : j, axis,
      'select').data()), `axis ${axis}`);
  }
});

test('gather agrees with the one-hot embedding', async () => {
  const table = rnd([7, 3], { seed: 6 }), tok = ids([6, 0, 3, 3], [2, 2]);
  const a = await gather(table, tok, 0).data(), b = await nn.embedding(tok, table).data();
  assert.equal(Array.from(a), Array.from(b));
});

test('bad input: float indices, scalar data, rank mismatch', async () => {
  await throwsTessera(() => gather(tensor([1, 2]), tensor([0.5]), 0), 'gather', 'int32 or uint32');
  await throwsTessera(() => gather(tensor(3), ids([0]), 0), 'gather', 'scalar');
  await throwsTessera(() => gather(tensor([1, 2]), ids([0]), 1), 'axis 1');
  await throwsTessera(() => takeAlongAxis(tensor([[1, 2]]), ids([0]), 1), 'takeAlongAxis', 'rank');
});

test.run();
