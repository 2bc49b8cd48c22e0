/**
 * Handwritten digits (1797 8x8 images, 10 classes) with an MLP: pixels scaled to [0, 1],
 * a 20% held-out test set, Dense(64, relu) -> Dense(64, relu) -> Dense(10, softmax) trained with
 * Adam on sparse categorical cross-entropy. Reaches about 97% held-out accuracy.
 *
 * Run: npx tsx examples/digits-mlp.ts
 */
import { nn, seed, tensor } from '../index.ts';
import { digitsSplit } from './data.ts';

seed(3);
const t0 = performance.now();
const { test, tr, te } = await digitsSplit();

const model = nn.sequential([
  nn.dense(64, { activation: 'relu', inputShape: [64] }),
  nn.dense(64, { activation: 'relu' }),
  nn.dense(10, { activation: 'softmax' }),
]);
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
model.summary();
await model.fit(tr.x, tr.y, { epochs: 30, batchSize: 32, verbose: 2 });
const [loss, accuracy] = (await model.evaluate(te.x, te.y)) as number[];

// A few predictions, as digits.
const probs = await model.predict(tensor(test.x.slice(0, 10 * 64), { shape: [10, 64] }));
const guess = (await probs.argmax(-1).toArray()) as number[];
console.log(`first 10 test digits: predicted ${guess.join(' ')}, true ${Array.from(test.y.slice(0, 10)).join(' ')}`);
console.log(`held-out: ${test.samples} samples, loss ${loss!.toFixed(4)}, accuracy ${(accuracy! * 100).toFixed(2)}%   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
if (accuracy! < 0.95) { console.error('held-out accuracy is below 95%'); process.exitCode = 1; }
