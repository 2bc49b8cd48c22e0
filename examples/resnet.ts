/**
 * A small ResNet on the 8×8 digits, built with the functional API: a 3×3 stem, residual blocks
 * (conv-BN-ReLU-conv-BN plus the shortcut, a 1×1 projection where the width or stride changes),
 * global average pooling and a softmax head. BatchNormalization trains on batch statistics and
 * keeps moving ones (updated inside the one jitted train step); evaluate and predict use the moving
 * statistics. The model is saved (architecture JSON + safetensors) and reloaded, and the reloaded
 * copy must score the same. The moving statistics use momentum 0.9 (Keras's default 0.99 averages
 * over ~100 steps, longer than the weights of this short run stay put). Adam's learning rate
 * follows a cosine decay over the run (nn.cosineDecay: computed in the jitted step, no retrace).
 *
 * The choices (width 24, 12 epochs, cosine decay; no augmentation: random ±1-pixel shifts, tried
 * at width 16 for 16 epochs, gave 96.9% validation accuracy against 98.3% without them in 8) were
 * made on a validation split of the training data, never on the test split: `--validate` reruns
 * that (trains on 80% of the training split, reports the other 20%). Without it, the model trains on the whole training
 * split and the held-out test split is measured once, at the end.
 *
 * Run: npx tsx examples/resnet.ts   (or: npx tsx examples/resnet.ts --validate)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nn, seed, type Tensor } from '../index.ts';
import { digitsSplit, tensors, trainTestSplit } from './data.ts';

seed(11);
const t0 = performance.now();
const validate = process.argv.includes('--validate');
const split = await digitsSplit();
// --validate: hold 20% of the training split out as validation data; the test split stays unread.
const { train, test } = validate ? trainTestSplit(split.train, 0.2, 7) : split;
const [tr, te] = validate ? [tensors(train, true), tensors(test, true)] : [split.tr, split.te];
const heldOut = validate ? 'validation' : 'held-out test';

function residualBlock(x: nn.SymbolicTensor, filters: number, stride: number): nn.SymbolicTensor {
  let h = new nn.Conv2D(filters, 3, { strides: stride, padding: 'same', useBias: false }).call(x);
  h = new nn.ReLU().call(new nn.BatchNormalization({ momentum: 0.9 }).call(h));
  h = new nn.Conv2D(filters, 3, { padding: 'same', useBias: false }).call(h);
  h = new nn.BatchNormalization({ momentum: 0.9 }).call(h);
  const needsProjection = stride !== 1 || x.shape[2] !== filters;
  const shortcut = needsProjection ? new nn.BatchNormalization({ momentum: 0.9 }).call(new nn.Conv2D(filters, 1, { strides: stride, useBias: false }).call(x)) : x;
  return new nn.ReLU().call(new nn.Add().call([h, shortcut]));
}

const width = 24, epochs = 12, batchSize = 64;
const input = nn.input({ shape: [64], name: 'pixels' });
let h = new nn.Reshape([8, 8, 1]).call(input);
h = new nn.ReLU().call(new nn.BatchNormalization({ momentum: 0.9 }).call(new nn.Conv2D(width, 3, { padding: 'same', useBias: false }).call(h)));
h = residualBlock(h, width, 1);
h = residualBlock(h, 2 * width, 2);
const out = new nn.Dense(10, { activation: 'softmax' }).call(new nn.GlobalAveragePooling2D().call(h));
const model = nn.model({ inputs: input, outputs: out, name: 'resnet_digits' });
const learningRate = nn.cosineDecay({ initialLearningRate: 0.003, decaySteps: epochs * Math.ceil(train.samples / batchSize) });
model.compile({ optimizer: nn.adam({ learningRate }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
model.summary();
await model.fit(tr.x, tr.y, { epochs, batchSize, verbose: 2 });
const [loss, accuracy] = (await model.evaluate(te.x, te.y, { batchSize: 512 })) as number[];
console.log(`${heldOut}: ${test.samples} samples, loss ${loss!.toFixed(4)}, accuracy ${(accuracy! * 100).toFixed(2)}%   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

// predict uses the moving statistics too; a saved and reloaded model gives the same predictions.
const dir = await mkdtemp(join(tmpdir(), 'tessera-resnet-'));
try {
  const path = join(dir, 'resnet.safetensors');
  await model.save(path);
  const copy = await nn.loadModel(path);
  const [a, b] = [await (await model.predict(te.x, { batchSize: 512 })).argmax(-1).data(), await ((await copy.predict(te.x, { batchSize: 512 })) as Tensor).argmax(-1).data()];
  const same = a.every((v, i) => v === b[i]);
  console.log(`saved and reloaded: ${same ? 'identical predictions' : 'PREDICTIONS DIFFER'}`);
  if (!same) process.exitCode = 1;
} finally { await rm(dir, { recursive: true, force: true }); }
if (!validate && accuracy! < 0.985) { console.error('held-out accuracy is below 98.5%'); process.exitCode = 1; }
