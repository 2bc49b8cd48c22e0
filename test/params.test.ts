/**
 * Scalar constants are not part of a program's identity (codegen/expr.ts isParamConst): graphs
 * that differ only in float32 constant values share one program and one pipeline, the values
 * passed at run time in a uniform; structural constants (0, 1, -1, 2, 0.5, non-finite, integers)
 * stay literals. Every result is checked against the float64 interpreter.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { close, evalF64, rt } from './grad-helpers.ts';

const { jit, stats } = ts;
const tol = { rtol: 1e-4, atol: 1e-5 };
async function checked(t: Tensor, msg: string): Promise<void> {
  const [want] = evalF64([t]);
  close(await t.data(), want!, msg, tol);
}

test('eager: an elementwise graph (vec4 lanes) with new constant values each call compiles once', async () => {
  const x = rt([256], 1);
  const f = (a: number, b: number) => ts.exp(x.mul(a).add(b)).sub(x.div(a + 3));
  await checked(f(0.3, 0.1), 'first');
  const s0 = stats();
  for (const [a, b] of [[0.7, -0.25], [1.3, 0.4], [-2.2, 3.1]] as const) await checked(f(a, b), `a=${a} b=${b}`);
  const s1 = stats();
  assert.is(s1.programsCompiled, s0.programsCompiled, 'no new program');
  assert.is(s1.kernelsCompiled, s0.kernelsCompiled, 'no new pipeline');
});

test('matmul prologue/epilogue and a softmax row kernel read their constants at run time', async () => {
  const a = rt([9, 13], 2), w = rt([13, 7], 3), z = rt([6, 20], 4);
  const mm = (s: number, b: number) => ts.tanh(a.mul(s).matmul(w).mul(b).add(0.125 * b));
  const sm = (temp: number) => ts.softmax(z.div(temp)).mul(temp + 0.3);
  await checked(mm(0.3, 1.7), 'matmul');
  await checked(sm(0.6), 'softmax');
  const s0 = stats();
  await checked(mm(-1.1, 0.4), 'matmul, other values');
  await checked(sm(3.3), 'softmax, other temperature');
  assert.is(stats().programsCompiled, s0.programsCompiled, 'shared programs');
});

test('structural constants stay literals: x*1 simplifies to x (another program), results right', async () => {
  const x = rt([40], 5);
  await checked(x.mul(0.37).add(0.2), 'general');
  const s0 = stats();
  await checked(x.mul(1).add(0.2), 'x*1 + c');
  assert.is(stats().programsCompiled, s0.programsCompiled + 1, 'a different structure');
  await checked(x.pow(2).add(x.pow(3.5)), 'pow 2 (x*x) and pow 3.5');
  await checked(x.abs().add(0.9).log().mul(-0.6), 'log');
});

test('jit: functions that differ only in a constant share the program, each with its own values', async () => {
  const x = rt([5, 8], 6), w = rt([8, 4], 7);
  const make = (lr: number) => jit((p: Tensor) => p.sub(ts.grad((q: Tensor) => x.matmul(q).square().mean())(p).mul(lr)));
  const f1 = make(0.05);
  const want = (lr: number) => evalF64([w.sub(ts.grad((q: Tensor) => x.matmul(q).square().mean())(w).mul(lr))])[0]!;
  close(await (await f1(w)).data(), want(0.05), 'lr 0.05', tol);
  const s0 = stats();
  const f2 = make(0.3);
  for (let i = 0; i < 2; i++) { // interleaved: each call writes its own values
    close(await (await f2(w)).data(), want(0.3), 'lr 0.3', tol);
    close(await (await f1(w)).data(), want(0.05), 'lr 0.05 again', tol);
  }
  assert.is(stats().programsCompiled, s0.programsCompiled, 'the second jitted function reuses the program');
  assert.is(stats().kernelsCompiled, s0.kernelsCompiled);
});

test('eager Adam-style steps with a new bias correction each step never recompile', async () => {
  const n = 32, g0 = Array.from({ length: n }, (_, i) => Math.sin(i + 1)), p0 = Array.from({ length: n }, (_, i) => Math.cos(i));
  const g = ts.tensor(g0);
  let p = ts.tensor(p0), m = ts.zeros([n]), v = ts.zeros([n]);
  const P = [...p0], M = new Array<number>(n).fill(0), V = new Array<number>(n).fill(0); // float64 reference
  let compiled = 0;
  for (let t = 1; t <= 4; t++) {
    const alpha = 0.01 * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t);
    m = m.add(g.sub(m).mul(0.1));
    v = v.add(g.square().sub(v).mul(0.001));
    p = p.sub(m.mul(alpha).div(v.sqrt().add(1e-7)));
    for (let i = 0; i < n; i++) {
      M[i] += (g0[i]! - M[i]!) * 0.1; V[i] += (g0[i]! ** 2 - V[i]!) * 0.001;
      P[i] -= (M[i]! * alpha) / (Math.sqrt(V[i]!) + 1e-7);
    }
    const s0 = stats().programsCompiled;
    await ts.realizeAll([p, m, v]);
    if (t > 2) compiled += stats().programsCompiled - s0; // step 1 reads the zeros as constants: another structure
    close(await p.data(), P, `step ${t}`, tol);
  }
  assert.is(compiled, 0, 'later steps reuse the program');
});

test.run();
