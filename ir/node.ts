/**
 * The graph IR: one hash-consed node type for every primitive.
 *
 * A Node is immutable: (op, dtype, shape, src, arg). Building a node whose fields equal an existing
 * live node returns that node, so equal subgraphs are one object and common-subexpression
 * elimination is free (idea from tinygrad's UOp). The table holds nodes weakly, so graphs nobody
 * references are garbage collected.
 *
 * The primitive set is small on purpose. Everything else (softmax, layernorm, conv, losses, argmax)
 * is composed from these in ops/, so fusion and autodiff see through it. Adding a primitive: add it
 * to its list below (UNARY_OPS, BINARY_OPS, …) or to `Op`, then the type checker lists every table
 * that must handle it: OP_INFO here (what the scheduler and codegen need to know of it), the
 * gradient rules (ir/vjp-rules.ts), the interpreter (ir/interpret.ts) and codegen (codegen/expr.ts).
 * The simplifier (ir/passes/simplify.ts) only knows the ops it rewrites.
 *
 * Two primitives depend on the index of the element they compute, not only on their sources:
 * `iota` and `random`. `random` is counter-based (Threefry, ir/random.ts): element i is a pure
 * function of (seed, stream, i), so any kernel can compute any element alone, and its seed is a
 * tensor operand (a jitted step takes a fresh seed per call without retracing). Its seed is read at
 * the scalar index, not at the element's index (indexing.ts `SCALAR_IX`).
 */
import type { DType } from './dtype.ts';
import type { Shape } from './shape.ts';

export const UNARY_OPS = ['neg', 'recip', 'sqrt', 'exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'abs', 'floor', 'sign', 'not', 'cast', 'detach'] as const;
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'mod', 'lt', 'le', 'eq', 'ne', 'and', 'or'] as const;
export const VIEW_OPS = ['reshape', 'permute', 'expand', 'pad', 'shrink'] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = 'sum' | 'max' | 'min';
export type ViewOp = (typeof VIEW_OPS)[number];
export type Op =
  | 'input'   // a realized buffer or a jit/grad placeholder; arg: InputArg
  | 'const'   // a scalar constant (shape []); arg: number
  | 'iota'    // value = index along axis `arg` (1-D, shape [n])
  | 'random'  // float32 uniform in [0, 1) at each flat index i, a hash of (seed, i): src [seed] (an int32 or uint32 scalar), arg: stream (ir/random.ts)
  | UnaryOp | BinaryOp
  | 'where'   // where(cond, a, b)
  | 'reduce'  // arg: ReduceArg; keeps reduced dims as size 1
  | ViewOp    // index transforms, never copies: reshape, permute(arg perm), expand, pad(arg [lo,hi][]), shrink(arg ShrinkArg)
  | 'matmul'; // [...batch, M, K] x [...batch, K, N] -> [...batch, M, N], batch dims equal

export const COMPARE_OPS: readonly BinaryOp[] = ['lt', 'le', 'eq', 'ne'];

/** What the scheduler and codegen need to know of each primitive. */
export interface OpInfo {
  readonly kind: 'leaf' | 'unary' | 'binary' | 'where' | 'reduce' | 'view' | 'matmul' | 'random';
  /** Too costly to recompute once per tile load of a matmul operand: transcendentals, and random (20 rounds of a hash). */
  readonly costly: boolean;
}
const info = (kind: OpInfo['kind'], costly = false): OpInfo => ({ kind, costly });
export const OP_INFO: { readonly [P in Op]: OpInfo } = {
  input: info('leaf'), const: info('leaf'), iota: info('leaf'), random: info('random', true),
  neg: info('unary'), recip: info('unary'), sqrt: info('unary', true), exp: info('unary', true), log: info('unary', true),
  sin: info('unary', true), cos: info('unary', true), tanh: info('unary', true), sigmoid: info('unary', true), abs: info('unary'),
  floor: info('unary'), sign: info('unary'), not: info('unary'), cast: info('unary'), detach: info('unary'),
  add: info('binary'), sub: info('binary'), mul: info('binary'), div: info('binary'), max: info('binary'), min: info('binary'),
  pow: info('binary', true), mod: info('binary'), lt: info('binary'), le: info('binary'), eq: info('binary'), ne: info('binary'),
  and: info('binary'), or: info('binary'),
  where: info('where'), reduce: info('reduce'),
  reshape: info('view'), permute: info('view'), expand: info('view'), pad: info('view'), shrink: info('view'),
  matmul: info('matmul'),
};

