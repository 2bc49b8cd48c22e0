/**
 * ops/nn building blocks: losses (hand values, the float64 interpreter, gradients, stability,
 * label-shape errors), metrics, activations by name, seeded initializers, layers, optimizers'
 * updates against hand-computed ones (SGD, momentum, Nesterov, Adam, AdamW, RMSprop), the
 * progress display, and safetensors bytes and files.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { checkGrad, close, rt } from './grad-helpers.ts';
import { checkAgainstInterpreter, throwsTessera } from './helpers.ts';
import { Progress } from '../ops/nn/progress.ts';

const { tensor } = ts;
const f32 = (x: Parameters<typeof tensor>[0], o: Parameters<typeof tensor>[1] = {}) => tensor(x, { dtype: 'float32', ...o });
const val = async (t: Tensor) => (await t.data())[0]!;

// ---- losses ------------------------------------------------------------------------------------
test('losses match hand-computed values', async () => {
  const y = f32([[1], [0]]);
  close([await val(nn.binaryCrossentropy(y, f32([[0.8], [0.3]])))], [(-Math.log(0.8) - Math.log(0.7)) / 2], 'bce probs');
  const sp = (z: number) => Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0);
  close([await val(nn.binaryCrossentropy(y, f32([[2], [-1]]), { fromLogits: true }))], [(sp(2) - 2 + sp(-1)) / 2], 'bce logits');
  const oh = f32([[0, 1, 0], [1, 0, 0]]);
  close([await val(nn.categoricalCrossentropy(oh, f32([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])))], [(-Math.log(0.7) - Math.log(0.5)) / 2], 'cce probs');
  const z = f32([[1, 2, 3], [1, 1, 1]]);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  const want = ((lse - 3) + Math.log(3)) / 2;
  close([await val(nn.categoricalCrossentropy(f32([[0, 0, 1], [1, 0, 0]]), z, { fromLogits: true }))], [want], 'cce logits');
  close([await val(nn.sparseCategoricalCrossentropy(tensor([2, 0]), z, { fromLogits: true }))], [want], 'sparse logits, int labels [2]');
  close([await val(nn.sparseCategoricalCrossentropy(f32([[2], [0]]), z, { fromLogits: true }))], [want], 'sparse logits, float labels [2, 1]');
  close([await val(nn.sparseCategoricalCrossentropy([2, 0], ts.softmax(z)))], [want], 'sparse probs', { rtol: 1e-5 });
  close([await val(nn.meanSquaredError(f32([[1], [2]]), f32([[1.5], [1]])))], [0.625], 'mse');
  close([await val(nn.meanAbsoluteError(f32([[1], [2]]), f32([[1.5], [1]])))], [0.75], 'mae');
  // reductions
  close(await nn.binaryCrossentropy(y, f32([[0.8], [0.3]]), { reduction: 'none' }).data(), [-Math.log(0.8), -Math.log(0.7)], 'bce none');
  close([await val(nn.binaryCrossentropy(y, f32([[0.8], [0.3]]), { reduction: 'sum' }))], [-Math.log(0.8) - Math.log(0.7)], 'bce sum');
  // binary labels [B] against predictions [B, 1] are accepted
  close([await val(nn.binaryCrossentropy([1, 0], f32([[0.8], [0.3]])))], [(-Math.log(0.8) - Math.log(0.7)) / 2], 'bce [B] labels');
});

test('losses agree with the float64 interpreter on random data', async () => {
  const logits = rt([6, 5], 11, -3, 3), probs = ts.softmax(logits);
  const onehot = f32(Array.from({ length: 6 }, (_, i) => Array.from({ length: 5 }, (_, j) => +(j === (i * 3) % 5))));
  const idx = f32([0, 3, 1, 4, 2, 0]);
  const yb = f32(Array.from({ length: 6 }, (_, i) => [i % 2]));
  const zb = rt([6, 1], 12, -4, 4);
  for (const [name, t] of [
    ['bce probs', nn.binaryCrossentropy(yb, ts.sigmoid(zb))], ['bce logits', nn.binaryCrossentropy(yb, zb, { fromLogits: true })],
    ['cce probs', nn.categoricalCrossentropy(onehot, probs)], ['cce logits', nn.categoricalCrossentropy(onehot, logits, { fromLogits: true })],
    ['sparse probs', nn.sparseCategoricalCrossentropy(idx, probs)], ['sparse logits', nn.sparseCategoricalCrossentropy(idx, logits, { fromLogits: true })],
    ['mse', nn.meanSquaredError(rt([6, 5], 13), logits)], ['per-sample bce', nn.binaryCrossentropy(yb, zb, { fromLogits: true, reduction: 'none' })],
  ] as const) await checkAgainstInterpreter(t, { rtol: 1e-5, atol: 1e-6, msg: name });
});

test('loss gradients (from logits) match finite differences and the GPU', async () => {
  const onehot = f32([[0, 1, 0], [0, 0, 1]]), idx = f32([1, 2]), yb = f32([[1], [0], [1]]);
  await checkGrad('bce logits', (z) => nn.binaryCrossentropy(yb, z, { fromLogits: true }), [rt([3, 1], 21, -3, 3)]);
  await checkGrad('cce logits', (z) => nn.categoricalCrossentropy(onehot, z, { fromLogits: true }), [rt([2, 3], 22, -3, 3)]);
  await checkGrad('sparse logits', (z) => nn.sparseCategoricalCrossentropy(idx, z, { fromLogits: true }), [rt([2, 3], 23, -3, 3)]);
  await checkGrad('mse', (p) => nn.meanSquaredError(yb, p), [rt([3, 1], 24)]);
});

test('cross-entropies stay finite at extreme logits and saturated probabilities', async () => {
  const bce = await val(nn.binaryCrossentropy(f32([[0], [1]]), f32([[100], [-100]]), { fromLogits: true }));
  close([bce], [100], 'bce logits at ±100');
  const g = await (ts.grad((z: Tensor) => nn.binaryCrossentropy(f32([[0], [1]]), z, { fromLogits: true }))(f32([[100], [-100]]))).data();
  close(g, [0.5, -0.5], 'bce logits gradient at ±100');
  const cce = await val(nn.sparseCategoricalCrossentropy([0], f32([[-1000, 1000, 0]]), { fromLogits: true }));
  close([cce], [2000], 'sparse logits at ±1000');
  // probabilities 0 and 1 clip to 1e-7 and 1 - 1e-7 (in float32, 1 - 1.19e-7): -log of those, not Infinity
  const clipped = await nn.binaryCrossentropy(f32([[1], [0]]), f32([[0], [1]]), { reduction: 'none' }).data();
  close(clipped, [-Math.log(1e-7), -Math.log(1 - Math.fround(1 - 1e-7))], 'clipped bce', { rtol: 1e-3 });
});

test('labels of the wrong shape: TesseraError naming the loss, both shapes and the fix', async () => {
  const p1 = f32([[0.5], [0.5], [0.5]]), p3 = rt([3, 4], 1);
  await throwsTessera(() => nn.binaryCrossentropy(f32([[1, 0], [0, 1], [1, 1]]), p1), 'binaryCrossentropy', '[3, 2]', '[3, 1]', 'Fix');
  await throwsTessera(() => nn.meanSquaredError(f32([1, 2]), p1), 'meanSquaredError', '[2]', '[3, 1]');
  await throwsTessera(() => nn.categoricalCrossentropy(f32([0, 1, 2]), p3), 'categoricalCrossentropy', '[3]', '[3, 4]', 'sparseCategoricalCrossentropy');
  await throwsTessera(() => nn.sparseCategoricalCrossentropy(f32([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]), p3), 'sparseCategoricalCrossentropy', '[3, 4]', 'categoricalCrossentropy');
  await throwsTessera(() => nn.sparseCategoricalCrossentropy(f32([0, 1]), p3), 'sparseCategoricalCrossentropy', '[2]', '[3, 4]', '[3]');
  await throwsTessera(() => nn.losses.getLoss('hinge' as never), 'unknown loss', 'binaryCrossentropy');
  assert.is(nn.losses.getLoss('binary_crossentropy').name, 'binaryCrossentropy');
});

test('metrics: accuracy variants', async () => {
  const loss = nn.losses.getLoss('binaryCrossentropy');
  const acc = nn.metrics.getMetric('accuracy', loss);
  close([await val(acc.fn(f32([[1], [0], [1], [0]]), f32([[0.9], [0.6], [0.4], [0.1]])))], [0.5], 'binary accuracy');
  const logitsAcc = nn.metrics.getMetric('accuracy', new nn.BinaryCrossentropy({ fromLogits: true }));
  close([await val(logitsAcc.fn(f32([[1], [0]]), f32([[0.3], [-0.2]])))], [1], 'binary accuracy on logits (threshold 0)');
  const p = f32([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]);
  close([await val(nn.metrics.sparseCategoricalAccuracy(f32([1, 0, 0]), p))], [2 / 3], 'sparse');
  close([await val(nn.metrics.categoricalAccuracy(f32([[0, 1, 0], [0, 0, 1], [0, 0, 1]]), p))], [2 / 3], 'categorical');
  close([await val(nn.metrics.getMetric('acc', nn.losses.getLoss('sparseCategoricalCrossentropy')).fn(tensor([1, 0, 2]), p))], [1], 'acc for sparse');
});

// ---- activations, initializers, layers --------------------------------------------------------
test('activations by name (camelCase and snake_case)', async () => {
  const x = f32([-2, -0.5, 0, 0.5, 2]);
  const by = (n: string) => nn.getActivation(n as never)(x);
  close(await by('relu').data(), [0, 0, 0, 0.5, 2], 'relu');
  close(await by('sigmoid').data(), [-2, -0.5, 0, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v))), 'sigmoid');
  close(await by('tanh').data(), [-2, -0.5, 0, 0.5, 2].map(Math.tanh), 'tanh', { rtol: 1e-5, atol: 1e-6 });
  close(await by('linear').data(), [-2, -0.5, 0, 0.5, 2], 'linear');
  const sm = await by('softmax').data(), lsm = await by('log_softmax').data();
  close(Array.from(lsm, Math.exp), sm, 'exp(logSoftmax) = softmax');
  await checkAgainstInterpreter(by('gelu'), { rtol: 1e-5, atol: 1e-6 });
  await throwsTessera(() => nn.getActivation('swishy' as never), "unknown activation 'swishy'", 'relu');
});

test('initializers: seeded, Glorot bounds, He scale, zeros', async () => {
  const a = await nn.initializers.glorotUniform({ seed: 5 })([20, 30]).data();
  const b = await nn.initializers.glorotUniform({ seed: 5 })([20, 30]).data();
  const c = await nn.initializers.glorotUniform({ seed: 6 })([20, 30]).data();
  assert.equal(Array.from(a), Array.from(b), 'same seed, same values');
  assert.not.equal(Array.from(a), Array.from(c), 'other seed, other values');
  const lim = Math.sqrt(6 / 50);
  assert.ok(Array.from(a).every((v) => Math.abs(v) <= lim), 'glorotUniform within ±sqrt(6/(in+out))');
  assert.ok(Math.max(...Array.from(a, Math.abs)) > 0.9 * lim, 'glorotUniform fills its range');
  const std = (d: ArrayLike<number>) => { const v = Array.from(d); const m = v.reduce((s, x) => s + x, 0) / v.length; return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length); };
  const he = await nn.initializers.heNormal({ seed: 1 })([200, 100]).data();
  assert.ok(Math.abs(std(he) / Math.sqrt(2 / 200) - 1) < 0.05, `heNormal std ${std(he)} ~ sqrt(2/fanIn)`);
  const hu = await nn.initializers.heUniform({ seed: 1 })([200, 100]).data();
  assert.ok(Math.abs(std(hu) / Math.sqrt(2 / 200) - 1) < 0.05, `heUniform std ${std(hu)} ~ sqrt(2/fanIn)`);
  assert.ok((await nn.initializers.getInitializer('zeros')([3, 2]).data()).every((v) => v === 0), 'zeros');
  // the global seed() makes model construction reproducible
  ts.seed(123); const k1 = await new nn.Dense(4, { inputShape: [3] }).kernel.data();
  ts.seed(123); const k2 = await new nn.Dense(4, { inputShape: [3] }).kernel.data();
  assert.equal(Array.from(k1), Array.from(k2), 'seed() then build: same weights');
  await throwsTessera(() => nn.initializers.getInitializer('glorotUniformish'), "unknown initializer 'glorotUniformish'");
});

test('layers: Dense/Linear shapes, params, eager call, activation layers, errors', async () => {
  const d = new nn.Dense(4, { activation: 'relu', inputShape: [3], kernelInitializer: 'ones', name: 'hidden' });
  assert.equal([...d.kernel.shape], [3, 4]); assert.equal([...d.bias!.shape], [4]);
  assert.is(d.countParams(), 16); assert.is(d.name, 'hidden');
  close(await d.call(f32([[1, 2, 3], [-1, -1, -1]])).data(), [6, 6, 6, 6, 0, 0, 0, 0], 'relu(x @ ones)');
  const lin = new nn.Linear(5, 2, { bias: false });
  assert.equal([...lin.kernel.shape], [5, 2]); assert.is(lin.bias, undefined); assert.is(lin.countParams(), 10);
  const lazy = nn.dense(3);
  assert.not.ok(lazy.built);
  assert.equal([...lazy.call(rt([2, 7], 1)).shape], [2, 3]);
  assert.equal([...lazy.kernel.shape], [7, 3]);
  await throwsTessera(() => lazy.call(rt([2, 6], 1)), 'built for inputs of feature shape [7]', '[6]');
  await throwsTessera(() => new nn.Dense(0), 'units must be a positive integer');
  await throwsTessera(() => nn.dense(2).kernel, 'not built');
  close(await new nn.Softmax().call(f32([[0, 0]])).data(), [0.5, 0.5], 'Softmax layer');
  assert.equal([...new nn.Flatten().call(rt([2, 3, 4], 1)).shape], [2, 12]);
  // compiled steps are shared by configuration only for the library's own layers
  assert.is(nn.dense(3, { activation: 'tanh' }).cacheKey(), 'Dense(3,tanh,true)');
  assert.is(new (class MyDense extends nn.Dense {})(3).cacheKey(), null);
  assert.is(nn.dense(3, { activation: (t: Tensor) => t }).cacheKey(), null);
  const ln = new nn.LayerNormalization(1e-3, { inputShape: [4] });
  const y = await ln.call(f32([[1, 2, 3, 4]])).data();
  close([Array.from(y).reduce((s, v) => s + v, 0)], [0], 'layer norm centres', { atol: 1e-5 });
});

test('Sequential: build, summary, getWeights/setWeights', async () => {
  const m = nn.sequential([nn.dense(10, { activation: 'relu', inputShape: [3] }), nn.dense(1, { activation: 'sigmoid' })], { name: 'seedmodel' });
  assert.ok(m.built);
  assert.is(m.countParams(), 51);
  let printed = '';
  const s = m.summary({ printFn: (l) => { printed = l; } });
  assert.is(s, printed);
  for (const part of ['Model: "seedmodel"', 'Layer (type)', '(Dense)', '(None, 10)', '(None, 1)', '40', '11', 'Total params: 51', 'Trainable params: 51', 'Non-trainable params: 0'])
    assert.ok(s.includes(part), `summary mentions ${part}`);
  const unbuilt = new ts.Sequential([new ts.Dense(5), new ts.Dense(2)]);
  assert.not.ok(unbuilt.built);
  assert.ok(unbuilt.summary({ printFn: () => {} }).includes('unbuilt'));
  const out = unbuilt.call(rt([4, 6], 2));
  assert.equal([...out.shape], [4, 2]);
  assert.ok(unbuilt.built);
  const ws = m.getWeights();
  assert.is(ws.length, 4);
  const k0 = m.layers[0]!.params.kernel!;
  m.setWeights(ws.map((w) => ts.onesLike(w)));
  assert.ok(m.layers[0]!.params.kernel === k0, 'the same tensor object, new value');
  assert.ok((await k0.data()).every((v) => v === 1));
  await throwsTessera(() => m.setWeights([ts.ones([2, 2])]), 'setWeights', '1 tensors', '4 weights');
  await throwsTessera(() => m.layers[0]!.setWeights([ts.ones([2, 2]), ts.ones([10])]), 'kernel has shape [3, 10]', '[2, 2]');
});

// ---- optimizers ----------------------------------------------------------------------------------
/** Hand-computed reference updates (float64), Keras formulas. */
function reference(kind: string, w0: number[], grads: number[][], o: Record<string, number | boolean> = {}): number[] {
  const w = [...w0], m = w.map(() => 0), v = w.map(() => 0);
  const lr = (o.lr as number) ?? 0.01, mu = (o.momentum as number) ?? 0, wd = (o.wd as number) ?? 0;
  const b1 = 0.9, b2 = 0.999, eps = 1e-7;
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < w.length; i++) {
      w[i]! -= lr * wd * w[i]!;
      if (kind === 'sgd') {
        if (!mu) w[i]! -= lr * g[i]!;
        else { m[i] = mu * m[i]! - lr * g[i]!; w[i]! += o.nesterov ? mu * m[i]! - lr * g[i]! : m[i]!; }
      } else if (kind === 'adam') {
        m[i]! += (g[i]! - m[i]!) * (1 - b1);
        v[i]! += (g[i]! ** 2 - v[i]!) * (1 - b2);
        w[i]! -= (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t) * m[i]! / (Math.sqrt(v[i]!) + eps);
      } else if (kind === 'rmsprop') {
        v[i] = 0.9 * v[i]! + 0.1 * g[i]! ** 2;
        w[i]! -= lr * g[i]! / (Math.sqrt(v[i]!) + eps);
      }
    }
  });
  return w;
}

