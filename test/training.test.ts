/**
 * Training with the Keras-style API (ops/nn/model.ts, training.ts): the jitted train step makes
 * the eager step's updates, fit matches both, loss decreases (seed program, digits slice), one
 * trace per batch shape across epochs and models, memory flat over 200 jitted steps, history /
 * callbacks / validation / evaluate / predict, weights through safetensors, and bad input failing
 * at the call with the parameters left unchanged.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { close } from './grad-helpers.ts';
import { throwsTessera } from './helpers.ts';

const { tensor, jit, stats } = ts;
const f32 = (x: Parameters<typeof tensor>[0], o: Parameters<typeof tensor>[1] = {}) => tensor(x, { dtype: 'float32', ...o });
const seedX = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], seedY = [[0], [1], [0]];
/** Parameter values, layer by layer, parameters by name (a pytree round trip sorts object keys). */
const values = async (ps: readonly nn.Params[]) =>
  Promise.all(ps.flatMap((p) => Object.keys(p).sort().map((k) => p[k]!)).map(async (t) => Array.from(await t.data())));
const weights = (m: nn.Model) => values(m.params);

function seedModel(seedv = 1, opts: { optimizer?: nn.OptimizerSpec; units?: number } = {}): nn.Sequential {
  ts.seed(seedv);
  const m = new ts.Sequential([new ts.Dense(opts.units ?? 10, { activation: 'relu', inputShape: [3] }), new ts.Dense(1, { activation: 'sigmoid' })]);
  m.compile({ optimizer: opts.optimizer ?? 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** A slice of the digits data set (pixels / 16, labels 0..9). */
async function digits(n: number): Promise<{ x: Float32Array; y: Float32Array }> {
  const text = gunzipSync(await readFile(new URL('../examples/data/digits.csv.gz', import.meta.url))).toString('utf8');
  const rows = text.split('\n').filter(Boolean).slice(0, n).map((l) => l.split(',').map(Number));
  return { x: Float32Array.from(rows.flatMap((r) => r.slice(0, 64).map((v) => v / 16))), y: Float32Array.from(rows.map((r) => r[64]!)) };
}

/** A full garbage collection, then the finalizers it queued: buffers of unreachable tensors go back to the pool. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 0)); }
}

// ---- the step -----------------------------------------------------------------------------------
test('the jitted train step makes the same updates as the eager step, and fit the same as both', async () => {
  for (const opt of ['adam', 'sgd', new nn.SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }), new nn.AdamW({ learningRate: 0.01 })] as const) {
    const a = seedModel(3, { optimizer: opt }), b = seedModel(3, { optimizer: opt }), c = seedModel(3, { optimizer: opt });
    const x = f32(seedX), y = f32(seedY);
    const step = a.makeTrainStep();
    // eager: two steps, lazily chained
    let r = step(a.params, a.initOptimizerState(), x, y);
    const eagerLoss1 = (await r.loss.data())[0]!;
    r = step(r.params, r.optState, x, y);
    const eager = await values(r.params);
    // jitted
    const js = jit(step);
    let q: nn.StepResult = await js(b.params, b.initOptimizerState(), x, y);
    close([(await q.loss.data())[0]!], [eagerLoss1], `${opt} loss, jit vs eager`);
    q = await js(q.params, q.optState, x, y);
    const jitted = await values(q.params);
    eager.forEach((e, i) => close(jitted[i]!, e, `${opt}: weight ${i}, jit vs eager`, { rtol: 1e-5, atol: 1e-6 }));
    assert.is(js.traceCount, 1);
    // fit: two epochs of one full batch
    await c.fit(x, y, { epochs: 2, verbose: 0, shuffle: false });
    (await weights(c)).forEach((w, i) => close(w, eager[i]!, `${opt}: weight ${i}, fit vs eager`, { rtol: 1e-5, atol: 1e-6 }));
  }
});

test('fit updates the layers\' own tensors (same objects, new values)', async () => {
  const m = seedModel(4);
  const k = (m.layers[0] as nn.Dense).kernel;
  const before = Array.from(await k.data());
  await m.fit(seedX, seedY, { epochs: 1, verbose: 0 });
  assert.ok((m.layers[0] as nn.Dense).kernel === k, 'same tensor object');
  assert.not.equal(Array.from(await k.data()), before, 'new values');
});

// ---- learning ----------------------------------------------------------------------------------
test('the seed program: loss decreases over 10 epochs; predict gives a probability', async () => {
  const m = seedModel(5);
  const h = await m.fit(seedX, seedY, { epochs: 10, verbose: 0 });
  assert.equal(Object.keys(h.history).sort(), ['accuracy', 'loss']);
  assert.is(h.history.loss!.length, 10);
  assert.equal(h.epoch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(h.history.loss!.at(-1)! < h.history.loss![0]!, `loss ${h.history.loss![0]} -> ${h.history.loss!.at(-1)}`);
  const p = await m.predict([[1, 2, 3]]);
  assert.equal([...p.shape], [1, 1]);
  const v = (await p.data())[0]!;
  assert.ok(v > 0 && v < 1, `probability ${v}`);
  // longer training fits the three points
  const h2 = await m.fit(seedX, seedY, { epochs: 300, verbose: 0, batchSize: 3 });
  assert.ok(h2.history.loss!.at(-1)! < h.history.loss!.at(-1)!);
});

test('loss decreases on a slice of the digits data (MLP, softmax, sparse labels)', async () => {
  const { x, y } = await digits(256);
  ts.seed(9);
  const m = nn.sequential([nn.dense(32, { activation: 'relu', inputShape: [64] }), nn.dense(10, { activation: 'softmax' })]);
  m.compile({ optimizer: nn.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const X = tensor(x, { shape: [256, 64] }), Y = tensor(y, { shape: [256] });
  const h = await m.fit(X, Y, { epochs: 8, batchSize: 64, verbose: 0 });
  const L = h.history.loss!, A = h.history.accuracy!;
  assert.ok(L.at(-1)! < 0.5 * L[0]!, `loss ${L.map((v) => v.toFixed(3)).join(' ')}`);
  assert.ok(A.at(-1)! > 0.85, `accuracy ${A.at(-1)}`);
  const [loss, acc] = (await m.evaluate(X, Y)) as number[];
  assert.ok(Math.abs(loss! - L.at(-1)!) < 0.2 && acc! > 0.85, `evaluate: loss ${loss}, accuracy ${acc}`);
  const probs = await m.predict(X, { batchSize: 100 }); // three chunks, stitched
  assert.equal([...probs.shape], [256, 10]);
  const rowSums = await probs.sum(1).data();
  close(rowSums, new Array(256).fill(1), 'softmax rows', { rtol: 1e-4 });
  // categorical (one-hot) labels train too
  const oh = f32(Array.from(y, (c) => Array.from({ length: 10 }, (_, j) => +(j === c))));
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const h2 = await m.fit(X, oh, { epochs: 2, batchSize: 64, verbose: 0 });
  assert.ok(h2.history.accuracy!.at(-1)! > 0.85);
});

// ---- tracing and memory --------------------------------------------------------------------------
test('one trace per batch shape: across epochs, fits and models of the same architecture', async () => {
  const x = f32(Array.from({ length: 12 }, (_, i) => [i / 12, (i % 3) / 3, 1 - i / 12])), y = f32(Array.from({ length: 12 }, (_, i) => [i % 2]));
  const m = seedModel(6, { units: 7 });
  assert.is(m.trainTraceCount, 0);
  await m.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
  assert.is(m.trainTraceCount, 1);
  const programs = stats().programsCompiled;
  await m.fit(x, y, { epochs: 5, batchSize: 4, verbose: 0 });
  assert.is(m.trainTraceCount, 1, 'no retrace across epochs');
  const other = seedModel(7, { units: 7 });
  await other.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
  assert.is(other.trainTraceCount, 1, 'a second model of the same architecture reuses the trace');
  assert.is(stats().programsCompiled, programs, 'and compiles nothing');
  await m.fit(x, y, { epochs: 2, batchSize: 5, verbose: 0 }); // batches 5, 5, 2: two new signatures
  assert.is(m.trainTraceCount, 3, 'new batch shapes trace once each');
  // a model with a user function (not shareable) keeps its own steps across fit calls
  ts.seed(8);
  const custom = new ts.Sequential([new ts.Dense(4, { activation: (t: Tensor) => ts.tanh(t), inputShape: [3] }), new ts.Dense(1)]);
  custom.compile({ optimizer: 'sgd', loss: (yt: Tensor, yp: Tensor) => ts.mean(ts.square(ts.sub(yt, yp))) });
  await custom.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  await custom.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  assert.is(custom.trainTraceCount, 1, 'custom layers and losses: one trace across fit calls');
});

test('memory: 200 jitted train steps leave live buffers and bytes allocated unchanged after the first', async () => {
  ts.seed(10);
  const N = 64;
  const x = ts.randn([N, 8], { seed: 3 }), y = Array.from({ length: N }, (_, i) => i % 3);
  const m = nn.sequential([nn.dense(16, { activation: 'relu', inputShape: [8] }), nn.dense(3)]);
  m.compile({ optimizer: 'adam', loss: new nn.SparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  // Buffers of tensors other tests dropped are freed by the garbage collector at unpredictable
  // times; collect them now so the counts below only see this model.
  await collectGarbage();
  const seen: [number, number][] = [];
  const h = await m.fit(x, y, { epochs: 25, batchSize: 8, verbose: 0, callbacks: { onBatchEnd: () => { const s = stats(); seen.push([s.liveBuffers, s.bytesAllocated]); } } });
  assert.is(seen.length, 200);
  for (let i = 1; i < seen.length; i++) assert.equal(seen[i], seen[0], `after step ${i + 1}: [liveBuffers, bytesAllocated] ${seen[i]} vs ${seen[0]} after the first`);
  assert.ok(h.history.loss!.at(-1)! < h.history.loss![0]!);
  assert.is(m.trainTraceCount, 1);
  // and fit leaves nothing behind: another fit ends at the same numbers
  const s0 = stats();
  await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
  const s1 = stats();
  assert.equal([s1.liveBuffers, s1.bytesAllocated], [s0.liveBuffers, s0.bytesAllocated]);
});

// ---- fit options -------------------------------------------------------------------------------
test('fit: validationSplit, validationData, callbacks, stopTraining, shuffle seed, history', async () => {
  const x = f32(Array.from({ length: 20 }, (_, i) => [i / 20, 1 - i / 20, (i % 4) / 4])), y = f32(Array.from({ length: 20 }, (_, i) => [+(i % 4 < 2)]));
  const m = seedModel(11);
  const events: string[] = [];
  const batchLogs: Record<string, number>[] = [];
  const h = await m.fit(x, y, {
    epochs: 3, batchSize: 8, validationSplit: 0.25, verbose: 0,
    callbacks: [{
      onTrainBegin: () => { events.push('train'); }, onEpochBegin: (e) => { events.push(`e${e}`); },
      onBatchEnd: (b, logs) => { batchLogs.push(logs); events.push(`b${b}`); },
      onEpochEnd: (e, logs) => { events.push(`E${e}:${Object.keys(logs).sort().join(',')}`); }, onTrainEnd: () => { events.push('end'); },
    }],
  });
  assert.equal(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.is(h.params.samples, 15);
  assert.is(h.params.steps, 2);
  assert.equal(events.slice(0, 5), ['train', 'e0', 'b0', 'b1', 'E0:accuracy,loss,val_accuracy,val_loss']);
  assert.is(events.at(-1), 'end');
  // the last batch's running loss is the epoch's loss
  close([batchLogs[1]!.loss!], [h.history.loss![0]!], 'running loss at the end of the epoch');
  // validation loss = evaluate on the held-out tail
  const [vl] = (await m.evaluate(f32((await x.toArray() as number[][]).slice(15)), f32((await y.toArray() as number[][]).slice(15)))) as number[];
  close([vl!], [h.history.val_loss!.at(-1)!], 'val_loss is the loss on the last 25%', { rtol: 1e-5 });
  // validationData and stopTraining
  const m2 = seedModel(11);
  const h2 = await m2.fit(x, y, { epochs: 10, validationData: [x, y], verbose: 0, callbacks: { onEpochEnd(e) { if (e === 1) m2.stopTraining = true; } } });
  assert.equal(h2.epoch, [0, 1]);
  assert.ok('val_loss' in h2.history);
  // same seed, same shuffles, same result; verbose 0 without callbacks reads the history at the end: same numbers
  const r1 = await seedModel(12).fit(x, y, { epochs: 3, batchSize: 4, seed: 5, verbose: 0 });
  const m3 = seedModel(12);
  const r2 = await m3.fit(x, y, { epochs: 3, batchSize: 4, seed: 5, verbose: 0, callbacks: {} });
  assert.equal(r1.history, r2.history);
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => { out.push(s); return true; }) as typeof process.stdout.write;
  try { await m3.fit(x, y, { epochs: 2, verbose: 2 }); } finally { process.stdout.write = write; }
  assert.is(out.length, 2);
  assert.match(out[0]!, /^Epoch 1\/2 - 1 steps - .* - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n$/);
});

test('evaluate and predict: shapes, returnDict, tensors or arrays, int inputs', async () => {
  const m = seedModel(13);
  await m.fit(seedX, seedY, { epochs: 2, verbose: 0 });
  const d = (await m.evaluate(seedX, seedY, { returnDict: true })) as Record<string, number>;
  assert.equal(Object.keys(d).sort(), ['accuracy', 'loss']);
  const l = (await m.evaluate(tensor(seedX), f32(seedY))) as number[];
  close(l, [d.loss!, d.accuracy!], 'evaluate on tensors = on arrays');
  const p1 = await (await m.predict(seedX)).data(), p2 = await (await m.predict(tensor(seedX))).data();
  close(p1, p2, 'int tensor input = nested arrays');
  const lazy = await m.call(f32(seedX)).data();
  close(lazy, p1, 'call() = predict()');
  // a loss without metrics: evaluate returns the number
  const m2 = seedModel(13); m2.compile({ optimizer: 'sgd', loss: 'mse' });
  assert.type(await m2.evaluate(seedX, seedY), 'number');
});

// ---- weights -----------------------------------------------------------------------------------
test('saveWeights/loadWeights: bytes and a file, all-or-nothing', async () => {
  const a = seedModel(14);
  await a.fit(seedX, seedY, { epochs: 3, verbose: 0 });
  const bytes = await a.saveWeights();
  const b = seedModel(15);
  const before = await weights(b);
  await b.loadWeights(bytes);
  assert.not.equal(await weights(b), before, 'loading replaced the weights');
  assert.equal(await weights(b), await weights(a));
  close(await (await b.predict(seedX)).data(), await (await a.predict(seedX)).data(), 'loaded model predicts the same');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const dir = await mkdtemp((await import('node:os')).tmpdir() + '/tessera-');
  try {
    const c = seedModel(16);
    await a.saveWeights(`${dir}/w.safetensors`);
    await c.loadWeights(`${dir}/w.safetensors`);
    assert.equal(await weights(c), await weights(a));
  } finally { await rm(dir, { recursive: true, force: true }); }
  // a model of another shape: an error, and nothing changes
  const wide = seedModel(17, { units: 12 });
  const wideBefore = await weights(wide);
  await throwsTessera(() => wide.loadWeights(bytes), 'loadWeights', '0.kernel', '[3, 12]', '[3, 10]');
  assert.equal(await weights(wide), wideBefore);
  // keys: layer index and parameter name
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)))));
  assert.equal(Object.keys(header).filter((k) => k !== '__metadata__').sort(), ['0.bias', '0.kernel', '1.bias', '1.kernel']);
});

// ---- bad input ---------------------------------------------------------------------------------
test('bad input fails at the call with a TesseraError, parameters unchanged', async () => {
  const m = seedModel(18);
  const before = await weights(m);
  await throwsTessera(() => m.fit([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[0], [1]], { verbose: 0 }), 'fit', 'x has 3 samples', 'y has 2', 'same length');
  await throwsTessera(() => m.fit(seedX, [[0, 1], [1, 0], [0, 0]], { verbose: 0 }), 'binaryCrossentropy', '[3, 2]', '[3, 1]');
  await throwsTessera(() => m.fit([[1, 2], [3, 4], [5, 6]], seedY, { verbose: 0 }), 'fit', "model's input shape", '[3, 2]');
  await throwsTessera(() => m.fit(seedX, seedY, { verbose: 0, validationSplit: 1.5 }), 'validationSplit');
  await throwsTessera(() => m.fit(seedX, seedY, { verbose: 0, batchSize: 0 }), 'batchSize');
  await throwsTessera(() => m.predict([[1, 2]]), 'predict', '[1, 2]');
  await throwsTessera(() => m.evaluate(seedX, [[1]]), 'evaluate', 'x has 3 samples', 'y has 1');
  assert.equal(await weights(m), before, 'no step ran');
  const unc = new ts.Sequential([new ts.Dense(2, { inputShape: [3] })]);
  await throwsTessera(() => unc.fit(seedX, seedY), 'fit', 'not compiled', 'compile');
  await throwsTessera(() => unc.compile({} as never), 'compile', 'loss is required');
  await throwsTessera(() => unc.compile({ loss: 'mse', metrics: ['accuracy', 'accuracy'] }), 'used twice');
  // a step that fails while tracing (a custom loss that returns a vector) changes nothing
  const bad = seedModel(19);
  const w0 = await weights(bad);
  bad.compile({ optimizer: 'adam', loss: (yt: Tensor, yp: Tensor) => ts.sub(yt, yp).square() });
  await throwsTessera(() => bad.fit(seedX, seedY, { verbose: 0 }), 'grad', 'scalar');
  assert.equal(await weights(bad), w0, 'parameters unchanged after the failed step');
  // and the model still trains afterwards
  bad.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
  await bad.fit(seedX, seedY, { epochs: 1, verbose: 0 });
  assert.not.equal(await weights(bad), w0);
});

test.run();

// ---- callbacks: EarlyStopping ---------------------------------------------------------------------
test('EarlyStopping: patience, minDelta, mode, baseline against hand-worked sequences', async () => {
  const run = async (o: nn.EarlyStoppingOptions, seq: number[], key = 'val_loss') => {
    const stub: nn.TrainingModel = { getWeights: () => [], setWeights: () => {}, stopTraining: false };
    const es = new nn.EarlyStopping({ monitor: key, ...o });
    es.setModel(stub); es.onTrainBegin();
    let e = 0;
    for (; e < seq.length && !stub.stopTraining; e++) await es.onEpochEnd(e, { [key]: seq[e]! });
    return { stopped: es.stoppedEpoch, best: es.bestEpoch, ran: e, stop: stub.stopTraining };
  };
  // best 0.9 at epoch 1; 0.95 and 0.91 do not beat it by 0.05: stop after two epochs without
  assert.equal(await run({ patience: 2, minDelta: 0.05 }, [1, 0.9, 0.95, 0.91, 0.8, 0.7]), { stopped: 3, best: 1, ran: 4, stop: true });
  // without minDelta 0.8 at epoch 4 would count, but patience 2 stopped it at 3 already; patience 3 reaches it
  assert.equal(await run({ patience: 3 }, [1, 0.9, 0.95, 0.91, 0.8, 0.85, 0.86, 0.87]), { stopped: 7, best: 4, ran: 8, stop: true });
  // accuracies are maximized (mode 'auto' reads the name)
  assert.equal(await run({ patience: 1 }, [0.5, 0.6, 0.55, 0.7], 'val_accuracy'), { stopped: 2, best: 1, ran: 3, stop: true });
  // a baseline never beaten: no best epoch, stops once patience runs out
  assert.equal(await run({ patience: 2, baseline: 0.5 }, [0.9, 0.8, 0.7, 0.6]), { stopped: 1, best: -1, ran: 2, stop: true });
  // startFromEpoch: the first epochs are not watched
  assert.equal(await run({ patience: 1, startFromEpoch: 2 }, [0.1, 0.2, 0.9, 0.8, 0.85]), { stopped: 4, best: 3, ran: 5, stop: true });
  // a name that is not logged is a clear error
  const es = new nn.EarlyStopping({ monitor: 'val_los' });
  es.onTrainBegin();
  let err: unknown;
  try { await es.onEpochEnd(0, { loss: 1, val_loss: 1 }); } catch (e) { err = e; }
  assert.instance(err, ts.TesseraError);
  assert.match(String((err as Error).message), /val_los.*not in the epoch's logs \(loss, val_loss\)/);
  throwsTessera(() => new nn.EarlyStopping({ patience: -1 }), /patience/);
});

test('EarlyStopping in fit: stops when validation loss rises, restoreBestWeights puts the best epoch back', async () => {
  // Validation labels are the training labels flipped: as training fits, validation loss rises.
  const xs = Array.from({ length: 16 }, (_, i) => [i / 16, 1 - i / 16, (i % 4) / 4]);
  const x = f32(xs), y = f32(xs.map((_, i) => [+(i % 4 < 2)])), yFlip = f32(xs.map((_, i) => [+(i % 4 >= 2)]));
  const m = seedModel(21, { optimizer: new nn.Adam({ learningRate: 0.05 }) });
  const es = new nn.EarlyStopping({ patience: 2, restoreBestWeights: true });
  const h = await m.fit(x, y, { epochs: 30, batchSize: 16, shuffle: false, verbose: 0, validationData: [x, yFlip], callbacks: es });
  const vl = h.history.val_loss!;
  assert.ok(h.epoch.length < 30, `stopped early (ran ${h.epoch.length} epochs; val_loss ${vl.map((v) => v.toFixed(3))})`);
  const best = vl.indexOf(Math.min(...vl));
  assert.is(es.bestEpoch, best);
  assert.is(es.stoppedEpoch, h.epoch.at(-1));
  assert.is(h.epoch.length - 1 - best, 2, 'two epochs without improvement after the best');
  // the weights are those of the best epoch: evaluating them gives its validation loss
  const [l] = (await m.evaluate(x, yFlip)) as number[];
  close([l!], [vl[best]!], 'val_loss of the restored weights', { rtol: 1e-4 });
});
