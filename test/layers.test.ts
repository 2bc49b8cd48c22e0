/**
 * The stateful and spatial layers: BatchNormalization (batch statistics in training, moving
 * statistics updated by fit's jitted step and used by evaluate/predict), RMSNorm, global pooling,
 * UpSampling2D, Conv1D (causal too), Conv2DTranspose against a direct scatter loop, position
 * embeddings, gradients by finite differences, and Keras's automatic names.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { nn, tensor, type Tensor } from '../index.ts';
import { checkGrad, close, rt } from './grad-helpers.ts';
import { checkAgainstInterpreter, throwsTessera } from './helpers.ts';

const arr = async (t: Tensor) => Array.from(await t.data());

test('layer names follow Keras: conv2d, conv2d_1, batch_normalization, global_average_pooling2d', () => {
  const a = new nn.Conv2D(2, 3), b = new nn.Conv2D(2, 3);
  assert.match(a.name, /^conv2d(_\d+)?$/);
  const na = Number(a.name.split('_')[1] ?? 0), nb = Number(b.name.split('_')[1]);
  assert.is(nb, na + 1);
  assert.match(new nn.BatchNormalization().name, /^batch_normalization(_\d+)?$/);
  assert.match(new nn.GlobalAveragePooling2D().name, /^global_average_pooling2d(_\d+)?$/);
  assert.match(new nn.MaxPooling2D({}).name, /^max_pooling2d(_\d+)?$/);
  assert.match(new nn.MultiHeadAttention(2, 4).name, /^multi_head_attention(_\d+)?$/);
});

test('BatchNormalization: batch statistics in training, moving statistics at inference', async () => {
  const x = rt([6, 3], 1, -2, 2), xs = Array.from(await x.data());
  const bn = new nn.BatchNormalization({ momentum: 0.5, epsilon: 1e-3 });
  bn.build([3]);
  const got: { next?: nn.Params } = {};
  const yTrain = bn.apply(bn.params, x, { training: true, setState: (s) => { got.next = s; } });
  const mu = [0, 1, 2].map((c) => xs.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / 6);
  const vr = [0, 1, 2].map((c) => xs.filter((_, i) => i % 3 === c).reduce((s, v) => s + (v - mu[c]!) ** 2, 0) / 6);
  close(await yTrain.data(), xs.map((v, i) => (v - mu[i % 3]!) / Math.sqrt(vr[i % 3]! + 1e-3)), 'training uses the batch statistics', { rtol: 1e-4, atol: 1e-5 });
  const next = got.next!;
  assert.ok(next, 'training reports new state');
  close(await next.movingMean!.data(), mu.map((m) => 0.5 * m), 'moving mean', { rtol: 1e-5, atol: 1e-6 });
  close(await next.movingVariance!.data(), vr.map((v) => 0.5 + 0.5 * v), 'moving variance', { rtol: 1e-5, atol: 1e-6 });
  // inference: the (initial) moving statistics: mean 0, variance 1
  close(await bn.call(x).data(), xs.map((v) => v / Math.sqrt(1 + 1e-3)), 'inference uses the moving statistics', { rtol: 1e-5, atol: 1e-6 });
  await checkAgainstInterpreter(bn.apply(bn.params, rt([6, 3], 1, -2, 2), { training: true }), { rtol: 1e-4, atol: 1e-5 });
  await checkGrad('batchnorm (training)', (a: Tensor, g: Tensor) => bn.apply({ gamma: g, beta: bn.params.beta! }, a, { training: true }),
    [rt([5, 3], 2), rt([3], 3, 0.5, 1.5)], { rtol: 1e-4, atol: 1e-6 });
});

test('fit updates BatchNormalization\'s moving statistics inside the jitted step; evaluate and predict use them', async () => {
  ts.seed(3);
  const x = rt([8, 4], 4, 1, 3), y = tensor([0, 1, 0, 1, 1, 0, 1, 0]);
  const bn = new nn.BatchNormalization({ momentum: 0.9 });
  const m = nn.sequential([bn, nn.dense(2, { activation: 'softmax' })]);
  m.compile({ optimizer: nn.sgd({ learningRate: 1e-9 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  m.build([4]);
  assert.is(m.countState(), 8);
  const before = bn.state.movingMean!;
  await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, shuffle: false });
  assert.ok(bn.state.movingMean === before, 'same state tensor objects, new values');
  const xs = Array.from(await x.data());
  const mu = [0, 1, 2, 3].map((c) => xs.filter((_, i) => i % 4 === c).reduce((s, v) => s + v, 0) / 8);
  // two steps on the same batch: moving = mu (1 - 0.9^2)
  close(await bn.state.movingMean!.data(), mu.map((v) => v * (1 - 0.81)), 'moving mean after two steps', { rtol: 1e-5, atol: 1e-6 });
  // predict reads the moving statistics (not the batch's): compare with the layer applied at inference by hand
  const st = { movingMean: bn.state.movingMean!, movingVariance: bn.state.movingVariance! };
  const want = await arr(m.layers[1]!.apply(m.layers[1]!.params, bn.apply(bn.params, x, { state: st })));
  close(await (await m.predict(x)).data(), want, 'predict uses the moving statistics', { rtol: 1e-5, atol: 1e-6 });
  const batchStats = await arr(bn.apply(bn.params, x, { training: true }));
  assert.not.equal(batchStats, await arr(bn.apply(bn.params, x)), 'batch and moving statistics differ here');
  const logs = (await m.evaluate(x, y, { returnDict: true })) as Record<string, number>;
  const p = await m.predict(x), pv = Array.from(await p.data()), yv = [0, 1, 0, 1, 1, 0, 1, 0];
  const ce = yv.reduce((s, c, i) => s - Math.log(pv[i * 2 + c]!), 0) / 8;
  close([logs.loss!], [ce], 'evaluate loss from the moving statistics', { rtol: 1e-4 });
  // saved and loaded with the weights
  const bytes = await m.saveWeights();
  const m2 = nn.sequential([new nn.BatchNormalization({ momentum: 0.9 }), nn.dense(2, { activation: 'softmax' })]);
  m2.build([4]);
  await m2.loadWeights(bytes);
  close(await (m2.layers[0] as nn.BatchNormalization).state.movingMean!.data(), await bn.state.movingMean!.data(), 'state round-trips through safetensors');
});

test('RMSNorm, global pooling, UpSampling2D match hand-computed values', async () => {
  const x = rt([2, 3], 5), xs = await arr(x);
  const rms = new nn.RMSNorm(1e-6);
  const want = xs.map((v, i) => { const r = Math.floor(i / 3); const ms = (xs[r * 3]! ** 2 + xs[r * 3 + 1]! ** 2 + xs[r * 3 + 2]! ** 2) / 3; return v / Math.sqrt(ms + 1e-6); });
  close(await rms.call(x).data(), want, 'rmsnorm', { rtol: 1e-5, atol: 1e-6 });
  const img = rt([2, 2, 3, 2], 6), iv = await arr(img);
  const at = (b: number, h: number, w: number, c: number) => iv[((b * 2 + h) * 3 + w) * 2 + c]!;
  const gap = [], gmp = [];
  for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) {
    const vals = [0, 1].flatMap((h) => [0, 1, 2].map((w) => at(b, h, w, c)));
    gap.push(vals.reduce((s, v) => s + v, 0) / 6); gmp.push(Math.max(...vals));
  }
  close(await new nn.GlobalAveragePooling2D().call(img).data(), gap, 'gap');
  close(await new nn.GlobalMaxPooling2D().call(img).data(), gmp, 'gmp');
  assert.equal([...new nn.GlobalAveragePooling2D({ keepdims: true }).call(img).shape], [2, 1, 1, 2]);
  const up = new nn.UpSampling2D({ size: [2, 1] }).call(img);
  assert.equal([...up.shape], [2, 4, 3, 2]);
  const uv = await arr(up);
  for (let b = 0; b < 2; b++) for (let h = 0; h < 4; h++) for (let w = 0; w < 3; w++) for (let c = 0; c < 2; c++)
    assert.is(uv[((b * 4 + h) * 3 + w) * 2 + c], at(b, h >> 1, w, c));
  await checkGrad('upSampling2d', (a: Tensor) => nn.upSampling2d(a, 2), [rt([1, 2, 2, 1], 7)]);
  await checkGrad('rmsNorm', (a: Tensor) => nn.rmsNorm(a), [rt([2, 4], 8)], { rtol: 1e-4 });
});

/** Direct transposed convolution: out[i·s + a - crop] += x[i]·w[a] (NHWC, w [KH, KW, Cout, Cin]). */
function transposeRef(x: number[], xs: number[], w: number[], ws: number[], s: number, same: boolean) {
  const [B, H, W, C] = xs as [number, number, number, number], [KH, KW, Co] = ws as [number, number, number];
  const OH = same ? H * s : (H - 1) * s + KH, OW = same ? W * s : (W - 1) * s + KW;
  const ph = same ? Math.floor(Math.max(KH - s, 0) / 2) : 0, pw = same ? Math.floor(Math.max(KW - s, 0) / 2) : 0;
  const out = new Float64Array(B * OH * OW * Co);
  for (let b = 0; b < B; b++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let a = 0; a < KH; a++) for (let c = 0; c < KW; c++) {
    const oh = i * s + a - ph, ow = j * s + c - pw;
    if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
    for (let co = 0; co < Co; co++) for (let ci = 0; ci < C; ci++)
      out[((b * OH + oh) * OW + ow) * Co + co] += x[((b * H + i) * W + j) * C + ci]! * w[((a * KW + c) * Co + co) * C + ci]!;
  }
  return { out, shape: [B, OH, OW, Co] };
}

