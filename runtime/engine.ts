/**
 * The engine: turns lazy graphs into GPU work. `realize` runs the graph passes, fetches (or
 * compiles) the Program for the graph's structure, uploads pending host data and encodes every
 * kernel into the open command encoder (runtime/submit.ts), submitted at the end of the task or
 * by a readback, which shares the submit.
 * Realized nodes are remembered, so later graphs that contain them read the buffer instead of
 * recomputing.
 */
import { f16ToF32, hostArray, type TypedArray } from '../ir/dtype.ts';
import { inputNode, Node, toposort } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { numel } from '../ir/shape.ts';
import { deviceIsLost, deviceLostError, deviceNow, getDevice, onDeviceLost, type Device } from './device.ts';
import { BufferUsage, MapMode } from './gpu.ts';
import { PipelineCache } from './pipelines.ts';
import { BufferPool } from './pool.ts';
import { checkBindingLimit, compileProgram, paramValues, structureKey, type CompileOptions, type Program } from './program.ts';
import { readFailure, scoped } from './faults.ts';
import { counters } from './stats.ts';
import { chooseSchedule, tunedLater, tuningKey } from './tuner.ts';
import { preparePlanCache } from './plan-cache.ts';
import { trackCall } from './activity.ts';
import { encoderFor, submitOpen } from './submit.ts';
import { TesseraError } from '../ir/error.ts';
import { bindStorage, currentEpoch, hasStorage, setPool, Storage, storageOf, unbindStorage } from './storage.ts';
import { borrowedError, guardBorrowed, needsValidation } from './external.ts';
import { MAX_REPLAYS, packHostScalars, packStorage, recordReplay, replayParams, walkGraph, type Pack, type RealizeOptions, type Replay, type RootRef, type Walk } from './replay.ts';
import { isParamConst } from '../codegen/expr.ts';

export interface Engine {
  dev: Device; pool: BufferPool; pipelines: PipelineCache; programs: Map<string, Promise<Program>>;
  /** Plans of graphs realized before, by raw structure (runtime/replay.ts). */
  replays: Map<string, Replay>;
  /** The device epoch it was made in (storage.ts): work for a lost device fails instead of mixing buffers of two devices. */
  epoch: number;
}

let engineP: Promise<Engine> | null = null;
let ready: Engine | null = null;
// The default schedule choosers, bound to the current engine (replaced when a lost device's engine is).
let tunerOf: CompileOptions['schedule'] | undefined;
let laterOf: CompileOptions['later'] | undefined;
// A lost device takes its buffers, pipelines and programs with it: the next engine starts afresh.
onDeviceLost(() => { engineP = null; ready = null; counters.liveBuffers = 0; counters.bytesAllocated = 0; });
function makeEngine(dev: Device): Engine {
  const pool = new BufferPool(dev.gpu);
  setPool(pool);
  const e: Engine = { dev, pool, pipelines: new PipelineCache(dev.gpu), programs: new Map(), replays: new Map(), epoch: currentEpoch() };
  if (globalOptions.schedule === undefined || globalOptions.schedule === tunerOf) globalOptions.schedule = tunerOf = (k) => chooseSchedule(k, e);
  if (globalOptions.later === undefined || globalOptions.later === laterOf) globalOptions.later = laterOf = (k) => tunedLater(k, e);
  preparePlanCache();
  return ready = e;
}
export function engine(): Promise<Engine> {
  if (deviceIsLost()) return Promise.reject(deviceLostError());
  engineP ??= getDevice().then((dev) => ready ?? makeEngine(dev)).catch((e) => { engineP = null; throw e; });
  return engineP;
}
/** The engine, synchronously, once its device is chosen (`await init()` or a first realization); else null. */
export function engineIfReady(): Engine | null {
  if (ready) return ready;
  const dev = deviceNow();
  if (!dev) return null;
  engineP = Promise.resolve(makeEngine(dev));
  return ready;
}

/** Global compile options (`setOptions({fuse: false})` for unfused comparisons). */
export const globalOptions: CompileOptions = { fuse: true };

