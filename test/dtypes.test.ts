/** dtype semantics: casts between all dtypes, int32 wrapping and division, uint32, bool, float16 (when the adapter has it). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { DType } from '../index.ts';
import { allclose, assertEqualArrays, checkAgainstInterpreter, checkAllAgainstInterpreter, rnd } from './helpers.ts';

let f16 = false;
test.before(async () => { f16 = (await ts.getDevice()).caps.f16; });

const dtypes = (): DType[] => (f16 ? ['float32', 'float16', 'int32', 'uint32', 'bool'] : ['float32', 'int32', 'uint32', 'bool']);

/** Source values per dtype that exercise the edges of every conversion. */
const sources: Record<DType, number[]> = {
  float32: [-3e9, -2.7, -1, -0.5, 0, 0.5, 1, 2.5, 65504, 3e9, 5e9],
  float16: [-1000, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 1000, 60000],
  int32: [-2147483648, -70000, -3, -1, 0, 1, 3, 70000, 2147483647],
  uint32: [0, 1, 3, 70000, 2147483647, 2147483648, 4294967295],
  bool: [0, 1, 1, 0],
};

test('cast between every pair of dtypes', async () => {
  for (const from of dtypes()) {
    const x = ts.tensor(sources[from], { dtype: from });
    const ys = dtypes().map((to) => ts.castTo(x, to));
    ys.forEach((y, i) => assert.is(y.dtype, dtypes()[i]));
    await checkAllAgainstInterpreter(ys, (i) => (dtypes()[i] === 'float16' ? { rtol: 1e-3 } : {}), dtypes().map((to) => `cast ${from} -> ${to}`));
  }
});

test('cast hand values: float -> int truncates toward zero, int -> uint wraps, anything -> bool is != 0', async () => {
  assertEqualArrays(await ts.tensor([-2.7, -0.5, 0.5, 2.7], { dtype: 'float32' }).cast('int32').data(), [-2, 0, 0, 2]);
  assertEqualArrays(await ts.tensor([-1, -2147483648], { dtype: 'int32' }).cast('uint32').data(), [4294967295, 2147483648]);
  assertEqualArrays(await ts.tensor([4294967295, 2147483648], { dtype: 'uint32' }).cast('int32').data(), [-1, -2147483648]);
  assertEqualArrays(await ts.tensor([0, -0.5, 2, NaN], { dtype: 'float32' }).cast('bool').data(), [0, 1, 1, 1]);
  allclose(await ts.tensor([true, false]).cast('float32').data(), [1, 0]);
});

