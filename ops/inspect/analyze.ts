/**
 * The compiler's view of a program, for explain and profile: the graph a function or tensors
 * stand for is put through the real pipeline (ir/passes, ir/schedule/, codegen) and each kernel
 * is described — the primitives it fuses, the buffers it reads and writes, the bytes it moves and
 * the arithmetic it does.
 *
 * Counting: bytes are every buffer a kernel binds, once (the least memory traffic it can have);
 * FLOPs count each fused arithmetic primitive once per element it produces (a reduction once per
 * element it reads, a matmul 2·M·N·K), ignoring casts, views and recomputation of inlined ops.
 */
import { generate, type DeviceCaps } from '../../codegen/kernels.ts';
import { byteSize, type DType } from '../../ir/dtype.ts';
import { TesseraError } from '../../ir/error.ts';
import { isView, toposort, type InputArg, type Node, type ReduceArg } from '../../ir/node.ts';
import { runPasses } from '../../ir/passes/index.ts';
import { kernelOutputs, kernelRoots, schedule, type Kernel } from '../../ir/schedule/index.ts';
import { numel, type Shape } from '../../ir/shape.ts';
import { aliasOf, substituteRealized } from '../../runtime/engine.ts';
import { flatten } from '../pytree.ts';
import { Tensor } from '../tensor.ts';
import { sourceOf, type SourceSite } from './sources.ts';

export interface BufferInfo {
  /** `a0` for the first argument (`a1.kernel` inside a pytree), `k2.out0` for kernel 2's first output, else the input's name. */
  label: string;
  dtype: DType;
  shape: Shape;
  bytes: number;
  /** The kernel writing it, or null for an input. */
  producer: number | null;
}

export interface KernelInfo {
  index: number;
  name: string;
  kind: Kernel['kind'];
  /** The primitives fused, in evaluation order (views, inputs and constants left out). */
  primitives: string[];
  /** Views (reshape, permute, expand, pad, shrink) folded into its index arithmetic. */
  views: number;
  reads: BufferInfo[];
  writes: BufferInfo[];
  bytes: number;
  flops: number;
  wgsl: string;
  /** Where the fused ops were called (only when sources were captured; see sources.ts). */
  sources: SourceSite[];
  /** The program's results this kernel writes (indices into the outputs). */
  results: number[];
}

export interface Analysis {
  kernels: KernelInfo[];
  inputs: BufferInfo[];
  /** What each result of the program is: a kernel's output, or an input passed through. */
  outputs: BufferInfo[];
  /** The same graph compiled without fusion (one kernel per primitive). */
  unfused: { kernels: number; bytes: number };
  primitives: number;
  /** The graph's roots after the passes, and the kernels as scheduled (for profile). */
  roots: Node[];
  scheduled: Kernel[];
}

export type Target = Tensor | readonly unknown[] | ((...args: any[]) => unknown);

/** Labels `a0`, `a1.kernel`, ... for the tensors of each argument (a single object argument: its keys, `params.kernel`). */
export function argLabels(args: readonly unknown[]): Map<Node, string> {
  const labels = new Map<Node, string>();
  const plain = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
  const walk = (x: unknown, path: string) => {
    if (x instanceof Tensor) { if (!labels.has(x.node)) labels.set(x.node, path); }
    else if (Array.isArray(x)) x.forEach((v, i) => walk(v, `${path}.${i}`));
    else if (plain(x)) for (const [k, v] of Object.entries(x)) walk(v, `${path}.${k}`);
  };
  if (args.length === 1 && plain(args[0])) for (const [k, v] of Object.entries(args[0])) walk(v, k);
  else args.forEach((a, i) => walk(a, `a${i}`));
  return labels;
}

/** The result nodes of `target`: a tensor, a pytree of tensors, or a function applied to `args`. */
export function resultNodes(op: string, target: Target, args: readonly unknown[]): Node[] {
  let out: unknown = target;
  if (typeof target === 'function') {
    out = target(...args);
    if (typeof (out as { then?: unknown } | null)?.then === 'function') {
      Promise.resolve(out).catch(() => {}); // its own failure would only repeat this one
      throw new TesseraError(op, 'the function returned a Promise: it must build tensors synchronously',
        'pass a function that returns tensors without awaiting (no data(), no fit())');
    }
  }
  const leaves = flatten(out).leaves;
  if (!leaves.length) throw new TesseraError(op,
    `expected a Tensor, a pytree of tensors or a function returning them, got ${out === null ? 'null' : typeof out}`,
    'e.g. explain((x) => softmax(x), x)');
  return leaves.map((t) => t.use(op));
}