test('Conv2DTranspose matches a direct scatter loop (valid and same, strides 1-3); gradients', async () => {
  for (const [k, s, same] of [[3, 2, false], [3, 2, true], [2, 3, true], [4, 2, true], [3, 1, false]] as const) {
    const x = rt([2, 3, 2, 2], 10 + k), w = rt([k, k, 3, 2], 20 + s);
    const y = nn.conv2dTranspose(x, w, { stride: s, padding: same ? 'same' : 'valid' });
    const ref = transposeRef(await arr(x), [2, 3, 2, 2], await arr(w), [k, k, 3, 2], s, same);
    assert.equal([...y.shape], ref.shape, `shape k${k} s${s} ${same}`);
    close(await y.data(), ref.out, `conv2dTranspose k${k} s${s} ${same ? 'same' : 'valid'}`, { rtol: 1e-4, atol: 1e-5 });
  }
  const layer = new nn.Conv2DTranspose(3, 3, { strides: 2, padding: 'same' });
  const out = layer.call(rt([1, 2, 2, 2], 30));
  assert.equal([...out.shape], [1, 4, 4, 3]);
  assert.equal([...layer.computeOutputShape([2, 2, 2])], [4, 4, 3]);
  await checkGrad('conv2dTranspose', (a: Tensor, b: Tensor) => nn.conv2dTranspose(a, b, { stride: 2 }), [rt([1, 2, 2, 2], 31), rt([3, 3, 2, 2], 32)], { rtol: 1e-4 });
});