const realizedAs = new WeakMap<Node, Node>();
/**
 * Replaces nodes realized earlier by the input nodes that hold their buffers. This memo owns no
 * buffer: the tensor that was realized does, and it may be disposed (or donated to a jit call)
 * while other tensors still stand for the same hash-consed node. An entry whose buffer is gone
 * is dropped, and the node is computed again from its sources.
 */
export function substituteRealized(roots: readonly Node[]): Node[] {
  const lookup = (n: Node) => {
    const r = realizedAs.get(n);
    if (r && !hasStorage(r)) realizedAs.delete(n);
    return r && hasStorage(r) ? r : undefined;
  };
  // Top-down: the walk stops at realized nodes, so a long lazy chain behind one costs nothing.
  const done = new Map<Node, Node>();
  const stack: [Node, number][] = roots.map((r) => [r, 0]);
  while (stack.length) {
    const top = stack[stack.length - 1]!, [n, i] = top;
    if (i === 0 && done.has(n)) { stack.pop(); continue; }
    const r = i === 0 ? lookup(n) : undefined;
    if (r) { done.set(n, r); stack.pop(); continue; }
    if (i < n.src.length) { top[1]++; if (!done.has(n.src[i]!)) stack.push([n.src[i]!, 0]); continue; }
    stack.pop();
    const src = n.src.map((x) => done.get(x)!);
    const m = src.every((x, k) => x === n.src[k]) ? n : Node.make(n.op, n.dtype, n.shape, src, n.arg);
    done.set(n, lookup(m) ?? m);
  }
  return roots.map((r) => done.get(r)!);
}

/** Makes sure an input's storage has a GPU buffer (uploading host data on first use). */
export function ensureUploaded(e: Engine, s: Storage): GPUBuffer {
  // A freed storage has no data left: computing with a fresh buffer would read garbage.
  if (s.freed) throw new TesseraError('realize', 'an input was disposed (or donated to a jit call) while a computation reading it was in flight', 'await the computation before disposing its inputs');
  if (!s.buffer) {
    s.buffer = e.pool.acquire(s.bytes);
    if (s.host && s.host.length) {
      submitOpen(); // the write must not overtake work encoded before it (which may use this pooled buffer)
      const data = s.uploadData();
      e.dev.gpu.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, Math.ceil(data.byteLength / 4) * 4);
      counters.uploads++;
    }
  }
  return s.buffer;
}

/** The input leaves of a graph, in a deterministic order. */
export const inputsOf = (roots: readonly Node[]) => toposort(roots).filter((n) => n.op === 'input');

/** Input node aliased by a root that is an input or a reshape of one (no kernel needed). */
export function aliasOf(n: Node): Node | null {
  if (n.op === 'input') return n;
  if (n.op === 'reshape' && n.src[0]!.op === 'input') return n.src[0]!;
  return null;
}

/** Programs kept for reuse (least recently used are dropped first). */
const MAX_PROGRAMS = 512;

/** The compile options that change a schedule, as a key prefix (program cache and replays). */
const optionsKey = (opts: CompileOptions) => `${opts.fuse === false ? 'nofuse' : 'fuse'}:${opts.maxBuffers ?? ''}:${opts.skipRules?.join() ?? '-'}:`;
/** The program cache's key: the graph's structure and the options that change its schedule. */
const programKey = (roots: readonly Node[], inputs: readonly Node[], opts: CompileOptions) => `${optionsKey(opts)}${structureKey(roots, inputs)}`;

export async function programFor(e: Engine, roots: readonly Node[], inputs: readonly Node[], opts: CompileOptions): Promise<Program> {
  const key = programKey(roots, inputs, opts);
  let p = e.programs.get(key);
  if (p) {
    counters.programCacheHits++;
    e.programs.delete(key); // keep the map in least-recently-used order
    e.programs.set(key, p);
  } else {
    if (e.programs.size >= MAX_PROGRAMS) e.programs.delete(e.programs.keys().next().value!);
    // The persistent plan cache serves the default schedule choosers only (a custom one may choose anything).
    const plan = opts.schedule === tunerOf && opts.later === laterOf ? `${key}|${e.dev.adapterKey}|${JSON.stringify(e.dev.caps)}|${tuningKey()}` : undefined;
    p = compileProgram(roots, inputs, e.dev, e.pipelines, opts, plan);
    const compiling = p;
    compiling.then((prog) => compiled.set(compiling, prog), () => {});
    e.programs.set(key, p);
    p.catch(() => e.programs.delete(key));
  }
  return p;
}

