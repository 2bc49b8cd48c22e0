/**
 * The 'tessera' TensorFlow.js backend (interop/tfjs) against tfjs itself: kernels through tfjs ops
 * on 'cpu' and on 'tessera' (values within float32 tolerance), tfjs-layers models trained on
 * both from the same initial weights (MLP, CNN with BatchNorm, an Embedding text classifier:
 * same losses), the program cache across steps (and flushes that overlap), deferred frees, and the errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stats } from '../index.ts';
import { kernelConfigs } from '../interop/tfjs/index.ts';
import { registerGradients, tf, tfl } from './tfjs-helpers.ts';

type T = tf.Tensor;
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w)) { assert.ok(Number.isNaN(g), `${what}[${i}]: ${g}, want NaN`); continue; }
    assert.ok(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `${what}[${i}]: ${g}, want ${w}`);
  }
};
/** Runs `f` on a backend; returns the values of its results (all read together). */
async function on(backend: string, f: () => T[]): Promise<ArrayLike<number>[]> {
  await tf.setBackend(backend);
  const outs = f();
  const vals = await Promise.all(outs.map((t) => t.data() as Promise<ArrayLike<number>>));
  tf.dispose(outs);
  return vals;
}
const rnd = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

test.before(async () => { await registerGradients(); });

test('covers the 57 kernels tfjs-layers training needs', () => {
  const need = `Abs Add ArgMax BatchMatMul Cast ClipByValue Concat Conv2D Conv2DBackpropFilter Conv2DBackpropInput Equal Exp Floor FusedBatchNorm
    FusedConv2D GatherV2 Greater GreaterEqual Identity LessEqual Log Log1p LogicalAnd MaxPool MaxPoolGrad Mean Multiply Neg OneHot OnesLike RealDiv
    Relu Reshape Rsqrt Select Sigmoid Slice Softmax Sqrt Square Step Sub Sum Tile ZerosLike _FusedMatMul Transpose UnsortedSegmentSum
    DepthwiseConv2dNative DepthwiseConv2dNativeBackpropInput DepthwiseConv2dNativeBackpropFilter AvgPool AvgPoolGrad Tanh Elu EluGrad LeakyRelu`.split(/\s+/);
  assert.is(need.length, 57);
  const have = new Set(tf.getKernelsForBackend('tessera').map((k) => k.kernelName));
  assert.equal(need.filter((k) => !have.has(k)), []);
  assert.ok(kernelConfigs.length >= 90, `${kernelConfigs.length} kernels`);
});

