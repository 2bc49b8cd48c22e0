/**
 * Replays (runtime/replay.ts): a graph whose raw structure was realized before runs from the
 * recorded plan (stats().replays), with no graph passes and no compile. Checked: values against
 * hand-computed float64 references, parameter constants taking their new values, graphs whose
 * constants the passes fold (they replay only with the same values), graphs holding a node
 * realized before (not replayed), packed host scalars, and the disposed-input error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { realize } from '../runtime/engine.ts';
import { allclose, throwsTessera } from './helpers.ts';

const { stats, tensor } = ts;
const X = [1, -2, 3.5, 0.25];
const delta = (f: () => Promise<unknown>) => async () => {
  const s0 = stats();
  const out = await f();
  const s1 = stats();
  return { out, replays: s1.replays - s0.replays, compiled: s1.programsCompiled - s0.programsCompiled };
};

test('a graph of a structure realized before is replayed: no compile, parameter constants take their new values', async () => {
  const run = (a: number, b: number) => delta(async () => tensor(X).mul(a).add(b).exp().data())();
  await run(0.3, 0.7);
  for (const [a, b] of [[0.3, 0.7], [-1.25, 0.1], [3.5, -0.4]] as const) {
    const r = await run(a, b);
    assert.is(r.replays, 1, `replayed (${a}, ${b})`);
    assert.is(r.compiled, 0);
    allclose(r.out as Float32Array, X.map((x) => Math.exp(x * a + b)), { rtol: 1e-5, msg: `${a}, ${b}` });
  }
});

test('constants the passes fold: replayed only with the values recorded, else realized afresh with the new ones', async () => {
  // 0.3 * 0.7 folds into one constant: the plan's parameter is the folded value.
  const run = (a: number, b: number) => delta(async () => tensor(X).add(ts.full([], a).mul(b)).data())();
  await run(0.3, 0.7);
  const same = await run(0.3, 0.7);
  assert.is(same.replays, 1, 'same values: replayed');
  allclose(same.out as Float32Array, X.map((x) => x + 0.3 * 0.7), { rtol: 1e-6 });
  const other = await run(1.5, -0.3);
  assert.is(other.replays, 0, 'other values: not replayed with the stale folded constant');
  allclose(other.out as Float32Array, X.map((x) => x - 1.5 * 0.3), { rtol: 1e-6 });
});

test('a graph holding a node realized before is realized the ordinary way (its buffer is read)', async () => {
  const x = tensor(X), y = x.mul(3);
  await y.realize();
  const lazy = x.mul(3).add(1); // x.mul(3) is y's node (hash-consed), realized: read from y's buffer
  const first = await delta(() => lazy.data())();
  const again = await delta(() => x.mul(3).add(1).data())();
  assert.is(again.replays, 0, 'not replayed while the realized node is part of it');
  for (const r of [first, again]) allclose(r.out as Float32Array, X.map((v) => 3 * v + 1), { rtol: 1e-6 });
  x.dispose(); y.dispose();
});

test('packed host scalars (packScalars): one input for them, replayed with new values', async () => {
  const run = async (a: number, b: number, c: number) => {
    const s0 = stats();
    const f32 = { dtype: 'float32' } as const;
    const x = tensor(X), out = x.mul(tensor([a], f32).reshape([])).add(tensor([b], f32)).sub(tensor([[c]], f32).reshape([1]));
    const { nodes, data } = await realize([out.node], true, { packScalars: true });
    const s1 = stats();
    assert.is(nodes.length, 1);
    return { data: data![0]!, replays: s1.replays - s0.replays, uploads: s1.uploads - s0.uploads };
  };
  await run(2, 3, 4);
  const r = await run(-0.5, 1.25, 7);
  assert.is(r.replays, 1, 'replayed');
  assert.is(r.uploads, 2, 'x and one pack of the three scalars');
  allclose(r.data, X.map((x) => -0.5 * x + 1.25 - 7), { rtol: 1e-6 });
});

test('a replay reports a disposed input as realize does', async () => {
  const g = (x: Tensor) => x.mul(2).sub(0.5).neg();
  await g(tensor(X)).data();
  const x = tensor(X), out = g(x);
  x.dispose();
  await throwsTessera(() => out.data(), /was disposed before the result was computed/);
});

test.run();
