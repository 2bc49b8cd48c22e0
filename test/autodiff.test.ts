/**
 * Reverse-mode autodiff (ir/autodiff.ts, ir/vjp-rules.ts, grad/valueAndGrad/vjp in ops/transforms.ts).
 * Every differentiable primitive's gradient is checked two ways: in float64 against central finite
 * differences (both on the reference interpreter), and on the GPU against the float64 gradient.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { Node } from '../ir/node.ts';
import { checkGrad, close, data, evalF64, rt } from './grad-helpers.ts';

const { grad, valueAndGrad, vjp, TesseraError } = ts;
/** Float tensors from JS data (plain integer arrays would infer int32). */
const tensor = (x: Parameters<typeof ts.tensor>[0], o: Parameters<typeof ts.tensor>[1] = {}) => ts.tensor(x, { dtype: 'float32', ...o });
type F = (...xs: Tensor[]) => Tensor;

/** The raw recip primitive (the public reciprocal() casts ints first). */
const rawRecip = (x: Tensor) => new ts.Tensor(Node.make('recip', x.dtype, x.shape, [x.node]));

// ---- every primitive ----------------------------------------------------------------------
const S = [2, 3];
const pos = (seed: number, shape = S) => rt(shape, seed, 0.5, 2);
const unary: [string, F, () => Tensor[]][] = [
  ['neg', (x) => ts.neg(x), () => [rt(S, 1)]],
  ['recip', rawRecip, () => [pos(2)]],
  ['reciprocal (public)', (x) => ts.reciprocal(x), () => [rt(S, 3, -2, -0.5)]],
  ['sqrt', (x) => ts.sqrt(x), () => [pos(4)]],
  ['exp', (x) => ts.exp(x), () => [rt(S, 5)]],
  ['log', (x) => ts.log(x), () => [pos(6)]],
  ['sin', (x) => ts.sin(x), () => [rt(S, 7, -3, 3)]],
  ['cos', (x) => ts.cos(x), () => [rt(S, 8, -3, 3)]],
  ['tanh', (x) => ts.tanh(x), () => [rt(S, 9, -2, 2)]],
  ['sigmoid', (x) => ts.sigmoid(x), () => [rt(S, 10, -3, 3)]],
  ['abs', (x) => ts.abs(x), () => [tensor([[-1.5, -0.25, 0.75], [2, -3, 0.5]])]],
];
for (const [name, f, mk] of unary) test(`grad of ${name} vs finite differences and the GPU`, async () => { await checkGrad(name, f, mk()); });

const binary: [string, F, () => Tensor[]][] = [
  ['add', (a, b) => ts.add(a, b), () => [rt(S, 11), rt(S, 12)]],
  ['sub', (a, b) => ts.sub(a, b), () => [rt(S, 13), rt(S, 14)]],
  ['mul', (a, b) => ts.mul(a, b), () => [rt(S, 15), rt(S, 16)]],
  ['div', (a, b) => ts.div(a, b), () => [rt(S, 17), pos(18)]],
  ['maximum (no ties)', (a, b) => ts.maximum(a, b), () => [tensor([[1, -2, 3], [0.5, 4, -1]]), tensor([[2, -3, 1], [0.25, 5, -0.5]])]],
  ['minimum (no ties)', (a, b) => ts.minimum(a, b), () => [tensor([[1, -2, 3], [0.5, 4, -1]]), tensor([[2, -3, 1], [0.25, 5, -0.5]])]],
  ['pow (both operands)', (a, b) => ts.pow(a, b), () => [pos(19), rt(S, 20, -2, 2)]],
  ['mod (both operands)', (a, b) => ts.mod(a, b), () => [tensor([[5.3, -5.3, 7.9], [1.2, -0.4, 3.7]]), tensor([[2, 2, -3], [0.7, 1.5, -1.1]])]],
];
for (const [name, f, mk] of binary) test(`grad of ${name} vs finite differences and the GPU`, async () => { await checkGrad(name, f, mk()); });

