/**
 * Function transformations, as in JAX: `grad`, `valueAndGrad`, `vjp` and `jit`.
 *
 * All of them trace: the function runs once on placeholder tensors (fresh input nodes), which
 * records its graph. `grad` differentiates that graph with ir/autodiff.ts and substitutes the real
 * arguments back, so the result is lazy tensors like any other (and can be differentiated or
 * jitted again). `jit` compiles the traced graph into a Program once per input signature
 * (shapes, dtypes and static arguments) and replays it: no re-tracing, no new pipelines, one
 * submit per call.
 */
import { backward } from '../ir/autodiff.ts';
import { isFloat } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { inputNode, Node } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { rewrite } from '../ir/passes/rewrite.ts';
import { numel } from '../ir/shape.ts';
import { aliasOf, engine, execute, globalOptions, inputsOf, programFor, substituteRealized, tracers } from '../runtime/engine.ts';
import type { Program } from '../runtime/program.ts';
import { storageOf, unbindStorage } from '../runtime/storage.ts';
import { T } from './graph.ts';
import { flatten, type PyTree } from './pytree.ts';
import { realizeAll, Tensor } from './tensor.ts';

export interface GradOptions { argnums?: number | number[] }

function placeholderFor(t: Tensor, name: string): Node {
  const n = inputNode(t.dtype, t.shape, name);
  tracers.add(n);
  return n;
}

/** Traces f on placeholders for the tensors in `args[argnums]`; returns the graph and a substitution back. */
function trace(f: (...a: any[]) => any, args: unknown[], argnums: number[], op: string) {
  for (const i of argnums) if (i < 0 || i >= args.length) throw new TesseraError(op, `argnums ${i} is out of range for ${args.length} arguments`);
  const back = new Map<Node, Node>();
  const flats = argnums.map((i) => flatten(args[i]));
  const holders = flats.map((fl) => fl.leaves.map((t) => { const p = placeholderFor(t, 'param'); back.set(p, t.use(op)); return p; }));
  const traced = [...args];
  argnums.forEach((i, k) => { traced[i] = flats[k]!.unflatten(holders[k]!.map((p) => T(p))); });
  const out = f(...traced);
  return { out, holders, flats, substitute: (nodes: readonly Node[]) => rewrite(nodes, (n) => back.get(n) ?? n) };
}

function scalarOutput(out: unknown, op: string): Node {
  if (!(out instanceof Tensor)) throw new TesseraError(op, `the function must return a scalar Tensor, got ${typeof out}`, 'return e.g. loss.mean()');
  if (numel(out.shape) !== 1 || !isFloat(out.dtype))
    throw new TesseraError(op, `the function must return a float scalar, got ${out.dtype} of shape ${fmtShape(out.shape)}`, 'reduce the output to one value, e.g. with sum() or mean()');
  return out.use(op);
}

function gradsOf(outNode: Node, holders: Node[][], flats: ReturnType<typeof flatten>[], substitute: (n: readonly Node[]) => Node[]): unknown[] {
  const wrt = holders.flat();
  const seed = Node.make('const', outNode.dtype, outNode.shape, [], 1);
  const gs = backward([outNode], [seed], wrt);
  // Non-differentiable (int/bool) or unused inputs get zeros of their own shape.
  const filled = gs.map((g, i) => g ?? Node.make('const', isFloat(wrt[i]!.dtype) ? wrt[i]!.dtype : 'float32', wrt[i]!.shape, [], 0));
  const real = substitute(filled);
  let k = 0;
  return flats.map((fl) => fl.unflatten(fl.leaves.map(() => T(real[k++]!))));
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
    const grads = gradsOf(o, holders, flats, substitute);
    const value = T(substitute([o])[0]!);
    return [value, typeof opts.argnums === 'object' ? grads : grads[0]];
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
    const gs = backward([o], [ct.use('vjp')], wrt).map((g, i) => g ?? Node.make('const', wrt[i]!.dtype, wrt[i]!.shape, [], 0));
    return substitute(gs).map((n) => T(n));
  }];
}

// ---------------------------------------------------------------------------------------------
export interface JitOptions {
  /** Argument positions whose tensors the call consumes: their buffers are recycled after the call. */
  donate?: number[];
}
interface Compiled { program: Program; roots: Node[]; compute: Node[]; inputs: Node[]; argIndex: number[]; unflatten: (ls: readonly Tensor[]) => any }

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
  let traces = 0, lastDispatches = 0;
  const call = async (...args: A): Promise<R> => {
    const flat = flatten(args);
    const sig = flat.structure + '|' + flat.leaves.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(';');
    let cp = cache.get(sig);
    if (!cp) {
      cp = (async () => {
        traces++;
        const holders = flat.leaves.map((t) => placeholderFor(t, 'arg'));
        const tracedArgs = flatten(args).unflatten(holders.map((h) => T(h))) as A;
        let out: unknown;
        try { out = f(...tracedArgs); }
        finally { /* placeholders stay tracers: reading them later is an error */ }
        const of = flatten(out);
        const roots = runPasses(substituteRealized(of.leaves.map((t) => t.use('jit'))));
        const used = new Set(inputsOf(roots));
        for (const n of used) if (tracers.has(n) && !holders.includes(n)) throw new TesseraError('jit', 'the function uses a traced tensor from another trace');
        // Program inputs: every argument placeholder (unused ones too, for a fixed calling convention), then captured constants.
        const captured = [...used].filter((n) => !holders.includes(n));
        const inputs = [...holders, ...captured];
        const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
        const e = await engine();
        const program = await programFor(e, compute, inputs, globalOptions);
        return { program, roots, compute, inputs, argIndex: holders.map((_, i) => i), unflatten: of.unflatten };
      })();
      cache.set(sig, cp);
      cp.catch(() => cache.delete(sig));
    }
    const c = await cp;
    lastDispatches = c.program.dispatches;
    const lazy = flat.leaves.filter((t) => t.node.op !== 'input');
    if (lazy.length) await realizeAll(lazy);
    const argNodes = flat.leaves.map((t) => t.use('jit'));
    const storages = [...argNodes, ...c.inputs.slice(argNodes.length)].map(storageOf);
    const e = await engine();
    const res = execute(e, c.program, c.roots, c.compute, storages, c.inputs, false);
    for (const i of opts.donate ?? []) for (const t of flatten(args[i]).leaves) { if (t.node.op === 'input') unbindStorage(t.node); t.dispose(); }
    return c.unflatten(res.nodes.map((n) => new Tensor(n))) as R;
  };
  Object.defineProperty(call, 'traceCount', { get: () => traces });
  Object.defineProperty(call, 'dispatches', { get: () => lastDispatches });
  return call as Jitted<A, R>;
}