/** Programs whose compilation finished (realizeNow runs only those). */
const compiled = new WeakMap<Promise<Program>, Program>();

/** Placeholder nodes of a trace (jit, grad): they have no data, so reading them is an error. */
export const tracers = new WeakSet<Node>();

type Realized = { nodes: Node[]; data?: TypedArray[] };
/** Which results to read back: all, none, or per node (entries of roots not read are absent). */
type ReadMask = boolean | readonly boolean[];

/** Throws when a graph reads a placeholder of a trace: a traced function tried to read a value. */
export function checkNotTraced(nodes: readonly Node[]): void {
  for (const n of inputsOf(nodes))
    if (tracers.has(n)) throw new TesseraError('jit', 'cannot read the value of a traced tensor inside a traced function (jit, grad)',
      'return the tensor from the function and read it outside');
}

/**
 * Realizes `nodes`: returns, for each, an input node bound to a buffer holding its value, and
 * (when `read`) the values copied back to the host, all with one submit. While a batch of
 * `realizeSoon` is open, the call joins it (without `opts`). A graph of a raw structure realized
 * before is replayed from its plan (runtime/replay.ts).
 */
export function realize(nodes: readonly Node[], read = false, opts: RealizeOptions = {}): Promise<Realized> {
  if (soon) return joinSoon(nodes, read);
  // A batch already running may be computing nodes of this graph: wait, then substitute them.
  if (running) return running.then(() => realize(nodes, read, opts));
  return trackCall(() => realizeNow(nodes, read, opts));
}

/**
 * Starts realizing `nodes` at the end of the current synchronous run of code (an optimizer's new
 * parameters and state): realize() calls made meanwhile (reading the loss right after the update)
 * join, so the step is one program and one submit.
 */
export const realizeSoon = (nodes: readonly Node[]): Promise<Realized> => joinSoon(nodes, false);

let soon: { nodes: Node[]; read: boolean[]; run: Promise<Realized> } | null = null;
let running: Promise<unknown> | null = null;
function joinSoon(nodes: readonly Node[], read: boolean): Promise<Realized> {
  if (!soon) {
    const b = { nodes: [] as Node[], read: [] as boolean[], run: null as unknown as Promise<Realized> };
    b.run = Promise.resolve().then(() => {
      soon = null;
      const r = trackCall(() => realizeNow(b.nodes, b.read));
      const done: Promise<unknown> = r.catch(() => {}).then(() => { if (running === done) running = null; });
      running = done;
      return r;
    });
    soon = b;
  }
  const b = soon, at = b.nodes.length;
  b.nodes.push(...nodes);
  b.read.push(...nodes.map(() => read));
  return b.run.then((r) => ({ nodes: r.nodes.slice(at, at + nodes.length), data: read ? r.data!.slice(at, at + nodes.length) : undefined }));
}

/**
 * A lazy graph past these bounds (longest path, or nodes) is cut before it is compiled: typically
 * state carried between steps that is never read, so each step's graph holds all earlier steps.
 * The frontier at half the depth is realized first (once; later graphs read it), with a one-time warning.
 */
export const lazyGraphLimits = { depth: 1000, nodes: 20000 };
let warnedLong = false;

/** Realizes the frontier of `roots`' graph at half its depth when the graph is past lazyGraphLimits. */
async function cutLongGraph(roots: readonly Node[]): Promise<boolean> {
  const order = toposort(roots);
  if (order.length <= lazyGraphLimits.nodes && order.length <= lazyGraphLimits.depth) return false;
  const depth = new Map<Node, number>();
  let max = 0;
  for (const n of order) { const d = n.src.length ? 1 + Math.max(...n.src.map((x) => depth.get(x)!)) : 0; depth.set(n, d); max = Math.max(max, d); }
  if (order.length <= lazyGraphLimits.nodes && max <= lazyGraphLimits.depth) return false;
  const cut = Math.floor(max / 2);
  const frontier = new Set<Node>();
  for (const n of order) if (depth.get(n)! > cut) for (const x of n.src) if (depth.get(x)! <= cut && x.src.length) frontier.add(x);
  if (!frontier.size) return false;
  if (!warnedLong) {
    warnedLong = true;
    console.warn(`tessera: a lazy graph of ${order.length} nodes and depth ${max} (over lazyGraphLimits ${JSON.stringify(lazyGraphLimits)}) is realized in parts. ` +
      'Usually tensors carried from step to step (updated parameters, running state) are never read, so every step recomputes all earlier ones; ' +
      'realize them each step (await realizeAll([...])), use an optimizer from nn (its update realizes), or jit the step. (Shown once.)');
  }
  await realizeNow([...frontier], false);
  return true;
}