test('grad of where: flows to the chosen branch, none to the condition', async () => {
  const c = ts.tensor([[true, false, true], [false, false, true]]);
  const [ga, gb] = await checkGrad('where', (a, b) => ts.where(c, a, b), [rt(S, 21), rt(S, 22)]);
  // weights are positive, so the unchosen side is exactly zero
  ga!.forEach((v, i) => assert.is(v === 0, !([1, 0, 1, 0, 0, 1][i]), `where a[${i}]`));
  gb!.forEach((v, i) => assert.is(v === 0, !!([1, 0, 1, 0, 0, 1][i]), `where b[${i}]`));
  // a condition computed from a differentiable input contributes nothing through the comparison
  await checkGrad('where(x > 0, x, 2x)', (x) => ts.where(ts.gt(x, 0), x, ts.mul(x, 2)), [tensor([[-1, 0.5, 2], [-0.3, 1, -2]])]);
});

test('grad of cast: float -> float passes through; from int there is none', async () => {
  const f16 = (await ts.getDevice()).caps.f16;
  const x = tensor([0.5, -1.25, 3]);
  if (f16) {
    const g = grad((t: Tensor) => ts.sum(ts.mul(ts.castTo(ts.castTo(t, 'float16'), 'float32'), tensor([1, 2, 3]))))(x);
    close(await g.data(), [1, 2, 3], 'cast f32->f16->f32');
  }
  await checkGrad('cast f32 -> f32', (t) => ts.castTo(t, 'float32').mul(t), [x]);
  // through an int cast: the rounded value does not depend on x (zero gradient), the other term does
  const g = grad((t: Tensor) => ts.sum(ts.add(ts.castTo(ts.castTo(t, 'int32'), 'float32'), t)))(x);
  close(await g.data(), [1, 1, 1], 'through int cast');
});

// reductions
for (const axes of [[0], [1], [0, 1]] as number[][]) {
  test(`grad of reduce sum/max/min over axes ${JSON.stringify(axes)}`, async () => {
    const x = rt([3, 4], 30 + axes.length * 7 + axes[0]!, -2, 2); // distinct values: no ties
    await checkGrad(`sum${axes}`, (t) => ts.sum(t, axes, true), [x]);
    await checkGrad(`max${axes}`, (t) => ts.max(t, axes), [x]);
    await checkGrad(`min${axes}`, (t) => ts.min(t, axes), [x]);
  });
}
test('grad of reductions over the middle axis of a rank-3 tensor', async () => {
  const x = rt([2, 3, 2], 40, -2, 2);
  await checkGrad('sum axis 1', (t) => ts.sum(t, 1), [x]);
  await checkGrad('max axis 1', (t) => ts.max(t, 1, true), [x]);
  await checkGrad('min axes [0,2]', (t) => ts.min(t, [0, 2]), [x]);
});

// views
test('grad of reshape, permute, expand', async () => {
  await checkGrad('reshape', (t) => ts.reshape(t, [3, 2]), [rt([2, 3], 50)]);
  await checkGrad('reshape then elementwise', (t) => ts.reshape(t, [6]).mul(tensor([1, 2, 3, 4, 5, 6])), [rt([2, 3], 51)]);
  await checkGrad('permute', (t) => ts.permute(t, [2, 0, 1]), [rt([2, 3, 2], 52)]);
  await checkGrad('transpose', (t) => t.T, [rt([2, 3], 53)]);
  await checkGrad('expand', (t) => ts.expand(t, [2, 3, 4]), [rt([3, 1], 54)]);
  await checkGrad('expand rank up', (t) => ts.expand(t, [3, 2, 4]), [rt([4], 55)]);
  // the IR also allows an expand whose source has fewer dimensions (aligned at the right)
  await checkGrad('raw expand of lower rank', (t) => new ts.Tensor(Node.make('expand', t.dtype, [3, 2, 4], [t.node])), [rt([2, 1], 56)]);
});

test('grad of pad and shrink (slice, also with steps > 1)', async () => {
  await checkGrad('pad', (t) => ts.pad(t, [[1, 2], [0, 1]]), [rt([2, 3], 60)]);
  await checkGrad('slice', (t) => ts.slice(t, [1, 1], [3, 4]), [rt([4, 5], 61)]);
  await checkGrad('slice step 2', (t) => ts.slice(t, [0, 1], [undefined, undefined], [2, 2]), [rt([5, 6], 62)]);
  await checkGrad('slice step 3 offset', (t) => ts.slice(t, [1], [7], [3]), [rt([8], 63)]);
  await checkGrad('slice steps 2 and 3, rank 3', (t) => ts.slice(t, [1, 0, 2], [undefined, 5, 7], [2, 3, 2]), [rt([4, 5, 7], 64)]);
  await checkGrad('slice step larger than the span', (t) => ts.slice(t, [2], [3], [4]), [rt([5], 65)]);
});