export const isUnary = (op: Op): op is UnaryOp => OP_INFO[op].kind === 'unary';
export const isBinary = (op: Op): op is BinaryOp => OP_INFO[op].kind === 'binary';
export const isView = (op: Op): op is ViewOp => OP_INFO[op].kind === 'view';
/** Elementwise: output[i] depends only on inputs at i (same shape). */
export const isElementwise = (op: Op) => { const k = OP_INFO[op].kind; return k === 'unary' || k === 'binary' || k === 'where'; };

/** Where an input's data lives: a runtime buffer (opaque to the IR) or nothing yet (a placeholder). */
export interface InputArg { readonly uid: number; readonly name: string }
export interface ReduceArg { readonly op: ReduceOp; readonly axes: readonly number[] }
export interface ShrinkArg { readonly start: readonly number[]; readonly step: readonly number[] }
export type PadArg = readonly (readonly [number, number])[];

export type Arg = null | number | InputArg | ReduceArg | ShrinkArg | PadArg | readonly number[];

let nextId = 0;
/** Called with every node `make` returns while set (ops/inspect/sources.ts records where ops were
 * called when profiling); unset, it costs one check per call. */
export const nodeHook: { onMake: ((n: Node) => void) | null } = { onMake: null };

/**
 * The hash-consing table: live nodes by a 32-bit hash of their fields, each entry one weak
 * reference or, on a collision, a list of them; a hit is confirmed field by field. No key string
 * is built per node. Entries whose node was collected are swept whenever the table has doubled
 * since the last sweep (amortized constant time per node; a FinalizationRegistry cell per node
 * cost more than the sweep).
 */
type Entry = WeakRef<Node> | WeakRef<Node>[];
const table = new Map<number, Entry>();
let sweepAt = 4096;
function sweep(): void {
  for (const [h, e] of table) {
    if (!Array.isArray(e)) { if (e.deref() === undefined) table.delete(h); continue; }
    const live = e.filter((r) => r.deref() !== undefined);
    if (!live.length) table.delete(h);
    else table.set(h, live.length === 1 ? live[0]! : live);
  }
  sweepAt = Math.max(4096, 2 * table.size);
}

const f64 = new Float64Array(1), u32 = new Uint32Array(f64.buffer);
const mix = (h: number, v: number) => Math.imul(h ^ v, 0x01000193);
function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return h;
}
/** Hashes of op and dtype names (memoized; the same in every process). */
const names = new Map<string, number>();
const nameId = (s: string) => { let i = names.get(s); if (i === undefined) names.set(s, (i = mixString(0x811c9dc5, s))); return i; };
/** A number's hash; equal under Object.is (so all NaNs are one, 0 and -0 two), as argKey distinguishes them. */
function mixNumber(h: number, v: number): number {
  if (v !== v) return mix(h, 0x7ff80000);
  f64[0] = v;
  return mix(mix(h, u32[0]!), u32[1]!);
}
/** Non-number args are compared (and hashed) by their argKey text. */
function argText(arg: Arg): string | null {
  if (arg === null || typeof arg === 'number') return null;
  // Arrays of integers (permutations, axes) as JSON.stringify writes them, without its generality.
  if (Array.isArray(arg)) {
    let s = '[';
    for (let i = 0; i < arg.length; i++) {
      const v = arg[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || Object.is(v, -0)) return JSON.stringify(arg);
      s += i ? ',' + v : v;
    }
    return s + ']';
  }
  return JSON.stringify(arg);
}

/** @internal The table's 30-bit hash of a node's fields (`text`: argText(arg)); exported for the hash-consing tests. */
export function nodeHash(op: Op, dtype: DType, shape: Shape, src: readonly Node[], arg: Arg, text = argText(arg)): number {
  let h = mix(mix(0x811c9dc5, nameId(op)), nameId(dtype));
  for (let i = 0; i < shape.length; i++) h = mix(h, shape[i]!);
  h = mix(h, -1);
  for (let i = 0; i < src.length; i++) h = mix(h, src[i]!.id);
  if (text !== null) h = mixString(mix(h, 1), text);
  else if (arg !== null) h = mixNumber(mix(h, 2), arg as number);
  return h & 0x3fffffff; // a small integer (no heap number per key)
}

/** Stamps of traversals (Node.visited). */
let visitStamp = 0;
/** @internal A fresh stamp: a traversal marks the nodes it reached by setting `visited` to it (no Set).
 * Such traversals must not interleave (none calls another, nor toposort, while it runs). */
export const newVisit = (): number => ++visitStamp;