test('optimizer updates match hand-computed ones over three steps', async () => {
  const w0 = [1, -2, 0.5], grads = [[0.5, -1, 0.25], [-0.25, 2, 0], [1, 1, -3]];
  const cases: [string, nn.Optimizer, string, Record<string, number | boolean>][] = [
    ['SGD', new nn.SGD({ learningRate: 0.1 }), 'sgd', { lr: 0.1 }],
    ['SGD momentum', new nn.SGD({ learningRate: 0.1, momentum: 0.9 }), 'sgd', { lr: 0.1, momentum: 0.9 }],
    ['SGD Nesterov', new nn.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 'sgd', { lr: 0.1, momentum: 0.9, nesterov: true }],
    ['Adam', new nn.Adam({ learningRate: 0.01 }), 'adam', { lr: 0.01 }],
    ['AdamW', new nn.AdamW({ learningRate: 0.01, weightDecay: 0.1 }), 'adam', { lr: 0.01, wd: 0.1 }],
    ['SGD + weightDecay', new nn.SGD({ learningRate: 0.1, weightDecay: 0.5 }), 'sgd', { lr: 0.1, wd: 0.5 }],
    ['RMSprop', new nn.RMSprop({ learningRate: 0.01 }), 'rmsprop', { lr: 0.01 }],
  ];
  for (const [name, opt, kind, o] of cases) {
    let params: { w: Tensor } = { w: f32(w0) };
    let state = opt.init(params);
    for (let s = 0; s < grads.length; s++) {
      const r = opt.update(params, { w: f32(grads[s]!) }, state);
      params = r.params; state = r.state;
      close(await params.w.data(), reference(kind, w0, grads.slice(0, s + 1), o), `${name} after step ${s + 1}`, { rtol: 2e-5, atol: 1e-6 });
    }
  }
  assert.is(new nn.AdamW().weightDecay, 0.004);
  assert.ok(nn.optimizers.getOptimizer('ADAM') instanceof nn.Adam);
  assert.ok(nn.optimizers.getOptimizer('adamw') instanceof nn.AdamW);
  assert.is((nn.optimizers.getOptimizer('sgd') as nn.SGD).learningRate, 0.01);
  await throwsTessera(() => nn.optimizers.getOptimizer('adagrad'), "unknown optimizer 'adagrad'");
  await throwsTessera(() => new nn.SGD({ momentum: 1.5 }), 'momentum');
  await throwsTessera(() => new nn.Adam({ learningRate: -1 }), 'learningRate');
});

