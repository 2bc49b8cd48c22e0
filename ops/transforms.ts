/**
 * Function transformations, as in JAX: `grad`, `valueAndGrad`, `vjp` and `jit`.
 *
 * All of them trace: the function runs once on placeholder tensors (fresh input nodes), which
 * records its graph. `grad` differentiates that graph with ir/autodiff.ts and substitutes the real
 * arguments back, so the result is lazy tensors like any other (and can be differentiated or
 * jitted again). `jit` compiles the traced graph into a Program once per input signature
 * (shapes, dtypes and static arguments) and replays it: no re-tracing, no new pipelines, one
 * submit per call.
 *
 * Non-differentiable inputs: gradients only flow through float tensors. An int32, uint32 or bool
 * argument (or a float argument the output does not depend on) gets a float32 (for float16
 * inputs, float16) tensor of zeros of its own shape, from grad, valueAndGrad and vjp alike.
 * Casts to an integer type, comparisons, floor, sign and where's condition pass no gradient.
 *
 * Traced functions run synchronously on placeholders: they cannot read values (data(), item()),
 * so value-dependent JS branching is an error (use where()); shapes and dtypes are static.
 */
import { backward } from '../ir/autodiff.ts';
import { isFloat } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { inputNode, Node } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { rewrite } from '../ir/passes/rewrite.ts';
import { numel } from '../ir/shape.ts';
import { aliasOf, engine, execute, globalOptions, inputsOf, programFor, substituteRealized, tracers } from '../runtime/engine.ts';
import { guardBorrowed } from '../runtime/external.ts';
import { paramValues, type Program } from '../runtime/program.ts';
import { trackCall } from '../runtime/activity.ts';
import { submitOpen } from '../runtime/submit.ts';
import { bindStorage, currentEpoch, storageOf, type Storage } from '../runtime/storage.ts';
import { T } from './graph.ts';
import { flatten } from './pytree.ts';
import { realizeAll, Tensor } from './tensor.ts';
import { describeTree, traceError } from './trace-errors.ts';

export interface GradOptions { argnums?: number | number[] }

function placeholderFor(t: Tensor, name: string): Node {
  const n = inputNode(t.dtype, t.shape, name);
  tracers.add(n);
  return n;
}

let tracingDepth = 0;
/** Whether a function is being traced now (jit, grad): eager-only behaviour (an optimizer realizing its update) is skipped. */
export const isTracing = () => tracingDepth > 0;
/** Runs `run` as a traced function runs: what an optimizer's update realizes eagerly stays a lazy graph. */
export function whileTracing<T>(run: () => T): T {
  tracingDepth++;
  try { return run(); } finally { tracingDepth--; }
}

const isThenable = (x: unknown): x is PromiseLike<unknown> => typeof (x as { then?: unknown } | null)?.then === 'function';

/**
 * Tracing runs f synchronously: an async f (one that awaits, e.g. to read a value with data() or
 * item() and branch on it) cannot be traced. Its promise is silenced here (reading a traced tensor
 * rejects it) and the call fails with one clear error instead.
 */
function rejectAsync(out: unknown, op: string): void {
  if (!isThenable(out)) return;
  Promise.resolve(out).catch(() => {});
  throw new TesseraError(op, 'the function returned a Promise: traced functions must be synchronous and cannot read tensor values (data(), item(), toArray())',
    'compute with tensor ops only; branch on values with where(), not with JS if');
}