test('kernels match the cpu backend (one flush for all cases)', async () => {
  const cases = (): T[] => {
    const a = rnd([3, 4], 1), b = rnd([4], 2), c = rnd([3, 1], 3);
    const x4 = rnd([2, 5, 5, 3], 4) as tf.Tensor4D, w = rnd([3, 3, 3, 4], 5) as tf.Tensor4D, dw = rnd([3, 3, 3, 2], 6) as tf.Tensor4D;
    const idx = tf.tensor1d([2, 0, 1, 2], 'int32');
    const absA = tf.abs(a), f = (t: T) => tf.cast(t, 'float32');
    const out: T[] = [
      tf.add(a, b), tf.sub(a, c), tf.mul(a, b), tf.div(a, tf.add(tf.abs(b), 0.5)), tf.maximum(a, c), tf.minimum(a, b), tf.squaredDifference(a, b),
      absA, tf.neg(a), tf.exp(a), tf.log(absA), tf.log1p(absA), tf.sqrt(absA), tf.rsqrt(tf.add(absA, 0.1)), tf.square(a), tf.floor(a), tf.ceil(a),
      tf.tanh(a), tf.sigmoid(a), tf.relu(a), tf.relu6(tf.mul(a, 8)), tf.elu(a), tf.leakyRelu(a, 0.3), tf.selu(a), tf.softplus(a), tf.step(a, 0.25),
      tf.clipByValue(a, -0.3, 0.4), f(tf.equal(a, b)), tf.cast(tf.greater(a, c), 'int32'), f(tf.greaterEqual(a, b)),
      f(tf.lessEqual(a, c)), f(tf.logicalAnd(tf.greater(a, 0), tf.less(c, 0))), tf.where(tf.greater(a, b), a, tf.broadcastTo(c, [3, 4])),
      tf.sum(a), tf.sum(a, 1), tf.sum(a, 0, true), tf.mean(a, 1), tf.max(a, 0), tf.min(a, 1), tf.argMax(a, 1), tf.argMin(a, 0), tf.softmax(a),
      tf.logSoftmax(a), tf.reshape(a, [4, 3]), tf.slice(a, [1, 1], [2, -1]), tf.concat([a, c], 1), tf.tile(a, [2, 3]), tf.transpose(a),
      tf.stack([a, tf.neg(a)], 1), tf.pad(a, [[1, 0], [0, 2]], 0.5), tf.stridedSlice(a, [0, 1], [3, 4], [2, 2]), tf.expandDims(b, 1), tf.squeeze(c),
      tf.matMul(a, rnd([4, 2], 7)), tf.matMul(a, rnd([2, 4], 8), false, true), tf.matMul(rnd([2, 3, 4], 9), rnd([2, 4, 5], 10)),
      tf.fused.matMul({ a, b: rnd([4, 2], 11), bias: rnd([2], 12), activation: 'relu' }),
      tf.conv2d(x4, w, 1, 'same'), tf.conv2d(x4, w, 2, 'valid'), tf.conv2d(x4, w, [2, 1], [[0, 0], [1, 2], [0, 1], [0, 0]]),
      tf.fused.conv2d({ x: x4, filter: w, strides: 1, pad: 'same', bias: rnd([4], 13), activation: 'elu' }),
      tf.depthwiseConv2d(x4, dw, 1, 'same'), tf.depthwiseConv2d(x4, dw, 2, 'valid'),
      tf.maxPool(x4, 2, 2, 'same'), tf.maxPool(x4, 3, 1, 'valid'), tf.avgPool(x4, 2, 2, 'same'), tf.avgPool(x4, 3, 2, 'valid'),
      tf.batchNorm(a, b, tf.add(tf.abs(b), 0.5), rnd([4], 14), rnd([4], 15), 1e-3),
      tf.gather(a, idx), tf.gather(a, tf.tensor1d([3, 1], 'int32'), 1), tf.gather(tf.relu(a), tf.add(idx, tf.scalar(0, 'int32'))), f(tf.oneHot(idx, 4)),
      tf.unsortedSegmentSum(a, tf.tensor1d([1, 0, 1], 'int32'), 3), tf.onesLike(a), tf.zerosLike(b), tf.fill([2, 2], 3.5), tf.range(0, 5, 2),
      tf.addN([a, a, a]), tf.pow(absA, c), tf.floorDiv(tf.tensor1d([7, -7, 5], 'int32'), tf.tensor1d([2, 2, -3], 'int32')),
      tf.mod(tf.tensor1d([7, -7, 5], 'int32'), tf.tensor1d([2, 2, -3], 'int32')), tf.step(tf.tensor1d([NaN, 1, -2]), 0.5),
      tf.prelu(a, tf.fill([4], 0.2)), tf.erf(a), tf.expm1(tf.mul(a, 1e-3)), f(tf.isNaN(tf.tensor1d([NaN, 1]))),
      tf.atan2(a, c), tf.atan2(tf.tensor1d([1, -1, 0, NaN, 2, -3]), tf.tensor1d([0, 0, 0, 0, NaN, -1])), tf.atan2(tf.tensor1d([3, -7], 'int32'), tf.tensor1d([-2, 1], 'int32')),
      tf.gather(x4, tf.tensor2d([1, 0, 0, 4, 2, 2], [2, 3], 'int32'), 2, 1), tf.gather(a, tf.tensor2d([3, 0, 1, 1, 2, 0], [3, 2], 'int32'), 1, 1),
      tf.gather(tf.relu(x4), tf.tensor2d([0, 4, 3, 1, 1, 0, 2, 2], [2, 4], 'int32'), 2, -1),
    ];
    // Gradient kernels through tfjs's own gradient functions.
    const g = tf.grads((xx: T, ww: T) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'))));
    const gd = tf.grads((xx: T, ww: T) => tf.sum(tf.square(tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'valid'))));
    const gp = tf.grad((xx: T) => tf.add(tf.sum(tf.square(tf.maxPool(xx as tf.Tensor4D, 2, 2, 'valid'))), tf.sum(tf.avgPool(xx as tf.Tensor4D, 3, 2, 'same'))));
    const ge = tf.grad((xx: T) => tf.sum(tf.elu(xx)));
    const gg = tf.grad((t: T) => tf.sum(tf.square(tf.gather(t, idx))));
    const ga = tf.grads((y: T, xx: T) => tf.sum(tf.atan2(y, xx)));
    out.push(...g([x4, w]), ...gd([x4, dw]), gp(x4), ge(a), gg(a), ...ga([a, tf.add(c, 0.3)]));
    return out;
  };
  const want = await on('cpu', cases), got = await on('tessera', cases);
  assert.is(got.length, want.length);
  const bad = want.flatMap((w, i) => { try { close(got[i]!, w, 2e-5, `case ${i}`); return []; } catch (e) { return [(e as Error).message]; } });
  assert.equal(bad, []);
});

