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
const table = new Map<string, WeakRef<Node>>();
const registry = new FinalizationRegistry<string>((key) => {
  const ref = table.get(key);
  if (ref && ref.deref() === undefined) table.delete(key);
});

export class Node {
  readonly id = nextId++;
  private constructor(
    readonly op: Op,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly src: readonly Node[],
    readonly arg: Arg,
    readonly key: string,
  ) {}

  /** The one way to make a node: returns the existing node when an equal one is alive. */
  static make(op: Op, dtype: DType, shape: Shape, src: readonly Node[], arg: Arg = null): Node {
    const key = `${op}|${dtype}|${shape.join(',')}|${argKey(arg)}|${src.map((s) => s.id).join(',')}`;
    const hit = table.get(key)?.deref();
    if (hit) { nodeHook.onMake?.(hit); return hit; }
    const n = new Node(op, dtype, Object.freeze([...shape]), Object.freeze([...src]), arg, key);
    table.set(key, new WeakRef(n));
    registry.register(n, key);
    nodeHook.onMake?.(n);
    return n;
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
  const seen = new Set<Node>();
  const order: Node[] = [];
  const stack: [Node, number][] = roots.map((r) => [r, 0]);
  stack.reverse();
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [n, i] = top;
    if (i === 0 && seen.has(n)) { stack.pop(); continue; }
    if (i < n.src.length) { top[1]++; if (!seen.has(n.src[i]!)) stack.push([n.src[i]!, 0]); continue; }
    stack.pop();
    if (!seen.has(n)) { seen.add(n); order.push(n); }
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
