/**
 * The demo's three programs: the seed's Keras model on its three samples, and the digits MLP and
 * CNN of examples/ (the same layers), with the digits data fetched from the server, unzipped in
 * the browser and split 80/20 as examples/data.ts does.
 */
import { nn, seed, tensor, type Tensor } from '../../index.ts';
import { fromRows, parseRows, trainTestSplit, type Dataset } from '../../examples/data-split.ts';

export type DemoModel = 'seed' | 'mlp' | 'cnn';
/** A compiled model, its data, and one batch (host data, as fit uploads it) to show its train step on. */
export interface Prepared {
  model: nn.Model; x: Tensor; y: Tensor; val?: [Tensor, Tensor]; batch: [Tensor, Tensor]; batchSize: number; digits: boolean;
}

let digits: Promise<{ train: Dataset; test: Dataset }> | null = null;
/** The 8x8 digits, pixels scaled to [0, 1], split 80/20 with the examples' seed. */
export function loadDigits(): Promise<{ train: Dataset; test: Dataset }> {
  digits ??= (async () => {
    const res = await fetch('data/digits.csv.gz');
    if (!res.ok || !res.body) throw new Error(`could not load the digits data: HTTP ${res.status}`);
    const text = await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).text();
    const d = fromRows(parseRows(text), 64);
    for (let i = 0; i < d.x.length; i++) d.x[i]! /= 16;
    return trainTestSplit(d, 0.2, 42);
  })();
  return digits;
}

export async function prepare(which: DemoModel): Promise<Prepared> {
  if (which === 'seed') {
    const model = new nn.Sequential([new nn.Dense(10, { activation: 'relu', inputShape: [3] }), new nn.Dense(1, { activation: 'sigmoid' })]);
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], y = [[0], [1], [0]];
    const f = (v: number[][]) => tensor(v, { dtype: 'float32' });
    return { model, x: f(x), y: f(y), batch: [f(x), f(y)], batchSize: 32, digits: false };
  }
  const { train, test } = await loadDigits();
  seed(which === 'mlp' ? 3 : 7);
  const model = which === 'mlp'
    ? nn.sequential([
      nn.dense(64, { activation: 'relu', inputShape: [64] }), nn.dense(64, { activation: 'relu' }), nn.dense(10, { activation: 'softmax' }),
    ])
    : nn.sequential([
      new nn.Reshape([8, 8, 1], { inputShape: [64] }),
      new nn.Conv2D(16, 3, { activation: 'relu', padding: 'same' }),
      new nn.MaxPooling2D({ poolSize: 2 }),
      new nn.Conv2D(32, 3, { activation: 'relu', padding: 'same' }),
      new nn.MaxPooling2D({ poolSize: 2 }),
      new nn.Flatten(),
      nn.dense(10, { activation: 'softmax' }),
    ]);
  model.compile({ optimizer: which === 'mlp' ? 'adam' : nn.adam({ learningRate: 0.003 }), loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'] });
  const t = (d: Dataset): [Tensor, Tensor] => [tensor(d.x, { shape: [d.samples, 64] }), tensor(d.y, { shape: [d.samples] })];
  const [x, y] = t(train), batchSize = which === 'mlp' ? 32 : 64;
  const batch: [Tensor, Tensor] = [
    tensor(train.x.slice(0, batchSize * 64), { shape: [batchSize, 64] }), tensor(train.y.slice(0, batchSize), { shape: [batchSize] }),
  ];
  return { model, x, y, val: t(test), batch, batchSize, digits: true };
}
