/**
 * Replays: a graph whose raw structure (before the graph passes) was realized before runs from a
 * recorded plan, without the passes, the program lookup or rebuilding a single node. A lazy
 * frontend's per-step graphs are new nodes every step (their inputs are new): the tfjs backend
 * records ~360 nodes per training step, which the passes and the scalar packing would rebuild
 * twice over. A replay costs one walk over the graph.
 *
 * The key is the raw graph's structure the way structureKey keys a compiled graph: nodes in
 * topological order, inputs by position, parameter constants without their values. A plan
 * records which raw input each program slot binds (or which host scalars it packs), where each
 * root's result comes from, and which raw parameter constants the program's parameters are; a
 * graph whose constants the passes fold replays only with the values it was recorded with.
 * Realized the ordinary way (no replay): graphs with a node realized before (the engine reads its
 * buffer instead), placeholders of a trace, graphs past lazyGraphLimits, borrowed application
 * buffers (they need the validation scope of realize).
 */
import { isParamConst } from '../codegen/expr.ts';
import { hostArray, type DType } from '../ir/dtype.ts';
import { argKey, inputNode, isElementwise, isView, Node, toposort } from '../ir/node.ts';
import { rewrite } from '../ir/passes/rewrite.ts';
import { numel, shapesEqual, type Shape } from '../ir/shape.ts';
import type { Program } from './program.ts';
import { bindStorage, hostDataOf, Storage } from './storage.ts';

export interface RealizeOptions {
  /**
   * Pack the graph's host scalars (one-element inputs made from JS data) into one input per dtype,
   * read as views: a fused kernel binds one buffer instead of one per scalar (the tfjs backend:
   * learning rates, Adam's beta powers, loss weights are each a tensor written every step).
   */
  packScalars?: boolean;
}

/** Where a program input comes from: a raw input (by walk position), or a pack of raw host scalars. */
export type InputRef = number | { pack: readonly number[]; dtype: DType };
/** Where a root's result comes from: a program input it aliases (slot index), or the program's compute output. */
export interface RootRef { dtype: DType; shape: Shape; input?: number; compute?: number }

export interface Replay {
  program: Program;
  inputs: InputRef[];
  roots: RootRef[];
  /** The program's parameters as positions in the walk's parameter constants; null where the passes folded some. */
  paramIndex: number[] | null;
  /** With paramIndex null: the program's parameters, and the raw values they were computed from. */
  params: Float32Array;
  rawParams: readonly number[];
}

/**
 * A raw graph walked for its key: its inputs and parameter constants in walk order, and whether
 * the passes will fold constants (an elementwise op or a view of constants only): the only rules
 * that read a parameter constant's value. Otherwise the compiled graph's parameters are raw ones.
 */
export interface Walk { key: string; inputs: Node[]; params: Node[]; folds: boolean }

/** Replays kept per engine (least recently used are dropped first). */
export const MAX_REPLAYS = 256;

const isHostScalar = (n: Node) => numel(n.shape) === 1 && hostDataOf(n) !== null;

/**
 * The replay key of `roots`' graph, or null when it is not replayable: `stop(n)` (a realized node,
 * a trace's placeholder), or more nodes or depth than the limits (the engine realizes it in parts).
 */