test('grad of matmul: 2-D, batched, vector operands, broadcast batch', async () => {
  await checkGrad('matmul 2-D', (a, b) => ts.matmul(a, b), [rt([3, 4], 70), rt([4, 2], 71)]);
  await checkGrad('matmul batched', (a, b) => ts.matmul(a, b), [rt([2, 3, 4], 72), rt([2, 4, 5], 73)]);
  await checkGrad('matmul matrix-vector', (a, b) => ts.matmul(a, b), [rt([3, 4], 74), rt([4], 75)]);
  await checkGrad('matmul vector-vector', (a, b) => ts.dot(a, b), [rt([5], 76), rt([5], 77)]);
  await checkGrad('matmul broadcast batch', (a, b) => ts.matmul(a, b), [rt([2, 1, 3, 4], 78), rt([3, 4, 2], 79)]);
  // the gradient of a transposed operand is a transposed matmul: an output that is a view of a matmul
  await checkGrad('matmul of a transpose', (a, b) => ts.matmul(a.T, b), [rt([4, 3], 69), rt([4, 2], 68)]);
});

test('gradients through long reductions (split into two stages by the compiler)', async () => {
  const n = 10000, vals = data(n, 66, -1, 1);
  vals[1234] = 5; vals[77] = -5;
  const x = tensor(new Float32Array(vals));
  const gmax = await grad((t: Tensor) => ts.max(t))(x).data();
  const gmin = await grad((t: Tensor) => ts.min(t))(x).data();
  assert.equal([gmax[1234], gmin[77], gmax.reduce((a: number, b: number) => a + b, 0), gmin.reduce((a: number, b: number) => a + b, 0)], [1, 1, 1, 1]);
  const gsq = await grad((t: Tensor) => ts.sum(ts.mul(t, t)))(x).data();
  close(gsq, Float32Array.from(vals, (v) => 2 * v), 'sum of squares');
  const gm = await grad((t: Tensor) => ts.mean(ts.exp(t)))(x).data();
  close(gm, Float32Array.from(vals, (v) => Math.exp(Math.fround(v)) / n), 'mean of exp', { rtol: 1e-5, atol: 1e-9 });
});

// ---- broadcasting: gradients sum back to the input shape ----------------------------------------
test('broadcasting: gradients are summed back to each input shape', async () => {
  await checkGrad('[3,1] + [1,4]', (a, b) => ts.add(a, b), [rt([3, 1], 80), rt([1, 4], 81)]);
  await checkGrad('[4] * [2,3,4]', (a, b) => ts.mul(a, b), [rt([4], 82), rt([2, 3, 4], 83)]);
  await checkGrad('[2,1,3] / scalar tensor', (a, b) => ts.div(a, b), [rt([2, 1, 3], 84), tensor(1.7)]);
  await checkGrad('maximum [3] vs [2,1]', (a, b) => ts.maximum(a, b), [tensor([0.1, 0.5, -0.7]), tensor([[0.2], [-0.3]])]);
  await checkGrad('pow [2,3] ^ [3]', (a, b) => ts.pow(a, b), [pos(85), rt([3], 86)]);
  const [ga, gb] = [grad((a: Tensor, b: Tensor) => ts.sum(ts.add(a, b)), { argnums: [0, 1] })(rt([3, 1], 87), rt([4], 88))].flat() as Tensor[];
  assert.equal([...ga!.shape], [3, 1]);
  assert.equal([...gb!.shape], [4]);
  close(await ga!.data(), [4, 4, 4], 'd/da sum(a + b)');
  close(await gb!.data(), [3, 3, 3, 3], 'd/db sum(a + b)');
});

