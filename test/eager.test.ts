/**
 * Eager code that must not recompile, grow or submit more than needed: an optimizer's update
 * realizes the new parameters and state (reading the loss right after joins that submit); a lazy
 * graph past lazyGraphLimits is cut with a one-time warning; a jitted call with still-lazy
 * arguments and a readback right after is one submit. Values are checked against hand-computed
 * float64 references.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { lazyGraphLimits } from '../runtime/engine.ts';
import { close } from './grad-helpers.ts';

const { jit, stats, nn } = ts;

test('jit: still-lazy arguments (a reshaped scalar, a computed tensor) and a readback right after are one submit', async () => {
  const f = jit((x: Tensor, s: Tensor) => x.mul(s).add(1).sum());
  const x0 = [1, 2, 3, 4, 5, 6];
  await (await f(ts.tensor(x0), ts.tensor([2]).reshape([]))).data(); // first call compiles
  for (const k of [0.5, 3]) {
    const x = ts.tensor(x0).mul(k), s = ts.tensor([k + 1]).reshape([]);
    await ts.realizeAll([]); // nothing pending
    const s0 = stats().submits;
    const got = await (await f(x, s)).item();
    assert.is(stats().submits - s0, 1, 'one submit for the lazy arguments, the call and the readback');
    close([got], [x0.reduce((a, v) => a + v * k * (k + 1) + 1, 0)], `k=${k}`);
  }
});

test('eager Adam: the update realizes parameters and state, the loss read joins its submit, no recompiles', async () => {
  const N = 8, X = Array.from({ length: N * 3 }, (_, i) => Math.sin(i)), Y = Array.from({ length: N * 2 }, (_, i) => Math.cos(i));
  const x = ts.tensor(X, { shape: [N, 3] }), y = ts.tensor(Y, { shape: [N, 2] });
  const W0 = Array.from({ length: 6 }, (_, i) => 0.1 * (i - 2));
  const lossOf = (w: Tensor) => x.matmul(w).sub(y).square().mean();
  const opt = new nn.Adam({ learningRate: 0.05 });
  let w = ts.tensor(W0, { shape: [3, 2] });
  let state = opt.init(w);
  // float64 reference: loss = mean((xW - y)^2), grad = 2/(2N) x^T (xW - y), Keras Adam
  const W = [...W0], M = new Array(6).fill(0), V = new Array(6).fill(0);
  const refLosses: number[] = [], losses: number[] = [], programs: number[] = [], submits: number[] = [];
  for (let t = 1; t <= 5; t++) {
    const R = Array.from({ length: N * 2 }, (_, k) => { const i = k >> 1, j = k & 1; return X[i * 3]! * W[j]! + X[i * 3 + 1]! * W[2 + j]! + X[i * 3 + 2]! * W[4 + j]! - Y[k]!; });
    refLosses.push(R.reduce((a, r) => a + r * r, 0) / (2 * N));
    const G = W.map((_, q) => { const r = q >> 1, j = q & 1; let g = 0; for (let i = 0; i < N; i++) g += X[i * 3 + r]! * R[i * 2 + j]!; return g / N; });
    const alpha = 0.05 * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t);
    G.forEach((g, q) => { M[q] += (g - M[q]) * 0.1; V[q] += (g * g - V[q]) * 0.001; W[q] -= (M[q] * alpha) / (Math.sqrt(V[q]) + 1e-7); });

    const s0 = stats();
    const [loss, g] = ts.valueAndGrad(lossOf)(w);
    ({ params: w, state } = opt.update(w, g, state));
    losses.push(await loss.item());
    const s1 = stats();
    programs.push(s1.programsCompiled - s0.programsCompiled);
    submits.push(s1.submits - s0.submits);
    await ts.realizeAll([]);
    assert.is(w.node.op, 'input', `step ${t}: the new parameters are realized`);
    assert.is((state.step as Tensor).node.op, 'input', `step ${t}: the state is realized`);
  }
  close(losses, refLosses, 'losses', { rtol: 1e-4, atol: 1e-6 });
  close(await w.data(), W, 'parameters after 5 steps', { rtol: 1e-4, atol: 1e-6 });
  assert.equal(submits, [1, 1, 1, 1, 1], 'update and loss read: one submit per step');
  assert.equal(programs.slice(2), [0, 0, 0], `no recompiles after the first steps (${programs})`);
});

test('a lazy chain past lazyGraphLimits is cut with one warning, and the value is right', async () => {
  const saved = { ...lazyGraphLimits };
  lazyGraphLimits.depth = 40;
  const warns: string[] = [], warn = console.warn;
  console.warn = (m: string) => warns.push(m);
  try {
    let x = ts.tensor([1, 2, 3]), X = [1, 2, 3];
    for (let i = 0; i < 150; i++) { x = x.mul(0.9).add(0.3); X = X.map((v) => v * 0.9 + 0.3); }
    close(await x.data(), X, 'after 150 lazy steps', { rtol: 1e-4 });
    for (let i = 0; i < 60; i++) { x = x.sub(0.1).mul(1.05); X = X.map((v) => (v - 0.1) * 1.05); }
    close(await x.data(), X, 'after 60 more', { rtol: 1e-4 });
    assert.is(warns.length, 1, 'warned once');
    assert.match(warns[0]!, /lazyGraphLimits/);
  } finally {
    Object.assign(lazyGraphLimits, saved);
    console.warn = warn;
  }
});

test.run();
