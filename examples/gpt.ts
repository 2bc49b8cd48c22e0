/**
 * A character-level GPT on a bundled public-domain text (Ambrose Bierce's The Devil's Dictionary,
 * A to D, 66 KB: examples/data/devils-dictionary.txt): token embeddings plus learned positions,
 * two pre-norm transformer blocks with causal multi-head self-attention (d_model 64, 4 heads),
 * AdamW with a warmup-then-cosine learning-rate schedule, next-character cross-entropy.
 * The whole train step is one jitted, fused program.
 *
 * The text is split in three, in order: the first 80% trains, the next 10% validates (fit reports
 * val_loss each epoch; nn.EarlyStopping keeps the best epoch's weights; `gpt({..., dropout: 0.1})`
 * adds dropout, which this short run does not need: validation loss still falls at the last epoch), and the last 10% is
 * held out and measured once, at the end. Losses are compared with the unigram entropy of the
 * training text (the loss of a model that knows only character frequencies). Then it samples text
 * with temperature and top-k (topk runs on the device).
 *
 * Run: npx tsx examples/gpt.ts
 */
import { readFile } from 'node:fs/promises';
import { nn, seed, tensor, topk, type Tensor } from '../index.ts';
import { gpt } from './transformer.ts';

seed(3);
const t0 = performance.now();
const text = await readFile(new URL('./data/devils-dictionary.txt', import.meta.url), 'utf8');
const chars = [...new Set(text)].sort(), V = chars.length, ix = new Map(chars.map((c, i) => [c, i]));
const ids = Array.from(text, (c) => ix.get(c)!);
const T = 64, trainEnd = Math.floor(ids.length * 0.8), valEnd = Math.floor(ids.length * 0.9);

/** Windows of T+1 characters starting every `stride` characters in [from, to): inputs and next-character targets. */
function windows(from: number, to: number, stride: number) {
  const x: number[][] = [], y: number[][] = [];
  for (let s = from; s + T + 1 <= to; s += stride) { x.push(ids.slice(s, s + T)); y.push(ids.slice(s + 1, s + T + 1)); }
  return { x, y };
}
const train = windows(0, trainEnd, T / 2), val = windows(trainEnd, valEnd, T), test = windows(valEnd, ids.length, T);

// The unigram entropy (nats) of the training text: what knowing only letter frequencies achieves.
const counts = new Map<number, number>();
for (const c of ids.slice(0, trainEnd)) counts.set(c, (counts.get(c) ?? 0) + 1);
const unigram = -[...counts.values()].reduce((s, n) => s + (n / trainEnd) * Math.log(n / trainEnd), 0);

const epochs = 6, batchSize = 16, steps = epochs * Math.ceil(train.x.length / batchSize);
const model = gpt({ vocab: V, context: T, dModel: 64, blocks: 2, heads: 4, ffn: 256 });
const learningRate = nn.cosineDecay({ initialLearningRate: 0, warmupTarget: 5e-3, warmupSteps: 50, decaySteps: steps - 50, alpha: 0.05 });
model.compile({ optimizer: nn.adamw({ learningRate, weightDecay: 0.05 }), loss: new nn.SparseCategoricalCrossentropy({ fromLogits: true }) });
model.summary();

// Early stopping on validation loss; the best epoch's weights are put back when fit ends.
const keep = new nn.EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
const hist = await model.fit(train.x, train.y, { epochs, batchSize, verbose: 2, validationData: [val.x, val.y], callbacks: keep });
const trainLoss = hist.history.loss![keep.bestEpoch]!;
const testLoss = (await model.evaluate(test.x, test.y, { batchSize: 128 })) as number;
const tokensPerS = (hist.epoch.length * train.x.length * T) / ((performance.now() - t0) / 1000);
console.log(`vocab ${V}, ${train.x.length} training windows of ${T} (${trainEnd} characters); unigram entropy ${unigram.toFixed(3)} nats`);
console.log(`best epoch ${keep.bestEpoch + 1} of ${hist.epoch.length}: train ${trainLoss.toFixed(3)}, validation ${keep.best.toFixed(3)} nats`);
console.log(`held-out (last 10%, ${test.x.length} windows, measured once): ${testLoss.toFixed(3)} nats = ${(testLoss / unigram * 100).toFixed(0)}% of the unigram entropy   (${((performance.now() - t0) / 1000).toFixed(0)} s, ~${tokensPerS.toFixed(0)} training tokens/s overall)`);

/** Samples `n` characters after `prompt`: logits of the last position / temperature, the top k on the device, then a draw on the host. */
async function sample(prompt: string, n: number, temperature = 0.8, k = 5): Promise<string> {
  let ctx = Array.from(prompt, (c) => ix.get(c) ?? 0), out = prompt, rand = 12345;
  for (let i = 0; i < n; i++) {
    const window = ctx.slice(-T);
    while (window.length < T) window.unshift(ix.get(' ')!);
    const logits = (await model.predict(tensor([window], { dtype: 'float32' }))) as Tensor;
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
console.log('--- sample (temperature 0.8, top-k 5) ---\n' + (await sample('CYNIC, n.  ', 200)));
if (!(testLoss < 0.75 * unigram)) { console.error('held-out loss is not well below the unigram entropy'); process.exitCode = 1; }