test('Conv1D (valid, same, causal) matches a direct loop; the causal output never sees the future', async () => {
  const x = rt([2, 6, 3], 40), w = rt([3, 3, 4], 41), xv = await arr(x), wv = await arr(w);
  const ref = (t: number, co: number, b: number, left: number) => {
    let acc = 0;
    for (let k = 0; k < 3; k++) for (let ci = 0; ci < 3; ci++) { const i = t + k - left; if (i >= 0 && i < 6) acc += xv[(b * 6 + i) * 3 + ci]! * wv[(k * 3 + ci) * 4 + co]!; }
    return acc;
  };
  for (const [padding, L, left] of [['valid', 4, 0], ['same', 6, 1], ['causal', 6, 2]] as const) {
    const y = nn.conv1d(x, w, { padding });
    assert.equal([...y.shape], [2, L, 4]);
    const want: number[] = [];
    for (let b = 0; b < 2; b++) for (let t = 0; t < L; t++) for (let co = 0; co < 4; co++) want.push(ref(t, co, b, left));
    close(await y.data(), want, `conv1d ${padding}`, { rtol: 1e-4, atol: 1e-5 });
  }
  const layer = new nn.Conv1D(4, 3, { padding: 'causal', activation: 'relu' });
  assert.equal([...layer.call(x).shape], [2, 6, 4]);
  assert.equal([...layer.computeOutputShape([6, 3])], [6, 4]);
  await checkGrad('conv1d causal', (a: Tensor, b: Tensor) => nn.conv1d(a, b, { padding: 'causal' }), [rt([1, 4, 2], 42), rt([2, 2, 3], 43)], { rtol: 1e-4 });
});

