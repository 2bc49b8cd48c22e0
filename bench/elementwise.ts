/**
 * Issue 2: a long elementwise chain, fused vs unfused, against the copy kernel over the same bytes.
 *
 *   y = relu(x*a + b) * sigmoid(x) - tanh(x)*0.5 + exp(-x*x)      on 2^22 float32 elements
 *
 * Two variants: a, b JS scalars (the fused kernel reads x, writes y: 2 x 16 MiB) and a, b float32
 * tensors of x's shape (reads x, a, b, writes y: 4 x 16 MiB). For each: the fused program (one
 * dispatch), the unfused program (`compilerOptions.fuse = false`, one dispatch per op), and the
 * copy kernel (hand-written WGSL) over exactly the bytes the fused kernel must move.
 *
 * What is timed is compiled-program replay, never tracing or compiling:
 *  - "program": the Program (from the engine's programFor, as realize/jit build it) encoded,
 *    submitted and waited for (like runtime/profile.ts timeProgram); output buffers go back to the pool.
 *  - "jit call": the jitted function called on realized tensors (signature lookup, encode,
 *    submit) plus queue.onSubmittedWorkDone(): what a user of jit pays per call.
 * All contenders run interleaved; medians of N wall-clock runs (own loop, not benny).
 *
 * Standalone: npx tsx bench/elementwise.ts
 */
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { runPasses } from '../ir/passes/index.ts';
import { aliasOf, engine, ensureUploaded, globalOptions, inputsOf, programFor, substituteRealized, type Engine } from '../runtime/engine.ts';
import type { Program } from '../runtime/program.ts';
import { storageOf } from '../runtime/storage.ts';
import { ceilingsJson, copyRunner, measureCeilings, printCeilings } from './ceilings.ts';
import { brief, environment, fmt, heading, isMain, printEnvironment, ratio, table, target, timeInterleaved, writeResults } from './common.ts';

const N = 1 << 22;

type Operand = Tensor | number;
const chain = (x: Tensor, a: Operand, b: Operand) =>
  ts.relu(ts.add(ts.mul(x, a), b)).mul(ts.sigmoid(x)).sub(ts.tanh(x).mul(0.5)).add(ts.exp(ts.neg(x.mul(x))));

const reluJs = (v: number) => Math.max(v, 0);
const sigJs = (v: number) => 1 / (1 + Math.exp(-v));
const refJs = (x: number, a: number, b: number) => reluJs(x * a + b) * sigJs(x) - Math.tanh(x) * 0.5 + Math.exp(-x * x);

/** The Program the engine compiles for a lazy tensor's graph, and its input buffers. */
async function programOf(e: Engine, y: Tensor, fuse: boolean): Promise<{ program: Program; buffers: GPUBuffer[] }> {
  const roots = runPasses(substituteRealized([y.node]));
  const inputs = inputsOf(roots);
  const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
  const program = await programFor(e, compute, inputs, { ...globalOptions, fuse });
  return { program, buffers: inputs.map((n) => ensureUploaded(e, storageOf(n))) };
}

/** Encode + submit + wait; releases the output buffers to the pool (as timeProgram does). */
function programRun(e: Engine, program: Program, inputs: GPUBuffer[]): () => Promise<void> {
  return async () => {
    const enc = e.dev.gpu.createCommandEncoder();
    const outs = program.encode(e.dev, e.pool, enc, inputs);
    e.dev.gpu.queue.submit([enc.finish()]);
    await e.dev.gpu.queue.onSubmittedWorkDone();
    for (const b of outs) if (!inputs.includes(b)) e.pool.release(b);
  };
}

interface VariantResult {
  variant: string; bytesMoved: number;
  rows: { name: string; ms: number; gbs: number; dispatches: number }[];
  fusedOverCopy: number; unfusedOverFused: number; jitOverProgram: number; maxAbsErr: number;
  timings: Record<string, ReturnType<typeof brief>>;
}

