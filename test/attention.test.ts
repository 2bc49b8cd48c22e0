/**
 * Attention: against the float64 interpreter and hand values (causal masking), gradients by finite
 * differences, the fused forward (one attention kernel: ir/schedule/attention.ts and
 * codegen/attention.ts) and where it does not apply, and a MultiHeadAttention layer that trains.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilerOptions, grad, nn, stats, tensor, valueAndGrad, type Tensor } from '../index.ts';
import { measuredSkipRules } from '../runtime/defaults.ts';
import type { Device } from '../runtime/device.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule, type Kernel } from '../ir/schedule/index.ts';
import { allclose, checkAgainstInterpreter, dispatchesOf, rnd, throwsTessera } from './helpers.ts';
import { checkGrad } from './grad-helpers.ts';

const { scaledDotProductAttention: attention } = nn;

// The attention rule is measured to lose on lavapipe and left out there by default
// (runtime/defaults.ts); these tests run the fused kernel on every adapter.
const savedSkip = compilerOptions.skipRules;
compilerOptions.skipRules = [];
test.after(() => { compilerOptions.skipRules = savedSkip; });

test('the attention rule is left out by default only where it was measured to lose', () => {
  const info = (device: string) => ({ adapterInfo: { vendor: '', architecture: '', device, description: '' } as Device['adapterInfo'] });
  assert.equal([...measuredSkipRules(info('llvmpipe (LLVM 15.0.6, 256 bits)'))], ['attention']);
  assert.equal([...measuredSkipRules(info('NVIDIA H200'))], []);
});

/** The kernels the graph of `t` schedules to (at a buffer limit every adapter has). */
const kernelsOf = (t: Tensor | Tensor[]): Kernel[] => schedule(runPasses((Array.isArray(t) ? t : [t]).map((x) => x.node)), { fuse: true, maxBuffers: 8 });

test('attention matches the interpreter, with broadcast batch/head axes and an additive mask', async () => {
  const q = rnd([2, 3, 5, 4], { seed: 1 }), k = rnd([2, 3, 6, 4], { seed: 2 }), v = rnd([2, 3, 6, 7], { seed: 3 });
  await checkAgainstInterpreter(attention(q, k, v), { rtol: 1e-4, atol: 1e-5 });
  const mask = rnd([5, 6], { seed: 4 });
  await checkAgainstInterpreter(attention(q, k, v, { mask, scale: 0.3 }), { rtol: 1e-4, atol: 1e-5 });
});

test('causal attention: the first query sees only the first key (by hand)', async () => {
  const q = rnd([1, 4, 3], { seed: 5 }), k = rnd([1, 4, 3], { seed: 6 }), v = rnd([1, 4, 2], { seed: 7 });
  const out = await attention(q, k, v, { causal: true }).data();
  const vv = await v.data();
  allclose(out.slice(0, 2), vv.slice(0, 2), { rtol: 1e-6, atol: 1e-6 });
  await checkAgainstInterpreter(attention(q, k, v, { causal: true }), { rtol: 1e-4, atol: 1e-5 });
});

test('attention forward is one kernel: scores, softmax and weighted sum, no [queries, keys] tensor written', async () => {
  const q = rnd([2, 8, 4], { seed: 8 }), k = rnd([2, 8, 4], { seed: 9 }), v = rnd([2, 8, 4], { seed: 10 });
  const t = attention(q, k, v, { causal: true });
  const kernels = kernelsOf(t);
  assert.equal(kernels.map((kk) => kk.kind), ['attention']);
  const att = kernels[0]!;
  assert.ok(att.kind === 'attention' && att.scores !== null, 'the scores matmul is computed inside');
  // What it binds: q, k, v and the output; nothing of size 8x8.
  assert.equal(att.reads.map((n) => n.shape.join('x')), ['2x8x4', '2x8x4', '2x8x4']);
  const before = stats().dispatches;
  await checkAgainstInterpreter(t, { rtol: 1e-4, atol: 1e-5 });
  assert.is(stats().dispatches - before, 1);
});

