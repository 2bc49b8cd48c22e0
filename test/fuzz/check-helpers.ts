/**
 * The differential fuzzer's checker and shrinker (not a test file). Each program runs eagerly
 * fused, unfused, jitted, and fused under storage-buffer limits 8, 10 and 16, each on fresh inputs
 * with the same data, against the float64 interpreter; a gradient program is checked by finite
 * differences in float64 and its GPU gradient (eager and jitted) against the float64 one. A failing
 * program is shrunk (fewer outputs, a shorter prefix, operands cut to fresh inputs) to a minimal
 * program that still fails the same way, printed as code.
 */
import * as ts from '../../index.ts';
import type { Tensor, TypedArray } from '../../index.ts';
import { interpret } from '../../ir/interpret.ts';
import { roundTo } from '../../ir/dtype.ts';
import { toposort, type Node } from '../../ir/node.ts';
import { prng } from '../../ops/creation.ts';
import { hostDataOf } from '../../runtime/storage.ts';
import { evaluate, generate, makeInput, toCode, type InputSpec, type Program } from './gen-helpers.ts';

export const MODES = ['fused', 'unfused', 'jit', 'maxBuffers=8', 'maxBuffers=10', 'maxBuffers=16'] as const;
export type Mode = (typeof MODES)[number] | 'grad';
export interface Failure { mode: Mode; kind: 'mismatch' | 'error'; message: string }

/** Input values for the interpreter, from the host copies of the graph's input nodes. */
function hostValues(roots: readonly Node[]): Map<Node, ArrayLike<number>> {
  const m = new Map<Node, ArrayLike<number>>();
  for (const n of toposort(roots)) {
    if (n.op !== 'input') continue;
    const h = hostDataOf(n);
    if (!h) throw new Error(`fuzz: input ${n} has no host data`);
    m.set(n, n.dtype === 'float16' ? Array.from(h, (v) => roundTo('float16', v)) : h);
  }
  return m;
}

function reference(outs: readonly Tensor[]): Float64Array[] {
  const nodes = outs.map((t) => t.node), vals = hostValues(nodes);
  return interpret(nodes, (n) => vals.get(n)!).map((v, i) => {
    const d = nodes[i]!.dtype;
    return d === 'float32' || d === 'float16' ? v : Float64Array.from(v, (x) => roundTo(d, x));
  });
}

/** Tolerance of a program: float error grows with the magnitudes its values reach and its length. */
function tolerance(prog: Program): { rtol: number; atol: number } {
  const scale = Math.max(1, prog.maxBound);
  return prog.dtypes.includes('float16') ? { rtol: 3e-2, atol: 3e-2 * scale } : { rtol: 2e-4, atol: 2e-5 * scale * (1 + prog.steps.length / 4) };
}

/** The first element where `actual` and `expected` differ beyond the tolerance, described; null when they agree. */
export function differ(actual: ArrayLike<number>, expected: ArrayLike<number>, exact: boolean, tol: { rtol: number; atol: number }): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  let bad = 0, worst = -1, worstErr = 1;
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]), e = Number(expected[i]);
    const err = Number.isNaN(a) || Number.isNaN(e) ? (Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity)
      : a === e ? 0 : exact ? Infinity : Math.abs(a - e) / (tol.atol + tol.rtol * Math.abs(e));
    if (err > 1) { bad++; if (err > worstErr || worst < 0) { worstErr = err; worst = i; } }
  }
  if (!bad) return null;
  return `${bad}/${actual.length} elements differ; worst [${worst}]: got ${actual[worst]}, expected ${expected[worst]} ` +
    `(rtol ${tol.rtol}, atol ${tol.atol})`;
}

/** Runs `f` with compiler options changed for `mode`, restoring them afterwards. */
async function withMode<T>(mode: Mode | `maxBuffers=${number}`, f: () => Promise<T>): Promise<T> {
  const o = ts.compilerOptions, saved = { fuse: o.fuse, maxBuffers: o.maxBuffers };
  if (mode === 'unfused') o.fuse = false;
  if (mode.startsWith('maxBuffers=')) o.maxBuffers = Number(mode.slice('maxBuffers='.length));
  try { return await f(); } finally { o.fuse = saved.fuse; o.maxBuffers = saved.maxBuffers; }
}

const freshInputs = (prog: Program) => new Map(prog.inputs.map((s) => [s.id, makeInput(s)] as const));

/** Runs the program in one mode; returns the results of its outputs. */
async function runMode(prog: Program, mode: Mode): Promise<TypedArray[]> {
  return withMode(mode, async () => {
    if (mode === 'jit') {
      const inputs = freshInputs(prog), ids = [...inputs.keys()];
      const f = ts.jit((...xs: Tensor[]) => { const env = evaluate(prog, new Map(ids.map((id, i) => [id, xs[i]!]))); return prog.outs.map((o) =>
        env.get(o)!); });
      const outs = await f(...inputs.values());
      return Promise.all(outs.map((t) => t.data()));
    }
    const env = evaluate(prog, freshInputs(prog)), outs = prog.outs.map((o) => env.get(o)!);
    await ts.realizeAll(outs);
    return Promise.all(outs.map((t) => t.data()));
  });
}

