/**
 * Functional models (nn.input / nn.model): a residual block computes what the layers compute by
 * hand (and the interpreter agrees), several inputs and outputs train with per-output losses and
 * metrics, a shared layer has one set of weights, summary lists connections, and whole models
 * (Sequential and functional, with BatchNormalization state) round-trip through save/load.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from '../index.ts';
import { nn, tensor, type Tensor } from '../index.ts';
import { close, rt } from './grad-helpers.ts';
import { checkAgainstInterpreter, throwsTessera } from './helpers.ts';

const arr = async (t: Tensor) => Array.from(await t.data());

test('a residual block: output = relu(x + dense2(relu(dense1(x)))), checked against the interpreter', async () => {
  ts.seed(1);
  const x = nn.input({ shape: [4] });
  const d1 = new nn.Dense(4, { activation: 'relu' }), d2 = new nn.Dense(4);
  const h = d2.call(d1.call(x));
  const out = new nn.Activation('relu').call(new nn.Add().call([x, h]));
  const m = nn.model({ inputs: x, outputs: out });
  assert.equal(m.layers.map((l) => l.className), ['InputLayer', 'Dense', 'Dense', 'Add', 'Activation']);
  assert.equal([...out.shape], [4]);
  const xv = rt([3, 4], 2);
  const y = m.call(xv);
  const byHand = ts.relu(ts.add(xv, d2.call(d1.call(xv))));
  close(await y.data(), await byHand.data(), 'model vs layers by hand');
  await checkAgainstInterpreter(m.call(rt([3, 4], 2)));
  const text = m.summary({ printFn: () => {} });
  assert.match(text, 'Connected to');
  assert.match(text, `${x.source.layer.name}, ${d2.name}`); // the Add row lists both inputs
  assert.match(text, 'Total params: 40');
});

test('several inputs and outputs: fit with per-output losses and metrics, predict returns one tensor per output', async () => {
  ts.seed(2);
  const a = nn.input({ shape: [3], name: 'a' }), b = nn.input({ shape: [2], name: 'b' });
  const h = new nn.Dense(8, { activation: 'relu' }).call(new nn.Concatenate().call([a, b]));
  const cls = new nn.Dense(2, { activation: 'softmax', name: 'cls' }).call(h);
  const reg = new nn.Dense(1, { name: 'reg' }).call(h);
  const m = nn.model({ inputs: [a, b], outputs: [cls, reg] });
  m.compile({ optimizer: nn.adam({ learningRate: 0.02 }), loss: ['sparseCategoricalCrossentropy', 'mse'], lossWeights: [1, 0.5], metrics: ['accuracy'] });
  const n = 32, next = ts.rand([n, 5], { seed: 3 });
  const v = Array.from(await next.data());
  const xa = Array.from({ length: n }, (_, i) => v.slice(i * 5, i * 5 + 3)), xb = Array.from({ length: n }, (_, i) => v.slice(i * 5 + 3, i * 5 + 5));
  const yc = xa.map((r) => +(r[0]! > r[1]!)), yr = xa.map((r, i) => [r[2]! + xb[i]![0]!]);
  const hist = await m.fit([xa, xb], [yc, yr], { epochs: 30, batchSize: 16, verbose: 0 });
  assert.equal(Object.keys(hist.history).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_accuracy', 'reg_loss']);
  const L = hist.history.loss!;
  assert.ok(L.at(-1)! < 0.6 * L[0]!, `loss ${L[0]} -> ${L.at(-1)}`);
  close([L.at(-1)!], [hist.history.cls_loss!.at(-1)! + 0.5 * hist.history.reg_loss!.at(-1)!], 'total = weighted sum', { rtol: 1e-4 });
  const [pc, pr] = await m.predict([xa, xb]);
  assert.equal([...pc!.shape], [n, 2]);
  assert.equal([...pr!.shape], [n, 1]);
  const logs = (await m.evaluate([xa, xb], [yc, yr], { returnDict: true })) as Record<string, number>;
  assert.ok(logs.cls_accuracy! > 0.7, `accuracy ${logs.cls_accuracy}`);
  await throwsTessera(() => m.fit(xa, [yc, yr], { verbose: 0 }), '2 inputs');
  await throwsTessera(() => m.compile({ loss: ['mse'] }), '1 losses', '2 outputs');
});

test('a shared layer has one set of weights used at every call', async () => {
  ts.seed(4);
  const shared = new nn.Dense(3);
  const a = nn.input({ shape: [2] }), b = nn.input({ shape: [2] });
  const m = nn.model({ inputs: [a, b], outputs: new nn.Subtract().call([shared.call(a), shared.call(b)]) });
  assert.is(m.layers.filter((l) => l === shared).length, 1);
  assert.is(m.countParams(), 9);
  const xa = rt([2, 2], 5), xb = rt([2, 2], 6);
  close(await m.call([xa, xb]).data(), await ts.matmul(ts.sub(xa, xb), shared.kernel).data(), 'shared(a) - shared(b) = (a - b) W', { rtol: 1e-5, atol: 1e-6 });
  await throwsTessera(() => new nn.Dense(3).call(nn.input({ shape: [2] })).source.layer.call(nn.input({ shape: [5] })), 'built for inputs of feature shape [2]');
  await throwsTessera(() => nn.model({ inputs: a, outputs: new nn.Add().call([a, b]) }), 'not among the model\'s inputs');
});

test('whole models round-trip through save/load: architecture JSON + safetensors, BatchNormalization state included', async () => {
  ts.seed(5);
  const x = nn.input({ shape: [4, 4, 2] });
  let h = new nn.Conv2D(4, 3, { padding: 'same' }).call(x);
  h = new nn.BatchNormalization().call(h);
  h = new nn.Activation('relu').call(new nn.Add().call([h, new nn.Conv2D(4, 1).call(x)]));
  const out = new nn.Dense(3, { activation: 'softmax' }).call(new nn.GlobalAveragePooling2D().call(h));
  const m = nn.model({ inputs: x, outputs: out, name: 'tiny_resnet' });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const xs = rt([6, 4, 4, 2], 7), ys = tensor([0, 1, 2, 0, 1, 2]);
  await m.fit(xs, ys, { epochs: 3, batchSize: 3, verbose: 0 });
  const want = await arr(await m.predict(xs));
  const dir = await mkdtemp(join(tmpdir(), 'tessera-model-'));
  try {
    const path = join(dir, 'model.safetensors');
    await m.save(path);
    const back = await nn.loadModel(path);
    assert.is(back.name, 'tiny_resnet');
    assert.equal(back.layers.map((l) => l.name), m.layers.map((l) => l.name));
    close(await arr((await back.predict(xs)) as Tensor), want, 'loaded functional model predicts the same', { rtol: 1e-5, atol: 1e-6 });
    assert.equal(JSON.parse(JSON.stringify(back.toJSON())), JSON.parse(JSON.stringify(m.toJSON())));
    // Sequential too
    const s = nn.sequential([nn.dense(5, { activation: 'tanh', inputShape: [3] }), new nn.BatchNormalization(), nn.dense(2)]);
    const sx = rt([4, 3], 8), sw = await arr(s.call(sx));
    const s2 = await nn.loadModel(await s.save());
    assert.ok(s2 instanceof nn.Sequential);
    close(await arr(s2.call(sx) as Tensor), sw, 'loaded Sequential predicts the same');
  } finally { await rm(dir, { recursive: true, force: true }); }
  await throwsTessera(() => nn.sequential([nn.dense(2, { inputShape: [2], activation: (t: Tensor) => t })]).toJSON(), 'a function', 'saveWeights');
  await throwsTessera(async () => nn.loadModel(await nn.sequential([nn.dense(2, { inputShape: [2] })]).saveWeights()), 'no architecture');
});

test.run();