// ---- composite functions -------------------------------------------------------------------
test('grad of softmax, logSoftmax, logsumexp', async () => {
  const x = rt([3, 4], 90, -2, 2);
  await checkGrad('softmax', (t) => ts.softmax(t), [x]);
  await checkGrad('softmax axis 0', (t) => ts.softmax(t, 0), [x]);
  await checkGrad('logSoftmax', (t) => ts.logSoftmax(t), [x]);
  await checkGrad('logsumexp', (t) => ts.logsumexp(t, 1), [x]);
});

test('grad of layerNorm (with gamma and beta), mean, variance', async () => {
  const x = rt([3, 5], 91, -2, 2);
  await checkGrad('layerNorm', (t, g, b) => ts.layerNorm(t, { gamma: g, beta: b }), [x, rt([5], 92, 0.5, 1.5), rt([5], 93)]);
  await checkGrad('mean', (t) => ts.mean(t, 0), [x]);
  await checkGrad('variance', (t) => ts.variance(t, 1), [x]);
  await checkGrad('sample variance, all axes', (t) => ts.variance(t, undefined, false, 1), [x]);
});

test('grad of activations: gelu (erf and tanh), silu, softplus, elu, leakyRelu, relu, clip', async () => {
  const x = tensor([[-2.5, -1.2, -0.3, 0.2], [0.7, 1.1, 2.2, 3.1]]);
  await checkGrad('gelu', (t) => ts.gelu(t), [x], { gpu: { rtol: 1e-4, atol: 1e-5 } });
  await checkGrad('gelu tanh', (t) => ts.gelu(t, { approximate: 'tanh' }), [x]);
  await checkGrad('silu', (t) => ts.silu(t), [x]);
  await checkGrad('softplus', (t) => ts.softplus(t), [x]);
  await checkGrad('elu', (t) => ts.elu(t), [x]);
  await checkGrad('leakyRelu', (t) => ts.leakyRelu(t, 0.1), [x]);
  await checkGrad('relu', (t) => ts.relu(t), [x]);
  await checkGrad('clip', (t) => ts.clip(t, -1, 1), [x]);
});

test('grad of losses built without argmax: MSE, cross-entropy with one-hot labels', async () => {
  const pred = rt([4, 3], 94), target = rt([4, 3], 95);
  await checkGrad('mse', (p) => ts.mean(ts.square(ts.sub(p, target))), [pred]);
  const onehot = tensor([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]], { dtype: 'float32' });
  await checkGrad('cross-entropy', (logits) => ts.neg(ts.mean(ts.sum(ts.mul(ts.logSoftmax(logits), onehot), 1))), [rt([4, 3], 96, -2, 2)]);
});

test('grad of concat, stack, slice, pad with a value', async () => {
  await checkGrad('concat axis 1', (a, b) => ts.concat([a, b], 1), [rt([2, 3], 100), rt([2, 2], 101)]);
  await checkGrad('concat axis 0 of three', (a, b, c) => ts.concat([a, b, c], 0), [rt([1, 3], 102), rt([2, 3], 103), rt([1, 3], 104)]);
  await checkGrad('stack', (a, b) => ts.stack([a, b], 1), [rt([2, 3], 105), rt([2, 3], 106)]);
  await checkGrad('pad with value', (t) => ts.pad(t, [[1, 0], [2, 1]], 3.5).mul(t.pad([[0, 1], [1, 2]])), [rt([2, 3], 107)]);
  await checkGrad('slice with negative indices', (t) => ts.slice(t, [-3, 0], [-1, undefined], [1, 2]), [rt([4, 5], 108)]);
});

test('grad of a small MLP loss with respect to every parameter (pytree argument)', async () => {
  const x = rt([4, 3], 110), y = rt([4, 2], 111);
  const p = { w1: rt([3, 5], 112), b1: rt([5], 113), w2: rt([5, 2], 114), b2: rt([2], 115) };
  const loss = (q: typeof p) => ts.mean(ts.square(ts.tanh(x.matmul(q.w1).add(q.b1)).matmul(q.w2).add(q.b2).sub(y)));
  const g = grad(loss)(p) as typeof p;
  assert.equal(Object.keys(g).sort(), ['b1', 'b2', 'w1', 'w2']);
  // the same gradient with the parameters as positional arguments, checked against finite differences
  const flat = await checkGrad('mlp', (w1, b1, w2, b2) => loss({ w1: w1!, b1: b1!, w2: w2!, b2: b2! }), [p.w1, p.b1, p.w2, p.b2]);
  close(await g.w1.data(), flat[0]!, 'pytree w1', { rtol: 1e-4, atol: 1e-5 });
  close(await g.b2.data(), flat[3]!, 'pytree b2', { rtol: 1e-4, atol: 1e-5 });
});