test('PositionalEmbedding adds rows of a learned table; sinusoidal encodings match the formula', async () => {
  const pe = new nn.PositionalEmbedding(8);
  const x = rt([2, 5, 4], 50);
  const y = pe.call(x);
  const table = await arr(pe.params.embeddings!), xv = await arr(x);
  close(await y.data(), xv.map((v, i) => v + table[i % 20]!), 'x + table[:T]');
  await throwsTessera(() => new nn.PositionalEmbedding(4).call(x), 'maxLength');
  const s = nn.sinusoidalEncoding(6, 4);
  const want: number[] = [];
  for (let p = 0; p < 6; p++) for (let i = 0; i < 4; i++) { const a = p / 10000 ** ((2 * Math.floor(i / 2)) / 4); want.push(i % 2 ? Math.cos(a) : Math.sin(a)); }
  close(await s.data(), want, 'sinusoidal', { rtol: 1e-4, atol: 1e-5 });
  close(await new nn.SinusoidalPositionalEncoding().call(rt([1, 6, 4], 51)).data(), (await arr(rt([1, 6, 4], 51))).map((v, i) => v + want[i]!), 'layer adds them', { rtol: 1e-4, atol: 1e-5 });
});

test('sparse cross-entropy: labels out of range are an error (fit and the loss), ignoreClass skips labels', async () => {
  const z = rt([3, 4], 60);
  await throwsTessera(() => nn.sparseCategoricalCrossentropy(tensor([0, 4, 1]), z, { fromLogits: true }), 'label 4', '[0, 3]');
  await throwsTessera(() => nn.sparseCategoricalCrossentropy([0, -1, 1], z, { fromLogits: true }), 'label -1');
  await throwsTessera(() => nn.sparseCategoricalCrossentropy(tensor([0, 1.5, 1]), z, { fromLogits: true }), 'label 1.5');
  const m = nn.sequential([nn.dense(4, { inputShape: [2] })]);
  m.compile({ optimizer: 'sgd', loss: new nn.SparseCategoricalCrossentropy({ fromLogits: true }) });
  const w0 = await arr(m.getWeights()[0]!);
  await throwsTessera(() => m.fit([[1, 2], [3, 4]], [0, 7], { verbose: 0 }), 'sparseCategoricalCrossentropy', 'label 7', '4 classes');
  assert.equal(await arr(m.getWeights()[0]!), w0, 'nothing trained');
  await throwsTessera(() => m.evaluate([[1, 2], [3, 4]], [0, 7]), 'label 7');
  // ignoreClass: those labels contribute nothing; the mean is over the others
  const zv = await arr(z);
  const lsm = (r: number, c: number) => { const row = zv.slice(r * 4, r * 4 + 4); const mx = Math.max(...row); return zv[r * 4 + c]! - mx - Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0)); };
  const l = nn.sparseCategoricalCrossentropy(tensor([2, -100, 1]), z, { fromLogits: true, ignoreClass: -100 });
  close(await l.data(), [-(lsm(0, 2) + lsm(2, 1)) / 2], 'ignoreClass mean', { rtol: 1e-5 });
});

test.run();
