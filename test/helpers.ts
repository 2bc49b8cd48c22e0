/**
 * Shared test helpers (not a test file: it defines no tests).
 *  - allclose: numpy-style comparison that reports the worst element.
 *  - checkAgainstInterpreter: the GPU result of a lazy tensor vs the float64 reference interpreter.
 *  - dispatchesOf: the number of kernel dispatches one realization takes.
 *  - wgslOf: the WGSL of every kernel a tensor's graph compiles to.
 *  - rnd/rndInt: seeded host data (build test graphs from fresh `tensor(...)` data, which keeps a host copy).
 *  - scheduleOf/kernelSummary: the kernels a graph is scheduled into, without a GPU.
 */
import * as assert from 'uvu/assert';
import { roundTo, type DType, type TypedArray } from '../ir/dtype.ts';
import { interpret } from '../ir/interpret.ts';
import { toposort, type Node } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { numel } from '../ir/shape.ts';
import { engine, globalOptions, inputsOf, substituteRealized } from '../runtime/engine.ts';
import { compileProgram } from '../runtime/program.ts';
import { kernelOutputs, kernelRoots, schedule, type Kernel } from '../ir/schedule/index.ts';
import { kernelName } from '../codegen/common.ts';
import { stats } from '../runtime/stats.ts';
import { hostDataOf } from '../runtime/storage.ts';
import { prng } from '../ops/creation.ts';
import { realizeAll, tensor, TesseraError, type Tensor } from '../index.ts';

export interface Tol { rtol?: number; atol?: number; msg?: string }

/** Asserts |actual - expected| <= atol + rtol * |expected| elementwise (NaN equals NaN, infinities must match). */
export function allclose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6, msg = '' }: Tol = {}): void {
  const pre = msg ? `${msg}: ` : '';
  if (actual.length !== expected.length) assert.unreachable(`${pre}length ${actual.length}, expected ${expected.length}`);
  let worst = -1, worstErr = 0, bad = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]), e = Number(expected[i]);
    let err: number;
    if (Number.isNaN(e) || Number.isNaN(a)) err = Number.isNaN(e) && Number.isNaN(a) ? 0 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(a)) err = a === e ? 0 : Infinity;
    else err = Math.abs(a - e) / (atol + rtol * Math.abs(e));
    if (err > 1) bad++;
    if (err > worstErr || (worst < 0 && err > 1)) { worstErr = err; worst = i; }
  }
  if (bad) {
    const i = worst;
    assert.unreachable(`${pre}${bad}/${actual.length} elements differ; worst at [${i}]: got ${actual[i]}, expected ${expected[i]} ` +
      `(|diff| ${Math.abs(Number(actual[i]) - Number(expected[i]))}, rtol ${rtol}, atol ${atol})`);
  }
}

/** Exact equality with the worst-element report. */
export const assertEqualArrays = (actual: ArrayLike<number>, expected: ArrayLike<number>, msg = '') => allclose(actual, expected, { rtol: 0, atol: 0, msg });

const defaultTol = (d: DType): Required<Omit<Tol, 'msg'>> =>
  d === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : d === 'float16' ? { rtol: 2e-3, atol: 1e-3 } : { rtol: 0, atol: 0 };

/**
 * Evaluates `t`'s graph with the reference interpreter (inputs from their host copies, rounded to
 * their dtype) and compares it with the GPU result of `await t.data()`. Integer and bool results
 * must match exactly; float results within the tolerance (default by dtype).
 */
export async function checkAgainstInterpreter(t: Tensor, opts: Tol = {}): Promise<{ actual: TypedArray; expected: Float64Array }> {
  const node: Node = t.node;
  const values = new Map<Node, ArrayLike<number>>();
  for (const n of toposort([node])) {
    if (n.op !== 'input') continue;
    const host = hostDataOf(n);
    if (!host) throw new Error(`checkAgainstInterpreter: input ${n} has no host copy (it was computed on the GPU); build the graph from tensor(...) data`);
    values.set(n, n.dtype === 'float16' ? Array.from(host, (v) => roundTo('float16', v)) : host);
  }
  const [raw] = interpret([node], (n) => values.get(n)!);
  const expected = Float64Array.from(raw!, (v) => (node.dtype === 'float32' || node.dtype === 'float16' ? v : roundTo(node.dtype, v)));
  const actual = await t.data();
  assert.is(actual.length, numel(node.shape), 'result length');
  const tol = { ...defaultTol(node.dtype), ...opts };
  allclose(actual, expected, { ...tol, msg: opts.msg ?? `${node.op} ${node.dtype}[${node.shape.join(',')}]` });
  return { actual, expected };
}

/**
 * checkAgainstInterpreter for many tensors realized together (one program: outputs of one shape
 * share kernels, so many ops cost few shader compiles). `msgs[i]` labels tensor i in failures.
 */
