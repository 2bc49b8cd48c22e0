// Browser check of the 'tessera' TensorFlow.js backend (interop/tfjs): the seed model written in
// tfjs-layers trains on 'tessera' and on 'cpu' from the same weights, with the same losses.
// Loaded with a dynamic import from checks.ts, so tfjs stays out of everything else.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import '../../interop/tfjs/index.ts';

/** Returns a failure description, or nothing. */
export async function tfjsSeedParity(): Promise<string | void> {
  const losses: number[][] = [];
  let init: tf.Tensor[] | null = null;
  for (const backend of ['cpu', 'tessera']) {
    if (!(await tf.setBackend(backend))) return `tf.setBackend('${backend}') failed`;
    const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 10, activation: 'relu', inputShape: [3] }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })] });
    if (init) m.setWeights(init.map((w) => tf.tensor(w.dataSync() as Float32Array, w.shape)));
    else init = m.getWeights().map((w) => tf.clone(w));
    m.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' });
    const h = await m.fit(tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), tf.tensor2d([[0], [1], [0]]), { epochs: 4, verbose: 0 });
    losses.push(h.history.loss as number[]);
  }
  const [cpu, tes] = losses as [number[], number[]];
  if (!cpu.every((l, i) => Math.abs(l - tes[i]!) <= 1e-4 * (1 + Math.abs(l)))) return `losses differ: cpu ${cpu.join(', ')} / tessera ${tes.join(', ')}`;
}