/** Traces f on placeholders for the tensors in `args[argnums]`; returns the graph and a substitution back. */
function trace(f: (...a: any[]) => any, args: unknown[], argnums: number[], op: string) {
  for (const i of argnums)
    if (!Number.isInteger(i) || i < 0 || i >= args.length)
      throw new TesseraError(op, `argnums ${i} is out of range for ${args.length} argument${args.length === 1 ? '' : 's'}`, `use integers in [0, ${args.length - 1}]`);
  if (new Set(argnums).size !== argnums.length) throw new TesseraError(op, `argnums ${JSON.stringify(argnums)} repeats an argument`, 'name each argument once');
  const back = new Map<Node, Node>();
  const flats = argnums.map((i) => flatten(args[i]));
  flats.forEach((fl, k) => {
    if (!fl.leaves.length) throw new TesseraError(op, `argument ${argnums[k]} (${typeof args[argnums[k]!]}) contains no tensors to differentiate`, 'pass tensors at the argnums positions');
  });
  const holders = flats.map((fl) => fl.leaves.map((t) => { const p = placeholderFor(t, 'param'); back.set(p, t.use(op)); return p; }));
  const traced = [...args];
  argnums.forEach((i, k) => { traced[i] = flats[k]!.unflatten(holders[k]!.map((p) => T(p))); });
  let out: unknown;
  try { out = whileTracing(() => f(...traced)); } catch (e) { traceError(e, op, args); }
  rejectAsync(out, op);
  return { out, holders, flats, substitute: (nodes: readonly Node[]) => rewrite(nodes, (n) => back.get(n) ?? n) };
}

/** The gradient of an input nothing flowed to: zeros of its shape (float32 for int and bool inputs). */
const zeroGrad = (w: Node) => Node.make('const', isFloat(w.dtype) ? w.dtype : 'float32', w.shape, [], 0);

function scalarOutput(out: unknown, op: string): Node {
  if (!(out instanceof Tensor)) {
    const what = Array.isArray(out) ? 'an array' : out === null ? 'null' : typeof out === 'object' ? 'an object' : typeof out;
    throw new TesseraError(op, `the function must return a scalar Tensor, got ${what}`, 'return e.g. loss.mean()');
  }
  if (numel(out.shape) !== 1)
    throw new TesseraError(op, `the function must return a float scalar, got ${out.dtype} of shape ${fmtShape(out.shape)}`, 'reduce the output to one value, e.g. with sum() or mean()');
  if (!isFloat(out.dtype))
    throw new TesseraError(op,
      `the function returned an ${out.dtype} scalar: only float outputs have gradients (integer and bool values are piecewise constant)`,
      "compute the output in float: castTo(x, 'float32') the integer inputs before the arithmetic, or return a float loss");
  return out.use(op);
}

/** The gradients (per argument, as its pytree) and the value, substituted back onto the real arguments in one rewrite. */
function gradsOf(outNode: Node, holders: Node[][], flats: ReturnType<typeof flatten>[], substitute: (n: readonly Node[]) => Node[]): { grads: unknown[]; value: Node } {
  const wrt = holders.flat();
  const seed = Node.make('const', outNode.dtype, outNode.shape, [], 1);
  const gs = backward([outNode], [seed], wrt);
  // Non-differentiable (int/bool) or unused inputs get zeros of their own shape.
  const filled = gs.map((g, i) => g ?? zeroGrad(wrt[i]!));
  const real = substitute([...filled, outNode]);
  let k = 0;
  return { grads: flats.map((fl) => fl.unflatten(fl.leaves.map(() => T(real[k++]!)))), value: real[filled.length]! };
}

const normArgnums = (a: number | number[] | undefined) => (a === undefined ? [0] : typeof a === 'number' ? [a] : a);

/** grad(f)(...args): the gradient of scalar-valued f with respect to args[argnums] (default 0); pytrees welcome. */
export function grad<A extends unknown[]>(f: (...args: A) => Tensor, opts: GradOptions = {}): (...args: A) => any {
  const vg = valueAndGrad(f, opts);
  return (...args: A) => vg(...args)[1];
}

