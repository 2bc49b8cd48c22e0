/**
 * Handwritten digits (1797 8x8 images) with a small CNN: two 3x3 convolutions (each an implicit
 * GEMM with bias and ReLU fused), max pooling, and a softmax classifier, trained with Adam. The
 * whole train step (forward, backward through convolutions and pooling, update) is one jitted
 * program. Reaches about 98% held-out accuracy.
 *
 * Run: npx tsx examples/digits-cnn.ts
 */
import { nn, seed } from '../index.ts';
import { digitsSplit } from './data.ts';

seed(7);
const t0 = performance.now();
const { test, tr, te } = await digitsSplit();

const model = nn.sequential([
  new nn.Reshape([8, 8, 1], { inputShape: [64] }),
  new nn.Conv2D(16, 3, { activation: 'relu', padding: 'same' }),
  new nn.MaxPooling2D({ poolSize: 2 }),
  new nn.Conv2D(32, 3, { activation: 'relu', padding: 'same' }),
  new nn.MaxPooling2D({ poolSize: 2 }),
  new nn.Flatten(),
  nn.dense(10, { activation: 'softmax' }),
]);
model.compile({ optimizer: nn.adam({ learningRate: 0.003 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
model.summary();
await model.fit(tr.x, tr.y, { epochs: 30, batchSize: 64, verbose: 2 });
const [loss, accuracy] = (await model.evaluate(te.x, te.y)) as number[];
console.log(`held-out: ${test.samples} samples, loss ${loss!.toFixed(4)}, accuracy ${(accuracy! * 100).toFixed(2)}%   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
if (accuracy! < 0.97) { console.error('held-out accuracy is below 97%'); process.exitCode = 1; }
