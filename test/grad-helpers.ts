/**
 * Gradient-checking helpers for the autodiff and jit tests (not a test file: it defines no tests).
 *  - hostInputs: the float64 values of every input node of a graph, from the host copies that
 *    `tensor(...)` keeps (so the interpreter can evaluate graphs built with the public API).
 *  - evalF64: evaluates tensors with the float64 reference interpreter.
 *  - checkGrad: a function's gradient, built by `grad`, checked (a) in float64 against central
 *    finite differences of the function, both evaluated by the interpreter, and (b) on the GPU
 *    against the interpreter's float64 gradient.
 *  - close: allclose with a report of the worst element.
 *  - data: seeded host data.
 */
import * as assert from 'uvu/assert';
import { interpret } from '../ir/interpret.ts';
import { toposort, type Node } from '../ir/node.ts';
import { prng } from '../ops/creation.ts';
import { hostDataOf } from '../runtime/storage.ts';
import { grad, mul, sum, tensor, type Tensor } from '../index.ts';

export interface Tol { rtol?: number; atol?: number }

/** Asserts |a - e| <= atol + rtol |e| elementwise, naming the worst element. */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, msg: string, { rtol = 1e-5, atol = 1e-6 }: Tol = {}): void {
  if (actual.length !== expected.length) assert.unreachable(`${msg}: length ${actual.length}, expected ${expected.length}`);
  let worst = -1, worstErr = 1;
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]), e = Number(expected[i]);
    const err = Number.isNaN(a) || Number.isNaN(e) ? (Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity) : a === e ? 0 : Math.abs(a - e) / (atol + rtol * Math.abs(e));
    if (err > worstErr) { worstErr = err; worst = i; }
  }
  if (worst >= 0) assert.unreachable(`${msg}: worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})\n got ${Array.from(actual).slice(0, 24).join(', ')}\n exp ${Array.from(expected).slice(0, 24).join(', ')}`);
}

/** `n` seeded values uniform in [lo, hi). */
export function data(n: number, seedv: number, lo = -1, hi = 1): number[] {
  const next = prng(seedv);
  return Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** A float32 tensor of seeded values in [lo, hi). */
export const rt = (shape: number[], seedv: number, lo = -1, hi = 1): Tensor =>
  tensor(new Float32Array(data(shape.reduce((a, b) => a * b, 1), seedv, lo, hi)), { shape });

/** The float64 values of every input of the graphs of `roots` (from their host copies). */
export function hostInputs(roots: readonly Node[], into = new Map<Node, Float64Array>()): Map<Node, Float64Array> {
  for (const n of toposort(roots)) {
    if (n.op !== 'input' || into.has(n)) continue;
    const h = hostDataOf(n);
    if (!h) throw new Error(`hostInputs: input ${n} has no host data (build test graphs from tensor(...) data)`);
    into.set(n, Float64Array.from(h));
  }
  return into;
}

/** Evaluates tensors in float64 with the reference interpreter. */
export function evalF64(ts: readonly Tensor[], env?: Map<Node, Float64Array>): Float64Array[] {
  const roots = ts.map((t) => t.node);
  const vals = hostInputs(roots, env);
  return interpret(roots, (n) => vals.get(n)!);
}

export interface GradCheck extends Tol {
  /** Positions to differentiate (default: every float argument). */
  argnums?: number[];
  /** Finite-difference step (default 1e-6). */
  h?: number;
  /** Tolerance of the GPU gradient vs the float64 one (default rtol 1e-4, atol 1e-5). */
  gpu?: Tol | false;
}

/**
 * Checks the gradient of `f` at `xs`. A non-scalar f is reduced to the scalar sum(f(xs) * w) with
 * fixed random weights w, so every output element gets a different cotangent. Returns the float64
 * gradients.
 */
export async function checkGrad(name: string, f: (...xs: Tensor[]) => Tensor, xs: Tensor[], opts: GradCheck = {}): Promise<Float64Array[]> {
  const argnums = opts.argnums ?? xs.map((_, i) => i).filter((i) => xs[i]!.dtype === 'float32' || xs[i]!.dtype === 'float16');
  const out0 = f(...xs);
  const w = out0.size === 1 ? null : rt([...out0.shape], 7919 + out0.size, 0.5, 1.5);
  const loss = (...a: Tensor[]) => { const o = f(...a); return w ? sum(mul(o, w)) : sum(o); };
  const gs = grad(loss, { argnums })(...xs) as Tensor[];
  argnums.forEach((k, i) => assert.equal([...gs[i]!.shape], [...xs[k]!.shape], `${name}: gradient ${i} shape`));

  // (a) float64: analytic gradient vs central differences of the loss.
  const lossNode = loss(...xs).node;
  const env = hostInputs([lossNode, ...gs.map((g) => g.node)]);
  const analytic = interpret(gs.map((g) => g.node), (n) => env.get(n)!);
  const h = opts.h ?? 1e-6;
  argnums.forEach((k, i) => {
    const node = xs[k]!.node, base = env.get(node)!;
    const fd = new Float64Array(base.length);
    for (let j = 0; j < base.length; j++) {
      const at = (d: number) => {
        const v = Float64Array.from(base); v[j] += d;
        return interpret([lossNode], (n) => (n === node ? v : env.get(n)!))[0]![0]!;
      };
      fd[j] = (at(h) - at(-h)) / (2 * h);
    }
    close(analytic[i]!, fd, `${name}: d/d(arg ${k}) vs finite differences`, { rtol: opts.rtol ?? 1e-5, atol: opts.atol ?? 1e-6 });
  });

  // (b) the compiled WebGPU gradient vs the float64 one.
  if (opts.gpu !== false) {
    for (let i = 0; i < gs.length; i++) {
      const got = await gs[i]!.data();
      close(got, analytic[i]!, `${name}: GPU d/d(arg ${argnums[i]}) vs float64`, { rtol: 1e-4, atol: 1e-5, ...(opts.gpu ?? {}) });
    }
  }
  return analytic;
}
