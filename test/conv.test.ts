/**
 * conv2d and pooling: against a direct float64 loop (hand-written reference), against the
 * interpreter, gradients by finite differences, and kernel counts (conv with groups=1 plus bias
 * and relu is one kernel: an implicit GEMM with a fused epilogue).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { avgPool2d, conv2d, maxPool2d, relu, add, nn, randn, tensor, type Tensor } from '../index.ts';
import { allclose, checkAgainstInterpreter, dispatchesOf, rnd, throwsTessera } from './helpers.ts';
import { checkGrad } from './grad-helpers.ts';

type Case = { x: number[]; w: number[]; stride: [number, number]; dilation: [number, number]; padding: [[number, number], [number, number]]; groups: number };

/** Direct convolution in float64 (NHWC, weights [KH, KW, Cin/G, Cout]). */
function reference(x: ArrayLike<number>, w: ArrayLike<number>, c: Case): Float64Array {
  const [B, H, W, C] = c.x as [number, number, number, number], [KH, KW, Cg, Co] = c.w as [number, number, number, number];
  const [s0, s1] = c.stride, [d0, d1] = c.dilation, [[pt, pb], [pl, pr]] = c.padding;
  const OH = Math.floor((H + pt + pb - (KH - 1) * d0 - 1) / s0) + 1, OW = Math.floor((W + pl + pr - (KW - 1) * d1 - 1) / s1) + 1;
  const out = new Float64Array(B * OH * OW * Co), cog = Co / c.groups;
  for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let co = 0; co < Co; co++) {
    const g = Math.floor(co / cog);
    let acc = 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) for (let ci = 0; ci < Cg; ci++) {
      const ih = oh * s0 + kh * d0 - pt, iw = ow * s1 + kw * d1 - pl;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) acc += x[((b * H + ih) * W + iw) * C + g * Cg + ci]! * w[((kh * KW + kw) * Cg + ci) * Co + co]!;
    }
    out[((b * OH + oh) * OW + ow) * Co + co] = acc;
  }
  return out;
}

const cases: Case[] = [
  { x: [2, 5, 6, 3], w: [3, 3, 3, 4], stride: [1, 1], dilation: [1, 1], padding: [[0, 0], [0, 0]], groups: 1 },
  { x: [1, 7, 7, 4], w: [3, 2, 2, 6], stride: [2, 1], dilation: [1, 2], padding: [[1, 1], [2, 0]], groups: 2 },
  { x: [2, 8, 9, 2], w: [2, 2, 2, 3], stride: [2, 3], dilation: [1, 1], padding: [[0, 1], [1, 1]], groups: 1 },
  { x: [1, 6, 6, 4], w: [3, 3, 1, 4], stride: [1, 1], dilation: [2, 2], padding: [[2, 2], [2, 2]], groups: 4 },
];

test('conv2d (NHWC) matches a direct loop: strides, dilation, padding, groups', async () => {
  for (const [i, c] of cases.entries()) {
    const x = rnd(c.x, { seed: 10 + i }), w = rnd(c.w, { seed: 20 + i });
    const y = conv2d(x, w, { stride: c.stride, dilation: c.dilation, padding: c.padding, groups: c.groups });
    const got = await y.data();
    allclose(got, reference(await x.data(), await w.data(), c), { rtol: 1e-4, atol: 1e-5, msg: `case ${i}` });
  }
});

test('conv2d (NCHW, computed as W @ windows) matches a direct loop: strides, dilation, padding, groups, 1x1 kernels', async () => {
  const more: Case[] = [...cases,
    { x: [2, 5, 7, 6], w: [1, 1, 6, 4], stride: [1, 1], dilation: [1, 1], padding: [[0, 0], [0, 0]], groups: 1 },
    { x: [1, 7, 6, 4], w: [1, 1, 2, 6], stride: [2, 3], dilation: [1, 1], padding: [[1, 0], [0, 2]], groups: 2 }];
  for (const [i, c] of more.entries()) {
    const x = rnd(c.x, { seed: 30 + i }), w = rnd(c.w, { seed: 40 + i });
    const y = conv2d(x.permute([0, 3, 1, 2]), w.permute([3, 2, 0, 1]), { dataFormat: 'NCHW', stride: c.stride, dilation: c.dilation, padding: c.padding,
      groups: c.groups });
    allclose(await y.permute([0, 2, 3, 1]).data(), reference(await x.data(), await w.data(), c), { rtol: 1e-4, atol: 1e-5, msg: `case ${i}` });
  }
});

test('NCHW conv2d + per-channel bias + relu is one kernel (the product is already NCHW: the epilogue reads it in place)', async () => {
  const f = (k: number) => relu(add(conv2d(rnd([2, 3, 6, 6], { seed: 8 }), rnd([8, 3, k, k], { seed: 9 }), { dataFormat: 'NCHW', padding: k >> 1 }),
    rnd([8, 1, 1], { seed: 10 })));
  for (const k of [3, 1]) {
    const { expected } = await checkAgainstInterpreter(f(k), { rtol: 1e-4, atol: 1e-5 });
    const { data, dispatches } = await dispatchesOf(f(k));
    assert.is(dispatches, 1, `${k}x${k}`);
    allclose(data, expected, { rtol: 1e-4, atol: 1e-5 });
  }
});