export async function checkAllAgainstInterpreter(ts: readonly Tensor[], opts: Tol | ((i: number) => Tol) = {}, msgs: readonly string[] = []): Promise<void> {
  const nodes = ts.map((t) => t.node);
  const values = new Map<Node, ArrayLike<number>>();
  for (const n of toposort(nodes)) {
    if (n.op !== 'input') continue;
    const host = hostDataOf(n);
    if (!host) throw new Error(`checkAllAgainstInterpreter: input ${n} has no host copy (it was computed on the GPU); build the graph from tensor(...) data`);
    values.set(n, n.dtype === 'float16' ? Array.from(host, (v) => roundTo('float16', v)) : host);
  }
  const raw = interpret(nodes, (n) => values.get(n)!);
  await realizeAll(ts);
  for (let i = 0; i < ts.length; i++) {
    const node = nodes[i]!, o = typeof opts === 'function' ? opts(i) : opts;
    const expected = Float64Array.from(raw[i]!, (v) => (node.dtype === 'float32' || node.dtype === 'float16' ? v : roundTo(node.dtype, v)));
    allclose(await ts[i]!.data(), expected, { ...defaultTol(node.dtype), ...o, msg: msgs[i] ?? o.msg ?? `output ${i}: ${node.op} ${node.dtype}[${node.shape.join(',')}]` });
  }
}

/** Realizes `t` (reading it back) and returns its data and the number of kernel dispatches that took. */
export async function dispatchesOf(t: Tensor): Promise<{ data: TypedArray; dispatches: number }> {
  const before = stats().dispatches;
  const data = await t.data();
  return { data, dispatches: stats().dispatches - before };
}

/** The WGSL of each kernel the graph of `t` (or of several tensors realized together) compiles to (compiled afresh: no program cache; nothing runs). */
export async function wgslOf(t: Tensor | readonly Tensor[]): Promise<string[]> {
  const e = await engine();
  const roots = runPasses(substituteRealized((Array.isArray(t) ? t : [t]).map((x: Tensor) => x.node)));
  const program = await compileProgram(roots, inputsOf(roots), e.dev, e.pipelines, globalOptions);
  return program.steps.map((s) => s.code.wgsl);
}

/** Seeded uniform floats in [lo, hi). */
export function rnd(shape: readonly number[], { lo = -1, hi = 1, seed = 1, dtype = 'float32' as DType } = {}): Tensor {
  const next = prng(seed), a = new Float32Array(numel(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * next();
  return tensor(a, { shape, dtype });
}

/** Seeded uniform integers in [lo, hi]. */
export function rndInt(shape: readonly number[], { lo = -10, hi = 10, seed = 1, dtype = 'int32' as DType } = {}): Tensor {
  const next = prng(seed), a = new Array<number>(numel(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + Math.floor((hi - lo + 1) * next());
  return tensor(a, { shape, dtype });
}

/** Runs `f` and asserts it throws a TesseraError whose message matches every pattern. */
export async function throwsTessera(f: () => unknown, ...patterns: (string | RegExp)[]): Promise<Error> {
  let err: unknown;
  try { await f(); } catch (e) { err = e; }
  if (!(err instanceof Error)) return assert.unreachable('expected a TesseraError, nothing was thrown') as never;
  assert.ok(err instanceof TesseraError, `expected a TesseraError, got ${err.name}: ${err.message}`);
  for (const p of patterns) {
    const ok = typeof p === 'string' ? err.message.includes(p) : p.test(err.message);
    assert.ok(ok, `error message ${JSON.stringify(err.message)} should mention ${p}`);
  }
  return err;
}

/**
 * The kernels the graph of `t` (or of several tensors realized together) is scheduled into, as
 * realize would after the graph passes — on the CPU, no device needed. `maxBuffers` defaults to
 * WebGPU's default limit (8).
 */
export function scheduleOf(t: Tensor | readonly Tensor[], opts: { maxBuffers?: number; fuse?: boolean } = {}): Kernel[] {
  const roots = runPasses((Array.isArray(t) ? t : [t]).map((x: Tensor) => x.node)).filter((r) => r.op !== 'input');
  return schedule([...new Set(roots)], { fuse: opts.fuse ?? true, maxBuffers: opts.maxBuffers ?? 8 });
}

/** One line per kernel: its name (the ops it fuses) and how many buffers it reads and writes. */
export const kernelSummary = (ks: readonly Kernel[]) =>
  ks.map((k) => `${kernelName(k, kernelRoots(k), k.reads)} r${k.reads.length} w${kernelOutputs(k).length}`);

/** Storage buffers a kernel binds. */
export const bindingsOf = (k: Kernel) => k.reads.length + kernelOutputs(k).length;