/** True for a node realized earlier whose buffer is still alive (substituteRealized replaces it). */
const isRealized = (n: Node) => { const r = realizedAs.get(n); return !!r && hasStorage(r); };
/** Stops a replay walk: a node realized earlier, or a trace's placeholder (realize reports it). */
const notReplayable = (n: Node) => (n.op === 'input' ? tracers.has(n) : isRealized(n));

/** The replay walk of `nodes` under the current options; null when the graph cannot be replayed. */
function walkFor(nodes: readonly Node[], opts: RealizeOptions): Walk | null {
  return walkGraph(nodes, `${optionsKey(globalOptions)}${opts.packScalars ? 'pack' : ''}:`, opts, notReplayable, lazyGraphLimits);
}

/** Runs a recorded plan on the inputs of walk `w`; null (nothing done) when it does not apply. */
function replay(e: Engine, r: Replay, w: Walk, nodes: readonly Node[], read: ReadMask, op: string): Promise<Realized> | null {
  const params = replayParams(r, w);
  if (!params) return null;
  const packs: Storage[] = [];
  const storages = r.inputs.map((ref) => {
    if (typeof ref === 'number') return storageOf(w.inputs[ref]!, op); // throws for a disposed input, as realize does
    const s = packStorage(ref.pack.map((i) => w.inputs[i]!), ref.dtype).retain();
    packs.push(s);
    return s;
  });
  if (needsValidation(storages)) { for (const s of packs) s.release(); return null; } // borrowed buffers: the validated path
  e.replays.delete(w.key); // keep the map in least-recently-used order
  e.replays.set(w.key, r);
  counters.replays++;
  counters.programCacheHits++;
  let result: ReturnType<typeof runPlan>;
  try {
    result = runPlan(e, r.program, r.roots, storages, read, params, true);
  } finally {
    for (const s of packs) s.release(); // the encoded work reads it; its buffer goes back to the pool
  }
  const outs = finishRoots(nodes, result.nodes);
  return (result.data ?? Promise.resolve(undefined)).then((data) => ({ nodes: outs, data }));
}

/** The results for `nodes`: an input stays its own node; others are remembered as realized. */
function finishRoots(nodes: readonly Node[], out: readonly Node[]): Node[] {
  // An input stays its own node: a fresh alias would keep the buffer alive (until collected) after dispose().
  return out.map((o, i) => {
    if (nodes[i]!.op === 'input') { unbindStorage(o); return nodes[i]!; }
    realizedAs.set(nodes[i]!, o);
    return o;
  });
}

