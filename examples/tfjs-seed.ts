/**
 * The seed's Keras program (examples/seed.ts) written in TensorFlow.js (tfjs-layers), run on the
 * 'tessera' backend: every training step's forward, tape backward and Adam update fuse into a
 * few kernels and one submit.
 *
 * Run: npx tsx examples/tfjs-seed.ts
 * (Apps import '@tensorflow/tfjs', which registers the gradients; this repository has only
 * tfjs-core + tfjs-layers installed, so test/tfjs-helpers.ts registers them.)
 */
import { stats } from '../index.ts';
import { registerGradients, tf, tfl } from '../test/tfjs-helpers.ts';   // tfjs-core, tfjs-layers and 'tessera/tfjs'

await registerGradients();
await tf.setBackend('tessera');

const x = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
const y = tf.tensor2d([[0], [1], [0]]);

const t0 = performance.now();
const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 10, activation: 'relu', inputShape: [3] }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })] });
model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
const s0 = stats();
await model.fit(x, y, { epochs: 10, verbose: 0 });
const s1 = stats();
const p = (await (model.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor).data())[0]!;
console.log(`P(y = 1 | x = [1, 2, 3]) = ${p.toFixed(4)}   (fit + predict on 'tessera': ${(performance.now() - t0).toFixed(0)} ms, first run: includes compiling)`);
console.log(`fit: ${(s1.dispatches - s0.dispatches) / 10} dispatches and ${(s1.submits - s0.submits) / 10} submits per epoch (one step each)`);
