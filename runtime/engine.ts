/**
 * The engine: turns lazy graphs into GPU work. `realize` runs the graph passes, fetches (or
 * compiles) the Program for the graph's structure, uploads pending host data, encodes every
 * kernel into one command encoder and submits once; reading results back shares that submit.
 * Realized nodes are remembered, so later graphs that contain them read the buffer instead of
 * recomputing.
 */
import { f16ToF32, hostArray, type TypedArray } from '../ir/dtype.ts';
import { inputNode, Node, toposort } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { rewrite } from '../ir/passes/rewrite.ts';
import { numel } from '../ir/shape.ts';
import { deviceNow, getDevice, type Device } from './device.ts';
import { BufferUsage, MapMode } from './gpu.ts';
import { PipelineCache } from './pipelines.ts';
import { BufferPool } from './pool.ts';
import { checkBindingLimit, compileProgram, structureKey, type CompileOptions, type Program } from './program.ts';
import { counters } from './stats.ts';
import { chooseSchedule } from './tuner.ts';
import { TesseraError } from '../ir/error.ts';
import { bindStorage, hasStorage, setPool, Storage, storageOf, unbindStorage } from './storage.ts';
import { guardBorrowed } from './external.ts';
import { track } from './flush.ts';

export interface Engine { dev: Device; pool: BufferPool; pipelines: PipelineCache; programs: Map<string, Promise<Program>> }

let engineP: Promise<Engine> | null = null;
let ready: Engine | null = null;
function makeEngine(dev: Device): Engine {
  const pool = new BufferPool(dev.gpu);
  setPool(pool);
  const e: Engine = { dev, pool, pipelines: new PipelineCache(dev.gpu), programs: new Map() };
  globalOptions.schedule ??= (k) => chooseSchedule(k, e);
  return ready = e;
}
export function engine(): Promise<Engine> {
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
export const substituteRealized = (roots: readonly Node[]) => rewrite(roots, (n) => {
  const r = realizedAs.get(n);
  if (!r) return n;
  if (hasStorage(r)) return r;
  realizedAs.delete(n);
  return n;
});

/** Makes sure an input's storage has a GPU buffer (uploading host data on first use). */
export function ensureUploaded(e: Engine, s: Storage): GPUBuffer {
  // A freed storage has no data left: computing with a fresh buffer would read garbage.
  if (s.freed) throw new TesseraError('realize', 'an input was disposed (or donated to a jit call) while a computation reading it was in flight', 'await the computation before disposing its inputs');
  if (!s.buffer) {
    s.buffer = e.pool.acquire(s.bytes);
    if (s.host && s.host.length) {
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

export async function programFor(e: Engine, roots: readonly Node[], inputs: readonly Node[], opts: CompileOptions): Promise<Program> {
  const key = `${opts.fuse === false ? 'nofuse' : 'fuse'}:${structureKey(roots, inputs)}`;
  let p = e.programs.get(key);
  if (p) {
    counters.programCacheHits++;
    e.programs.delete(key); // keep the map in least-recently-used order
    e.programs.set(key, p);
  } else {
    if (e.programs.size >= MAX_PROGRAMS) e.programs.delete(e.programs.keys().next().value!);
    p = compileProgram(roots, inputs, e.dev, e.pipelines, opts);
    e.programs.set(key, p);
    p.catch(() => e.programs.delete(key));
  }
  return p;
}

/** Placeholder nodes of a trace (jit, grad): they have no data, so reading them is an error. */
export const tracers = new WeakSet<Node>();

/**
 * Realizes `nodes`: returns, for each, an input node bound to a buffer holding its value, and
 * (when `read`) the values copied back to the host, all with one submit.
 */
export function realize(nodes: readonly Node[], read = false): Promise<{ nodes: Node[]; data?: TypedArray[] }> {
  return track(runRealization(nodes, read));
}

async function runRealization(nodes: readonly Node[], read: boolean): Promise<{ nodes: Node[]; data?: TypedArray[] }> {
  const e = await engine();
  checkBindingLimit(nodes, e.dev.caps.maxBindingSize); // on the user's graph: the error names the op called
  const roots = runPasses(substituteRealized(nodes));
  const inputs = inputsOf(roots);
  for (const n of inputs)
    if (tracers.has(n)) throw new TesseraError('jit', 'cannot read the value of a traced tensor inside a traced function (jit, grad)', 'return the tensor from the function and read it outside');
  const storages = inputs.map(storageOf); // throws for disposed inputs, before any GPU work
  // Hold the inputs until the work is submitted: a dispose() while the program compiles must not
  // free (and send back to the pool) a buffer this realization is about to read.
  for (const s of storages) s.retain();
  let result: ReturnType<typeof execute>;
  try {
    const compute = [...new Set(roots.filter((r) => !aliasOf(r)))];
    const program = await programFor(e, compute, inputs, globalOptions);
    const guard = guardBorrowed(e, storages);
    result = execute(e, program, roots, compute, storages, inputs, read);
    await guard?.(result.nodes);
  } finally {
    for (const s of storages) s.release();
  }
  // An input stays its own node: a fresh alias would keep the buffer alive (until collected) after dispose().
  const outs = result.nodes.map((out, i) => {
    if (nodes[i]!.op === 'input') { unbindStorage(out); return nodes[i]!; }
    realizedAs.set(nodes[i]!, out);
    return out;
  });
  return { nodes: outs, data: await result.data };
}

/**
 * Runs `program` (computing `compute`) on input storages and wraps each root's result in a new
 * input node: a fresh buffer, or the input it aliases. One submit, shared with the readback.
 */
export function execute(e: Engine, program: Program, roots: readonly Node[], compute: readonly Node[], storages: readonly Storage[], inputs: readonly Node[], read: boolean): { nodes: Node[]; data?: Promise<TypedArray[]> } {
  const encoder = e.dev.gpu.createCommandEncoder();
  const outBufs = program.encode(e.dev, e.pool, encoder, storages.map((s) => s.binding(ensureUploaded(e, s))));
  const made = new Map<Node, Storage>();
  const result: Node[] = roots.map((r) => {
    const alias = aliasOf(r);
    let s = alias ? storages[inputs.indexOf(alias)] : made.get(r);
    if (!s) { s = new Storage(r.dtype, numel(r.shape), null); s.buffer = outBufs[compute.indexOf(r)]!; made.set(r, s); }
    const out = inputNode(r.dtype, r.shape, 'realized');
    bindStorage(out, s);
    return out;
  });
  let data: Promise<TypedArray[]> | undefined;
  let staging: GPUBuffer[] = [];
  if (read) {
    staging = result.map((n) => {
      const s = storageOf(n), bytes = Math.max(4, Math.ceil(s.bytes / 4) * 4);
      const st = e.dev.gpu.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      if (s.numel) encoder.copyBufferToBuffer(ensureUploaded(e, s), s.offset, st, 0, bytes);
      return st;
    });
    counters.readbacks += staging.length;
  }
  e.dev.gpu.queue.submit([encoder.finish()]);
  counters.submits++;
  if (read) data = Promise.all(staging.map(async (st, i) => {
    await st.mapAsync(MapMode.READ);
    const out = decode(result[i]!, st.getMappedRange());
    st.unmap();
    st.destroy();
    return out;
  }));
  return { nodes: result, data };
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