async function realizeNow(nodes: readonly Node[], read: ReadMask, opts: RealizeOptions = {}): Promise<Realized> {
  // Before the first await: a dispose() right after this call cannot free what it reads.
  const op = read ? 'data' : 'realize';
  const ready = engineIfReady();
  const walk = ready ? walkFor(nodes, opts) : null;
  const known = walk && ready!.replays.get(walk.key);
  if (known) {
    const done = replay(ready!, known, walk!, nodes, read, op);
    if (done) return done;
  }
  let subst = substituteRealized(nodes);
  let packed = opts.packScalars ? packHostScalars(subst) : { roots: subst, packs: [] as Pack[] };
  let roots = runPasses(packed.roots);
  let inputs = inputsOf(roots);
  checkNotTraced(inputs);
  let storages = inputs.map((n) => storageOf(n, op)); // throws for disposed inputs, before any GPU work
  // Hold the inputs until the work is submitted: a dispose() while the program compiles must not
  // free (and send back to the pool) a buffer this realization is about to read.
  const held = [...storages];
  for (const s of held) s.retain();
  let result: ReturnType<typeof execute>;
  let cut = false;
  try {
    const e = await engine();
    checkBindingLimit(nodes, e.dev.caps.maxBindingSize); // on the user's graph: the error names the op called
    if (await cutLongGraph(subst)) {
      cut = true;
      for (const p of packed.packs) unbindStorage(p.node);
      subst = substituteRealized(nodes);
      packed = opts.packScalars ? packHostScalars(subst) : { roots: subst, packs: [] };
      roots = runPasses(packed.roots);
      inputs = inputsOf(roots);
      storages = inputs.map((n) => storageOf(n, op));
      for (const s of storages) { s.retain(); held.push(s); }
    }
    const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
    const program = await programFor(e, compute, inputs, globalOptions);
    const guard = guardBorrowed(e, storages);
    const refs = rootRefs(roots, compute, inputs);
    const params = paramValues(compute);
    result = runPlan(e, program, refs, storages, read, params, true);
    // The plan, for the next graph of this raw structure (the engine may have been made meanwhile).
    const w = walk ?? (ready ? null : walkFor(nodes, opts));
    if (w && !cut && !guard && e.epoch === currentEpoch()) {
      const r = recordReplay(w, program, inputs, packed.packs, refs, toposort(compute).filter(isParamConst), params);
      if (r) {
        if (e.replays.size >= MAX_REPLAYS) e.replays.delete(e.replays.keys().next().value!);
        e.replays.set(w.key, r);
      }
    }
    // A borrowed buffer's misuse shows as a validation error of the submit: submit inside the scope.
    if (guard) { submitOpen(); await guard(result.nodes); }
  } finally {
    for (const s of held) s.release();
    for (const p of packed.packs) unbindStorage(p.node); // the encoded work reads it; its buffer goes back to the pool
  }
  return { nodes: finishRoots(nodes, result.nodes), data: await result.data };
}

/**
 * Realizes `nodes` synchronously when the program for their graph's structure is compiled
 * already; returns null (doing nothing) otherwise. For callers that cannot yield to await a
 * compile, e.g. the tfjs backend's cap on long synchronous bursts of kernels.
 */
export function realizeIfCompiled(nodes: readonly Node[]): Node[] | null {
  const e = engineIfReady();
  if (!e) return null;
  const roots = runPasses(substituteRealized(nodes));
  const inputs = inputsOf(roots);
  const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
  const p = e.programs.get(programKey(compute, inputs, globalOptions));
  const program = p && compiled.get(p);
  const storages = inputs.map((n) => storageOf(n));
  // Borrowed application buffers need the asynchronous validation check of realize.
  if (!program || needsValidation(storages)) return null;
  counters.programCacheHits++;
  const result = execute(e, program, roots, compute, storages, inputs, false, paramValues(compute));
  return finishRoots(nodes, result.nodes);
}

/**
 * Runs `program` (computing `compute`, with `params` the values of its parameter constants:
 * paramValues(compute); default, those it was compiled with) on input storages and wraps each root's result in a new
 * input node: a fresh buffer, or the input it aliases. The work is encoded into a new command
 * encoder (or, unless `fresh` or when it runs no kernel, the open one: a jit call's lazy arguments,
 * a readback of the previous call's result), submitted at the end of the task or by the readback.
 */
export function execute(e: Engine, program: Program, roots: readonly Node[], compute: readonly Node[], storages: readonly Storage[], inputs: readonly Node[],
  read: ReadMask, params?: Float32Array, fresh = true): { nodes: Node[]; data?: Promise<TypedArray[]> } {
  return runPlan(e, program, rootRefs(roots, compute, inputs), storages, read, params, fresh);
}

/** Where each root's result comes from: the input it aliases (its slot) or its compute output. */
export function rootRefs(roots: readonly Node[], compute: readonly Node[], inputs: readonly Node[]): RootRef[] {
  return roots.map((r) => {
    const alias = aliasOf(r);
    return alias ? { dtype: r.dtype, shape: r.shape, input: inputs.indexOf(alias) } : { dtype: r.dtype, shape: r.shape, compute: compute.indexOf(r) };
  });
}