/** Checks the program in one mode against the interpreter; the failure, or null. */
export async function checkMode(prog: Program, mode: Mode): Promise<Failure | null> {
  if (mode === 'grad') return checkGradProgram(prog);
  const env = evaluate(prog, freshInputs(prog)), outs = prog.outs.map((o) => env.get(o)!);
  let expected: Float64Array[];
  try { expected = reference(outs); } catch (e) { return { mode, kind: 'error', message: `interpreter: ${(e as Error).message}` }; }
  const tol = tolerance(prog);
  let got: TypedArray[];
  try { got = await runMode(prog, mode); } catch (e) { return { mode, kind: 'error',
    message: `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}` }; }
  for (let i = 0; i < outs.length; i++) {
    const d = outs[i]!.dtype, why = differ(got[i]!, expected[i]!, d !== 'float32' && d !== 'float16', tol);
    if (why) return { mode, kind: 'mismatch', message: `output ${prog.outs[i]} (${d}[${outs[i]!.shape.join(',')}]): ${why}` };
  }
  return null;
}

/** Gradient program: float64 analytic vs central differences, then the GPU gradient, eager and jitted, vs float64. */
async function checkGradProgram(prog: Program): Promise<Failure | null> {
  const fail = (kind: Failure['kind'], message: string): Failure => ({ mode: 'grad', kind, message });
  const specs = prog.inputs, argnums = specs.map((s, i) => (s.kind === 'data' && s.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
  if (!argnums.length) return null;
  const xs = specs.map(makeInput), ids = specs.map((s) => s.id);
  const f = (...a: Tensor[]) => evaluate(prog, new Map(ids.map((id, i) => [id, a[i]!]))).get(prog.outs[0]!)!;
  const out0 = f(...xs);
  const r = prng(prog.seed + 99), w = ts.tensor(Array.from({ length: out0.size }, () => 0.5 + r()), { shape: [...out0.shape] });
  const loss = (...a: Tensor[]) => ts.sum(ts.mul(f(...a), w));
  try {
    const gs = ts.grad(loss, { argnums })(...xs) as Tensor[];
    const lossNode = loss(...xs).node, env = hostValues([lossNode, ...gs.map((g) => g.node)]) as Map<Node, ArrayLike<number>>;
    const analytic = interpret(gs.map((g) => g.node), (n) => env.get(n)!);
    const l0 = Math.abs(interpret([lossNode], (n) => env.get(n)!)[0]![0]!);
    for (let k = 0; k < argnums.length; k++) {
      const node = xs[argnums[k]!]!.node, have = env.get(node);
      if (!have) { // an input the output does not read: its gradient is zero
        if (analytic[k]!.some((v) => v !== 0)) return fail('mismatch', `d/d${ids[argnums[k]!]}: nonzero gradient of an unused input`);
        continue;
      }
      const base = Float64Array.from(have), fd = new Float64Array(base.length), h = 1e-5;
      for (let j = 0; j < base.length; j++) {
        const at = (d: number) => { const v = Float64Array.from(base); v[j] += d; return interpret([lossNode], (n) => (n === node ? v
          : env.get(n)!))[0]![0]!; };
        fd[j] = (at(h) - at(-h)) / (2 * h);
      }
      const why = differ(analytic[k]!, fd, false, { rtol: 1e-4, atol: 1e-6 * (1 + l0) });
      if (why) return fail('mismatch', `d/d${ids[argnums[k]!]} (float64) vs finite differences: ${why}`);
    }
    const scale = Math.max(1, ...analytic.map((a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    const tol = { rtol: 1e-3, atol: 1e-4 * scale * (1 + prog.steps.length / 4) };
    await ts.realizeAll(gs);
    for (let k = 0; k < gs.length; k++) {
      const why = differ(await gs[k]!.data(), analytic[k]!, false, tol);
      if (why) return fail('mismatch', `GPU d/d${ids[argnums[k]!]} vs float64: ${why}`);
    }
    const jg = ts.jit((...a: Tensor[]) => ts.grad(loss, { argnums })(...a) as Tensor[]);
    const jgs = await jg(...specs.map(makeInput));
    for (let k = 0; k < jgs.length; k++) {
      const why = differ(await jgs[k]!.data(), analytic[k]!, false, tol);
      if (why) return fail('mismatch', `jitted GPU d/d${ids[argnums[k]!]} vs float64: ${why}`);
    }
    // Gradient graphs are the largest: also under a storage-buffer limit (8, 10 or 16 by seed).
    const limit = ([8, 10, 16] as const)[prog.seed % 3]!;
    const lgs = await withMode(`maxBuffers=${limit}`, async () => {
      const g = ts.grad(loss, { argnums })(...specs.map(makeInput)) as Tensor[];
      await ts.realizeAll(g);
      return Promise.all(g.map((t) => t.data()));
    }).catch((e: Error) => { throw new Error(`at maxBuffers=${limit}: ${e.message}`); });
    for (let k = 0; k < lgs.length; k++) {
      const why = differ(lgs[k]!, analytic[k]!, false, tol);
      if (why) return fail('mismatch', `GPU d/d${ids[argnums[k]!]} at maxBuffers=${limit} vs float64: ${why}`);
    }
  } catch (e) { return fail('error', `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`); }
  return null;
}

/** Every mode a program runs in. */
export const modesOf = (prog: Program): Mode[] => (prog.grad ? ['grad'] : [...MODES]);

/** Keeps only the steps and inputs the outputs need. */
export function prune(prog: Program): Program {
  const need = new Set(prog.outs);
  const steps = [...prog.steps].reverse().filter((s) => { if (!need.has(s.id)) return false; s.args.forEach((a) =>
    need.add(a)); return true; }).reverse();
  return { ...prog, steps, inputs: prog.inputs.filter((i) => need.has(i.id)) };
}

/** A failing program made as small as the shrinker can while it still fails the same way (same mode and kind). */
export async function shrink(prog: Program, failure: Failure, budget = 40): Promise<{ prog: Program; failure: Failure }> {
  let best = prune(prog), bestF = failure, tries = 0;
  const attempt = async (cand: Program): Promise<boolean> => {
    if (tries++ >= budget) return false;
    const f = await checkMode(cand, failure.mode).catch((e: Error) => ({ mode: failure.mode, kind: 'error' as const, message: e.message }));
    if (f && f.kind === failure.kind) { best = cand; bestF = f; return true; }
    return false;
  };
  // 1. The earliest single output that still fails.
  for (const s of best.steps) if (await attempt(prune({ ...best, outs: [s.id] }))) break;
  // 2. Cut operands computed by steps: replace them by fresh inputs of their shape and dtype.
  let changed = true;
  while (changed && tries < budget) {
    changed = false;
    const env = evaluate(best);
    for (const st of [...best.steps].reverse()) {
      for (let a = 0; a < st.args.length; a++) {
        const arg = st.args[a]!;
        if (!best.steps.some((s) => s.id === arg)) continue;
        const t = env.get(arg)!;
        if (t.dtype === 'uint32' && t.rank === 0) continue;
        const spec: InputSpec = { id: `x${best.inputs.length + 100 + tries}`, shape: [...t.shape], dtype: t.dtype, seed: 4242 + tries, kind: 'data' };
        const steps = best.steps.map((s) => (s === st ? { ...s, args: s.args.map((x, i) => (i === a ? spec.id : x)) } : s));
        if (await attempt(prune({ ...best, steps, inputs: [...best.inputs, spec] }))) { changed = true; break; }
      }
      if (changed) break;
    }
  }
  return { prog: best, failure: bestF };
}

/** A failure report: what failed, and the shrunk program as code. */
export const report = (prog: Program, f: Failure) => `${f.mode} ${f.kind}: ${f.message}\n${toCode(prog, `mode ${f.mode}`)}`;

export interface FuzzOptions {
  n: number;
  seed: number;
  /** Every `gradEvery`-th program is a gradient program (default 4). */
  gradEvery?: number;
  f16?: boolean;
  /** Shrink failures (default true). */
  shrink?: boolean;
  log?: (line: string) => void;
}
export interface FuzzResult { programs: number; runs: number; failures: string[] }

/** Runs `n` programs from seed `seed`, each in every mode; failures shrunk and reported as code. */
export async function fuzz(o: FuzzOptions): Promise<FuzzResult> {
  const res: FuzzResult = { programs: 0, runs: 0, failures: [] };
  const every = o.gradEvery ?? 4;
  for (let i = 0; i < o.n; i++) {
    const s = o.seed + i;
    const prog = generate(s, { grad: s % every === every - 1, f16: o.f16 }); // a seed always makes the same program
    res.programs++;
    for (const mode of modesOf(prog)) {
      res.runs++;
      const f = await checkMode(prog, mode);
      if (!f) continue;
      const small = o.shrink === false ? { prog, failure: f } : await shrink(prog, f);
      const text = report(small.prog, small.failure);
      res.failures.push(text);
      o.log?.(`FAIL seed ${s}\n${text}\n`);
    }
    if (o.log && (i + 1) % 50 === 0) o.log(`${i + 1} programs, ${res.runs} runs, ${res.failures.length} failures`);
  }
  return res;
}
