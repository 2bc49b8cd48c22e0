/**
 * Soak: many training steps in one process, watching for leaks. 10,000 jitted steps (a small MLP
 * trained by `fit`, one jitted step per batch) and 1,000 eager steps (grad + SGD update, realized
 * each step, old parameters disposed). Samples the pool's bytes allocated, live buffers, the JS
 * heap and the process RSS as it goes; the summary asserts they stay flat after warm-up (bounded
 * growth) and the script exits 1 if not.
 *
 *   npm run soak      (node --expose-gc: samples are taken after a collection; SOAK_JIT_STEPS and
 *                      SOAK_EAGER_STEPS override the counts)
 * Each sample first yields to the event loop: the graph's hash-consing table drops collected nodes
 * in FinalizationRegistry callbacks, which run as tasks, not inside a loop of awaited microtasks.
 */
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { tuning } from '../runtime/tuner.ts';
import { heading } from './common.ts';

tuning.enabled = false; // tiny kernels: measuring schedules would only add noise
const JIT_STEPS = Number(process.env.SOAK_JIT_STEPS ?? 10_000), EAGER_STEPS = Number(process.env.SOAK_EAGER_STEPS ?? 1_000);

interface Sample { step: number; bytes: number; live: number; heapMB: number; rssMB: number }
const gc = (globalThis as { gc?: () => void }).gc;
const tick = () => new Promise((r) => setTimeout(r, 5));
const sample = async (step: number): Promise<Sample> => {
  for (let i = 0; i < 2; i++) { await tick(); gc?.(); }
  const s = ts.stats(), m = process.memoryUsage();
  return { step, bytes: s.bytesAllocated, live: s.liveBuffers, heapMB: m.heapUsed / 2 ** 20, rssMB: m.rss / 2 ** 20 };
};
const mb = (v: number) => v.toFixed(1);
const show = (xs: Sample[]) => {
  console.log('   step   pool bytes  live buffers  heap MB   RSS MB');
  const pad = (v: string | number, w: number) => String(v).padStart(w);
  for (const x of xs) console.log(`${pad(x.step, 7)} ${pad(x.bytes, 12)} ${pad(x.live, 13)} ${pad(mb(x.heapMB), 8)} ${pad(mb(x.rssMB), 8)}`);
};

/** Growth after warm-up (the first 20% of samples) must be bounded: buffers exactly, memory by a slack. */
function verdict(name: string, xs: Sample[]): string[] {
  const warm = xs[Math.floor(xs.length / 5)]!, last = xs[xs.length - 1]!, fails: string[] = [];
  const maxAfter = (k: keyof Sample) => Math.max(...xs.slice(Math.floor(xs.length / 5)).map((x) => x[k]));
  if (maxAfter('live') > warm.live + 4) fails.push(`${name}: live buffers grew from ${warm.live} to ${maxAfter('live')}`);
  if (maxAfter('bytes') > warm.bytes * 1.1 + 65536) fails.push(`${name}: pool bytes grew from ${warm.bytes} to ${maxAfter('bytes')}`);
  if (last.heapMB > warm.heapMB * 1.2 + 8) fails.push(`${name}: JS heap grew from ${warm.heapMB.toFixed(1)} to ${last.heapMB.toFixed(1)} MB`);
  if (last.rssMB > warm.rssMB * 1.15 + 48) fails.push(`${name}: RSS grew from ${warm.rssMB.toFixed(1)} to ${last.rssMB.toFixed(1)} MB`);
  console.log(`${name}: after warm-up (step ${warm.step}) to step ${last.step}: ` +
    `live buffers ${warm.live} -> ${last.live} (max ${maxAfter('live')}), pool ${warm.bytes} -> ${last.bytes} bytes, ` +
    `heap ${mb(warm.heapMB)} -> ${mb(last.heapMB)} MB, RSS ${mb(warm.rssMB)} -> ${mb(last.rssMB)} MB`);
  return fails;
}

