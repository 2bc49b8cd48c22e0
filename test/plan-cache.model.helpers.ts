/** The model of the plan-cache tests (not a test file): a small MLP with softmax, four kernels. */
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { rt } from './grad-helpers.ts';

export function model(seed = 1): { f: (x: Tensor) => Tensor; x: Tensor } {
  const w1 = rt([12, 16], seed), b1 = rt([16], seed + 1), w2 = rt([16, 8], seed + 2), x = rt([6, 12], seed + 3);
  const f = (v: Tensor) => ts.softmax(ts.relu(v.matmul(w1).add(b1)).matmul(w2).mul(1.5), -1).add(ts.sum(ts.layerNorm(v), [1], true).mul(0.25));
  return { f, x };
}