/** valueAndGrad(f)(...args) = [f(...args), grad(f)(...args)], sharing one trace. */
export function valueAndGrad<A extends unknown[]>(f: (...args: A) => Tensor, opts: GradOptions = {}): (...args: A) => [Tensor, any] {
  const argnums = normArgnums(opts.argnums);
  return (...args: A) => {
    const { out, holders, flats, substitute } = trace(f as (...a: any[]) => any, args, argnums, 'grad');
    const o = scalarOutput(out, 'grad');
    const { grads, value } = gradsOf(o, holders, flats, substitute);
    return [T(value), typeof opts.argnums === 'object' ? grads : grads[0]];
  };
}

/** vjp(f, ...primals) = [f(...primals), (cotangent) => cotangents of every primal]. */
export function vjp(f: (...args: Tensor[]) => Tensor, ...primals: Tensor[]): [Tensor, (ct: Tensor) => Tensor[]] {
  const argnums = primals.map((_, i) => i);
  const { out, holders, substitute } = trace(f as (...a: any[]) => any, primals, argnums, 'vjp');
  if (!(out instanceof Tensor)) throw new TesseraError('vjp', 'the function must return a Tensor');
  const o = out.use('vjp');
  const value = T(substitute([o])[0]!);
  return [value, (ct: Tensor) => {
    if (ct.dtype !== o.dtype || ct.shape.join() !== o.shape.join())
      throw new TesseraError('vjp', `cotangent ${ct.dtype}${fmtShape(ct.shape)} does not match the output ${o.dtype}${fmtShape(o.shape)}`);
    const wrt = holders.flat();
    const gs = backward([o], [ct.use('vjp')], wrt).map((g, i) => g ?? zeroGrad(wrt[i]!));
    return substitute(gs).map((n) => T(n));
  }];
}

// ---------------------------------------------------------------------------------------------
export interface JitOptions {
  /** Argument positions whose tensors the call consumes: their buffers are recycled after the call. */
  donate?: number[];
}
interface Compiled {
  program: Program; roots: Node[]; compute: Node[]; inputs: Node[]; owned: Node[]; argIndex: number[]; unflatten: (ls: readonly Tensor[]) => any;
  /** The trace's parameter constants: the program may be shared with graphs of the same structure and other values. */
  params: Float32Array;
}

/**
 * Consumes the donated arguments after a call: each tensor is disposed and its buffer goes back to
 * the pool now, even where another node still aliases it (realizing a tensor leaves its earlier
 * node holding the same buffer until that node is collected), so a donating loop runs in constant
 * memory. Buffers that a result or a non-donated argument of this call shares are kept.
 */
function donateArgs(args: unknown[], donate: readonly number[], argStorages: readonly Storage[], resultStorages: readonly Storage[]): void {
  const donated = new Set<Storage>();
  const keep = new Set<Storage>(resultStorages);
  let k = 0;
  args.forEach((a, i) => {
    for (const _ of flatten(a).leaves) { (donate.includes(i) ? donated : keep).add(argStorages[k]!); k++; }
  });
  for (let j = k; j < argStorages.length; j++) keep.add(argStorages[j]!); // captured constants
  for (const i of donate) for (const t of flatten(args[i]).leaves) t.dispose();
  for (const s of donated) if (!keep.has(s)) while (!s.freed) s.release();
}

export interface Jitted<A extends unknown[], R> {
  (...args: A): Promise<R>;
  /** How many times the function has been traced (once per new input signature). */
  readonly traceCount: number;
  /** Kernel launches per call of the most recent signature. */
  readonly dispatches: number;
}

/**
 * jit(f): compiles f per input signature into one Program and replays it. Tensor leaves of the
 * arguments are inputs; everything else is static (part of the signature). The result has the
 * same tree structure as f's, with realized tensors.
 */
