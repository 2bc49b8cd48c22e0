/**
 * Fused attention (issue 13, item 4) on the W5 shape: B=4, 4 heads, S=128, head dim 64.
 *  1. Tessera's forward, fused (one attention kernel: ir/schedule/attention.ts, codegen/attention.ts)
 *     vs the unfused composition (compilerOptions.skipRules = ['attention']: scores matmul, softmax
 *     row kernel, weighted-sum matmul), inputs on the device, causal and not: ms and dispatches.
 *  2. The same attention (Tessera's default for this adapter: unfused on lavapipe, runtime/defaults.ts)
 *     in onnxruntime-web's WebGPU EP (an ONNX graph of MatMul, Mul, Softmax,
 *     MatMul, as exporters write it) vs Tessera, each call uploading q, k, v and reading the
 *     output back (as session.run with CPU tensors does), on the same adapter.
 *  3. Training (forward + backward of a loss of the attention): dispatches and ms, where the
 *     backward pass reads the softmax's reductions, so the forward stays unfused.
 * Contenders interleaved. Standalone: npx tsx bench/attention.ts
 */
import { dispatches, ort } from './ort.ts';
import { brief, environment, fmt, gpuIdle, heading, isMain, printEnvironment, ratio, table, target, timeInterleaved, writeResults } from './common.ts';
import { GraphBuilder, T } from '../test/onnx-builder.ts';

const ts = await import('../index.ts');
type Tensor = InstanceType<typeof ts.Tensor>;
const B = 4, H = 4, S = 128, Dh = 64, shape = [B, H, S, Dh], scale = 1 / Math.sqrt(Dh);
const reps = Number(process.env.TESSERA_BENCH_REPS ?? 12);

const causalMask = () => Array.from({ length: S * S }, (_, i) => (i % S > Math.floor(i / S) ? -Infinity : 0));