// Data: 64 samples, 8 features, a smooth target.
const X = Array.from({ length: 64 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 0.37 + j)));
const Y = X.map((r) => [r.reduce((s, v, j) => s + v * (j % 3 - 1), 0) > 0 ? 1 : 0]);

heading(`soak: ${JIT_STEPS} jitted training steps (fit, batch 8), ${EAGER_STEPS} eager steps`);
const model = new nn.Sequential([new nn.Dense(16, { inputShape: [8], activation: 'relu' }), new nn.Dense(1, { activation: 'sigmoid' })]);
model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
const stepsPerEpoch = 64 / 8, epochs = Math.ceil(JIT_STEPS / stepsPerEpoch), every = Math.max(1, Math.floor(epochs / 20));
if (!gc) console.log('(run with node --expose-gc, as npm run soak does, for heap numbers after a collection)');
const jitSamples: Sample[] = [await sample(0)];
let t0 = performance.now();
const history = await model.fit(X, Y, {
  epochs, batchSize: 8, verbose: 0, shuffle: true, seed: 1,
  callbacks: { onEpochEnd: async (e) => { if ((e + 1) % every === 0) jitSamples.push(await sample((e + 1) * stepsPerEpoch)); } },
});
const jitMs = performance.now() - t0;
const losses = history.history.loss!;
console.log(`jitted: ${epochs * stepsPerEpoch} steps in ${(jitMs / 1000).toFixed(1)} s (${(jitMs / (epochs * stepsPerEpoch)).toFixed(2)} ms/step), ` +
  `loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)}, traced ${model.trainTraceCount}x`);
show(jitSamples);

// Eager: the same kind of model as plain tensors, grad + SGD, realized and swapped every step.
const x = ts.tensor(X), y = ts.tensor(Y, { dtype: 'float32' });
let params: Tensor[] = [ts.randn([8, 16], { seed: 1 }).mul(0.3), ts.zeros([16]), ts.randn([16, 1], { seed: 2 }).mul(0.3), ts.zeros([1])];
await ts.realizeAll(params);
const lossOf = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) => {
  const p = ts.sigmoid(ts.relu(x.matmul(w1).add(b1)).matmul(w2).add(b2));
  return ts.mean(ts.square(ts.sub(p, y)));
};
const vg = ts.valueAndGrad(lossOf, { argnums: [0, 1, 2, 3] });
const eagerSamples: Sample[] = [await sample(0)];
let first = 0, lastLoss = 0;
t0 = performance.now();
for (let step = 1; step <= EAGER_STEPS; step++) {
  const [loss, grads] = vg(...(params as [Tensor, Tensor, Tensor, Tensor]));
  const next = params.map((p, i) => p.sub((grads as Tensor[])[i]!.mul(0.5)));
  await ts.realizeAll([...next, loss]);
  if (step === 1) first = await loss.item();
  if (step === EAGER_STEPS) lastLoss = await loss.item();
  for (const p of params) p.dispose();
  loss.dispose();
  params = next;
  if (step % Math.max(1, Math.floor(EAGER_STEPS / 20)) === 0) eagerSamples.push(await sample(step));
}
const eagerMs = performance.now() - t0;
console.log(`eager: ${EAGER_STEPS} steps in ${(eagerMs / 1000).toFixed(1)} s (${(eagerMs / EAGER_STEPS).toFixed(2)} ms/step), ` +
  `loss ${first.toFixed(4)} -> ${lastLoss.toFixed(4)}`);
show(eagerSamples);

heading('soak summary');
const fails = [...verdict('jitted', jitSamples), ...verdict('eager', eagerSamples)];
if (!(losses[losses.length - 1]! < losses[0]!)) fails.push('jitted: the loss did not fall');
if (!(lastLoss < first)) fails.push('eager: the loss did not fall');
console.log(fails.length ? `FAIL\n  ${fails.join('\n  ')}` : 'PASS: live buffers, pool bytes, heap and RSS stay flat after warm-up');
process.exit(fails.length ? 1 : 0);