export function jit<A extends unknown[], R>(f: (...args: A) => R, opts: JitOptions = {}): Jitted<A, R> {
  const cache = new Map<string, Promise<Compiled>>();
  const traced: string[] = []; // the arguments of earlier traces, for error messages
  let traces = 0, lastDispatches = 0;
  const call = (...args: A): Promise<R> => trackCall(() => run(...args));
  const run = async (...args: A): Promise<R> => {
    for (const i of opts.donate ?? [])
      if (!Number.isInteger(i) || i < 0 || i >= args.length) throw new TesseraError('jit', `donate ${i} is out of range for ${args.length} argument${args.length === 1 ? '' : 's'}`, 'list argument positions');
    const flat = flatten(args);
    for (const t of flat.leaves) t.use('jit'); // a disposed argument fails before any tracing
    // Keyed by device too: after a device loss (runtime/device.ts), programs of the lost device are traced again.
    const sig = `${currentEpoch()}|${flat.structure}|${flat.leaves.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(';')}`;
    let cp = cache.get(sig);
    if (!cp) {
      cp = (async () => {
        traces++;
        const holders = flat.leaves.map((t) => placeholderFor(t, 'arg'));
        const tracedArgs = flatten(args).unflatten(holders.map((h) => T(h))) as A;
        // Placeholders stay tracers: reading them, now or later, is an error.
        let out: unknown;
        try {
          out = whileTracing(() => f(...tracedArgs));
          // An async f: let its own error (typically reading a traced tensor) surface, else reject it.
          if (isThenable(out)) await out;
        } catch (e) { traceError(e, 'jit', args, traced); }
        traced.push(describeTree([...args]));
        if (traced.length > 4) traced.shift();
        rejectAsync(out, 'jit');
        const of = flatten(out);
        const roots = runPasses(substituteRealized(of.leaves.map((t) => t.use('jit'))));
        const used = new Set(inputsOf(roots));
        for (const n of used) if (tracers.has(n) && !holders.includes(n)) throw new TesseraError('jit', 'the function uses a traced tensor from another trace');
        // Program inputs: every argument placeholder (unused ones too, for a fixed calling convention), then captured constants.
        const captured = [...used].filter((n) => !holders.includes(n));
        const inputs = [...holders, ...captured];
        // The compiled function owns the constants it captured: a node of its own is bound to each
        // one's storage (and released when this entry is collected with the jitted function), so
        // disposing the tensor a constant was read from, or another tensor whose realization a
        // lazy constant was remembered as (substituteRealized), cannot free a buffer the program reads.
        const owned = captured.map((n) => { const h = inputNode(n.dtype, n.shape, 'captured'); bindStorage(h, storageOf(n)); return h; });
        const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
        const e = await engine();
        const program = await programFor(e, compute, inputs, globalOptions);
        return { program, roots, compute, inputs, owned, argIndex: holders.map((_, i) => i), unflatten: of.unflatten, params: paramValues(compute) };
      })();
      cache.set(sig, cp);
      cp.catch(() => cache.delete(sig));
    }
    const c = await cp;
    lastDispatches = c.program.dispatches;
    // One submit per call: the still-lazy arguments are computed in the call's own command encoder.
    const lazy = flat.leaves.filter((t) => t.node.op !== 'input');
    submitOpen();
    if (lazy.length) await realizeAll(lazy);
    const argNodes = flat.leaves.map((t) => t.use('jit'));
    const storages = [...argNodes, ...c.owned].map((n) => storageOf(n, 'jit'));
    const e = await engine();
    const guard = guardBorrowed(e, storages);
    const res = execute(e, c.program, c.roots, c.compute, storages, c.inputs, false, c.params, false);
    // A borrowed buffer's misuse shows as a validation error of the submit: submit inside the scope.
    if (guard) { submitOpen(); await guard(res.nodes); }
    donateArgs(args, opts.donate ?? [], storages, res.nodes.map((n) => storageOf(n)));
    return c.unflatten(res.nodes.map((n) => new Tensor(n))) as R;
  };
  Object.defineProperty(call, 'traceCount', { get: () => traces });
  Object.defineProperty(call, 'dispatches', { get: () => lastDispatches });
  return call as Jitted<A, R>;
}