test('optimizer updates compile to one fused kernel per parameter (weight and moments together)', async () => {
  const p = { a: rt([16, 8], 1), b: rt([8], 2), c: rt([8, 4], 3) };
  const g = { a: rt([16, 8], 4), b: rt([8], 5), c: rt([8, 4], 6) };
  for (const [opt, kernels] of [[new nn.Adam(), 4], [new nn.AdamW(), 4], [new nn.SGD({ momentum: 0.9, nesterov: true }), 3], [new nn.RMSprop(), 3]] as const) {
    const upd = ts.jit((pp: typeof p, gg: typeof g, st: nn.OptState) => { const r = opt.update(pp, gg, st); return { p: r.params, s: r.state }; });
    await upd(p, g, opt.init(p));
    // one kernel per parameter writing the weight and its moments (+ one for Adam's step counter)
    assert.is(upd.dispatches, kernels, `${opt.name} over 3 parameters: ${upd.dispatches} kernels`);
  }
});

// ---- progress ----------------------------------------------------------------------------------
test('progress: quiet at verbose 0, one line per epoch off a terminal, a redrawn bar on one', () => {
  const mk = (isTTY: boolean) => { const out: string[] = []; return { out, sink: { write: (s: string) => { out.push(s); }, isTTY, columns: 80 } }; };
  const q = mk(true); const p0 = new Progress(0, 2, 3, q.sink);
  p0.epochBegin(0); p0.batchEnd(0); p0.epochEnd(0, { loss: 1 });
  assert.is(q.out.length, 0);
  const pipe = mk(false); const p1 = new Progress(1, 2, 3, pipe.sink);
  p1.epochBegin(0); p1.batchEnd(0); p1.batchEnd(2); p1.epochEnd(0, { loss: 0.5, accuracy: 0.75 });
  assert.is(pipe.out.length, 1);
  assert.match(pipe.out[0]!, /^Epoch 1\/2 - 3 steps - \d+s \S+\/step - accuracy: 0\.7500 - loss: 0\.5000\n$/);
  const tty = mk(true); const p2 = new Progress(1, 2, 3, tty.sink);
  p2.epochBegin(1); p2.batchEnd(2); p2.epochEnd(1, { loss: 0.25 });
  assert.is(tty.out[0], 'Epoch 2/2\n');
  assert.ok(tty.out.at(-1)!.startsWith('\r3/3 ━━━━━━━━━━━━━━━━━━━━') && tty.out.at(-1)!.includes('loss: 0.2500'));
});