/** execute, with the roots given by where their results come from (a recorded plan holds no nodes). */
function runPlan(e: Engine, program: Program, roots: readonly RootRef[], storages: readonly Storage[], read: ReadMask,
  params: Float32Array | undefined, fresh: boolean): { nodes: Node[]; data?: Promise<TypedArray[]> } {
  if (e.epoch !== currentEpoch()) throw deviceLostError('realize'); // lost while this work was being compiled
  const work = () => encodeWork(e, program, roots, storages, read, params, fresh);
  const { value: { nodes, made, staging }, error } = scoped(e.dev.gpu, work, needsValidation(storages) ? borrowedError : undefined);
  // A failed allocation leaves invalid buffers: results report the error, and the pool drops what it keeps.
  error.then((err) => { if (err) { for (const s of made) s.error = err; e.pool.trim(); } });
  if (!read) return { nodes };
  // Entries of roots not read are absent (a sparse array).
  const data = Promise.all(staging.map(async (st, i) => {
    if (!st) return undefined as unknown as TypedArray;
    try {
      await st.mapAsync(MapMode.READ);
    } catch (err) {
      st.destroy();
      return readFailure(e.dev.gpu, (await error) ?? err);
    }
    const out = decode(nodes[i]!, st.getMappedRange());
    st.unmap();
    st.destroy();
    return out;
  })).then(async (d) => { const err = await error; if (err) throw err; return d; });
  return { nodes, data };
}

/** Encodes `program` into the open command encoder (runtime/submit.ts), and the readbacks of `read`. */
function encodeWork(e: Engine, program: Program, roots: readonly RootRef[], storages: readonly Storage[],
  read: ReadMask, params: Float32Array | undefined, fresh: boolean) {
  // Writes through the queue (uploads, parameters) first: they submit the open encoder before it is taken.
  const inBufs = storages.map((s) => s.binding(ensureUploaded(e, s)));
  program.writeParams(e.dev, params);
  if (fresh && program.steps.length) submitOpen(); // new kernels start a new submit; a readback alone joins the open one
  const encoder = encoderFor(e.dev.gpu);
  const outBufs = program.encode(e.dev, e.pool, encoder, inBufs, params);
  const made = new Map<number, Storage>();
  const result: Node[] = roots.map((r) => {
    let s = r.input !== undefined ? storages[r.input] : made.get(r.compute!);
    if (!s) { s = new Storage(r.dtype, numel(r.shape), null); s.buffer = outBufs[r.compute!]!; made.set(r.compute!, s); }
    const out = inputNode(r.dtype, r.shape, 'realized');
    bindStorage(out, s);
    return out;
  });
  let staging: (GPUBuffer | null)[] = [];
  if (read) {
    staging = result.map((n, i) => {
      if (read !== true && !read[i]) return null;
      const s = storageOf(n), bytes = Math.max(4, Math.ceil(s.bytes / 4) * 4);
      const st = e.dev.gpu.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      if (s.numel) encoder.copyBufferToBuffer(ensureUploaded(e, s), s.offset, st, 0, bytes);
      return st;
    });
    counters.readbacks += staging.filter(Boolean).length;
    submitOpen(); // a readback needs the work submitted now; otherwise it is submitted at the end of this task
  }
  return { nodes: result, made: [...made.values()], staging };
}

function decode(n: Node, raw: ArrayBuffer): TypedArray {
  const len = numel(n.shape);
  const out = hostArray(n.dtype, len);
  switch (n.dtype) {
    case 'float32': (out as Float32Array).set(new Float32Array(raw, 0, len)); break;
    case 'int32': (out as Int32Array).set(new Int32Array(raw, 0, len)); break;
    case 'uint32': (out as Uint32Array).set(new Uint32Array(raw, 0, len)); break;
    case 'bool': { const u = new Uint32Array(raw, 0, len); for (let i = 0; i < len; i++) out[i] = u[i] ? 1 : 0; break; }
    case 'float16': { const h = new Uint16Array(raw, 0, len); for (let i = 0; i < len; i++) out[i] = f16ToF32(h[i]!); break; }
    default: return n.dtype satisfies never;
  }
  return out;
}