// ---- hand-computed gradients and documented conventions ----------------------------------------
test('hand values: d/dx x^2 = 2x, d/dx sum(x^3) = 3x^2, d/dx exp(x) = exp(x)', async () => {
  const xs = [-1.5, 0, 0.5, 2];
  const x = tensor(xs);
  close(await grad((t: Tensor) => ts.sum(ts.mul(t, t)))(x).data(), xs.map((v) => 2 * v), 'x^2');
  close(await grad((t: Tensor) => ts.sum(ts.pow(t, 3)))(x).data(), xs.map((v) => 3 * v * v), 'x^3', { rtol: 1e-5, atol: 1e-5 });
  close(await grad((t: Tensor) => ts.sum(ts.exp(t)))(x).data(), xs.map(Math.exp), 'exp');
  // a scalar argument
  close(await grad((t: Tensor) => ts.mul(t, t).mul(t))(tensor(2)).data(), [12], 'scalar x^3 at 2');
});

test('maximum/minimum ties split the gradient evenly (g/2 each), as vjp-rules.ts documents', async () => {
  const a = tensor([1, 2, 3]), b = tensor([1, 5, 3]);
  const [ga, gb] = grad((x: Tensor, y: Tensor) => ts.sum(ts.maximum(x, y)), { argnums: [0, 1] })(a, b) as Tensor[];
  close(await ga!.data(), [0.5, 0, 0.5], 'maximum d/da');
  close(await gb!.data(), [0.5, 1, 0.5], 'maximum d/db');
  const [ma, mb] = grad((x: Tensor, y: Tensor) => ts.sum(ts.minimum(x, y)), { argnums: [0, 1] })(a, b) as Tensor[];
  close(await ma!.data(), [0.5, 1, 0.5], 'minimum d/da');
  close(await mb!.data(), [0.5, 0, 0.5], 'minimum d/db');
  // maximum(x, x): both halves land on x
  close(await grad((x: Tensor) => ts.sum(ts.maximum(x, x)))(a).data(), [1, 1, 1], 'maximum(x, x)');
  // relu at 0 is a tie with the constant 0: gradient 1/2
  close(await grad((x: Tensor) => ts.sum(ts.relu(x)))(tensor([-1, 0, 2])).data(), [0, 0.5, 1], 'relu');
});

test('max/min reductions split the gradient evenly among the elements that attain the extreme', async () => {
  const x = tensor([[1, 3, 3, 0], [2, 2, 2, -1]]);
  close(await grad((t: Tensor) => ts.sum(ts.max(t, 1)))(x).data(), [0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3, 0], 'max ties');
  close(await grad((t: Tensor) => ts.sum(ts.min(t, 1)))(x).data(), [0, 0, 0, 1, 0, 0, 0, 1], 'min');
  close(await grad((t: Tensor) => ts.max(t))(x).data(), [0, 0.5, 0.5, 0, 0, 0, 0, 0], 'max all');
});

test('stopGradient passes the value and no gradient', async () => {
  const x = tensor([1.5, -2, 3]);
  // d/dx sum(sg(x) * x) = sg(x) = x (the stopped factor is a constant)
  close(await grad((t: Tensor) => ts.sum(ts.mul(ts.stopGradient(t), t)))(x).data(), [1.5, -2, 3], 'sg(x) * x');
  close(await grad((t: Tensor) => ts.sum(ts.stopGradient(ts.exp(t))))(x).data(), [0, 0, 0], 'sg(exp(x))');
  // second order: the gradient of sum(sg(x) x^2) is 2 sg(x) x, whose derivative is 2 sg(x) = 2x
  const d1 = (t: Tensor) => grad((u: Tensor) => ts.sum(ts.mul(ts.stopGradient(u), ts.mul(u, u))))(t);
  close(await grad((t: Tensor) => ts.sum(d1(t)))(x).data(), [3, -4, 6], 'sg second order');
});

