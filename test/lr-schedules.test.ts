/** Learning-rate schedules: their values, optimizers driven by them (vs hand-computed updates), no retrace per step, fit across calls. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { close } from './grad-helpers.ts';
import { throwsTessera } from './helpers.ts';

const f32 = (x: number[]) => ts.tensor(x, { dtype: 'float32' });

test('schedule values: cosine (with and without warmup) and exponential (smooth and staircase), host and device', async () => {
  const cos = nn.cosineDecay({ initialLearningRate: 0.1, decaySteps: 4, alpha: 0.2 });
  // 0.1 * (0.8 * 0.5 * (1 + cos(pi s / 4)) + 0.2), s clamped at 4
  const cosExpected = [0.1, 0.1 * (0.4 * (1 + Math.SQRT1_2) + 0.2), 0.1 * (0.4 + 0.2), 0.1 * (0.4 * (1 - Math.SQRT1_2) + 0.2), 0.02, 0.02];
  const warm = nn.cosineDecay({ initialLearningRate: 0, decaySteps: 2, warmupSteps: 2, warmupTarget: 0.4 });
  const warmExpected = [0, 0.2, 0.4, 0.2, 0, 0];       // 0 -> 0.4 over 2 steps, then cosine from 0.4 to 0 over 2
  const ex = nn.exponentialDecay({ initialLearningRate: 0.5, decaySteps: 2, decayRate: 0.25 });
  const exExpected = [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625];   // 0.5 * 0.25^(s/2)
  const stair = nn.exponentialDecay({ initialLearningRate: 0.5, decaySteps: 2, decayRate: 0.25, staircase: true });
  const stairExpected = [0.5, 0.5, 0.125, 0.125, 0.03125, 0.03125];
  for (const [name, s, expected] of [['cosine', cos, cosExpected], ['warmup', warm, warmExpected], ['exponential', ex, exExpected], ['staircase', stair, stairExpected]] as const) {
    close(expected.map((_, i) => s.valueAt(i)), expected, `${name} on the host`, { rtol: 1e-12, atol: 1e-15 });
    const device = await Promise.all(expected.map((_, i) => s.at(ts.tensor(i, { dtype: 'float32' })).item()));
    close(device, expected, `${name} on the device`, { rtol: 1e-5, atol: 1e-7 });
  }
  await throwsTessera(() => nn.cosineDecay({ initialLearningRate: 0.1, decaySteps: 0 }), 'CosineDecay', 'decaySteps');
  await throwsTessera(() => nn.cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupSteps: 5 }), 'CosineDecay', 'warmupTarget');
  await throwsTessera(() => nn.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: -1 }), 'ExponentialDecay', 'decayRate');
  await throwsTessera(() => new nn.Adam({ learningRate: 'fast' as never }), 'learningRate', 'cosineDecay');
});

test('optimizers with a schedule match hand-computed updates (the rate at update t is schedule(t - 1), decay included)', async () => {
  const w0 = [1, -2, 0.5], grads = [[0.5, -1, 0.25], [-0.25, 2, 0], [1, 1, -3]];
  const lrAt = (s: number) => 0.1 * 0.5 ** s;   // exponentialDecay(0.1, 1, 0.5)
  const sched = () => nn.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 });
  const sgdRef = (steps: number) => {
    const w = [...w0], m = [0, 0, 0];
    for (let s = 0; s < steps; s++) for (let i = 0; i < 3; i++) { m[i] = 0.9 * m[i]! - lrAt(s) * grads[s]![i]!; w[i]! += m[i]!; }
    return w;
  };
  const adamwRef = (steps: number) => {
    const w = [...w0], m = [0, 0, 0], v = [0, 0, 0];
    for (let s = 0; s < steps; s++) {
      const t = s + 1, lr = lrAt(s);
      for (let i = 0; i < 3; i++) {
        const g = grads[s]![i]!;
        w[i]! -= lr * 0.1 * w[i]!;
        m[i]! += (g - m[i]!) * 0.1; v[i]! += (g * g - v[i]!) * 0.001;
        w[i]! -= (lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t) * m[i]! / (Math.sqrt(v[i]!) + 1e-7);
      }
    }
    return w;
  };
  const rmsRef = (steps: number) => {
    const w = [...w0], v = [0, 0, 0];
    for (let s = 0; s < steps; s++) for (let i = 0; i < 3; i++) { v[i] = 0.9 * v[i]! + 0.1 * grads[s]![i]! ** 2; w[i]! -= lrAt(s) * grads[s]![i]! / (Math.sqrt(v[i]!) + 1e-7); }
    return w;
  };
  const cases: [string, nn.Optimizer, (n: number) => number[]][] = [
    ['SGD momentum', new nn.SGD({ learningRate: sched(), momentum: 0.9 }), sgdRef],
    ['AdamW', new nn.AdamW({ learningRate: sched(), weightDecay: 0.1 }), adamwRef],
    ['RMSprop', new nn.RMSprop({ learningRate: sched() }), rmsRef],
  ];
  for (const [name, opt, ref] of cases) {
    // jitted: one trace for all three steps (the rate is computed from the state's step counter)
    const upd = ts.jit((p: { w: Tensor }, g: { w: Tensor }, st: nn.OptState) => { const r = opt.update(p, g, st); return { p: r.params, s: r.state }; });
    let params: { w: Tensor } = { w: f32(w0) }, state = opt.init(params);
    assert.ok(state.step instanceof ts.Tensor, `${name} keeps a step counter`);
    for (let s = 0; s < grads.length; s++) {
      const r = await upd(params, { w: f32(grads[s]!) }, state);
      params = r.p; state = r.s;
      close(await params.w.data(), ref(s + 1), `${name} after step ${s + 1}`, { rtol: 2e-5, atol: 1e-6 });
    }
    assert.is(upd.traceCount, 1, `${name}: traced once`);
    assert.is(await (state.step as Tensor).item(), 3);
  }
  assert.equal(Object.keys(new nn.SGD({ momentum: 0.9 }).init({ w: f32(w0) })), ['m'], 'a constant rate keeps no counter');
});

test('fit with a schedule: the step count carries over from one fit call to the next', async () => {
  ts.seed(3);
  const model = new nn.Sequential([new nn.Dense(1, { inputShape: [2] })]);
  const sched = nn.cosineDecay({ initialLearningRate: 0.05, decaySteps: 8 });
  model.compile({ optimizer: nn.sgd({ learningRate: sched }), loss: 'meanSquaredError' });
  const x = [[1, 0], [0, 1], [1, 1], [2, 1]], y = [[1], [2], [3], [4]];
  const h1 = await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, shuffle: false });
  const h2 = await model.fit(x, y, { epochs: 6, initialEpoch: 2, batchSize: 2, verbose: 0, shuffle: false });
  assert.is(h1.history.loss!.length + h2.history.loss!.length, 6);
  const losses = [...h1.history.loss!, ...h2.history.loss!];
  assert.ok(losses.at(-1)! < losses[0]!, `loss falls: ${losses.join(', ')}`);
  // 12 updates so far (4 samples / batch 2 = 2 per epoch, 6 epochs): the rate sits at the end of the schedule
  assert.is(sched.valueAt(12), 0);
});

test.run();
