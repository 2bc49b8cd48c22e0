/**
 * Fine-tuning an imported ONNX model, which onnxruntime-web cannot do: the openWakeWord
 * "hello deepa" classifier (an MLP exported from PyTorch) is loaded with loadOnnx, its last layer
 * (`last_layer.weight`, `last_layer.bias`) is trained with grad + Adam on a small synthetic
 * task while the other layers stay frozen, and the binary cross-entropy falls.
 *
 * The model's input is a fixed [1, 25, 96] feature window, so the loss runs the model once per
 * example; all of it (forward passes, backward pass, Adam update) is one jitted step, one submit.
 *
 * Run: npx tsx examples/onnx-finetune.ts
 */
import { loadOnnx } from '../interop/onnx/index.ts';
import { add, grad, jit, log, mul, nn, sub, tensor, type Tensor } from '../index.ts';

const model = await loadOnnx(new URL('../node_modules/openwakeword-js/models/hello_deepa.onnx', import.meta.url).pathname);
const input = model.inputs[0]!.name, output = model.outputs[0]!.name;
const all = model.parameters();
const TRAIN = ['last_layer.weight', 'last_layer.bias'];
const frozen = Object.fromEntries(Object.entries(all).filter(([k]) => !TRAIN.includes(k)));
console.log(`${model.producer}, opset ${model.opset}: ${Object.keys(all).length} parameter tensors; training ${TRAIN.join(', ')}`);

// 8 windows: label 1 for smooth sine features, 0 for a faster alternating pattern.
const window = (k: number, label: number) =>
  tensor(Float32Array.from({ length: 25 * 96 }, (_, i) => (label ? 0.5 * Math.sin(0.05 * i + k) : 0.5 * Math.sin(2.9 * i + k) * ((i % 7) / 7))),
    { shape: [1, 25, 96] });
const labels = [1, 0, 1, 0, 0, 1, 0, 0];
const xs = labels.map((y, k) => window(k, y));

const bce = (p: Tensor, y: number) => { const q = p.clip(1e-6, 1 - 1e-6); return y ? log(q).neg() : log(sub(1, q)).neg(); };
const loss = (trained: Record<string, Tensor>) => {
  let total: Tensor | null = null;
  xs.forEach((x, k) => {
    const p = model.run({ [input]: x }, { parameters: { ...frozen, ...trained } })[output]!;
    const l = bce(p, labels[k]!).sum();
    total = total ? add(total, l) : l;
  });
  return mul(total!, 1 / xs.length);
};

const adam = new nn.Adam({ learningRate: 0.05 });
const step = jit((p: Record<string, Tensor>, s: nn.OptState) => {
  const l = loss(p);
  const { params, state } = adam.update(p, grad(loss)(p), s);
  return { l, params, state };
});

let params: Record<string, Tensor> = Object.fromEntries(TRAIN.map((k) => [k, all[k]!]));
let state = adam.init(params);
const first = await loss(params).item();
console.log(`step 0: loss ${first.toFixed(4)}`);
let last = first;
for (let i = 1; i <= 60; i++) {
  const r = await step(params, state);
  ({ params, state } = r);
  if (i % 10 === 0) { last = await r.l.item(); console.log(`step ${i}: loss ${last.toFixed(4)}`); }
}
model.setParameters(params);
const probs = await Promise.all(xs.map(async (x) => (await model.run({ [input]: x })[output]!.data())[0]!));
console.log(`after fine-tuning: P(wake) = ${probs.map((p) => p.toFixed(2)).join(' ')} for labels ${labels.join(' ')}`);
if (!(last < first / 2)) { console.error('the loss did not fall by half'); process.exitCode = 1; }
