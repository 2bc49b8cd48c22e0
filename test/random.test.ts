/**
 * On-device random numbers (the `random` primitive, randomUniform, dropout) and the Dropout layer:
 * Threefry's known answers; GPU values equal to the interpreter's bit for bit, for several seeds,
 * shapes and views (transposed, strided, broadcast, padded, inside row and matmul kernels);
 * statistics; seeds and streams; dropout's kept fraction, scale, fusion and gradient; the layer
 * being the identity at inference and active in fit, with one trace across epochs and per-layer
 * streams, and a model with Dropout still learning.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { threefry2x32, uniformAt } from '../ir/random.ts';
import { checkGrad, close } from './grad-helpers.ts';
import { assertEqualArrays, checkAllAgainstInterpreter, dispatchesOf, rnd, throwsTessera, wgslOf } from './helpers.ts';

const { randomUniform, dropout, tensor } = ts;
const u32 = (v: number) => tensor(v >>> 0, { dtype: 'uint32' });
const exact = { rtol: 0, atol: 0 };
/** One float32 ulp at magnitudes below 2: for random values passed through one or two float ops
 * (the interpreter does not round them to float32; the GPU does). */
const ulp = { rtol: 0, atol: 2 ** -22 };

// ---- the generator -------------------------------------------------------------------------------
test('Threefry-2x32-20 gives the Random123 known answers; the GPU computes the same word', async () => {
  const hex = (w: number[]) => w.map((v) => v.toString(16).padStart(8, '0'));
  // (key, counter) -> output, from Random123's kat_vectors (also in JAX's tests)
  assert.equal(hex(threefry2x32(0, 0, 0, 0)), ['6b200159', '99ba4efe']);
  assert.equal(hex(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)), ['1cb996fc', 'bb002be7']);
  assert.equal(hex(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)), ['c4923a9c', '483df7a0']);
  // element 0 of seed 0, stream 0 is the first word for key (0, 0), counter (0, 0): its top 24 bits / 2^24
  const [g] = await randomUniform([1], 0).data();
  assert.is(g, (0x6b200159 >>> 8) / 2 ** 24);
  assert.is(uniformAt(0, 0, 0), g);
});

test('GPU values equal the interpreter bit for bit: seeds, shapes, int32/uint32 seed tensors', async () => {
  const seeds: (number | Tensor)[] = [0, 1, 12345, 0xffffffff, u32(7), tensor(-7, { dtype: 'int32' }), tensor([99], { dtype: 'uint32' })];
  const shapes = [[1], [7], [64, 33], [3, 5, 4], [2, 1, 9]];
  const outs: Tensor[] = [];
  for (const s of seeds) for (const sh of shapes) outs.push(randomUniform(sh, s));
  outs.push(randomUniform([5, 6], 3, { stream: 1 }), randomUniform([5, 6], 3, { stream: 0xffffffff }));
  await checkAllAgainstInterpreter(outs, exact);
  await checkAllAgainstInterpreter([randomUniform([4, 4], 5, { low: -2, high: 3 })], ulp); // u * 5 - 2
  // values lie in [0, 1) and on the 2^-24 grid
  const v = await outs[2]!.data();
  assert.ok(v.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 2 ** 24)));
});

test('views of random values read the element they name: transposed, strided, broadcast, padded, reshaped', async () => {
  const r = randomUniform([6, 8], 42), t3 = randomUniform([3, 4, 5], u32(9));
  const outs = [
    r.transpose(),                               // permute: element (j, i) is flat index i*8 + j
    r.slice([1, 0], [6, 8], [2, 3]),             // strided
    randomUniform([1, 8], 42).expand([5, 8]),    // broadcast: every row the same
    ts.pad(r, [[1, 2], [0, 3]]),                 // zeros around
    r.reshape([4, 12]).transpose(),
    t3.permute([1, 2, 0]).reshape([20, 3]),
  ];
  await checkAllAgainstInterpreter(outs, exact);
  await checkAllAgainstInterpreter([t3.permute([2, 0, 1]).add(1)], ulp); // fused with arithmetic
  // the broadcast rows are equal and equal the [1, 8] row itself
  const rows = (await outs[2]!.toArray()) as number[][];
  for (const row of rows) assert.equal(row, rows[0]);
  assert.equal(rows[0], Array.from(await randomUniform([1, 8], 42).data()));
});