test('abs has gradient sign(x) (0 at 0); floor and sign have zero gradient', async () => {
  const x = tensor([-2, 0, 1.5]);
  close(await grad((t: Tensor) => ts.sum(ts.abs(t)))(x).data(), [-1, 0, 1], 'abs');
  close(await grad((t: Tensor) => ts.sum(ts.add(ts.floor(t), ts.sign(t))))(x).data(), [0, 0, 0], 'floor + sign');
});

// ---- higher order -----------------------------------------------------------------------------
test('grad of grad of elementwise functions matches the analytic second derivative', async () => {
  const xs = [-1.3, -0.4, 0.3, 0.9, 1.7];
  const cases: [string, (t: Tensor) => Tensor, (v: number) => number][] = [
    ['sin', ts.sin, (v) => -Math.sin(v)],
    ['cos', ts.cos, (v) => -Math.cos(v)],
    ['exp', ts.exp, Math.exp],
    ['x^3', (t) => ts.mul(ts.mul(t, t), t), (v) => 6 * v],
    ['pow(x, 3)', (t) => ts.pow(t, 3), (v) => 6 * v],
    ['tanh', ts.tanh, (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)],
    ['sigmoid', ts.sigmoid, (v) => { const s = 1 / (1 + Math.exp(-v)); return s * (1 - s) * (1 - 2 * s); }],
    ['log(x^2 + 1)', (t) => ts.log(ts.add(ts.mul(t, t), 1)), (v) => (2 - 2 * v * v) / (1 + v * v) ** 2],
    ['1/(x+2)', (t) => ts.reciprocal(ts.add(t, 2)), (v) => 2 / (v + 2) ** 3],
    ['sqrt(x+2)', (t) => ts.sqrt(ts.add(t, 2)), (v) => -0.25 * (v + 2) ** -1.5],
  ];
  for (const [name, f, d2] of cases) {
    const x = tensor(xs);
    const df = grad((t: Tensor) => ts.sum(f(t)));
    const g2 = grad((t: Tensor) => ts.sum(df(t)))(x);
    const want = xs.map((v) => d2(Math.fround(v)));
    close(evalF64([g2])[0]!, want, `${name}'' float64`, { rtol: 1e-9, atol: 1e-12 });
    close(await g2.data(), want, `${name}'' GPU`, { rtol: 1e-4, atol: 1e-5 });
  }
});

test('second order beyond elementwise: the gradient of a gradient vs finite differences of the gradient', async () => {
  const g = (f: (t: Tensor, ...r: Tensor[]) => Tensor) => (t: Tensor, ...r: Tensor[]) => grad((u: Tensor) => f(u, ...r))(t);
  await checkGrad('d(softmax loss)', g((t) => ts.sum(ts.mul(ts.softmax(t), tensor([[1, 2, 3], [3, 1, 2]])))), [rt([2, 3], 130)]);
  await checkGrad('d(layerNorm loss)', g((t) => ts.sum(ts.square(ts.layerNorm(t)).mul(tensor([1, 2, 3, 4])))), [rt([2, 4], 131, -2, 2)]);
  await checkGrad('d(matmul loss)', g((a, b) => ts.sum(ts.square(ts.matmul(a, b!)))), [rt([2, 3], 132), rt([3, 2], 133)]);
  await checkGrad('d(max-reduce loss)', g((t) => ts.sum(ts.square(ts.max(t, 1)))), [rt([3, 4], 134, -2, 2)]);
  await checkGrad('d(pad/slice loss)', g((t) => ts.sum(ts.exp(ts.slice(ts.pad(t, [[1, 1], [2, 0]]), [0, 1], [undefined, undefined], [2, 2])))), [rt([3, 4], 135)]);
  await checkGrad('d(where/maximum loss)', g((t) => ts.sum(ts.where(ts.gt(t, 0), ts.mul(t, ts.mul(t, t)), ts.maximum(ts.sin(t), -0.5)))), [tensor([[-1.2, -0.2, 0.3], [0.8, -2, 1.5]])]);
  await checkGrad('d(broadcast div loss)', g((a, b) => ts.sum(ts.div(a, b!).mul(a))), [rt([3, 2], 136), rt([2], 137, 0.5, 2)]);
});

