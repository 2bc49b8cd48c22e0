/**
 * Error messages a new user meets (issues 11 and 13): each a TesseraError naming the op and the
 * fix, never a raw TypeError, an internal node name or an unhandled rejection. Also: generated
 * WGSL never contains user-controlled text (tensor and layer names) beyond sanitized identifiers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { nn, type Tensor } from '../index.ts';
import { encodeSafetensors } from '../ops/nn/safetensors.ts';
import { throwsTessera, wgslOf } from './helpers.ts';

test('jit called with a plain array names the argument and says to wrap it with tensor()', async () => {
  const f = ts.jit((x: Tensor) => x.mul(2));
  const e = await throwsTessera(() => f([1, 2, 3] as unknown as Tensor), 'jit', 'argument 0 is a plain array [1, 2, 3]',
    'Fix: wrap the data with tensor(');
  assert.ok((e as Error & { cause?: unknown }).cause instanceof TypeError, 'the original TypeError is the cause');
  assert.equal(await f(ts.tensor([1, 2])).then((t) => t.toArray()), [2, 4], 'the jitted function still works');
});

test('jit called with another pytree structure than it reads names both structures', async () => {
  const f = ts.jit((p: { w: Tensor }) => p.w.mul(2));
  assert.equal(await (await f({ w: ts.tensor([1, 2]) })).toArray(), [2, 4]);
  await throwsTessera(() => f({ v: ts.tensor([1, 2]) } as unknown as { w: Tensor }), 'jit', '{v: Tensor(int32[2])}',
    "earlier call's [{w: Tensor(int32[2])}]",
    'Fix: pass arguments of the pytree structure the function reads');
  await throwsTessera(() => ts.grad((p: { w: Tensor }) => p.w.sum())({ v: ts.tensor([1]) } as unknown as { w: Tensor }), 'grad', 'TypeError', 'Fix:');
});

test('a plain function inside Sequential is rejected at construction', async () => {
  await throwsTessera(() => new nn.Sequential([((x: Tensor) => x.relu()) as unknown as nn.Layer, new nn.Dense(2)]), 'Sequential',
    'got a plain function',
    "Fix: use a layer (new Activation('relu')");
  await throwsTessera(() => new nn.Sequential().add({ units: 3 } as unknown as nn.Layer), 'Sequential', 'got object', 'Fix: pass layer instances');
});

test('grad of an integer scalar says gradients need a float output', async () => {
  await throwsTessera(() => ts.grad((x: Tensor) => x.sum())(ts.tensor([1, 2], { dtype: 'int32' })), 'grad', 'returned an int32 scalar',
    "Fix: compute the output in float: castTo(x, 'float32')");
  await throwsTessera(() => ts.grad((x: Tensor) => x.mul(2))(ts.tensor([1, 2])), 'grad', 'shape [2]', 'Fix: reduce the output to one value');
});

test('an NCHW input to an NHWC conv2d (and the reverse) points at dataFormat', async () => {
  const x = ts.zeros([1, 3, 8, 8]), w = ts.zeros([3, 3, 3, 4]);
  await throwsTessera(() => ts.conv2d(x, w), 'conv2d', "read as NHWC (dataFormat 'NHWC') has 8 channels", 'may be NCHW',
    "Fix: pass dataFormat: 'NCHW'");
  await throwsTessera(() => ts.conv2d(ts.zeros([1, 8, 8, 3]), ts.zeros([4, 3, 3, 3]), { dataFormat: 'NCHW' }), 'conv2d', 'may be NHWC',
    "Fix: pass dataFormat: 'NHWC'");
  await throwsTessera(() => ts.conv2d(ts.zeros([1, 8, 8, 5]), w), 'conv2d', 'has 5 channels', 'Fix: make Cin = groups');
});

test('reading a result whose input was disposed names the read and the input, not an internal node', async () => {
  const a = ts.tensor([1, 2, 3], { dtype: 'int32' }), b = a.add(1);
  a.dispose();
  const e = await throwsTessera(() => b.data(), 'data:', 'a tensor (int32, shape [3]) that this result is computed from was disposed',
    'Fix: dispose a tensor only after');
  assert.not.match(e.message, /input#\d+/);
  const c = ts.tensor([1.5, 2]), d = c.mul(3);
  c.dispose();
  await throwsTessera(() => d.realize(), 'realize:', 'float32, shape [2]');
});

test('an un-awaited data() inside a jitted function fails the trace, with no unhandled rejection', async () => {
  const seen: unknown[] = [];
  const onRejection = (e: unknown) => seen.push(e);
  process.on('unhandledRejection', onRejection);
  try {
    const f = ts.jit((x: Tensor) => { void x.data(); return x.mul(2); });
    await throwsTessera(() => f(ts.tensor([1, 2])), 'jit', 'cannot read the value of a traced tensor', 'Fix: return the tensor');
    const g = ts.jit((x: Tensor) => { void x.sum().item(); void x.toArray(); return x; });
    await throwsTessera(() => g(ts.tensor([1, 2])), 'jit', 'traced tensor');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen, [], 'no unhandled rejection');
  } finally { process.off('unhandledRejection', onRejection); }
});

const HOSTILE = ['*/ } @compute fn main() { // ', 'x]; var<storage> y: array<f32>; //', '\n\u2028enable f16;\u0000"\'`', 'ünïcödé名前',
  'a'.repeat(5000), ''];

test('hostile tensor names (from a safetensors file) never reach the WGSL except as sanitized identifiers', async () => {
  const tensors = Object.fromEntries(HOSTILE.map((name, i) => [name, { dtype: 'float32' as const, shape: [3], data: Float32Array.of(i, i + 1,
    i + 2) }]));
  const { tensors: loaded } = await nn.loadSafetensors(encodeSafetensors(tensors));
  const ys = HOSTILE.map((name) => loaded[name]!.mul(2).add(1));
  for (const src of await wgslOf(ys)) {
    for (const l of src.split('\n')) {
      const ident = l.match(/var<storage, read(?:_write)?> (\w+):/)?.[1];
      if (ident) assert.ok(/^(in|out)\d+_[A-Za-z0-9]{0,24}$/.test(ident), `binding identifier ${ident}`);
    }
    for (const bad of ['@compute fn main() {\n//', 'y: array<f32>; //', '名前', 'aaaaaaaaaaaaaaaaaaaaaaaaa', '"', "'", '`', '\u0000', '\u2028'])
      assert.not.ok(src.includes(bad), `WGSL contains ${JSON.stringify(bad)}`);
  }
  for (let i = 0; i < ys.length; i++) assert.equal(Array.from(await ys[i]!.data()), [2 * i + 1, 2 * i + 3, 2 * i + 5]);
});

test('hostile layer names do not reach the WGSL; the model still computes', async () => {
  const m = new nn.Sequential([new nn.Dense(3, { name: HOSTILE[0], inputShape: [2] }), new nn.Dense(1, { name: HOSTILE[2] })]);
  const x = ts.tensor([[1, 2], [3, 4]]);
  const out = m.call(x);
  for (const src of await wgslOf(out)) for (const bad of ['@compute fn main() {', '\u0000', 'enable f16;\u0000']) assert.not.ok(src.includes(bad));
  assert.equal(out.shape, [2, 1]);
  const bytes = await m.saveWeights();
  const m2 = new nn.Sequential([new nn.Dense(3, { name: HOSTILE[0], inputShape: [2] }), new nn.Dense(1, { name: HOSTILE[2] })]);
  await m2.loadWeights(bytes);
  assert.equal(Array.from(await m2.call(x).data()), Array.from(await out.data()), 'weights round-trip under hostile names');
});

test.run();
