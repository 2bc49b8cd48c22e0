/**
 * A character-level GPT on a small bundled text (public-domain nursery rhymes, examples/data/
 * rhymes.txt): token embeddings plus learned positions, two pre-norm transformer blocks with
 * causal multi-head self-attention (d_model 64, 4 heads), AdamW, next-character cross-entropy.
 * The whole train step is one jitted, fused program. It prints the training and held-out loss
 * against the unigram entropy of the text (the loss of a model that knows only character
 * frequencies), then samples text with temperature and top-k (topk runs on the device).
 *
 * Run: npx tsx examples/gpt.ts
 */
import { readFile } from 'node:fs/promises';
import { nn, seed, stats, tensor, topk } from '../index.ts';
import { gpt } from './transformer.ts';

seed(3);
const t0 = performance.now();
const text = await readFile(new URL('./data/rhymes.txt', import.meta.url), 'utf8');
const chars = [...new Set(text)].sort(), V = chars.length, ix = new Map(chars.map((c, i) => [c, i]));
const ids = Array.from(text, (c) => ix.get(c)!);
const T = 32, split = Math.floor(ids.length * 0.9);

/** Windows of T+1 characters starting every `stride` characters in [from, to): inputs and next-character targets. */
function windows(from: number, to: number, stride: number) {
  const x: number[][] = [], y: number[][] = [];
  for (let s = from; s + T + 1 <= to; s += stride) { x.push(ids.slice(s, s + T)); y.push(ids.slice(s + 1, s + T + 1)); }
  return { x, y };
}
const train = windows(0, split, 3), held = windows(split, ids.length, 4);

// The unigram entropy (nats) of the training text: what knowing only letter frequencies achieves.
const counts = new Map<number, number>();
for (const c of ids.slice(0, split)) counts.set(c, (counts.get(c) ?? 0) + 1);
const unigram = -[...counts.values()].reduce((s, n) => s + (n / split) * Math.log(n / split), 0);

const model = gpt({ vocab: V, context: T, dModel: 64, blocks: 2, heads: 4, ffn: 256 });
model.compile({ optimizer: nn.adamw({ learningRate: 3e-3, weightDecay: 0.01 }), loss: new nn.SparseCategoricalCrossentropy({ fromLogits: true }) });
model.summary();
const before = stats();
const hist = await model.fit(train.x, train.y, { epochs: 15, batchSize: 64, verbose: 2, validationData: [held.x, held.y] });
const steps = hist.params.steps * hist.epoch.length, after = stats();
const trainLoss = hist.history.loss!.at(-1)!, valLoss = hist.history.val_loss!.at(-1)!;
console.log(`vocab ${V}, ${train.x.length} training windows of ${T}; unigram entropy ${unigram.toFixed(3)} nats`);
console.log(`final loss: train ${trainLoss.toFixed(3)}, held-out ${valLoss.toFixed(3)} nats (${(valLoss / unigram * 100).toFixed(0)}% of the unigram entropy)`);
console.log(`${((after.dispatches - before.dispatches) / steps).toFixed(0)} dispatches per step (train + validation), ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** Samples `n` characters after `prompt`: logits of the last position / temperature, the top k on the device, then a draw on the host. */
async function sample(prompt: string, n: number, temperature = 0.8, k = 5): Promise<string> {
  let ctx = Array.from(prompt, (c) => ix.get(c) ?? 0), out = prompt, rand = 12345;
  for (let i = 0; i < n; i++) {
    const window = ctx.slice(-T);
    while (window.length < T) window.unshift(ix.get(' ')!);
    const logits = await model.predict(tensor([window], { dtype: 'float32' }));
    const last = logits.slice([0, T - 1, 0], [1, T, V]).reshape([V]).div(temperature);
    const best = topk(last, k);
    const [vals, idx] = [await best.values.data(), await best.indices.data()];
    const p = Array.from(vals, (v) => Math.exp(v - vals[0]!)), total = p.reduce((s, v) => s + v, 0);
    rand = (rand * 1103515245 + 12345) % 2 ** 31;
    let r = (rand / 2 ** 31) * total, j = 0;
    while (j < k - 1 && (r -= p[j]!) > 0) j++;
    ctx.push(idx[j]!); out += chars[idx[j]!];
  }
  return out;
}
console.log('--- sample (temperature 0.8, top-k 5) ---\n' + (await sample('Mary had a ', 160)));
if (!(valLoss < 0.75 * unigram)) { console.error('held-out loss is not well below the unigram entropy'); process.exitCode = 1; }