export class Node {
  readonly id = nextId++;
  /** @internal The stamp of the last traversal that reached this node (toposort, newVisit). */
  visited = 0;
  /** @internal How many Tensors stand for this node (ops/tensor.ts: dispose frees its buffer at zero). */
  holders = 0;
  private constructor(
    readonly op: Op,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly src: readonly Node[],
    readonly arg: Arg,
    /** argKey of a non-number arg (compared on a hash hit), else null. */
    private readonly argStr: string | null,
  ) {}

  /** The one way to make a node: returns the existing node when an equal one is alive. */
  static make(op: Op, dtype: DType, shape: Shape, src: readonly Node[], arg: Arg = null): Node {
    const text = argText(arg);
    const h = nodeHash(op, dtype, shape, src, arg, text);
    const e = table.get(h);
    if (e !== undefined) {
      if (!Array.isArray(e)) {
        const hit = e.deref();
        if (hit !== undefined && hit.equals(op, dtype, shape, src, arg, text)) { nodeHook.onMake?.(hit); return hit; }
      } else {
        for (const r of e) {
          const hit = r.deref();
          if (hit !== undefined && hit.equals(op, dtype, shape, src, arg, text)) { nodeHook.onMake?.(hit); return hit; }
        }
      }
    }
    // A frozen shape (another node's) is shared as it is.
    const n = new Node(op, dtype, Object.isFrozen(shape) ? shape : Object.freeze([...shape]), Object.freeze([...src]), arg, text);
    const ref = new WeakRef(n);
    if (e === undefined) table.set(h, ref);
    else if (!Array.isArray(e)) table.set(h, e.deref() === undefined ? ref : [e, ref]);
    else e.push(ref);
    if (table.size >= sweepAt) sweep();
    nodeHook.onMake?.(n);
    return n;
  }

  private equals(op: Op, dtype: DType, shape: Shape, src: readonly Node[], arg: Arg, text: string | null): boolean {
    if (this.op !== op || this.dtype !== dtype || this.shape.length !== shape.length || this.src.length !== src.length) return false;
    for (let i = 0; i < shape.length; i++) if (this.shape[i] !== shape[i]) return false;
    for (let i = 0; i < src.length; i++) if (this.src[i] !== src[i]) return false;
    return text !== null ? this.argStr === text : this.argStr === null && Object.is(this.arg, arg);
  }

  toString(): string { return `${this.op}#${this.id}<${this.dtype}[${this.shape.join(',')}]>`; }
}

export function argKey(arg: Arg): string {
  if (arg === null) return '';
  if (typeof arg === 'number') return Object.is(arg, -0) ? '-0' : String(arg);
  return JSON.stringify(arg);
}

let nextUid = 0;
/** A fresh input node; `name` only labels it in dumps and WGSL. */
export function inputNode(dtype: DType, shape: Shape, name = 'in'): Node {
  return Node.make('input', dtype, shape, [], { uid: nextUid++, name });
}

/** Topological order (sources before users) of everything reachable from `roots`. */
export function toposort(roots: readonly Node[]): Node[] {
  // Depth first with an explicit stack (graphs are deep); nodes and their next source index in
  // two parallel arrays, and visits marked on the nodes by a per-call stamp (no Set).
  const stamp = newVisit();
  const order: Node[] = [];
  const nodes: Node[] = [], next: number[] = [];
  for (let r = roots.length - 1; r >= 0; r--) { nodes.push(roots[r]!); next.push(0); }
  while (nodes.length) {
    const top = nodes.length - 1, n = nodes[top]!, i = next[top]!;
    if (i === 0 && n.visited === stamp) { nodes.pop(); next.pop(); continue; }
    if (i < n.src.length) {
      next[top] = i + 1;
      const s = n.src[i]!;
      if (s.visited !== stamp) { nodes.push(s); next.push(0); }
      continue;
    }
    nodes.pop(); next.pop();
    if (n.visited !== stamp) { n.visited = stamp; order.push(n); }
  }
  return order;
}

/** Users of each node within the graph of `order`. */
export function usersOf(order: readonly Node[]): Map<Node, Node[]> {
  const users = new Map<Node, Node[]>();
  for (const n of order) users.set(n, []);
  for (const n of order) for (const s of n.src) users.get(s)?.push(n);
  return users;
}

/** Readable text dump of a graph, one node a line (TESSERA_DEBUG=ir prints this). */
export function dumpGraph(roots: readonly Node[]): string {
  return toposort(roots).map((n) => {
    const arg = n.arg === null ? '' : ` ${argKey(n.arg)}`;
    return `%${n.id} = ${n.op}${arg} (${n.src.map((s) => '%' + s.id).join(', ')}) : ${n.dtype}[${n.shape.join(',')}]`;
  }).join('\n');
}