test('random inside row and matmul kernels; never vectorized', async () => {
  const x = rnd([16, 24], { seed: 3 }), w = rnd([24, 40], { seed: 4 });
  const seed = u32(11);
  await checkAllAgainstInterpreter([
    randomUniform([16, 24], seed).add(x).sum(1),                  // a row kernel
    ts.softmax(randomUniform([9, 70], seed).mul(4)),              // two reductions and a consumer
    ts.relu(ts.matmul(x, w)).mul(randomUniform([16, 40], seed)),  // matmul epilogue
    ts.matmul(dropout(x, 0.5, seed), w),                          // matmul operand
  ], { rtol: 1e-5, atol: 1e-5 });
  // four contiguous elements per invocation would need four indices: random kernels stay scalar
  const code = await wgslOf(rnd([256], { seed: 5 }).add(randomUniform([256], 1)));
  assert.is(code.length, 1);
  assert.ok(!code[0]!.includes('vec4'), code[0]);
  assert.ok(code[0]!.includes('t_uniform('));
  const plain = await wgslOf(rnd([256], { seed: 5 }).add(1)); // the same kernel without random is vectorized
  assert.ok(plain[0]!.includes('vec4'));
});

// ---- statistics, seeds and streams -----------------------------------------------------------------
test('statistics of 64k values: mean, variance, histogram, neighbour correlation', async () => {
  // Expected spreads over 65536 values: mean 0.0011, variance 0.0003, bin count 62, correlation 0.004.
  // The bounds are several times wider, and the seeds fixed: these cannot flake.
  for (const s of [1, 2024, 0xdeadbeef]) {
    const v = (await randomUniform([256, 256], s).data()) as Float32Array;
    const n = v.length;
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `seed ${s}: mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 0.004, `seed ${s}: variance ${variance}`);
    const bins = new Array(16).fill(0);
    for (const x of v) bins[Math.floor(x * 16)]++;
    assert.ok(bins.every((c) => Math.abs(c - n / 16) < 400), `seed ${s}: histogram ${bins}`);
    let cov = 0;
    for (let i = 1; i < n; i++) cov += (v[i]! - mean) * (v[i - 1]! - mean);
    assert.ok(Math.abs(cov / (n - 1) / variance) < 0.03, `seed ${s}: lag-1 correlation ${cov / (n - 1) / variance}`);
  }
});

test('same seed, same values; another seed or stream, other values; a jitted seed argument never retraces', async () => {
  const a = await randomUniform([4096], u32(5)).data(), b = await randomUniform([4096], u32(5)).data(); // two seed tensors, two graphs
  assertEqualArrays(a, b, 'same seed');
  assertEqualArrays(await randomUniform([4096], 5).data(), a, 'a number seed is the same seed');
  const same = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).filter((v, i) => v === y[i]).length;
  for (const other of [randomUniform([4096], 6), randomUniform([4096], 5, { stream: 1 }), randomUniform([4096], 0x80000005)])
    assert.ok(same(await other.data(), a) < 4, 'a different seed or stream gives a different stream');
  // a prefix of a longer draw: element i depends only on (seed, i)
  assertEqualArrays((await randomUniform([8192], 5).data()).subarray(0, 4096), a, 'counter-based');
  const f = ts.jit((s: Tensor) => randomUniform([64], s));
  const r1 = await (await f(u32(1))).data(), r2 = await (await f(u32(2))).data(), r1b = await (await f(u32(1))).data();
  assert.is(f.traceCount, 1);
  assertEqualArrays(r1b, r1, 'jit: same seed');
  assertEqualArrays(r1, await randomUniform([64], 1).data(), 'jit = eager');
  assert.ok(same(r1, r2) < 2, 'jit: new seed, new values');
});

// ---- dropout -------------------------------------------------------------------------------------------
test('dropout keeps 1 - rate of the elements, scaled by 1/(1 - rate); fuses into one dispatch', async () => {
  const x = ts.ones([256, 256]);
  for (const rate of [0.1, 0.5, 0.8]) {
    const v = await dropout(x, rate, 77).data();
    const kept = v.filter((e) => e !== 0);
    assert.ok(Math.abs(kept.length / v.length - (1 - rate)) < 0.01, `rate ${rate}: kept ${kept.length / v.length}`);
    assert.ok(kept.every((e) => e === Math.fround(1 / (1 - rate))), `rate ${rate}: scale`);
  }
  // the mask is where randomUniform >= rate
  const u = await randomUniform([256, 256], 77).data(), d = await dropout(x, 0.5, 77).data();
  assert.ok(d.every((e, i) => (e !== 0) === (u[i]! >= 0.5)));
  assert.ok(dropout(x, 0, 77).node === x.node, 'rate 0 is the identity');
  // dropout(relu(x * a)) is one kernel, and matches the interpreter
  const xs = rnd([33, 17], { seed: 8 }), a = rnd([17], { seed: 9 });
  const y = dropout(ts.relu(xs.mul(a)), 0.3, u32(4));
  await checkAllAgainstInterpreter([y]);
  const { dispatches } = await dispatchesOf(dropout(ts.relu(rnd([33, 17], { seed: 8 }).mul(a)), 0.3, u32(4)));
  assert.is(dispatches, 1);
  await throwsTessera(() => dropout(x, 1, 1), 'dropout', 'rate', '[0, 1)');
  await throwsTessera(() => dropout(x, -0.1, 1), 'dropout', 'rate');
  await throwsTessera(() => dropout(x, 0.5, tensor(1.5)), 'dropout', 'float32', 'uint32 or int32');
  await throwsTessera(() => randomUniform([2], tensor([1, 2], { dtype: 'uint32' })), 'randomUniform', 'one value');
  await throwsTessera(() => randomUniform([2], 0.5), 'randomUniform', '32-bit integer');
});

test('the gradient of dropout is its mask / (1 - rate)', async () => {
  const x = rnd([12, 10], { seed: 12 }), seed = u32(31), rate = 0.4;
  // finite differences (the mask is fixed by the seed) and the GPU gradient vs float64
  await checkGrad('dropout', (t) => dropout(t, rate, seed), [x]);
  const g = await ts.grad((t: Tensor) => dropout(t, rate, seed).sum())(x).data();
  const mask = await dropout(ts.ones([12, 10]), rate, seed).data();
  close(g, mask, 'grad = mask / (1 - rate)', { rtol: 1e-6, atol: 0 });
  assert.ok(mask.some((m) => m === 0) && mask.some((m) => m !== 0));
});

// ---- the Dropout layer -----------------------------------------------------------------------------------
/** A slice of the digits data set (pixels / 16, labels 0..9). */
async function digits(n: number): Promise<{ x: Float32Array; y: Float32Array }> {
  const text = gunzipSync(await readFile(new URL('../examples/data/digits.csv.gz', import.meta.url))).toString('utf8');
  const rows = text.split('\n').filter(Boolean).slice(0, n).map((l) => l.split(',').map(Number));
  return { x: Float32Array.from(rows.flatMap((r) => r.slice(0, 64).map((v) => v / 16))), y: Float32Array.from(rows.map((r) => r[64]!)) };
}

test('Dropout layer: identity in predict, evaluate and call; drops in training mode; one stream per layer', async () => {
  const x = rnd([64, 64], { lo: 0.5, hi: 1.5, seed: 14 });
  const m = nn.sequential([nn.dropout(0.5, { inputShape: [64] }), nn.dropout(0.5)]);
  assertEqualArrays(await (await m.predict(x, { batchSize: 64 })).data(), await x.data(), 'predict');
  assertEqualArrays(await m.call(x).data(), await x.data(), 'call');
  const out = await m.call(x, { training: true, seed: u32(3) }).data();
  // two independent masks keep a quarter (one shared mask would keep half)
  const kept = out.filter((v) => v !== 0).length / out.length;
  assert.ok(Math.abs(kept - 0.25) < 0.03, `kept ${kept}`);
  close(out.filter((v) => v !== 0), (await x.data()).filter((_, i) => out[i] !== 0).map((v) => v * 4), 'scaled by 4');
  await throwsTessera(() => m.call(x, { training: true }), 'dropout', 'seed');
  await throwsTessera(() => nn.dropout(1), 'Dropout', 'rate');
  // summary shows the layers, without parameters
  const text = m.summary({ printFn: () => {} });
  assert.match(text, /dropout\w* \(Dropout\)\s+│ \(None, 64\)\s+│\s+0 │/);
});

test('Dropout in fit: active (and seeded), one trace across epochs; evaluate is deterministic', async () => {
  const x = rnd([24, 3], { seed: 15 }), y = tensor(Array.from({ length: 24 }, (_, i) => [i % 2]), { dtype: 'float32' });
  const make = (withDropout: boolean) => {
    ts.seed(21);
    const m = nn.sequential([nn.dense(16, { activation: 'relu', inputShape: [3] }), ...(withDropout ? [nn.dropout(0.5)] : []), nn.dense(1, { activation: 'sigmoid' })]);
    m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
    return m;
  };
  const weights = async (m: nn.Model) => Promise.all(m.getWeights().map(async (w) => Array.from(await w.data())));
  const a = make(true), b = make(false), c = make(true), d = make(true);
  assert.equal(await weights(a), await weights(b), 'same initial weights');
  // evaluate and predict ignore Dropout
  close([(await a.evaluate(x, y)) as number], [(await b.evaluate(x, y)) as number], 'evaluate', { rtol: 1e-6 });
  await a.fit(x, y, { epochs: 3, batchSize: 8, seed: 1, verbose: 0 });
  await b.fit(x, y, { epochs: 3, batchSize: 8, seed: 1, verbose: 0 });
  await c.fit(x, y, { epochs: 3, batchSize: 8, seed: 1, verbose: 0 });
  await d.fit(x, y, { epochs: 3, batchSize: 8, seed: 2, verbose: 0 });
  assert.not.equal(await weights(a), await weights(b), 'dropout changes the updates');
  assert.equal(await weights(c), await weights(a), 'same fit seed: same masks');
  assert.not.equal(await weights(d), await weights(a), 'another seed: other masks');
  assert.is(a.trainTraceCount, 1, 'one trace for 9 steps: the seed is an argument');
  // the step takes its seed as an argument: new seed, new masks, no retrace; same seed, same result
  const step = ts.jit(a.makeTrainStep());
  const xb = rnd([8, 3], { seed: 16 }), yb = tensor([[0], [1], [0], [1], [0], [1], [0], [1]], { dtype: 'float32' });
  const loss = async (s: number) => (await step(a.params, a.initOptimizerState(), xb, yb, u32(s))).loss.item();
  const l1 = await loss(1), l2 = await loss(2), l1b = await loss(1);
  assert.is(l1b, l1);
  assert.is.not(l2, l1);
  assert.is(step.traceCount, 1);
  await throwsTessera(() => a.makeTrainStep()(a.params, a.initOptimizerState(), xb, yb), 'dropout', 'seed');
});

test('a model with Dropout learns a digits slice', async () => {
  const { x, y } = await digits(256);
  ts.seed(9);
  const m = nn.sequential([nn.dense(32, { activation: 'relu', inputShape: [64] }), nn.dropout(0.2), nn.dense(10, { activation: 'softmax' })]);
  m.compile({ optimizer: nn.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const X = tensor(x, { shape: [256, 64] }), Y = tensor(y, { shape: [256] });
  const h = await m.fit(X, Y, { epochs: 8, batchSize: 64, verbose: 0 });
  const L = h.history.loss!;
  assert.ok(L.at(-1)! < 0.5 * L[0]!, `loss ${L.map((v) => v.toFixed(3)).join(' ')}`);
  const [, acc] = (await m.evaluate(X, Y)) as number[];
  assert.ok(acc! > 0.85, `accuracy ${acc}`);
  assert.is(m.trainTraceCount, 1);
});

test.run();