export function walkGraph(roots: readonly Node[], prefix: string, opts: RealizeOptions, stop: (n: Node) => boolean,
  limits: { nodes: number; depth: number }): Walk | null {
  const order = toposort(roots);
  if (order.length > limits.nodes) return null;
  const pos = new Map<Node, number>(), depth: number[] = [], parts: string[] = [], inputs: Node[] = [], params: Node[] = [];
  let folds = false;
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    if (stop(n)) return null;
    let d = 0, src = '';
    for (let j = 0; j < n.src.length; j++) {
      const p = pos.get(n.src[j]!)!;
      d = Math.max(d, depth[p]! + 1);
      src += (j ? ',' : '') + p;
    }
    if (d > limits.depth) return null;
    if (n.src.length && n.src.every((x) => x.op === 'const') && (isElementwise(n.op) || (isView(n.op) && n.op !== 'pad'))) folds = true;
    depth.push(d);
    pos.set(n, i);
    let part: string;
    if (n.op === 'input') { part = `in|${n.dtype}|${n.shape.join(',')}|${opts.packScalars && isHostScalar(n) ? 'h' : ''}`; inputs.push(n); }
    else if (isParamConst(n)) { part = 'p'; params.push(n); }
    else part = `${n.op}|${n.dtype}|${n.shape.join(',')}|${argKey(n.arg)}|${src}`;
    parts.push(part);
  }
  return { key: `${prefix}${parts.join(';')}=>${roots.map((r) => pos.get(r)).join(',')}`, inputs, params, folds };
}

/** A pack of host scalars: the input node bound to the packed values, and the scalars in it (in order). */
export interface Pack { node: Node; members: Node[] }

/** The values of host scalars `members` (of one dtype), packed into one new storage. */
export function packStorage(members: readonly Node[], dtype: DType): Storage {
  const data = hostArray(dtype, members.length);
  members.forEach((n, i) => { data[i] = hostDataOf(n)![0]!; });
  return new Storage(dtype, members.length, data);
}

/**
 * `roots` with the host scalars of each dtype that has two or more packed into one input, each
 * scalar read as a one-element view of it. They stay inputs (not constants), so graphs that differ
 * only in their values keep one structure.
 */
export function packHostScalars(roots: readonly Node[]): { roots: Node[]; packs: Pack[] } {
  const byDtype = new Map<DType, Node[]>();
  for (const n of toposort(roots)) if (n.op === 'input' && isHostScalar(n)) byDtype.set(n.dtype, [...(byDtype.get(n.dtype) ?? []), n]);
  const swap = new Map<Node, Node>(), packs: Pack[] = [];
  for (const [dtype, members] of byDtype) {
    if (members.length < 2) continue;
    const node = inputNode(dtype, [members.length], 'scalars');
    bindStorage(node, packStorage(members, dtype));
    packs.push({ node, members });
    members.forEach((n, i) => {
      const one = Node.make('shrink', dtype, [1], [node], { start: [i], step: [1] });
      swap.set(n, shapesEqual(n.shape, [1]) ? one : Node.make('reshape', dtype, n.shape, [one]));
    });
  }
  return { roots: packs.length ? rewrite(roots, (n) => swap.get(n) ?? n) : [...roots], packs };
}

/**
 * The plan of a realization to record: program inputs as walk positions (or packs), its
 * parameters as walk positions. Null when a program input is neither (the passes or the engine
 * made it: not replayable).
 */
export function recordReplay(w: Walk, program: Program, inputs: readonly Node[], packs: readonly Pack[], roots: RootRef[],
  params: readonly Node[], values: Float32Array): Replay | null {
  const at = new Map(w.inputs.map((n, i) => [n, i]));
  const refs: InputRef[] = [];
  for (const n of inputs) {
    const i = at.get(n);
    const pack = packs.find((p) => p.node === n);
    if (i !== undefined) refs.push(i);
    else if (pack) refs.push({ pack: pack.members.map((m) => at.get(m)!), dtype: n.dtype });
    else return null;
  }
  const paramAt = new Map(w.params.map((n, i) => [n, i]));
  const index = params.map((n) => paramAt.get(n) ?? -1);
  const folded = w.folds || index.includes(-1);
  return {
    program, inputs: refs, roots, paramIndex: folded ? null : index, params: values,
    rawParams: w.params.map((n) => n.arg as number),
  };
}

/** The program's parameter values for a walk of the replay's key; null when folded constants differ from those recorded. */
export function replayParams(r: Replay, w: Walk): Float32Array | null {
  if (r.paramIndex) return Float32Array.from(r.paramIndex, (i) => w.params[i]!.arg as number);
  return w.params.every((n, i) => Object.is(n.arg as number, r.rawParams[i])) ? r.params : null;
}