const opVals: Record<DType, number[]> = { float32: [-2.5, 0, 1.5, 3], float16: [-2.5, 0, 1.5, 3], int32: [-3, 0, 2, 7], uint32: [0, 1, 2, 7], bool: [1, 0, 1, 1] };
const unaryOps = ['neg', 'abs', 'sign', 'floor', 'exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'square', 'reciprocal', 'logicalNot'] as const;
const binaryOps = ['add', 'sub', 'mul', 'div', 'pow', 'mod', 'floorDiv', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const;

// All ops on one dtype (pair) are realized together: they share kernels, so this costs few shader compiles.
test('every unary op on every dtype compiles and matches the interpreter', async () => {
  for (const d of dtypes()) {
    const x = ts.tensor(opVals[d], { dtype: d });
    const ys = unaryOps.map((op) => ts[op](x));
    await checkAllAgainstInterpreter(ys, (i) => (ys[i]!.dtype === 'float16' ? { rtol: 2e-3, atol: 2e-3 } : { rtol: 1e-5, atol: 1e-6 }), unaryOps.map((op) => `${op} ${d}`));
  }
});

// Mixed pairs differ from same-dtype pairs only by the promoting cast, so they run fewer ops.
const mixedOps = ['add', 'div', 'pow', 'mod', 'floorDiv', 'maximum', 'lt', 'ne', 'logicalOr'] as const;

test('every binary op on every pair of dtypes compiles and matches the interpreter', async () => {
  for (const d of dtypes())
    for (const d2 of dtypes()) {
      const a = ts.tensor(opVals[d], { dtype: d }), b = ts.tensor([...opVals[d2]].reverse(), { dtype: d2 });
      const ops = d === d2 ? binaryOps : mixedOps;
      const ys = ops.map((op) => ts[op](a, b));
      // float16 pow goes through exp2/log2 in half precision
      const tol = (i: number) => (ys[i]!.dtype === 'float16' ? { rtol: ops[i] === 'pow' ? 1e-2 : 2e-3, atol: 2e-3 } : { rtol: 1e-5, atol: 1e-6 });
      await checkAllAgainstInterpreter(ys, tol, ops.map((op, i) => `${op}(${d}, ${d2}) -> ${ys[i]!.dtype}`));
    }
});

test('float32 constants at the edges of the range', async () => {
  allclose(await ts.tensor([1, -2], { dtype: 'float32' }).mul(1e39).data(), [Infinity, -Infinity], { rtol: 0, atol: 0 });
  allclose(await ts.tensor([1, 2], { dtype: 'float32' }).mul(3e38).data(), [3e38, Infinity], { rtol: 1e-6, atol: 0 });
  allclose(await ts.tensor([1, -2], { dtype: 'float32' }).mul(1e-45).data(), [Math.fround(1e-45), -2 * Math.fround(1e-45)], { rtol: 0, atol: 1e-44 });
  assertEqualArrays(await ts.tensor([1, 2], { dtype: 'int32' }).add(-2147483648).data(), [-2147483647, -2147483646]);
  assertEqualArrays(await ts.tensor([1, 2], { dtype: 'uint32' }).add(4294967295).data(), [0, 1]);
});

test('int32 arithmetic wraps (two\'s complement)', async () => {
  const big = ts.tensor([2147483647, -2147483648, 65536, -2147483648], { dtype: 'int32' });
  const y = big.add(ts.tensor([1, -1, 0, 0], { dtype: 'int32' }));
  assertEqualArrays(await y.data(), [-2147483648, 2147483647, 65536, -2147483648]);
  await checkAgainstInterpreter(ts.tensor([2147483647, -2147483648, 65536, 46341], { dtype: 'int32' }).mul(ts.tensor([2, 2, 65536, 46341], { dtype: 'int32' })));
  assertEqualArrays(await ts.tensor([65536, 46341], { dtype: 'int32' }).mul(ts.tensor([65536, 46341], { dtype: 'int32' })).data(), [0, -2147479015]);
  assertEqualArrays(await ts.neg(ts.tensor([-2147483648, 5], { dtype: 'int32' })).data(), [-2147483648, -5]);
  assertEqualArrays(await ts.abs(ts.tensor([-2147483648, -5], { dtype: 'int32' })).data(), [-2147483648, 5]);
  await checkAgainstInterpreter(ts.tensor([2147483647, 2147483647, 2147483647], { dtype: 'int32' }).sum());
  assertEqualArrays(await ts.tensor([2147483647, 2147483647, 2147483647], { dtype: 'int32' }).sum().data(), [2147483645]);
});

test('int32 division: floorDiv rounds down (numpy //), /0 returns the dividend; mod takes the divisor\'s sign, mod 0 = 0; div is true division', async () => {
  const a = ts.tensor([7, -7, 7, -7, 5, -2147483648], { dtype: 'int32' });
  const b = ts.tensor([2, 2, -2, -2, 0, -1], { dtype: 'int32' });
  assertEqualArrays(await ts.floorDiv(a, b).data(), [3, -4, -4, 3, 5, -2147483648]);
  await checkAgainstInterpreter(ts.floorDiv(ts.tensor([7, -7, 7, -7, 5, -2147483648], { dtype: 'int32' }), ts.tensor([2, 2, -2, -2, 0, -1], { dtype: 'int32' })));
  assertEqualArrays(await ts.mod(ts.tensor([7, -7, 7, -7, 5], { dtype: 'int32' }), ts.tensor([3, 3, -3, -3, 0], { dtype: 'int32' })).data(), [1, 2, -2, -1, 0]);
  await checkAgainstInterpreter(ts.mod(ts.tensor([7, -7, 7, -7, 5, 0], { dtype: 'int32' }), ts.tensor([3, 3, -3, -3, 0, 4], { dtype: 'int32' })));
  const q = ts.div(ts.tensor([7, -7], { dtype: 'int32' }), 2);
  assert.is(q.dtype, 'float32');
  allclose(await q.data(), [3.5, -3.5]);
});

test('uint32: wrapping, large values, compares, max/min, reductions', async () => {
  const a = ts.tensor([0, 1, 2147483648, 4294967295], { dtype: 'uint32' });
  assertEqualArrays(await a.sub(ts.tensor([1, 1, 1, 1], { dtype: 'uint32' })).data(), [4294967295, 0, 2147483647, 4294967294]);
  assertEqualArrays(await ts.tensor([0, 1, 2147483648, 4294967295], { dtype: 'uint32' }).add(1).data(), [1, 2, 2147483649, 0]);
  assertEqualArrays(await ts.gt(ts.tensor([2147483648, 1], { dtype: 'uint32' }), ts.tensor([1, 2147483648], { dtype: 'uint32' })).data(), [1, 0]);
  const u = ts.tensor([5, 4000000000, 3, 2147483649, 7, 1], { dtype: 'uint32', shape: [2, 3] });
  assertEqualArrays(await ts.max(u, 1).data(), [4000000000, 2147483649]);
  assertEqualArrays(await ts.tensor([5, 4000000000, 3, 2147483649, 7, 1], { dtype: 'uint32', shape: [2, 3] }).min(0).data(), [5, 7, 1]);
  assertEqualArrays(await ts.tensor([5, 4000000000, 3, 2147483649, 7, 1], { dtype: 'uint32', shape: [2, 3] }).argmax(1).data(), [1, 0]);
  await checkAgainstInterpreter(ts.tensor([7, 9, 4000000000], { dtype: 'uint32' }).floorDiv(ts.tensor([2, 0, 3], { dtype: 'uint32' })));
  await checkAgainstInterpreter(ts.tensor([7, 9, 4000000000], { dtype: 'uint32' }).mod(ts.tensor([2, 0, 3], { dtype: 'uint32' })));
  await checkAgainstInterpreter(ts.tensor([3000000000, 3000000000], { dtype: 'uint32' }).sum());
  await checkAgainstInterpreter(ts.tensor([65536, 3], { dtype: 'uint32' }).mul(ts.tensor([65537, 5], { dtype: 'uint32' })));
});

test('bool: logic, sum counts trues as int32, where, max/min, compare', async () => {
  const b = ts.tensor([[true, false, true], [false, false, true]]);
  assert.is(b.dtype, 'bool');
  const s = ts.sum(b, 1);
  assert.is(s.dtype, 'int32');
  assertEqualArrays(await s.data(), [2, 1]);
  assertEqualArrays(await ts.tensor([[true, false, true], [false, false, true]]).sum().data(), [3]);
  assertEqualArrays(await ts.tensor([[true, false, true], [false, false, false]]).max(1).data(), [1, 0]);
  assertEqualArrays(await ts.tensor([[true, false, true], [true, true, true]]).min(1).data(), [0, 1]);
  assertEqualArrays(await ts.eq(ts.tensor([true, false]), ts.tensor([true, true])).data(), [1, 0]);
  assertEqualArrays(await ts.neg(ts.tensor([true, false])).data(), [-1, 0]);
  assert.equal(await ts.tensor([true, false]).logicalNot().toArray(), [false, true]);
  await checkAgainstInterpreter(ts.tensor([true, false, true]).add(ts.tensor([true, true, false])));
});

test('float16 (only when the adapter has shader-f16)', async () => {
  if (!f16) return;
  const x = rnd([3, 17], { lo: -1, hi: 1, seed: 5, dtype: 'float16' });
  assert.is(x.dtype, 'float16');
  // the interpreter does not round intermediates to float16, so keep exp's argument small
  await checkAgainstInterpreter(x.mul(2).add(1).exp().sub(ts.tensor(0.5, { dtype: 'float16' })), { rtol: 5e-3, atol: 2e-3 });
  await checkAgainstInterpreter(rnd([3, 17], { lo: -4, hi: 4, seed: 6, dtype: 'float16' }).sum(1), { rtol: 1e-2, atol: 1e-2 });
  await checkAgainstInterpreter(rnd([3, 17], { lo: -4, hi: 4, seed: 7, dtype: 'float16' }).max(0), { rtol: 1e-3 });
  await checkAgainstInterpreter(ts.softmax(rnd([3, 17], { lo: -4, hi: 4, seed: 8, dtype: 'float16' })), { rtol: 1e-2, atol: 1e-3 });
  await checkAgainstInterpreter(ts.matmul(rnd([5, 6], { seed: 9, dtype: 'float16' }), rnd([6, 3], { seed: 10, dtype: 'float16' })).relu(), { rtol: 1e-2, atol: 1e-2 });
  const h = ts.tensor([1, 2.5, 65504, 1e6, 1 / 3], { dtype: 'float16' });
  allclose(await h.data(), [1, 2.5, 65504, Infinity, 0.333251953125], { rtol: 0, atol: 0 });
  allclose(await ts.tensor([1, 2], { dtype: 'float16' }).add(ts.tensor([0.5, 0.25], { dtype: 'float32' })).data(), [1.5, 2.25]);
  assert.is(ts.add(ts.tensor([1], { dtype: 'float16' }), ts.tensor([1], { dtype: 'int32' })).dtype, 'float16');
  await checkAgainstInterpreter(ts.tensor([-2.5, 1000.7, 0.5], { dtype: 'float16' }).cast('int32'));
  await checkAgainstInterpreter(ts.tensor([-2.5, 1000.7, 0.5], { dtype: 'float16' }).floorDiv(2).mod(3));
  // constants the dtype cannot hold round (to Infinity / 0) instead of failing to compile
  allclose(await ts.tensor([1, -2], { dtype: 'float16' }).add(70000).data(), [Infinity, Infinity], { rtol: 0, atol: 0 });
  allclose(await ts.tensor([1, -2], { dtype: 'float16' }).mul(-1e-9).data(), [0, 0], { rtol: 0, atol: 0 });
  allclose(await ts.tensor([1, -2], { dtype: 'float16' }).maximum(-1e6).data(), [1, -2], { rtol: 0, atol: 0 });
});

test.run();
