/**
 * A small BERT-style encoder, pretrained with a masked-language-model loss and then fine-tuned as
 * a sentence classifier. The corpus is generated from templates ("the movie was really great and
 * i loved it"): sentiment lives in the adjective and in the ending, so predicting masked words
 * teaches the encoder which words go together. Two models share the encoder's layers (the
 * functional API's shared layers): the MLM model (token logits; unmasked positions carry the
 * label -100, skipped by `ignoreClass`) and the classifier (mean over tokens, softmax), so
 * fine-tuning starts from the pretrained weights. Held-out numbers (sentences never trained on):
 * masked-word loss and accuracy on unseen sentences against a word-frequency baseline, and
 * sentiment accuracy on unseen sentences after fine-tuning.
 *
 * (No padding mask: pad tokens take part in attention, which is harmless for this toy corpus.)
 *
 * Run: npx tsx examples/bert.ts
 */
import { nn, seed } from '../index.ts';
import { transformerBlock } from './transformer.ts';

seed(5);
const t0 = performance.now();
let r = 7;
const rand = () => (r = (r * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <X>(a: readonly X[]) => a[Math.floor(rand() * a.length)]!;

const subjects = ['the movie', 'the food', 'the service', 'the book', 'the weather', 'the music', 'the hotel', 'the game'];
const verbs = ['was', 'is', 'seemed', 'felt'], adverbs = ['very', 'really', 'quite', 'so'];
const good = ['great', 'good', 'wonderful', 'lovely', 'excellent', 'fun'], bad = ['bad', 'awful', 'terrible', 'boring', 'poor', 'sad'];
const endings = [['and i loved it', 'and i liked it', 'so we stayed'], ['and i hated it', 'and i left early', 'so we left']];
function sentence(positive: boolean): string {
  const adv = rand() < 0.6 ? `${pick(adverbs)} ` : '';
  const end = rand() < 0.7 ? ` ${pick(endings[positive ? 0 : 1]!)}` : '';
  return `${pick(subjects)} ${pick(verbs)} ${adv}${pick(positive ? good : bad)}${end}`;
}
const all = [...new Set(Array.from({ length: 1400 }, (_, i) => `${i % 2}|${sentence(i % 2 === 0)}`))];
const data = all.map((s) => ({ label: +(s[0] === '0'), words: s.slice(2).split(' ') }));
const nTrain = Math.floor(data.length * 0.8), trainSet = data.slice(0, nTrain), testSet = data.slice(nTrain);

const vocab = ['[PAD]', '[MASK]', ...new Set(data.flatMap((d) => d.words))];
const id = new Map(vocab.map((w, i) => [w, i])), PAD = 0, MASK = 1, L = 12, V = vocab.length;
const encode = (words: string[]) => [...words.map((w) => id.get(w)!), ...new Array(L - words.length).fill(PAD)];

/** MLM examples: 15% of the words (at least one) replaced by [MASK]; labels are their ids, -100 elsewhere. */
function masked(set: typeof data, copies: number) {
  const x: number[][] = [], y: number[][] = [];
  for (let c = 0; c < copies; c++) for (const d of set) {
    const ids = encode(d.words), lab = new Array(L).fill(-100);
    const n = d.words.length, chosen = new Set<number>([Math.floor(rand() * n)]);
    for (let i = 0; i < n; i++) if (rand() < 0.15) chosen.add(i);
    for (const i of chosen) { lab[i] = ids[i]; ids[i] = MASK; }
    x.push(ids); y.push(lab);
  }
  return { x, y };
}

// The shared encoder: token embeddings + learned positions, two bidirectional blocks.
const ids = nn.input({ shape: [L], name: 'tokens' });
let h = new nn.PositionalEmbedding(L).call(new nn.Embedding(V, 64).call(ids));
for (let b = 0; b < 2; b++) h = transformerBlock(h, { heads: 4, ffn: 128, causal: false });
h = new nn.LayerNormalization(1e-5).call(h);

const mlm = nn.model({ inputs: ids, outputs: new nn.Dense(V, { name: 'mlm_logits' }).call(h), name: 'bert_mlm' });
mlm.compile({ optimizer: nn.adamw({ learningRate: 2e-3 }), loss: new nn.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: -100 }) });
mlm.summary();
const pre = masked(trainSet, 4);
await mlm.fit(pre.x, pre.y, { epochs: 8, batchSize: 64, verbose: 2 });

// Held-out masked words (unseen sentences): loss and accuracy, against a baseline that knows only
// word frequencies (the unigram distribution of the training sentences' words).
const heldMlm = masked(testSet, 1);
const logits = (await (await mlm.predict(heldMlm.x, { batchSize: 1024 })).data()) as Float32Array;
const freq = new Float64Array(V);
for (const d of trainSet) for (const w of d.words) freq[id.get(w)!]! += 1;
const nWords = freq.reduce((a, b) => a + b, 0), mostFrequent = freq.indexOf(Math.max(...freq));
let hit = 0, baseHit = 0, total = 0, nll = 0, baseNll = 0;
heldMlm.y.forEach((row, i) => row.forEach((t, j) => {
  if (t < 0) return;
  const z = logits.subarray((i * L + j) * V, (i * L + j + 1) * V), top = Math.max(...z);
  const logSum = top + Math.log(z.reduce((a, v) => a + Math.exp(v - top), 0));
  total++; nll += logSum - z[t]!; baseNll -= Math.log(Math.max(freq[t]!, 0.5) / nWords);
  if (z.indexOf(top) === t) hit++;
  if (t === mostFrequent) baseHit++;
}));
const mlmLoss = nll / total, baseLoss = baseNll / total;
console.log(`MLM, ${total} held-out masked words (vocabulary ${V}): loss ${mlmLoss.toFixed(3)} nats, accuracy ${(100 * hit / total).toFixed(1)}%`
  + `   baseline (word frequencies): loss ${baseLoss.toFixed(3)} nats, accuracy ${(100 * baseHit / total).toFixed(1)}%`);

// Fine-tune: the same encoder layers, a mean-pooled classification head.
const cls = nn.model({ inputs: ids, outputs: new nn.Dense(2, { activation: 'softmax' }).call(new nn.GlobalAveragePooling1D().call(h)), name: 'bert_classifier' });
cls.compile({ optimizer: nn.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
await cls.fit(trainSet.map((d) => encode(d.words)), trainSet.map((d) => d.label), { epochs: 3, batchSize: 64, verbose: 2 });
const [loss, acc] = (await cls.evaluate(testSet.map((d) => encode(d.words)), testSet.map((d) => d.label), { batchSize: 1024 })) as number[];
console.log(`classifier: held-out ${testSet.length} sentences, loss ${loss!.toFixed(4)}, accuracy ${(acc! * 100).toFixed(1)}%   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
if (acc! < 0.95 || !(mlmLoss < 0.75 * baseLoss)) { console.error('below the expected accuracy, or the MLM loss is not well below the baseline'); process.exitCode = 1; }
