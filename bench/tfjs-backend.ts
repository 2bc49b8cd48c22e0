/**
 * tfjs-layers training on the 'tessera' backend beside tfjs-webgpu, same adapter, one run: the
 * same model (an MLP: Dense(64, relu) -> Dense(64, relu) -> Dense(10, softmax), Adam,
 * categorical cross-entropy, batch 64, 4 steps per epoch) fitted on each backend. Reported per
 * training step: ms (median of 5 epochs after 2 warm-up epochs: the first creates the optimizer's
 * state, the second is the first whose opening step has it, so both hold first-seen steps), GPU
 * dispatches and submits, and the ratios. Dispatches on tfjs-webgpu are counted by wrapping its pass encoder's
 * dispatchWorkgroups; on 'tessera' with stats().
 *
 * Run: npx tsx bench/tfjs-backend.ts  (or `npm run bench tfjs-backend`; TESSERA_AUTOTUNE=0 skips autotuning)
 */
import { stats } from '../index.ts';
import { registerGradients, tf, tfl } from '../test/tfjs-helpers.ts';
import { heading, median, target, writeResults } from './common.ts';
import { loadTfjs } from './tfjs.ts';

const N = 256, D = 32, C = 10, BATCH = 64, WARMUP = 2, EPOCHS = 5;
const steps = N / BATCH;

function data() {
  const x = tf.tensor2d(Float32Array.from({ length: N * D }, (_, i) => Math.sin(0.37 * i)), [N, D]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 7) % C), 'int32'), C);
  return { x, y };
}
function model() {
  const m = tfl.sequential({ layers: [
    tfl.layers.dense({ units: 64, activation: 'relu', inputShape: [D] }), tfl.layers.dense({ units: 64, activation: 'relu' }),
    tfl.layers.dense({ units: C, activation: 'softmax' })] });
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

/** Counts dispatches and submits on tfjs-webgpu's device. */
function countWebgpu(device: GPUDevice) {
  const c = { dispatches: 0, submits: 0 };
  const queue = device.queue as GPUQueue & { submit: GPUQueue['submit'] };
  const submit = queue.submit.bind(queue);
  queue.submit = (b) => { c.submits++; return submit(b); };
  const create = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (d) => {
    const enc = create(d);
    const begin = enc.beginComputePass.bind(enc);
    enc.beginComputePass = (pd) => {
      const pass = begin(pd);
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (...a) => { c.dispatches++; return dispatch(...a); };
      return pass;
    };
    return enc;
  };
  return c;
}

async function run(backend: string, counts: () => { dispatches: number; submits: number }) {
  await tf.setBackend(backend);
  const { x, y } = data();
  const m = model();
  for (let e = 0; e < WARMUP; e++) await m.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 }); // warm-up: compiles
  const ms: number[] = [];
  const c0 = counts(), s0 = stats();
  for (let e = 0; e < EPOCHS; e++) {
    const t0 = performance.now();
    await m.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
    ms.push((performance.now() - t0) / steps);
  }
  const c1 = counts(), s1 = stats();
  tf.dispose([x, y]);
  m.dispose();
  return {
    ms: median(ms), msEpochs: ms, dispatches: (c1.dispatches - c0.dispatches) / (EPOCHS * steps), submits: (c1.submits - c0.submits) / (EPOCHS * steps),
    // Tessera's own work in the measured epochs (none on tfjs-webgpu): compiles, and realizations replayed from a recorded plan.
    programsCompiled: s1.programsCompiled - s0.programsCompiled, replays: s1.replays - s0.replays,
  };
}

heading('tfjs-layers fit step: tessera vs tfjs-webgpu (same adapter)');
const wg = await loadTfjs();
await registerGradients();
if (wg.error !== undefined) throw new Error(`tfjs-webgpu unavailable: ${wg.error}`);
const device = (tf.backend() as unknown as { device: GPUDevice }).device;
const counter = countWebgpu(device);
const webgpu = await run('webgpu', () => ({ ...counter }));
const tessera = await run('tessera', () => stats());
const row = (name: string, r: typeof webgpu) => `${name.padEnd(12)} ${r.ms.toFixed(2).padStart(8)} ms/step ${r.dispatches.toFixed(1).padStart(8)} dispatches/step ${r.submits.toFixed(2).padStart(6)} submits/step`;
console.log(row('tfjs-webgpu', webgpu));
console.log(row('tessera', tessera));
console.log(`tessera in the measured epochs: ${tessera.programsCompiled} programs compiled, ${tessera.replays} realizations replayed (runtime/replay.ts); ms/step by epoch: webgpu ${webgpu.msEpochs.map((v) => v.toFixed(1)).join(' ')}, tessera ${tessera.msEpochs.map((v) => v.toFixed(1)).join(' ')}`);
const ratios = { time: webgpu.ms / tessera.ms, dispatches: webgpu.dispatches / tessera.dispatches, submits: webgpu.submits / tessera.submits };
console.log(`ratio (webgpu / tessera): ${ratios.time.toFixed(2)}x time, ${ratios.dispatches.toFixed(1)}x dispatches, ${ratios.submits.toFixed(1)}x submits`);
const targets = [
  target('>= 3x fewer dispatches per fit step than tfjs-webgpu', ratios.dispatches >= 3, `${ratios.dispatches.toFixed(1)}x`),
  target('faster fit step than tfjs-webgpu', ratios.time > 1, `${ratios.time.toFixed(2)}x`),
];
writeResults('tfjs-backend', { model: { sizes: [D, 64, 64, C], batch: BATCH, steps, warmup: WARMUP, epochs: EPOCHS, optimizer: 'adam' }, webgpu, tessera, ratios, targets });