test('fused attention: padding masks, broadcast heads, long rows, all-hidden rows (NaN, as softmax), and scores read elsewhere', async () => {
  // A padding mask [B, 1, 1, Tk] over 3 heads, more keys than queries, rows of 40 keys.
  const q = rnd([2, 3, 6, 8], { seed: 21 }), k = rnd([2, 3, 40, 8], { seed: 22 }), v = rnd([2, 3, 40, 5], { seed: 23 });
  const pad = tensor(Array.from({ length: 80 }, (_, i) => (i % 40 >= 33 ? -Infinity : 0)), { shape: [2, 1, 1, 40] });
  const t = attention(q, k, v, { mask: pad, scale: 0.2 });
  assert.equal(kernelsOf(t).map((kk) => kk.kind), ['attention']);
  await checkAgainstInterpreter(t, { rtol: 1e-4, atol: 1e-5 });
  // A row whose keys are all hidden: 0/0 in the unfused softmax, NaN here too.
  const hideAll = tensor([0, 0, -Infinity, -Infinity, -Infinity, -Infinity], { shape: [2, 3] });
  const small = attention(rnd([2, 2], { seed: 24 }), rnd([3, 2], { seed: 25 }), rnd([3, 2], { seed: 26 }), { mask: hideAll });
  const out = await small.data();
  assert.ok(Number.isFinite(out[0]!) && Number.isFinite(out[1]!) && Number.isNaN(out[2]!) && Number.isNaN(out[3]!), `${Array.from(out)}`);
  // When something else reads the scores, they are written once and the softmax and weighted sum still fuse.
  const scores = q.matmul(k.transpose(-2, -1));
  const both = [attention(q, k, v), scores.max(-1)];
  const ks = kernelsOf(both);
  assert.ok(ks.some((kk) => kk.kind === 'attention' && kk.scores === null), `${ks.map((kk) => kk.kind)}`);
  await checkAgainstInterpreter(both[0]!, { rtol: 1e-4, atol: 1e-5 });
});

test('attention with a head dimension over the register limit stays unfused and correct', async () => {
  const q = rnd([3, 300], { seed: 27 }), k = rnd([4, 300], { seed: 28 }), v = rnd([4, 2], { seed: 29 });
  const t = attention(q, k, v, { scale: 0.05 });
  assert.ok(!kernelsOf(t).some((kk) => kk.kind === 'attention' && kk.scores));
  await checkAgainstInterpreter(t, { rtol: 1e-4, atol: 1e-5 });
});

test('training keeps the softmax reductions for the backward pass, and its gradient is right', async () => {
  const q = rnd([2, 4, 3], { seed: 30 }), k = rnd([2, 4, 3], { seed: 31 }), v = rnd([2, 4, 3], { seed: 32 });
  const [o, dq] = valueAndGrad((qq: Tensor) => attention(qq, k, v, { causal: true }).square().sum())(q) as [Tensor, Tensor];
  assert.ok(kernelsOf([o, dq]).every((kk) => kk.kind !== 'attention'));
  await checkAgainstInterpreter(dq, { rtol: 1e-4, atol: 1e-5 });
});

test('attention gradients (q, k, v) match finite differences', async () => {
  await checkGrad('attention', (q: Tensor, k: Tensor, v: Tensor) => attention(q, k, v, { causal: true }),
    [rnd([2, 3, 4], { seed: 11 }), rnd([2, 3, 4], { seed: 12 }), rnd([2, 3, 2], { seed: 13 })], { rtol: 1e-4, atol: 1e-5 });
});

test('MultiHeadAttention trains on a toy task (copy the first token\'s features to every position)', async () => {
  const B = 16, Tn = 4, F = 6;
  const x = rnd([B, Tn, F], { seed: 14 });
  const first = await x.slice([0, 0, 0], [B, 1, F]).data();
  const target = tensor(Array.from({ length: B * Tn * F }, (_, i) => first[Math.floor(i / (Tn * F)) * F + (i % F)]!), { shape: [B, Tn, F], dtype: 'float32' });
  const model = nn.sequential([new nn.MultiHeadAttention(2, 4, { inputShape: [Tn, F] })]);
  assert.equal([...model.computeOutputShape([Tn, F])], [Tn, F]);
  model.compile({ optimizer: nn.adam({ learningRate: 0.02 }), loss: 'meanSquaredError' });
  const h = await model.fit(x, target, { epochs: 30, batchSize: 16, verbose: 0 });
  const loss = h.history.loss!;
  assert.ok(loss.at(-1)! < loss[0]! * 0.5, `loss ${loss[0]} -> ${loss.at(-1)}`);
});

test('embedding: rows of the table by hand, one fused kernel, and the gradient scatter-adds rows', async () => {
  const table = rnd([5, 3], { seed: 20 });
  const ids = tensor([[4, 0], [4, 2]], { dtype: 'int32' });
  const t = Array.from(await table.data());
  const { data, dispatches } = await dispatchesOf(nn.embedding(ids, table));
  assert.is(dispatches, 1);
  allclose(data, [...t.slice(12, 15), ...t.slice(0, 3), ...t.slice(12, 15), ...t.slice(6, 9)], { rtol: 0, atol: 0 });
  const g = grad((tb: Tensor) => nn.embedding(ids, tb).sum())(table) as Tensor;
  allclose(await g.data(), [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2], { rtol: 0, atol: 0 });
  const layer = new nn.Embedding(5, 3);
  assert.equal([...layer.call(ids).shape], [2, 2, 3]);
});

test('attention bad input: a clear error', async () => {
  await throwsTessera(() => attention(rnd([2, 3, 4]), rnd([2, 3, 5]), rnd([2, 3, 4])), 'attention');
});

test.run();