async function runVariant(e: Engine, x: Tensor, xs: Float32Array, kind: 'scalars' | 'tensors'): Promise<VariantResult> {
  const A = 1.5, B = 0.25;
  const a: Operand = kind === 'scalars' ? A : await ts.full([N], A).realize();
  const b: Operand = kind === 'scalars' ? B : await ts.full([N], B).realize();
  const bytesMoved = (kind === 'scalars' ? 2 : 4) * N * 4;

  // Programs for the fused and unfused graphs (compiled here, outside any timed region).
  const fused = await programOf(e, chain(x, a, b), true);
  const unfused = await programOf(e, chain(x, a, b), false);

  // jit: one jitted function per fusion setting (jit compiles on its first call with the options then in force).
  const saved = globalOptions.fuse;
  const jf = ts.jit((xx: Tensor, aa: Operand, bb: Operand) => chain(xx, aa, bb));
  const ju = ts.jit((xx: Tensor, aa: Operand, bb: Operand) => chain(xx, aa, bb));
  const outF = await jf(x, a, b);
  globalOptions.fuse = false;
  const outU = await ju(x, a, b);
  globalOptions.fuse = saved;
  // Correctness: fused vs unfused vs a JS reference on a sample.
  const [df, du] = [await outF.data(), await outU.data()];
  let maxAbsErr = 0;
  for (let i = 0; i < N; i += 997) maxAbsErr = Math.max(maxAbsErr, Math.abs(df[i]! - refJs(xs[i]!, A, B)), Math.abs(du[i]! - df[i]!));
  outF.dispose(); outU.dispose();

  // Dispatches per call, counted by the runtime.
  const count = async (f: typeof jf) => { const s0 = ts.stats(); const o = await f(x, a, b); await e.dev.gpu.queue.onSubmittedWorkDone(); o.dispose(); const s1 = ts.stats(); return { d: s1.dispatches - s0.dispatches, s: s1.submits - s0.submits }; };
  const cf = await count(jf), cu = await count(ju);

  const copy = await copyRunner(bytesMoved / 2, 'vec4');
  const jitRun = (f: typeof jf) => async () => { const o = await f(x, a, b); await e.dev.gpu.queue.onSubmittedWorkDone(); o.dispose(); };
  const t = await timeInterleaved({
    copy: copy.run,
    fused: programRun(e, fused.program, fused.buffers),
    unfused: programRun(e, unfused.program, unfused.buffers),
    'fused jit call': jitRun(jf),
    'unfused jit call': jitRun(ju),
  }, { reps: 15, warmup: 2, maxMs: 20000 });
  copy.dispose();

  const dispatches: Record<string, number> = { copy: 1, fused: fused.program.dispatches, unfused: unfused.program.dispatches, 'fused jit call': cf.d, 'unfused jit call': cu.d };
  const rows = Object.entries(t).map(([name, tm]) => ({ name, ms: tm.median, gbs: bytesMoved / (tm.median * 1e6), dispatches: dispatches[name]! }));
  if (cf.s !== 1 || cu.s !== 1) console.log(`note: submits per jit call: fused ${cf.s}, unfused ${cu.s}`);
  return {
    variant: kind, bytesMoved, rows,
    fusedOverCopy: t.fused!.median / t.copy!.median,
    unfusedOverFused: t.unfused!.median / t.fused!.median,
    jitOverProgram: t['fused jit call']!.median / t.fused!.median,
    maxAbsErr,
    timings: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, brief(v)])),
  };
}

export async function main(): Promise<void> {
  const env = await environment();
  heading('bench/elementwise.ts: relu(x*a+b) * sigmoid(x) - tanh(x)*0.5 + exp(-x*x), 2^22 float32');
  printEnvironment(env);
  const e = await engine();
  const c = await measureCeilings();
  printCeilings(c);

  const x = ts.randn([N], { seed: 1 });
  const xs = (await x.data()) as Float32Array;

  const results: VariantResult[] = [];
  const targets = [];
  for (const kind of ['scalars', 'tensors'] as const) {
    const r = await runVariant(e, x, xs, kind);
    results.push(r);
    heading(`a, b ${kind === 'scalars' ? 'JS scalars (constants in the kernel)' : 'float32 tensors of shape [2^22]'}: the fused kernel must move ${r.bytesMoved / 2 ** 20} MiB (read + write)`);
    const copyMs = r.rows.find((x) => x.name === 'copy')!.ms;
    const fusedMs = r.rows.find((x) => x.name === 'fused')!.ms;
    table(['contender', 'ms (median)', 'GB/s (fused bytes)', 'dispatches', 'vs copy', 'vs fused'],
      r.rows.map((x) => [x.name, x.ms, x.gbs, String(x.dispatches), ratio(x.ms / copyMs), ratio(x.ms / fusedMs)]));
    console.log(`fused/copy ${ratio(r.fusedOverCopy)}   unfused/fused ${ratio(r.unfusedOverFused)}   jit call/program ${ratio(r.jitOverProgram)}   max |err| vs JS reference ${r.maxAbsErr.toExponential(2)}   (copy ceiling ${fmt(c.copyGBs)} GB/s)`);
    const fd = r.rows.find((x) => x.name === 'fused')!.dispatches;
    targets.push(target(`[${kind}] fused is one dispatch`, fd === 1, `${fd} dispatch(es)`));
    targets.push(target(`[${kind}] fused <= 4x copy time`, r.fusedOverCopy <= 4, `${ratio(r.fusedOverCopy)} (${fmt(fusedMs)} ms vs copy ${fmt(copyMs)} ms)`));
  }
  writeResults('elementwise', { env, ceilings: ceilingsJson(c), n: N, expression: 'relu(x*a+b) * sigmoid(x) - tanh(x)*0.5 + exp(-x*x)', results, targets });
}

if (isMain(import.meta.url)) await main();