const FREE = new Set(['cast', 'detach']);
const isLeaf = (n: Node) => n.op === 'input' || n.op === 'const';

function flopsOf(n: Node): number {
  if (n.op === 'matmul') {
    const a = n.src[0]!.shape;
    return 2 * numel(n.shape) * a[a.length - 1]!;
  }
  if (n.op === 'reduce') return numel(n.src[0]!.shape);
  if (FREE.has(n.op) || isView(n.op) || isLeaf(n) || n.op === 'random' || n.op === 'iota') return 0;
  return numel(n.shape);
}

/** The nodes a kernel evaluates: everything reachable from its roots without crossing what it reads. */
function fusedNodes(k: Kernel): Node[] {
  const roots = kernelRoots(k);
  const reads = new Set(k.reads);
  const out: Node[] = [], seen = new Set<Node>();
  const visit = (n: Node) => {
    if (seen.has(n) || reads.has(n)) return;
    seen.add(n);
    n.src.forEach(visit);
    out.push(n);
  };
  roots.forEach(visit);
  return out;
}

const primitiveName = (n: Node) => (n.op === 'reduce' ? (n.arg as ReduceArg).op : n.op);

/** Runs the pipeline on the graph of `roots` and describes its kernels. */
export function analyze(nodes: readonly Node[], caps: DeviceCaps, opts: { fuse: boolean; maxBuffers: number; skipRules?: readonly string[] },
  labels = new Map<Node, string>()): Analysis {
  const roots = runPasses(substituteRealized(nodes));
  // As realize does: a root that is an input, or a reshape of one, needs no kernel (it aliases the input's buffer).
  const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
  const scheduled = compute.length ? schedule(compute, opts) : [];
  const inputs: BufferInfo[] = [];
  const info = new Map<Node, BufferInfo>();
  const buffer = (n: Node, label: string, producer: number | null): BufferInfo => {
    const b = { label, dtype: n.dtype, shape: n.shape, bytes: numel(n.shape) * byteSize(n.dtype), producer };
    info.set(n, b);
    return b;
  };
  let unnamed = 0;
  for (const n of toposort(roots)) {
    if (n.op !== 'input') continue;
    const label = labels.get(n) ?? `${(n.arg as InputArg).name}${unnamed++}`;
    inputs.push(buffer(n, label, null));
  }
  const kernels = scheduled.map((k, index): KernelInfo => {
    const code = generate(k, caps);
    const fused = fusedNodes(k);
    const reads = k.reads.map((n) => info.get(n)!);
    const writes = kernelOutputs(k).map((n, i) => buffer(n, `k${index}.out${i}`, index));
    const sources: SourceSite[] = [];
    const seenSite = new Set<string>();
    for (const n of fused) {
      const s = sourceOf(n);
      const key = s && `${s.via}|${s.user}`;
      if (s && !seenSite.has(key!)) { seenSite.add(key!); sources.push(s); }
    }
    return {
      index, name: code.name, kind: k.kind,
      primitives: fused.filter((n) => !isView(n.op) && !isLeaf(n)).map(primitiveName),
      views: fused.filter((n) => isView(n.op)).length,
      reads, writes,
      bytes: [...reads, ...writes].reduce((s, b) => s + b.bytes, 0),
      flops: fused.reduce((s, n) => s + flopsOf(n), 0),
      wgsl: code.wgsl, sources, results: [],
    };
  });
  const outputs = roots.map((r, i) => {
    const b = info.get(r) ?? info.get(aliasOf(r)!)!;
    if (b.producer !== null) kernels[b.producer]!.results.push(i);
    return b;
  });
  const plain = compute.length ? schedule(compute, { ...opts, fuse: false }) : [];
  const unfusedBytes = plain.reduce((s, k) => s + [...k.reads, ...kernelOutputs(k)].reduce((t, n) => t + numel(n.shape) * byteSize(n.dtype), 0), 0);
  const primitives = toposort(compute).filter((n) => !isView(n.op) && !isLeaf(n) && n.op !== 'input').length;
  return { kernels, inputs, outputs, unfused: { kernels: plain.length, bytes: unfusedBytes }, primitives, roots, scheduled };
}