/** Trains `build()` on cpu and on tessera from the same initial weights; returns both loss histories. */
async function parity(build: () => tfl.Sequential, x: () => T, y: () => T, opts: { optimizer: () => tf.Optimizer; loss: string; batchSize: number; epochs: number }) {
  const histories: number[][] = [];
  let init: Float32Array[] | null = null, model: tfl.Sequential | null = null;
  for (const backend of ['cpu', 'tessera']) {
    await tf.setBackend(backend);
    const m = build();
    if (init) m.setWeights(init.map((v, i) => tf.tensor(v, m.getWeights()[i]!.shape)));
    else init = await Promise.all(m.getWeights().map(async (w) => (await w.data()) as Float32Array));
    m.compile({ optimizer: opts.optimizer(), loss: opts.loss, metrics: ['accuracy'] });
    const h = await m.fit(x(), y(), { epochs: opts.epochs, batchSize: opts.batchSize, shuffle: false, verbose: 0 });
    histories.push(h.history.loss as number[]);
    model = m;
  }
  return { cpu: histories[0]!, tes: histories[1]!, model: model! };
}

const features = (n: number, d: number) => () => tf.tensor2d(Array.from({ length: n * d }, (_, i) => Math.sin(0.37 * i)), [n, d]);

test('MLP (dense-BN-relu-dense-softmax, Adam): same losses as cpu; steps hit the program cache', async () => {
  const build = () => tfl.sequential({ layers: [
    tfl.layers.dense({ units: 8, inputShape: [5] }), tfl.layers.batchNormalization(), tfl.layers.activation({ activation: 'relu' }),
    tfl.layers.dense({ units: 3, activation: 'softmax' })] });
  const labels = () => tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2, 2, 1], 'int32'), 3);
  const { cpu, tes, model } = await parity(build, features(8, 5), labels, { optimizer: () => tf.train.adam(0.05), loss: 'categoricalCrossentropy', batchSize: 8, epochs: 2 });
  close(tes, cpu, 1e-4, 'MLP losses');
  // Further fit calls of the same model: once warm (the first steps create the optimizer's state),
  // no new programs, one submit per step (+ the epoch's log reads): the per-step scalars are inputs.
  const epoch = async () => {
    const s0 = stats();
    await model.fit(features(8, 5)(), labels(), { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    const s1 = stats();
    return { compiled: s1.programsCompiled - s0.programsCompiled, hits: s1.programCacheHits - s0.programCacheHits, submits: s1.submits - s0.submits };
  };
  await epoch();
  const warm = await epoch();
  assert.is(warm.compiled, 0, 'no recompilation for repeated steps');
  assert.ok(warm.hits > 0 && warm.submits <= 5, JSON.stringify(warm));
});

test('fit with several steps per epoch: one program per step, the same every epoch (no compile, every step replayed)', async () => {
  await tf.setBackend('tessera');
  const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 8, activation: 'relu', inputShape: [5] }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const x = features(32, 5)(), y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3);
  const epoch = async () => {
    const s0 = stats();
    await m.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    const s1 = stats();
    return { compiled: s1.programsCompiled - s0.programsCompiled, submits: s1.submits - s0.submits, hits: s1.programCacheHits - s0.programCacheHits, replays: s1.replays - s0.replays };
  };
  await epoch(); // the first steps create the optimizer's state
  await epoch();
  for (let i = 0; i < 2; i++) {
    const warm = await epoch();
    assert.is(warm.compiled, 0, 'a step recorded while the step before still runs has the same structure');
    assert.ok(warm.submits <= 4 + 1, `4 steps, one submit each, and the epoch's log read: ${JSON.stringify(warm)}`);
    // Every realization replays its recorded plan: no graph passes, no rebuilt graph (runtime/replay.ts).
    assert.ok(warm.replays >= 5 && warm.replays === warm.hits, `every step and read replayed: ${JSON.stringify(warm)}`);
  }
  tf.dispose([x, y]);
  m.dispose();
});

