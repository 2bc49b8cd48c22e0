/** Every elementwise op against the reference interpreter, with broadcasting and scalar operands, plus hand-computed values. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor, TensorLike } from '../index.ts';
import { allclose, assertEqualArrays, checkAgainstInterpreter, rnd, rndInt } from './helpers.ts';

type Bin = (a: TensorLike, b: TensorLike) => Tensor;
type Un = (a: TensorLike) => Tensor;

// GPU transcendental functions are allowed a few ulp (WGSL's accuracy rules), so they get a looser tolerance.
const LOOSE = { rtol: 1e-4, atol: 1e-5 };

const unary: [string, Un, { lo: number; hi: number }][] = [
  ['neg', ts.neg, { lo: -3, hi: 3 }],
  ['abs', ts.abs, { lo: -3, hi: 3 }],
  ['exp', ts.exp, { lo: -5, hi: 5 }],
  ['log', ts.log, { lo: 0.01, hi: 10 }],
  ['sqrt', ts.sqrt, { lo: 0, hi: 10 }],
  ['rsqrt', ts.rsqrt, { lo: 0.01, hi: 10 }],
  ['sin', ts.sin, { lo: -3, hi: 3 }],
  ['cos', ts.cos, { lo: -3, hi: 3 }],
  ['tanh', ts.tanh, { lo: -4, hi: 4 }],
  ['sigmoid', ts.sigmoid, { lo: -8, hi: 8 }],
  ['relu', ts.relu, { lo: -3, hi: 3 }],
  ['square', ts.square, { lo: -3, hi: 3 }],
  ['reciprocal', ts.reciprocal, { lo: 0.1, hi: 4 }],
  ['floor', ts.floor, { lo: -3, hi: 3 }],
  ['sign', ts.sign, { lo: -3, hi: 3 }],
  ['logicalNot', ts.logicalNot, { lo: -1, hi: 1 }],
];

for (const [name, f, range] of unary) {
  test(`unary ${name} float32 [2,3,5]`, async () => {
    const x = rnd([2, 3, 5], { ...range, seed: 11 });
    await checkAgainstInterpreter(f(x), LOOSE);
  });
}

test('unary float ops on int32 input compute in float32', async () => {
  const x = rndInt([7], { lo: 1, hi: 9, seed: 3 });
  for (const f of [ts.exp, ts.sqrt, ts.log, ts.sigmoid, ts.reciprocal]) {
    const y = f(x);
    assert.is(y.dtype, 'float32');
    await checkAgainstInterpreter(y, LOOSE);
  }
  for (const f of [ts.neg, ts.abs, ts.relu, ts.square, ts.sign]) {
    const y = f(rndInt([7], { seed: 4 }));
    assert.is(y.dtype, 'int32');
    await checkAgainstInterpreter(y);
  }
});

const binary: [string, Bin, { lo: number; hi: number }, { lo: number; hi: number }][] = [
  ['add', ts.add, { lo: -3, hi: 3 }, { lo: -3, hi: 3 }],
  ['sub', ts.sub, { lo: -3, hi: 3 }, { lo: -3, hi: 3 }],
  ['mul', ts.mul, { lo: -3, hi: 3 }, { lo: -3, hi: 3 }],
  ['div', ts.div, { lo: -3, hi: 3 }, { lo: 0.5, hi: 3 }],
  ['pow', ts.pow, { lo: 0.1, hi: 3 }, { lo: -2, hi: 2 }],
  ['maximum', ts.maximum, { lo: -3, hi: 3 }, { lo: -3, hi: 3 }],
  ['minimum', ts.minimum, { lo: -3, hi: 3 }, { lo: -3, hi: 3 }],
  ['mod', ts.mod, { lo: -5, hi: 5 }, { lo: 0.5, hi: 2 }],
  ['floorDiv', ts.floorDiv, { lo: -5, hi: 5 }, { lo: 0.5, hi: 2 }],
];

for (const [name, f, ra, rb] of binary) {
  test(`binary ${name} float32 broadcast [3,4,5] x [4,1]`, async () => {
    const a = rnd([3, 4, 5], { ...ra, seed: 21 }), b = rnd([4, 1], { ...rb, seed: 22 });
    const y = f(a, b);
    assert.equal(y.shape, [3, 4, 5]);
    await checkAgainstInterpreter(y, LOOSE);
  });
  test(`binary ${name} float32 broadcast both ways [3,1] x [1,4] and scalar operands`, async () => {
    const a = rnd([3, 1], { ...ra, seed: 23 }), b = rnd([1, 4], { ...rb, seed: 24 });
    assert.equal(f(a, b).shape, [3, 4]);
    await checkAgainstInterpreter(f(a, b), LOOSE);
    await checkAgainstInterpreter(f(rnd([5], { ...ra, seed: 25 }), 1.5), LOOSE);
    await checkAgainstInterpreter(f(1.5, rnd([5], { ...rb, seed: 26 })), LOOSE);
  });
}

for (const [name, f] of [['add', ts.add], ['sub', ts.sub], ['mul', ts.mul], ['maximum', ts.maximum], ['minimum', ts.minimum], ['mod', ts.mod], ['floorDiv', ts.floorDiv]] as [string, Bin][]) {
  test(`binary ${name} int32 broadcast and scalar`, async () => {
    const a = rndInt([2, 3, 4], { lo: -20, hi: 20, seed: 31 }), b = rndInt([3, 1], { lo: 1, hi: 7, seed: 32 });
    const y = f(a, b);
    assert.is(y.dtype, 'int32');
    await checkAgainstInterpreter(y);
    await checkAgainstInterpreter(f(rndInt([6], { lo: -20, hi: 20, seed: 33 }), 3));
    await checkAgainstInterpreter(f(-3, rndInt([6], { lo: 1, hi: 5, seed: 34 })));
  });
}

test('mixed dtypes promote: int32 + float32 -> float32, bool + int32 -> int32, int32 / int32 -> float32', async () => {
  const i = rndInt([4], { seed: 41 }), f = rnd([4], { seed: 42 });
  const b = ts.tensor([true, false, true, true]);
  assert.is(ts.add(i, f).dtype, 'float32');
  await checkAgainstInterpreter(ts.add(i, f));
  assert.is(ts.add(b, rndInt([4], { seed: 43 })).dtype, 'int32');
  await checkAgainstInterpreter(ts.add(b, rndInt([4], { seed: 43 })));
  const q = ts.div(ts.tensor([7, -7, 1, 0]), ts.tensor([2, 2, 3, 5]));
  assert.is(q.dtype, 'float32');
  allclose(await q.data(), [3.5, -3.5, 1 / 3, 0]);
  assert.is(ts.add(1.5, ts.tensor([1, 2])).dtype, 'float32'); // a fractional scalar makes an int op float
});

for (const [name, f] of [['eq', ts.eq], ['ne', ts.ne], ['lt', ts.lt], ['le', ts.le], ['gt', ts.gt], ['ge', ts.ge]] as [string, Bin][]) {
  test(`compare ${name} -> bool, broadcast, int32/float32/scalar`, async () => {
    const a = rndInt([3, 4], { lo: -2, hi: 2, seed: 51 }), b = rndInt([4], { lo: -2, hi: 2, seed: 52 });
    const y = f(a, b);
    assert.is(y.dtype, 'bool');
    assert.equal(y.shape, [3, 4]);
    await checkAgainstInterpreter(y);
    await checkAgainstInterpreter(f(rnd([2, 5], { seed: 53 }), rnd([2, 1], { seed: 54 })));
    await checkAgainstInterpreter(f(rndInt([6], { lo: -2, hi: 2, seed: 55 }), 0));
    await checkAgainstInterpreter(f(0.25, rnd([6], { seed: 56 })));
  });
}

test('compare hand values', async () => {
  const a = ts.tensor([1, 2, 3]), b = ts.tensor([3, 2, 1]);
  assertEqualArrays(await ts.lt(a, b).data(), [1, 0, 0]);
  assertEqualArrays(await ts.ge(a, b).data(), [0, 1, 1]);
  assertEqualArrays(await ts.eq(a, 2).data(), [0, 1, 0]);
  assert.equal(await ts.ne(a, b).toArray(), [true, false, true]);
});

test('where with broadcasting cond/a/b and scalars', async () => {
  const c = ts.gt(rnd([3, 1, 5], { seed: 61 }), 0);
  const a = rnd([4, 5], { seed: 62 }), b = rnd([5], { seed: 63 });
  const y = ts.where(c, a, b);
  assert.equal(y.shape, [3, 4, 5]);
  await checkAgainstInterpreter(y);
  await checkAgainstInterpreter(ts.where(ts.lt(rnd([6], { seed: 64 }), 0), 0, rnd([6], { seed: 65 })));
  await checkAgainstInterpreter(ts.where(rndInt([6], { lo: 0, hi: 1, seed: 66 }), rndInt([6], { seed: 67 }), -1)); // int condition
  assertEqualArrays(await ts.where(ts.tensor([true, false, true]), ts.tensor([1, 2, 3]), ts.tensor([10, 20, 30])).data(), [1, 20, 3]);
});

test('logicalAnd / logicalOr / logicalNot on bool, int and float operands', async () => {
  const a = ts.tensor([true, true, false, false]), b = ts.tensor([true, false, true, false]);
  assertEqualArrays(await ts.logicalAnd(a, b).data(), [1, 0, 0, 0]);
  assertEqualArrays(await ts.logicalOr(a, b).data(), [1, 1, 1, 0]);
  assertEqualArrays(await ts.logicalNot(a).data(), [0, 0, 1, 1]);
  const i = rndInt([3, 4], { lo: -1, hi: 1, seed: 71 }), f = ts.tensor([0, 0.5, -2, 0]);
  await checkAgainstInterpreter(ts.logicalAnd(i, f));
  await checkAgainstInterpreter(ts.logicalOr(f, i));
  await checkAgainstInterpreter(ts.logicalNot(rndInt([5], { lo: -1, hi: 1, seed: 72 })));
  await checkAgainstInterpreter(ts.logicalOr(ts.tensor([0, 0, 1]), false));
});

test('hand-computed arithmetic', async () => {
  const a = ts.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
  const b = ts.tensor([10, 20, 30], { dtype: 'float32' });
  assert.equal(await a.add(b).toArray(), [[11, 22, 33], [14, 25, 36]]);
  assert.equal(await a.mul(2).sub(1).toArray(), [[1, 3, 5], [7, 9, 11]]);
  allclose(await ts.pow(ts.tensor([2, -2, 0, 4]), ts.tensor([3, 3, 0, 0.5])).data(), [8, -8, 1, 2]);
  allclose(await ts.mod(ts.tensor([7, -7, 7, -7]), ts.tensor([3, 3, -3, -3])).data(), [1, 2, -2, -1]);
  allclose(await ts.mod(ts.tensor([5.5, -5.5], { dtype: 'float32' }), 2).data(), [1.5, 0.5]);
  allclose(await ts.floorDiv(ts.tensor([7.5, -7.5], { dtype: 'float32' }), 2).data(), [3, -4]);
  allclose(await ts.sigmoid(ts.tensor([0, 100, -100], { dtype: 'float32' })).data(), [0.5, 1, 0], { atol: 1e-7 });
  allclose(await ts.tanh(ts.tensor([0, 1, -20], { dtype: 'float32' })).data(), [0, Math.tanh(1), -1], { atol: 1e-6 });
  allclose(await ts.rsqrt(ts.tensor([4, 0.25], { dtype: 'float32' })).data(), [0.5, 2]);
});

test('a chain of ops on a 0-d scalar, and item()', async () => {
  const s = ts.tensor(2.5);
  assert.equal(s.shape, []);
  const y = s.mul(s).add(1).sqrt();
  assert.equal(y.shape, []);
  allclose([await y.item()], [Math.sqrt(7.25)]);
  await checkAgainstInterpreter(ts.tensor(-1.25).abs().exp().add(rnd([3], { seed: 81 })));
});

test.run();
