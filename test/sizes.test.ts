/** Awkward sizes (0-d, 1, 3, 257, 65536*3+1, empty), NaN/Infinity propagation, and grids over the per-dimension workgroup limit. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { tuning } from '../runtime/tuner.ts';
import { allclose, assertEqualArrays, checkAgainstInterpreter, rnd } from './helpers.ts';

for (const n of [1, 3, 257, 65536 * 3 + 1]) {
  test(`size ${n}: elementwise chain, broadcast, reduction, argmax, view`, async () => {
    await checkAgainstInterpreter(rnd([n], { seed: n }).mul(2).add(rnd([1], { seed: 2 })).tanh(), { rtol: 1e-5, atol: 1e-6 });
    await checkAgainstInterpreter(ts.sum(rnd([n], { seed: n + 1 })), { rtol: 1e-4, atol: 1e-4 });
    await checkAgainstInterpreter(ts.max(rnd([n], { seed: n + 2 }).abs()));
    await checkAgainstInterpreter(ts.argmin(rnd([n], { seed: n + 3 })));
    await checkAgainstInterpreter(rnd([n], { seed: n + 4 }).slice([0], [n], [2]).exp(), { rtol: 1e-5 });
    await checkAgainstInterpreter(ts.stack([rnd([n], { seed: n + 5 }), rnd([n], { seed: n + 6 })], 1).sum(1), { rtol: 1e-5 });
  });
}

test('0-d scalars everywhere', async () => {
  const s = ts.tensor(-1.5);
  assert.equal(s.shape, []);
  assert.is(s.size, 1);
  await checkAgainstInterpreter(ts.tensor(-1.5).abs().add(ts.tensor(2)).sqrt());
  await checkAgainstInterpreter(ts.tensor(3).add(rnd([2, 3], { seed: 1 })));
  await checkAgainstInterpreter(ts.sum(ts.tensor(3.25)));
  await checkAgainstInterpreter(ts.argmax(ts.tensor(3.25)));
  assert.is(await ts.tensor(7, { dtype: 'int32' }).mul(6).item(), 42);
  assert.is(await ts.tensor(true).logicalNot().item(), 0);
  assert.equal(await ts.full([], 2.5).toArray(), 2.5);
});

test('empty (0-size) tensors flow through every kind of kernel', async () => {
  const e = ts.tensor([], { shape: [2, 0, 3] });
  assert.is(e.size, 0);
  assertEqualArrays(await e.add(1).exp().data(), []);
  const dirty = async () => { const t = ts.full([64], 7.5).add(ts.tensor([1.5])); await t.realize(); t.dispose(); }; // leaves non-zero buffers in the pool
  await dirty();
  const s = ts.sum(ts.tensor([], { shape: [2, 0, 3] }), 1);
  assert.equal(s.shape, [2, 3]);
  assertEqualArrays(await s.data(), [0, 0, 0, 0, 0, 0]);
  assertEqualArrays(await ts.mean(ts.tensor([], { shape: [0, 4] }), 1).data(), []);
  assertEqualArrays(await ts.matmul(ts.tensor([], { shape: [0, 3] }), rnd([3, 2], { seed: 3 })).data(), []);
  await dirty();
  assertEqualArrays(await ts.matmul(ts.tensor([], { shape: [2, 0] }), ts.tensor([], { shape: [0, 3] })).data(), [0, 0, 0, 0, 0, 0]);
  await dirty();
  assertEqualArrays(await ts.sum(ts.tensor([], { shape: [3, 0], dtype: 'int32' }).add(1), 1).mul(2).data(), [0, 0, 0]);
  await dirty();
  assertEqualArrays(await ts.sum(ts.tensor([], { shape: [0, 3] })).data(), [0]);
  assertEqualArrays(await ts.concat([ts.tensor([], { shape: [0, 2] }), ts.tensor([[1, 2]])]).data(), [1, 2]);
  assertEqualArrays(await ts.zeros([0]).data(), []);
  assert.equal(await ts.tensor([], { shape: [0, 2] }).toArray(), []);
  assertEqualArrays(await ts.arange(0).data(), []);
});

test('NaN and Infinity propagate (inputs may hold them)', async () => {
  const x = () => ts.tensor([NaN, 1, Infinity, -Infinity, 0, -2], { dtype: 'float32' });
  const y = () => ts.tensor([1, NaN, -Infinity, 2, 0, 3], { dtype: 'float32' });
  allclose(await ts.add(x(), y()).data(), [NaN, NaN, NaN, -Infinity, 0, 1]);
  allclose(await ts.maximum(x(), y()).data(), [NaN, NaN, Infinity, 2, 0, 3]);
  allclose(await ts.minimum(x(), y()).data(), [NaN, NaN, -Infinity, -Infinity, 0, -2]);
  allclose(await ts.exp(x()).data(), [NaN, Math.E, Infinity, 0, 1, Math.exp(-2)]);
  allclose(await ts.log(x()).data(), [NaN, 0, Infinity, NaN, -Infinity, NaN]);
  allclose(await ts.relu(x()).data(), [NaN, 1, Infinity, 0, 0, 0]);
  allclose(await ts.sigmoid(x()).data(), [NaN, 1 / (1 + Math.exp(-1)), 1, 0, 0.5, 1 / (1 + Math.exp(2))]);
  allclose(await ts.tanh(x()).data(), [NaN, Math.tanh(1), 1, -1, 0, Math.tanh(-2)]);
  allclose(await ts.sign(x()).data(), [NaN, 1, 1, -1, 0, -1]);
  allclose(await ts.sub(x(), x()).data(), [NaN, 0, NaN, NaN, 0, 0]);
  assertEqualArrays(await ts.ne(x(), x()).data(), [1, 0, 0, 0, 0, 0]);
  assertEqualArrays(await ts.eq(x(), y()).data(), [0, 0, 0, 0, 1, 0]);
  assertEqualArrays(await ts.lt(x(), y()).data(), [0, 0, 0, 1, 0, 1]);
  assertEqualArrays(await x().cast('bool').data(), [1, 1, 1, 1, 0, 1]);
  allclose(await ts.sum(x()).data(), [NaN]);
  allclose(await ts.max(x()).data(), [NaN]);
  allclose(await ts.min(y()).data(), [NaN]);
  allclose(await ts.max(ts.tensor([1, Infinity, -Infinity], { dtype: 'float32' })).data(), [Infinity]);
  assertEqualArrays(await ts.argmax(ts.tensor([1, 5, NaN, 7], { dtype: 'float32' })).data(), [2]); // NaN counts as the extreme (numpy)
  assertEqualArrays(await ts.argmin(ts.tensor([1, -Infinity, -Infinity], { dtype: 'float32' })).data(), [1]);
  allclose(await ts.softmax(ts.tensor([[1, NaN], [0, 0]], { dtype: 'float32' })).data(), [NaN, NaN, 0.5, 0.5]);
  allclose(await ts.matmul(ts.tensor([[1, Infinity]], { dtype: 'float32' }), ts.tensor([[1], [1]], { dtype: 'float32' })).data(), [Infinity]);
  await checkAgainstInterpreter(ts.tensor([NaN, 1, Infinity, -Infinity, 0, -2], { dtype: 'float32' }).mul(2).add(1).maximum(0.5).exp());
  await checkAgainstInterpreter(ts.max(ts.tensor([[NaN, 1], [Infinity, 2], [-Infinity, 0]], { dtype: 'float32' }), 1));
});

test('NaN and Infinity in long (split) reductions', async () => {
  const a = new Float32Array(20000).fill(1);
  a[12345] = NaN;
  allclose(await ts.max(ts.tensor(a)).data(), [NaN]);
  allclose(await ts.sum(ts.tensor(a)).data(), [NaN]);
  assertEqualArrays(await ts.argmax(ts.tensor(a)).data(), [12345]);
  a[12345] = Infinity;
  allclose(await ts.sum(ts.tensor(a)).data(), [Infinity]);
});

test('elementwise grid over 65535 workgroups of 256 folds into 2-D', async () => {
  const n = 65536 * 256 + 7; // 67 MB of float32: more workgroups than one grid dimension holds
  const y = ts.arange(n).mul(3).add(1); // computed from an index: nothing to upload
  const d = await y.data();
  assert.is(d.length, n);
  let bad = -1;
  for (let i = 0; i < n; i++) if (d[i] !== 3 * i + 1) { bad = i; break; }
  assert.is(bad, -1, `first wrong element at ${bad}: got ${d[bad]}, expected ${3 * bad + 1}`);
});

test('row kernels and matmuls with more rows/tiles than one grid dimension holds', async () => {
  const enabled = tuning.enabled;
  tuning.enabled = false; // the heuristic (one workgroup per row) is the schedule under test
  try {
    const rows = 65536 + 9, red = 17;
    const s = ts.arange(rows * red, undefined, 1, 'float32').reshape([rows, red]).mod(23).sum(1);
    const d = await s.data();
    let bad = -1;
    for (let r = 0; r < rows && bad < 0; r++) {
      let e = 0;
      for (let j = 0; j < red; j++) e += Math.fround(r * red + j) % 23;
      if (d[r] !== e) bad = r;
    }
    assert.is(bad, -1, `row ${bad}: got ${d[bad]}`);
    // a batched 1x1x1 matmul: one workgroup per batch entry
    const b = 70000;
    const m = ts.matmul(ts.arange(b, undefined, 1, 'float32').reshape([b, 1, 1]), ts.full([b, 1, 1], 2)).reshape([b]);
    const md = await m.data();
    assert.is(md[0], 0);
    assert.is(md[b - 1], 2 * (b - 1));
    assert.is(md[65536], 2 * 65536);
  } finally {
    tuning.enabled = enabled;
  }
});

test.run();
