/**
 * dtype promotion for every op with several tensor operands (binary ops, where, concat, stack,
 * matmul): one rule, bool < uint32 < int32 < float16 < float32, checked for every pair of dtypes
 * against the float64 interpreter (mixed-dtype concat used to emit invalid WGSL).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { DType, Tensor } from '../index.ts';
import { checkAllAgainstInterpreter } from './helpers.ts';

const RANK: Record<DType, number> = { bool: 0, uint32: 1, int32: 2, float16: 3, float32: 4 };
let all: DType[] = [];
test.before(async () => { all = (await ts.getDevice()).caps.f16 ? ['bool', 'uint32', 'int32', 'float16', 'float32'] : ['bool', 'uint32', 'int32',
  'float32']; });

const VALUES: Record<DType, number[]> = { bool: [1, 0, 1], uint32: [0, 3, 7], int32: [-4, 2, 5], float16: [-1.5, 0.25, 3], float32: [-2.75, 1.5, 6] };
const src = (d: DType) => ts.tensor(VALUES[d], { dtype: d });
const expected = (a: DType, b: DType): DType => (RANK[a] >= RANK[b] ? a : b);

test('concat, stack and where of every pair of dtypes promote and match the interpreter', async () => {
  const outs: Tensor[] = [], msgs: string[] = [];
  for (const a of all) for (const b of all) {
    const want = expected(a, b);
    const c = ts.concat([src(a), src(b)]), s = ts.stack([src(a), src(b)], 1), w = ts.where(ts.tensor([true, false, true]), src(a), src(b));
    for (const [t, what] of [[c, 'concat'], [s, 'stack'], [w, 'where']] as const) {
      assert.is(t.dtype, want, `${what}(${a}, ${b}) dtype`);
      outs.push(t); msgs.push(`${what}(${a}, ${b})`);
    }
  }
  await checkAllAgainstInterpreter(outs, (i) => (outs[i]!.dtype === 'float16' ? { rtol: 1e-3 } : {}), msgs);
});

test('concat of three dtypes promotes to the highest; binary ops follow the same rule', async () => {
  const c = ts.concat([src('bool'), src('uint32'), src('int32')]);
  assert.is(c.dtype, 'int32');
  assert.equal(Array.from(await c.data()), [1, 0, 1, 0, 3, 7, -4, 2, 5]);
  const outs: Tensor[] = [], msgs: string[] = [];
  for (const a of all) for (const b of all) {
    const sum = ts.add(src(a), src(b)), mx = ts.maximum(src(a), src(b));
    assert.is(mx.dtype, expected(a, b), `maximum(${a}, ${b})`);
    assert.is(sum.dtype, expected(a, b) === 'bool' ? 'int32' : expected(a, b), `add(${a}, ${b})`);
    assert.is(ts.lt(src(a), src(b)).dtype, 'bool');
    outs.push(sum, mx, ts.lt(src(a), src(b))); msgs.push(`add(${a}, ${b})`, `maximum(${a}, ${b})`, `lt(${a}, ${b})`);
  }
  await checkAllAgainstInterpreter(outs, (i) => (outs[i]!.dtype === 'float16' ? { rtol: 1e-3 } : {}), msgs);
});

test('matmul of mixed dtypes promotes (bool counts as int32)', async () => {
  const a = ts.tensor([[1, 0], [1, 1]], { dtype: 'bool' }), b = ts.tensor([[2, 3], [4, 5]], { dtype: 'int32' }), f = ts.tensor([[0.5, 1], [1, 2]]);
  assert.is(ts.matmul(a, b).dtype, 'int32');
  assert.equal(await ts.matmul(a, b).toArray(), [[2, 3], [6, 8]]);
  assert.is(ts.matmul(b, f).dtype, 'float32');
  assert.equal(await ts.matmul(b, f).toArray(), [[4, 8], [7, 14]]);
});

test('full() with a fraction for an integer dtype holds the truncated value, eagerly and jitted (found by the fuzzer)', async () => {
  const x = ts.full([3], 0.5, 'uint32'), y = ts.full([2], -2.7, 'int32');
  assert.equal(Array.from(await ts.concat([ts.tensor([1.5]), x]).data()), [1.5, 0, 0, 0]);
  assert.equal(Array.from(await y.data()), [-2, -2]);
  const f = ts.jit((a: Tensor, b: Tensor) => ts.concat([a, b]));
  assert.equal(Array.from(await (await f(ts.tensor([1.5, 2.5]), ts.full([2], 0.5, 'uint32'))).data()), [1.5, 2.5, 0, 0]);
});

test.run();
