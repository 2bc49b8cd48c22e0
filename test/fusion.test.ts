/** Fusion (dispatch counts), the storage-buffer limit, and deterministic code generation. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { compilerOptions } from '../index.ts';
import { allclose, assertEqualArrays, checkAgainstInterpreter, dispatchesOf, rnd, wgslOf } from './helpers.ts';
import { interpret } from '../ir/interpret.ts';
import { hostDataOf } from '../runtime/storage.ts';
import { engine } from '../runtime/engine.ts';
import { generate } from '../codegen/kernels.ts';

test('an elementwise chain of ten ops is one dispatch', async () => {
  const x = rnd([4, 33], { seed: 1 });
  const y = x.mul(2).add(1).sub(0.5).abs().sqrt().exp().neg().tanh().square().sigmoid();
  const expected = await checkAgainstInterpreter(y.add(0)); // the same graph (x + 0 simplifies away)
  const x2 = rnd([4, 33], { seed: 1 });
  const { data, dispatches } = await dispatchesOf(x2.mul(2).add(1).sub(0.5).abs().sqrt().exp().neg().tanh().square().sigmoid());
  assert.is(dispatches, 1);
  allclose(data, expected.expected);
});

test('softmax over the last axis is one dispatch', async () => {
  const x = rnd([5, 37], { lo: -4, hi: 4, seed: 2 });
  const { expected } = await checkAgainstInterpreter(ts.softmax(x));
  const { data, dispatches } = await dispatchesOf(ts.softmax(rnd([5, 37], { lo: -4, hi: 4, seed: 2 })));
  assert.ok(dispatches <= 3, `${dispatches} dispatches`);
  assert.is(dispatches, 1);
  allclose(data, expected);
  allclose(await ts.softmax(ts.tensor([[1, 2, 3], [0, 0, 0]], { dtype: 'float32' })).data(),
    [0.09003057, 0.24472847, 0.66524096, 1 / 3, 1 / 3, 1 / 3]);
});

test('mean is one dispatch', async () => {
  const { data, dispatches } = await dispatchesOf(ts.mean(ts.tensor([[1, 2, 3], [4, 5, 9]], { dtype: 'float32' }), 1));
  assert.is(dispatches, 1);
  allclose(data, [2, 6]);
  const r = await dispatchesOf(ts.mean(rnd([6, 40], { seed: 3 })));
  assert.is(r.dispatches, 1);
});

test('a normalization over rows whose other axes have length 1 is one row kernel (index 0 and i0 are the same row)', async () => {
  // mean, variance and the normalized output over [1, 40] and [1, 1, 24]: the broadcast reads of
  // the statistics simplify to index 0 on the length-1 axes, which is still each element's own row.
  for (const shape of [[1, 40], [1, 1, 24], [3, 1, 24]]) {
    const f = () => {
      const x = rnd(shape, { seed: shape.length }), axis = shape.length - 1;
      const d = x.sub(ts.mean(x, axis, true));
      return d.div(ts.sqrt(ts.mean(d.mul(d), axis, true).add(1e-5))).relu();
    };
    const { expected } = await checkAgainstInterpreter(f(), { rtol: 1e-4, atol: 1e-5 });
    const { data, dispatches } = await dispatchesOf(f());
    assert.is(dispatches, 1, `shape [${shape}]`);
    allclose(data, expected, { rtol: 1e-4, atol: 1e-5 });
  }
});

test('relu(x*a+b) * sigmoid(x) - tanh(x)*0.5 + exp(-x*x) is one dispatch', async () => {
  const f = (seed: number) => {
    const x = rnd([3, 50], { seed }), a = rnd([50], { seed: seed + 1 }), b = rnd([3, 1], { seed: seed + 2 });
    return ts.relu(x.mul(a).add(b)).mul(ts.sigmoid(x)).sub(ts.tanh(x).mul(0.5)).add(ts.exp(x.mul(x).neg()));
  };
  const { expected } = await checkAgainstInterpreter(f(10));
  const { data, dispatches } = await dispatchesOf(f(10));
  assert.is(dispatches, 1);
  allclose(data, expected);
});

test('matmul + bias + relu is one dispatch', async () => {
  const f = () => ts.relu(ts.matmul(rnd([6, 9], { seed: 4 }), rnd([9, 5], { seed: 5 })).add(rnd([5], { seed: 6 })));
  const { expected } = await checkAgainstInterpreter(f());
  const { data, dispatches } = await dispatchesOf(f());
  assert.is(dispatches, 1);
  allclose(data, expected);
});

test('movement ops are views: compositions of them fuse into their consumer (no copy kernels)', async () => {
  const f = () => rnd([4, 6], { seed: 12 }).T.reshape([3, 8]).slice([0, 1], [3, 8], [1, 2]).pad([[1, 0], [0, 1]], 2).add(rnd([4, 1], { seed: 13 }).expand([4, 5]));
  const { expected } = await checkAgainstInterpreter(f());
  const { data, dispatches } = await dispatchesOf(f());
  assert.is(dispatches, 1);
  allclose(data, expected);
  const g = () => ts.matmul(rnd([7, 5], { seed: 14 }).T, rnd([3, 7], { seed: 15 }).T.mul(2)); // transposed, scaled operands read in place
  const r = await dispatchesOf(g());
  assert.is(r.dispatches, 1);
  allclose(r.data, (await checkAgainstInterpreter(g(), { atol: 1e-5 })).expected, { atol: 1e-5 });
  const x = rnd([3, 4], { seed: 16 });
  await x.realize();
  const v = await dispatchesOf(ts.sum(x.T.slice([1], [4]), 1));
  assert.is(v.dispatches, 1);
});

test('fuse = false gives one kernel per op, same values', async () => {
  const f = () => ts.softmax(rnd([4, 9], { seed: 7 }).mul(3).add(1));
  const fused = await dispatchesOf(f());
  const saved = compilerOptions.fuse;
  compilerOptions.fuse = false;
  try {
    const unfused = await dispatchesOf(f());
    assert.ok(unfused.dispatches > fused.dispatches, `unfused ${unfused.dispatches} vs fused ${fused.dispatches}`);
    assert.ok(unfused.dispatches >= 6, `${unfused.dispatches} dispatches`);
    allclose(unfused.data, fused.data);
    const { expected } = await checkAgainstInterpreter(rnd([4, 9], { seed: 8 }).exp().add(1).log());
    allclose(await rnd([4, 9], { seed: 8 }).exp().add(1).log().data(), expected);
  } finally {
    compilerOptions.fuse = saved;
  }
  assert.is(compilerOptions.fuse, saved);
});

test('independent outputs of one shape share a kernel (realizeAll)', async () => {
  const x = rnd([8], { seed: 9 });
  const a = x.mul(2), b = x.add(1).exp();
  const before = ts.stats().dispatches;
  await ts.realizeAll([a, b]);
  assert.is(ts.stats().dispatches - before, 1);
  allclose(await a.data(), Array.from(await x.data(), (v) => v * 2));
  // siblings of different dtypes
  const y = ts.tensor([-1.5, 0.5, 2.5, -0.25], { dtype: 'float32' });
  const f = y.mul(2), g = y.gt(0), h = y.cast('int32');
  const b2 = ts.stats().dispatches;
  await ts.realizeAll([f, g, h]);
  assert.is(ts.stats().dispatches - b2, 1);
  allclose(await f.data(), [-3, 1, 5, -0.5]);
  assertEqualArrays(await g.data(), [0, 1, 1, 0]);
  assertEqualArrays(await h.data(), [-1, 0, 2, 0]);
});

test('a kernel never binds more storage buffers than the device allows: sum of 20 inputs', async () => {
  const dev = await ts.getDevice();
  const max = dev.caps.maxBuffers;
  const xs = Array.from({ length: 20 }, (_, i) => rnd([3, 5], { seed: 100 + i }));
  let acc = xs[0]!;
  for (const x of xs.slice(1)) acc = acc.add(x);
  const wgsl = await wgslOf(acc);
  for (const w of wgsl) {
    const bindings = (w.match(/@binding\(/g) ?? []).length;
    assert.ok(bindings <= max, `a kernel binds ${bindings} buffers, the device allows ${max}`);
  }
  assert.ok(wgsl.length >= 2, 'the sum must be split into several kernels');
  const { expected } = await checkAgainstInterpreter(acc, { rtol: 1e-5, atol: 1e-5 });
  // hand check of one element
  let e = 0;
  for (const x of xs) e += (await x.data())[7]!;
  allclose([expected[7]!], [e], { rtol: 1e-5 });
});

test('independent outputs realized together share kernels only as far as the buffer limit allows', async () => {
  const max = (await ts.getDevice()).caps.maxBuffers;
  const as = Array.from({ length: 10 }, (_, i) => rnd([5], { seed: 500 + i })), bs = Array.from({ length: 10 }, (_, i) => rnd([5], { seed: 600 + i }));
  const outs = as.map((a, i) => a.add(bs[i]!));
  for (const w of await wgslOf(outs)) assert.ok((w.match(/@binding\(/g) ?? []).length <= max);
  const before = ts.stats().dispatches;
  await ts.realizeAll(outs);
  const dispatches = ts.stats().dispatches - before;
  assert.ok(dispatches >= 2 && dispatches < 10, `${dispatches} dispatches`);
  for (let i = 0; i < 10; i++) {
    const a = await as[i]!.data(), b = await bs[i]!.data();
    allclose(await outs[i]!.data(), Array.from(a, (v, j) => v + b[j]!));
  }
});

test('the buffer limit with a reduction and a matmul reading many inputs', async () => {
  const xs = Array.from({ length: 18 }, (_, i) => rnd([4, 6], { seed: 200 + i }));
  let acc = xs[0]!;
  for (const x of xs.slice(1)) acc = acc.add(x.mul(0.5));
  await checkAgainstInterpreter(ts.softmax(acc), { rtol: 1e-5, atol: 1e-6 });
  const ys = Array.from({ length: 18 }, (_, i) => rnd([4, 6], { seed: 300 + i }));
  let b = ys[0]!;
  for (const y of ys.slice(1)) b = b.sub(y);
  await checkAgainstInterpreter(ts.matmul(b, rnd([6, 3], { seed: 400 })).add(rnd([3], { seed: 401 })), { rtol: 1e-5, atol: 1e-5 });
});

test('the same graph twice generates identical WGSL', async () => {
  const g = (seed: number) => ts.softmax(ts.matmul(rnd([4, 8], { seed }), rnd([8, 6], { seed: seed + 1 })).add(rnd([6], { seed: seed + 2 })).relu())
    .add(rnd([4, 6], { seed: seed + 3 }).T.reshape([4, 6]).exp());
  const a = await wgslOf(g(1)), b = await wgslOf(g(50));
  assert.ok(a.length >= 2);
  assert.equal(a, b);
  const c = await wgslOf(ts.sum(rnd([3, 9000], { seed: 5 }).mul(2), 1)), d = await wgslOf(ts.sum(rnd([3, 9000], { seed: 6 }).mul(2), 1));
  assert.equal(c, d);
});

test('a realized intermediate is reused, not recomputed', async () => {
  const x = rnd([16], { seed: 11 });
  const h = x.exp().add(1);
  await h.realize();
  const { dispatches } = await dispatchesOf(h.mul(2));
  assert.is(dispatches, 1);
  const { dispatches: none } = await dispatchesOf(h);
  assert.is(none, 0);
});

test('a row kernel whose full-shape output precedes a later reduction (loss value + gradient of cross-entropy)', async () => {
  // Value and gradient of a softmax cross-entropy on logits x @ w + b, realized together, fuse into
  // a row kernel where an elementwise output (the logits' gradient) sits between reductions; it
  // must only see the reductions computed before it.
  const x = rnd([16, 12], { seed: 51 }), w = rnd([12, 10], { seed: 50 }), b = rnd([10], { seed: 49 });
  const y = rnd([16, 10], { seed: 52, lo: 0, hi: 1 });
  const loss = (wt: ts.Tensor) => ts.logSoftmax(x.matmul(wt).add(b), -1).mul(y).sum(1).mean().neg();
  const [value, grad] = ts.valueAndGrad(loss)(w) as [ts.Tensor, ts.Tensor];
  const [ev, eg] = interpret([value.node, grad.node], (n) => hostDataOf(n)!);
  await ts.realizeAll([value, grad]);
  allclose(await value.data(), ev!, { rtol: 1e-5, atol: 1e-5 });
  allclose(await grad.data(), eg!, { rtol: 1e-4, atol: 1e-5 });
});

test('row-kernel codegen: a full-shape stage between reductions sees only the reductions before it', async () => {
  // Stages [max, full output using max, sum]: the kind of order fusion produces for a loss value
  // and its gradient. The generated WGSL must compile and compute the right values.
  const x = rnd([3, 7], { seed: 56 });
  const m = ts.max(x, 1, true), out = x.sub(m), s2 = ts.sum(x.mul(x), 1, true);
  const kernel = { kind: 'row' as const, full: [3, 7], axes: [1], reads: [x.node],
    stages: [{ kind: 'reduce' as const, node: m.node, write: false }, { kind: 'full' as const, node: out.node }, { kind: 'reduce' as const, node: s2.node, write: true }] };
  const e = await engine();
  const code = generate(kernel, e.dev.caps);
  await e.pipelines.get(code.wgsl, code.name); // compiles (the bug passed a later stage's value)
  assert.ok(/fn out_full\d+\(r: i32, j: i32, s0: f32\)/.test(code.wgsl), code.wgsl);
});

test('a costly matmul operand (several buffers, or transcendental) is computed once, not per tile load', async () => {
  const a = rnd([64, 48], { seed: 53 }), z = rnd([64, 48], { seed: 54 }), w = rnd([48, 40], { seed: 55 });
  const gz = a.mul(z.gt(0));                          // g * relu'(z): reads two buffers
  const wgsl = await wgslOf(gz.matmul(w));
  assert.is(wgsl.length, 2, 'the operand gets its own kernel');
  const cheap = await wgslOf(a.mul(2).matmul(w));     // one buffer, cheap: stays a fused prologue
  assert.is(cheap.length, 1);
  assert.is((await wgslOf(ts.exp(a).matmul(w))).length, 2, 'a transcendental operand is computed once');
  await checkAgainstInterpreter(gz.matmul(w), { rtol: 1e-4, atol: 1e-5 });
});

test('a convolution reads each input pixel k×k times: a BatchNorm-ReLU input is computed once even with few output channels', async () => {
  const x = rnd([2, 6, 6, 3], { seed: 56 }), scale = rnd([3], { seed: 57 }), shift = rnd([3], { seed: 58 }), w = rnd([3, 3, 3, 4], { seed: 59 });
  const bnRelu = ts.relu(x.mul(scale).add(shift));   // reads three buffers; the window repeats it 9 times, 4 output channels
  const conv = ts.conv2d(bnRelu, w, { padding: 'same' });
  assert.is((await wgslOf(conv)).length, 2, 'the normalized input gets its own kernel');
  assert.is((await wgslOf(ts.conv2d(x.mul(2), w, { padding: 'same' }))).length, 1, 'a cheap one-buffer input stays a fused prologue');
  await checkAgainstInterpreter(conv, { rtol: 1e-4, atol: 1e-5 });
});

test.run();