// ---- safetensors -------------------------------------------------------------------------------
test('safetensors: bytes round trip (dtypes, metadata, alignment) and a file', async () => {
  const tensors = { w: f32([[1.5, -2], [3, 4]]), i: tensor([1, -2, 3], { dtype: 'int32' }), b: tensor([true, false]), s: f32(7) };
  const bytes = await nn.saveSafetensors(tensors, undefined, { note: 'hi' });
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  assert.is((8 + headerLen) % 8, 0, 'header padded to 8 bytes');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  assert.equal(header.w, { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
  assert.equal(header.__metadata__, { note: 'hi' });
  const { tensors: back, metadata } = await nn.loadSafetensors(bytes);
  assert.equal(metadata, { note: 'hi' });
  assert.equal(await back.w!.toArray(), [[1.5, -2], [3, 4]]);
  assert.equal(await back.i!.toArray(), [1, -2, 3]); assert.is(back.i!.dtype, 'int32');
  assert.equal(await back.b!.toArray(), [true, false]);
  assert.equal(await back.s!.toArray(), 7); assert.equal([...back.s!.shape], []);
  const dir = await mkdtemp(join(tmpdir(), 'tessera-'));
  try {
    const path = join(dir, 'w.safetensors');
    await nn.saveSafetensors({ w: tensors.w }, path);
    assert.equal(await (await nn.loadSafetensors(path)).tensors.w!.toArray(), [[1.5, -2], [3, 4]]);
  } finally { await rm(dir, { recursive: true, force: true }); }
  await throwsTessera(() => nn.decodeSafetensors(new Uint8Array([1, 2, 3])), 'not a valid safetensors file');
  const bad = bytes.slice(); new DataView(bad.buffer).setBigUint64(0, 10n ** 9n, true);
  await throwsTessera(() => nn.decodeSafetensors(bad), 'header length');
  // a file from another writer: F64 and F16 are read (as float32 / float16)
  const raw = nn.encodeSafetensors({ h: { dtype: 'float16', shape: [2], data: new Float32Array([0.5, -2]) } });
  assert.equal(await (await nn.loadSafetensors(raw)).tensors.h!.toArray(), [0.5, -2]);
});

test.run();