/** softmax(q·kᵀ·scale (+ causal mask))·v as an ONNX graph. */
function onnxAttention(causal: boolean): Uint8Array {
  const g = new GraphBuilder(13);
  for (const n of ['q', 'k', 'v']) g.input(n, T.FLOAT, shape);
  g.init('scale', { type: T.FLOAT, dims: [], values: [scale] });
  g.node('Transpose', ['k'], ['kt'], { perm: [0, 1, 3, 2] }).node('MatMul', ['q', 'kt'], ['s']).node('Mul', ['s', 'scale'], ['x']);
  if (causal) g.init('mask', { type: T.FLOAT, dims: [S, S], values: causalMask() }).node('Add', ['x', 'mask'], ['xm']);
  g.node('Softmax', [causal ? 'xm' : 'x'], ['p'], { axis: -1 }).node('MatMul', ['p', 'v'], ['o']).output('o', T.FLOAT, shape);
  return g.encode();
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const data = (seed: number) => Float32Array.from({ length: B * H * S * Dh }, (_, i) => Math.sin(0.37 * i + seed));

export async function forward(causal: boolean) {
  const [q, k, v] = [1, 2, 3].map((s) => ts.tensor(data(s), { shape }));
  const att = (a: Tensor, b: Tensor, c: Tensor) => ts.nn.scaledDotProductAttention(a, b, c, { causal });
  const variants: Record<string, { skip: string[] }> = { fused: { skip: [] }, unfused: { skip: ['attention'] } };
  const fns: Record<string, () => Promise<unknown>> = {}, disp: Record<string, number> = {}, outs: Record<string, Float32Array> = {};
  for (const [name, { skip }] of Object.entries(variants)) {
    ts.compilerOptions.skipRules = skip;
    const f = ts.jit(att);
    outs[name] = (await (await f(q!, k!, v!)).data()) as Float32Array;
    disp[name] = f.dispatches;
    fns[name] = async () => { ts.compilerOptions.skipRules = skip; await f(q!, k!, v!); await gpuIdle(); };
  }
  await ts.tuningComplete();
  const times = await timeInterleaved(fns, { reps, warmup: 2 });
  ts.compilerOptions.skipRules = undefined;
  const diff = maxDiff(outs.fused!, outs.unfused!);
  heading(`attention forward, ${causal ? 'causal' : 'no mask'}: B=${B}, ${H} heads, S=${S}, head dim ${Dh} (inputs on the device)`);
  table(['variant', 'ms', 'dispatches'], Object.keys(fns).map((n) => [n, times[n]!.median, String(disp[n])]));
  console.log(`fused vs unfused: ${ratio(times.unfused!.median / times.fused!.median)} faster; max |diff| ${diff.toExponential(1)}`);
  return { times: Object.fromEntries(Object.entries(times).map(([n, t]) => [n, brief(t)])), dispatches: disp, maxDiff: diff };
}

export async function versusOrt(causal: boolean) {
  const qd = data(1), kd = data(2), vd = data(3);
  const f = ts.jit((a: Tensor, b: Tensor, c: Tensor) => ts.nn.scaledDotProductAttention(a, b, c, { causal }));
  const tessera = async () => (await f(ts.tensor(qd, { shape }), ts.tensor(kd, { shape }), ts.tensor(vd, { shape }))).data();
  let t0 = performance.now(), d0 = dispatches();
  const tOut = await tessera();
  const tFirst = performance.now() - t0, tDisp = dispatches() - d0;
  t0 = performance.now();
  const session = await ort.InferenceSession.create(onnxAttention(causal), { executionProviders: ['webgpu'] });
  const feeds = { q: new ort.Tensor('float32', qd, shape), k: new ort.Tensor('float32', kd, shape), v: new ort.Tensor('float32', vd, shape) };
  const ortRun = async () => (await session.run(feeds)).o!.data as Float32Array;
  d0 = dispatches();
  const oOut = await ortRun();
  const oFirst = performance.now() - t0, oDisp = dispatches() - d0;
  await ts.tuningComplete();
  const diff = maxDiff(tOut as Float32Array, oOut);
  const t = await timeInterleaved({ tessera, ort: ortRun }, { reps, warmup: 2 });
  await session.release();
  heading(`attention ${causal ? 'causal' : 'no mask'}: Tessera vs onnxruntime-web WebGPU EP (upload + run + readback per call)`);
  table(['contender', 'ms', 'dispatches', 'first call ms'], [['Tessera', t.tessera!.median, String(tDisp), fmt(tFirst, 0)], ['ORT webgpu', t.ort!.median, String(oDisp), fmt(oFirst, 0)]]);
  console.log(`ORT/Tessera: ${ratio(t.ort!.median / t.tessera!.median)}; max |diff| ${diff.toExponential(1)}`);
  return { tessera: { ...brief(t.tessera!), dispatches: tDisp, firstCallMs: tFirst }, ort: { ...brief(t.ort!), dispatches: oDisp, firstCallMs: oFirst }, maxDiff: diff };
}

export async function training() {
  const [q, k, v] = [1, 2, 3].map((s) => ts.tensor(data(s), { shape }));
  const step = ts.jit((a: Tensor, b: Tensor, c: Tensor) => ts.grad((x: Tensor[]) => ts.nn.scaledDotProductAttention(x[0]!, x[1]!, x[2]!, { causal: true }).square().mean())([a, b, c]));
  await realize(step(q!, k!, v!));
  await ts.tuningComplete();
  const t = await timeInterleaved({ step: async () => { await realize(step(q!, k!, v!)); } }, { reps, warmup: 1 });
  heading('attention forward + backward (causal), W5 shape');
  console.log(`${fmt(t.step!.median)} ms, ${step.dispatches} dispatches`);
  return { ...brief(t.step!), dispatches: step.dispatches };
}
const realize = async (p: Promise<Tensor[]>) => { await ts.realizeAll(await p); await gpuIdle(); };

if (isMain(import.meta.url)) {
  const env = await environment();
  printEnvironment(env);
  const plain = await forward(false), causal = await forward(true);
  const ortPlain = await versusOrt(false), ortCausal = await versusOrt(true);
  const train = await training();
  heading('targets');
  const t1 = target('fused attention forward: at most 2 kernels', plain.dispatches.fused! <= 2 && causal.dispatches.fused! <= 2, `${plain.dispatches.fused} and ${causal.dispatches.fused} (causal) dispatches, unfused ${plain.dispatches.unfused}`);
  const t2 = target('fused faster than the unfused composition', plain.times.fused!.medianMs < plain.times.unfused!.medianMs && causal.times.fused!.medianMs < causal.times.unfused!.medianMs,
    `${fmt(plain.times.fused!.medianMs)} vs ${fmt(plain.times.unfused!.medianMs)} ms; causal ${fmt(causal.times.fused!.medianMs)} vs ${fmt(causal.times.unfused!.medianMs)} ms`);
  const t3 = target('faster than ORT-web WebGPU', ortPlain.tessera.medianMs < ortPlain.ort.medianMs && ortCausal.tessera.medianMs < ortCausal.ort.medianMs,
    `${fmt(ortPlain.tessera.medianMs)} vs ${fmt(ortPlain.ort.medianMs)} ms; causal ${fmt(ortCausal.tessera.medianMs)} vs ${fmt(ortCausal.ort.medianMs)} ms`);
  console.log(`results: ${writeResults('attention', { env, plain, causal, ortPlain, ortCausal, train, targets: [t1, t2, t3] })}`);
  process.exit(0);
}
