/**
 * A module for the `tessera` CLI: a function and its example arguments.
 *
 *   npx tessera explain examples/inspect-softmax.ts
 */
import { randn, softmax, type Tensor } from '../index.ts';

export default function attentionScores(q: Tensor, k: Tensor) {
  return softmax(q.matmul(k.transpose()).mul(1 / Math.sqrt(q.shape[1]!)));
}
export const inputs = [randn([8, 16], { seed: 1 }), randn([12, 16], { seed: 2 })];