test('third derivative of sin and grad of a gradient-norm penalty', async () => {
  const xs = [0.2, 1.1];
  const d = (f: (t: Tensor) => Tensor) => (t: Tensor) => grad((u: Tensor) => ts.sum(f(u)))(t);
  const g3 = d(d(d(ts.sin)))(tensor(xs));
  close(await g3.data(), xs.map((v) => -Math.cos(Math.fround(v))), "sin'''", { rtol: 1e-4, atol: 1e-5 });
  // d/dw |d/dx (w x)^2|^2 at x: d/dx = 2 w^2 x, penalty = sum 4 w^4 x^2, derivative 16 w^3 x^2
  const x = tensor([0.5, -1]);
  const pen = (w: Tensor) => ts.sum(ts.square(grad((t: Tensor) => ts.sum(ts.square(ts.mul(w, t))))(x)));
  close(await grad(pen)(tensor([1.5, 0.7])).data(), [16 * 1.5 ** 3 * 0.25, 16 * Math.fround(0.7) ** 3], 'gradient penalty', { rtol: 1e-5 });
});

// ---- transforms: argnums, valueAndGrad, vjp, non-differentiable inputs --------------------------
test('valueAndGrad returns the value and the gradient; argnums picks and orders arguments', async () => {
  const a = tensor([1, 2]), b = tensor([3, 4]);
  const f = (x: Tensor, y: Tensor) => ts.sum(ts.mul(ts.mul(x, x), y));
  const [v, g] = valueAndGrad(f)(a, b);
  close(await v.data(), [1 * 3 + 4 * 4], 'value');
  close(await (g as Tensor).data(), [6, 16], 'd/da');
  const [gb, ga] = grad(f, { argnums: [1, 0] })(a, b) as Tensor[];
  close(await gb!.data(), [1, 4], 'd/db');
  close(await ga!.data(), [6, 16], 'd/da (second)');
  close(await (grad(f, { argnums: 1 })(a, b) as Tensor).data(), [1, 4], 'argnums: 1 returns one tensor');
  // static (non-tensor) arguments pass through
  close(await grad((x: Tensor, k: number) => ts.sum(ts.mul(x, k)))(a, 3).data(), [3, 3], 'static argument');
});

test('vjp: value and cotangent pullback', async () => {
  const x = tensor([[1, 2], [3, 4]]), w = tensor([0.5, -1]);
  const [y, pull] = vjp((a: Tensor, b: Tensor) => ts.mul(ts.sin(a), b), x, w);
  close(await y.data(), [Math.sin(1) * 0.5, -Math.sin(2), Math.sin(3) * 0.5, -Math.sin(4)], 'vjp value');
  const ct = tensor([[1, 0], [2, 1]]);
  const [gx, gw] = pull(ct);
  close(await gx!.data(), [Math.cos(1) * 0.5, 0, 2 * Math.cos(3) * 0.5, -Math.cos(4)], 'vjp d/dx', { rtol: 1e-5 });
  close(await gw!.data(), [Math.sin(1) + 2 * Math.sin(3), Math.sin(4)], 'vjp d/dw', { rtol: 1e-5 });
  assert.throws(() => pull(tensor([1, 2])), (e: Error) => e instanceof TesseraError && /vjp/.test(e.message) && /\[2\]/.test(e.message));
});

test('non-differentiable (int32, bool) arguments get float32 zero gradients of their shape', async () => {
  const x = tensor([1.5, -2]), k = ts.tensor([2, 3], { dtype: 'int32' }), m = ts.tensor([true, false]);
  const f = (a: Tensor, i: Tensor, b: Tensor) => ts.sum(ts.where(b, ts.mul(a, i), a));
  const [ga, gi, gbool] = grad(f, { argnums: [0, 1, 2] })(x, k, m) as Tensor[];
  close(await ga!.data(), [2, 1], 'float argument');
  assert.is(gi!.dtype, 'float32'); assert.equal([...gi!.shape], [2]);
  assert.is(gbool!.dtype, 'float32'); assert.equal([...gbool!.shape], [2]);
  close(await gi!.data(), [0, 0], 'int32 argument');
  close(await gbool!.data(), [0, 0], 'bool argument');
  // vjp agrees
  const [, pull] = vjp(f, x, k, m);
  const [, vi, vb] = pull(tensor(1));
  assert.is(vi!.dtype, 'float32'); close(await vi!.data(), [0, 0], 'vjp int32');
  assert.is(vb!.dtype, 'float32'); close(await vb!.data(), [0, 0], 'vjp bool');
  // an argument the function ignores gets zeros too
  close(await grad((a: Tensor, _b: Tensor) => ts.sum(a), { argnums: [1] })(x, tensor([1, 2, 3]))[0].data(), [0, 0, 0], 'unused argument');
});