test('conv2d NCHW equals NHWC with permuted data, and the interpreter agrees', async () => {
  const x = rnd([2, 3, 6, 5], { seed: 3 }), w = rnd([4, 3, 3, 3], { seed: 4 }); // NCHW, [Cout, Cin, KH, KW]
  const y = conv2d(x, w, { dataFormat: 'NCHW', padding: 'same' });
  assert.equal([...y.shape], [2, 4, 6, 5]);
  const y2 = conv2d(x.permute([0, 2, 3, 1]), w.permute([2, 3, 1, 0]), { padding: 'same' }).permute([0, 3, 1, 2]);
  allclose(await y.data(), await y2.data(), { rtol: 1e-5, atol: 1e-6 });
  await checkAgainstInterpreter(conv2d(x, w, { dataFormat: 'NCHW', padding: 'same' }), { rtol: 1e-4, atol: 1e-5 });
});

test('conv2d + bias + relu is one kernel (implicit GEMM with fused epilogue)', async () => {
  const x = rnd([2, 6, 6, 3], { seed: 5 }), w = rnd([3, 3, 3, 8], { seed: 6 }), b = rnd([8], { seed: 7 });
  const { dispatches } = await dispatchesOf(relu(add(conv2d(x, w), b)));
  assert.is(dispatches, 1);
});

test('pooling: max and average by hand', async () => {
  const x = rnd([1, 4, 4, 1], { seed: 8 });
  const v = Array.from(await x.data());
  const at = (h: number, w: number) => v[h * 4 + w]!;
  const mx = await maxPool2d(x, { kernelSize: 2 }).data();
  const av = await avgPool2d(x, { kernelSize: 2 }).data();
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
    const win = [at(2 * i, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1)];
    assert.ok(Math.abs(mx[i * 2 + j]! - Math.max(...win)) < 1e-6);
    assert.ok(Math.abs(av[i * 2 + j]! - win.reduce((a, b) => a + b) / 4) < 1e-6);
  }
  // Padding never wins a max (padded with -inf); stride 1 windows overlap.
  const neg = rnd([1, 3, 3, 2], { seed: 9, lo: -5, hi: -1 });
  const p = maxPool2d(neg, { kernelSize: 3, stride: 1, padding: 1 });
  await checkAgainstInterpreter(p);
  assert.ok(Array.from(await p.data()).every((g) => g < -0.99));
});

test('conv2d and pooling gradients match finite differences', async () => {
  const c = cases[1]!;
  await checkGrad('conv2d', (x: Tensor, w: Tensor) => conv2d(x, w, { stride: c.stride, dilation: c.dilation, padding: c.padding, groups: c.groups }),
    [rnd(c.x, { seed: 30 }), rnd(c.w, { seed: 31 })], { rtol: 1e-4, atol: 1e-5 });
  await checkGrad('conv2d same', (x: Tensor, w: Tensor) => conv2d(x, w, { padding: 'same', stride: 2 }), [rnd([1, 5, 5, 2], { seed: 32 }), rnd([3, 3, 2, 3], { seed: 33 })], { rtol: 1e-4, atol: 1e-5 });
  await checkGrad('conv2d NCHW', (x: Tensor, w: Tensor) => conv2d(x, w, { dataFormat: 'NCHW', stride: [2, 1], padding: 1, groups: 2 }),
    [rnd([1, 4, 5, 4], { seed: 36 }), rnd([4, 2, 3, 3], { seed: 37 })], { rtol: 1e-4, atol: 1e-5 });
  await checkGrad('conv2d NCHW 1x1 strided', (x: Tensor, w: Tensor) => conv2d(x, w, { dataFormat: 'NCHW', stride: 2 }),
    [rnd([2, 3, 5, 4], { seed: 38 }), rnd([2, 3, 1, 1], { seed: 39 })], { rtol: 1e-4, atol: 1e-5 });
  await checkGrad('maxPool2d', (x: Tensor) => maxPool2d(x, { kernelSize: 2, stride: 1 }), [rnd([1, 4, 4, 2], { seed: 34 })], { rtol: 1e-4, atol: 1e-5 });
  await checkGrad('avgPool2d', (x: Tensor) => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [rnd([1, 5, 5, 2], { seed: 35 })], { rtol: 1e-4, atol: 1e-5 });
});

test('conv2d bad input: clear errors', async () => {
  await throwsTessera(() => conv2d(rnd([1, 4, 4, 3]), rnd([3, 3, 2, 4])), 'conv2d', 'channels');
  await throwsTessera(() => conv2d(rnd([4, 4, 3]), rnd([3, 3, 3, 4])), 'conv2d', '4-D');
  await throwsTessera(() => conv2d(rnd([1, 2, 2, 3]), rnd([3, 3, 3, 4])), 'slidingWindows', 'does not fit');
});

test('a small CNN (Conv2D, MaxPooling2D, Dense) trains: loss decreases, shapes and summary are right', async () => {
  const x = randn([32, 64], { seed: 40 });
  const labels = Array.from({ length: 32 }, (_, i) => i % 4);
  const model = nn.sequential([
    new nn.Reshape([8, 8, 1], { inputShape: [64] }),
    new nn.Conv2D(4, 3, { activation: 'relu', padding: 'same' }),
    new nn.MaxPooling2D({ poolSize: 2 }),
    new nn.Flatten(),
    nn.dense(4, { activation: 'softmax' }),
  ]);
  assert.equal([...model.computeOutputShape([64])], [4]);
  model.compile({ optimizer: nn.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await model.fit(x, tensor(labels, { dtype: 'int32' }), { epochs: 8, batchSize: 16, verbose: 0 });
  const loss = h.history.loss!;
  assert.ok(loss[loss.length - 1]! < loss[0]! * 0.8, `loss ${loss[0]} -> ${loss[loss.length - 1]}`);
});

test.run();