test('a flush takes the kernels recorded before it: later ones read its results, even of a root disposed meanwhile', async () => {
  await tf.setBackend('tessera');
  const flusher = (tf.backend() as unknown as { flusher: { flush(): Promise<void> } }).flusher;
  const a = tf.tensor1d([1, 2, 3]);
  const run = async (interleaved: boolean) => {
    const b = tf.exp(tf.mul(a, 2));
    const first = flusher.flush();
    if (!interleaved) await first;
    const c = tf.sub(b, 1); // recorded while the flush computing b may still run
    b.dispose();
    const got = await c.data();
    c.dispose();
    return got;
  };
  const want = [1, 2, 3].map((v) => Math.exp(2 * v) - 1);
  close(await run(false), want, 1e-6, 'sequential');
  const s0 = stats();
  close(await run(true), want, 1e-6, 'interleaved');
  assert.is(stats().programsCompiled - s0.programsCompiled, 0, 'the same two programs (b, then c from b\'s result) as the sequential run');
  a.dispose();
});

test('CNN (conv-BN-maxpool-conv-flatten-dense, SGD momentum): same losses as cpu', async () => {
  const build = () => tfl.sequential({ layers: [
    tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 1] }),
    tfl.layers.batchNormalization(), tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.depthwiseConv2d({ kernelSize: 2, activation: 'tanh' }), tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
    tfl.layers.flatten(), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
  const x = () => tf.tensor4d(Array.from({ length: 4 * 36 }, (_, i) => Math.cos(0.21 * i * (1 + (i % 5)))), [4, 6, 6, 1]);
  const y = () => tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);
  const { cpu, tes } = await parity(build, x, y, { optimizer: () => tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy', batchSize: 4, epochs: 2 });
  close(tes, cpu, 1e-4, 'CNN losses');
});

test('text classifier (Embedding, LayerNorm, GAP1D, RMSprop, sparse CE): same losses as cpu', async () => {
  const build = () => tfl.sequential({ layers: [
    tfl.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 5 }), tfl.layers.layerNormalization(),
    tfl.layers.globalAveragePooling1d(), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
  const x = () => tf.tensor2d([[1, 2, 3, 4, 5], [9, 8, 7, 6, 5], [0, 0, 1, 1, 2], [3, 3, 3, 9, 0]], [4, 5]);
  const y = () => tf.tensor1d([0, 1, 2, 1]);
  const { cpu, tes } = await parity(build, x, y, { optimizer: () => tf.train.rmsprop(0.05), loss: 'sparseCategoricalCrossentropy', batchSize: 4, epochs: 2 });
  close(tes, cpu, 1e-4, 'text classifier losses');
});

test('deferred frees: a variable assigned 30 times keeps memory flat and the right value', async () => {
  await tf.setBackend('tessera');
  const v = tf.variable(tf.scalar(1));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 30; i++) {
    tf.tidy(() => v.assign(tf.add(tf.sub(tf.mul(v, 2), 1), tf.scalar(0.5))));
    if (i % 10 === 9) await tf.nextFrame(); // bursts of 10 steps: the old values are freed after each flush
  }
  assert.is(tf.memory().numTensors, before);
  // x -> 2x - 0.5 from 1: fixed point 0.5, so x_n = 0.5 + 0.5 * 2^n
  close(await v.data() as Float32Array, [0.5 + 0.5 * 2 ** 30], 1e-6, 'value');
  const live = stats().liveBuffers;
  for (let i = 0; i < 10; i++) { tf.tidy(() => v.assign(tf.mul(v, 1))); await tf.nextFrame(); }
  await v.data();
  // Flat: no buffer per step stays alive (the collector may free earlier tests' garbage meanwhile).
  assert.ok(stats().liveBuffers <= live, `live buffers ${stats().liveBuffers}, before the loop ${live}`);
  v.dispose();
});

test('readSync of GPU data, an unsupported dtype and an unsupported kernel give clear errors', async () => {
  await tf.setBackend('tessera');
  const t = tf.tensor1d([1, 2, 3]);
  assert.equal(Array.from(t.dataSync()), [1, 2, 3], 'written data reads synchronously');
  const u = tf.mul(t, 2);
  assert.throws(() => u.dataSync(), /readSync.*await tensor\.data\(\)/);
  assert.equal(Array.from(await u.data()), [2, 4, 6]);
  assert.equal(Array.from(u.dataSync()), [2, 4, 6], 'after a read, readSync has the values');
  assert.throws(() => tf.complex([1], [2]), /Kernel 'Complex' not registered for backend 'tessera'/);
  assert.throws(() => tf.tensor(['a']), /dtype 'string' is not supported by the 'tessera' backend/);
  assert.throws(() => tf.topk(t, 1), /TopK/);
  tf.dispose([t, u]);
});

test.run();