test('the backward graph fuses: a gradient of an elementwise chain is a few kernels', async () => {
  const x = rt([64], 120);
  const g = grad((t: Tensor) => ts.sum(ts.tanh(ts.exp(ts.sin(t)).mul(2))))(x);
  const before = ts.stats().dispatches;
  await g.data();
  assert.ok(ts.stats().dispatches - before <= 2, `dispatches: ${ts.stats().dispatches - before}`);
});

// ---- bad input --------------------------------------------------------------------------------
const isErr = (re: RegExp) => (e: Error) => e instanceof TesseraError && re.test(e.message);

test('grad of a function returning a non-scalar names grad and the shape', async () => {
  assert.throws(() => grad((t: Tensor) => ts.mul(t, 2))(tensor([1, 2, 3])), isErr(/^grad: .*\[3\]/));
  assert.throws(() => grad((t: Tensor) => ts.sum(t, 1))(tensor([[1, 2], [3, 4]])), isErr(/^grad: .*\[2\]/));
  assert.throws(() => grad((t: Tensor) => ts.sum(ts.castTo(t, 'int32')))(tensor([1, 2])), isErr(/^grad: .*int32/));
  assert.throws(() => grad((_t: Tensor) => 3 as unknown as Tensor)(tensor([1])), isErr(/^grad: .*scalar Tensor, got number/));
  assert.throws(() => grad((t: Tensor) => [ts.sum(t), t] as unknown as Tensor)(tensor([1])), isErr(/^grad: .*scalar Tensor, got an array/));
  // the device and other tensors still work
  const x = tensor([1, 2, 3]);
  close(await grad((t: Tensor) => ts.sum(ts.mul(t, t)))(x).data(), [2, 4, 6], 'after the errors');
});

test('grad with argnums out of range or not an integer is a TesseraError', async () => {
  const x = tensor([1, 2]);
  const f = (a: Tensor) => ts.sum(a);
  assert.throws(() => grad(f, { argnums: 1 })(x), isErr(/^grad: argnums 1 is out of range for 1 argument/));
  assert.throws(() => grad(f, { argnums: [0, 2] })(x), isErr(/^grad: argnums 2/));
  assert.throws(() => grad(f, { argnums: -1 })(x), isErr(/^grad: argnums -1/));
  assert.throws(() => grad(f, { argnums: 0.5 })(x), isErr(/^grad: argnums 0.5/));
  assert.throws(() => valueAndGrad(f, { argnums: 3 })(x), isErr(/^grad: argnums 3/));
  assert.throws(() => grad((a: Tensor, _k: number) => ts.sum(a), { argnums: 1 })(x, 2), isErr(/^grad: argument 1 .*no tensors/));
  close(await grad(f)(x).data(), [1, 1], 'after the errors');
});

test('reading a traced value inside grad is a TesseraError, not a silent or unhandled failure', async () => {
  const x = tensor([1, 2]);
  assert.throws(() => grad((async (t: Tensor) => { await t.data(); return ts.sum(t); }) as unknown as (t: Tensor) => Tensor)(x),
    isErr(/^grad: .*Promise/));
  // a traced tensor leaking out of the function cannot be read afterwards either
  let leaked: Tensor | null = null;
  grad((t: Tensor) => { leaked = ts.mul(t, 2); return ts.sum(t); })(x);
  let err: unknown = null;
  try { await leaked!.data(); } catch (e) { err = e; }
  assert.ok(err instanceof TesseraError && /traced/.test(err.message), String(err));
  // tensors used as JS numbers (value-dependent branching) fail clearly
  assert.throws(() => (x as unknown as number) > 0, isErr(/^Tensor: .*JS number/));
  close(await x.mul(2).data(), [2, 4], 'after the errors');
});

test.run();
