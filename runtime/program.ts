/**
 * A Program is a compiled graph: a fixed list of kernel launches over numbered buffer slots, with
 * a liveness plan (each intermediate slot goes back to the pool right after its last reader, so
 * later kernels reuse its memory). Eager realization and jit both compile to a Program; eager
 * caches programs by the graph's structure, jit by the input signature. Running a program encodes
 * every launch into one command encoder; the caller submits once.
 */
import { isParamConst } from '../codegen/expr.ts';
import { generate, type KernelCode, type Schedule } from '../codegen/kernels.ts';
import { BufferUsage } from './gpu.ts';
import { byteSize } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { argKey, dumpGraph, isView, toposort, type Node } from '../ir/node.ts';
import { schedule, kernelOutputs, type Kernel } from '../ir/schedule/index.ts';
import { isLeafOp } from '../ir/schedule/kernel.ts';
import { numel } from '../ir/shape.ts';
import type { Device } from './device.ts';
import type { BufferPool } from './pool.ts';
import type { PipelineCache } from './pipelines.ts';
import { counters, debugFlags } from './stats.ts';
import { afterTuning, tuneModeNow } from './tuner.ts';
import { measuredSkipRules } from './defaults.ts';
import { whenIdle } from './activity.ts';
import { loadPlan, planCache, storePlan } from './plan-cache.ts';
import { planOf, programFromPlan } from './program-plan.ts';
import { submitOpen } from './submit.ts';

export interface CompileOptions {
  /** Fuse elementwise ops, reductions and matmul epilogues (default true). Off: one kernel per op. */
  fuse?: boolean;
  /** Storage buffers one kernel may bind (default: the device's limit). Lower it to test what a
   * stricter adapter (WebGPU's default 8, SwiftShader's 10) would compile; it never goes above the device's. */
  maxBuffers?: number;
  /** Fusion rules to leave out, by name ('rows', 'attention', 'matmul-epilogue', 'siblings'), to measure what each buys;
   * undefined: those measured to lose on this adapter class (runtime/defaults.ts), [] for none. */
  skipRules?: readonly string[];
  /** Picks the schedule of a matmul or row kernel (the autotuner); undefined: the template's heuristic. */
  schedule?: (k: Kernel, dev: Device) => Promise<Schedule | undefined> | Schedule | undefined;
  /** A schedule found after compiling (background tuning): the kernel is rebuilt with it and swapped in. */
  later?: (k: Kernel, dev: Device) => Promise<Schedule | undefined> | undefined;
}

/** What a step keeps of its kernel: no graph nodes, so a cached Program holds no tensor memory alive. */
export type StepCode = Pick<KernelCode, 'name' | 'wgsl' | 'grid' | 'threads'>;
/** A step's parameter constants: where its values lie in the program's uniform buffer, and which of the program's parameters they are. */
interface StepParams { offset: number; pos: number[] }
export interface Step { code: StepCode; pipeline: GPUComputePipeline; slots: number[]; release: number[]; params?: StepParams }
/** Where each root's result comes from: a slot a kernel writes, or an input it aliases. */
type OutputRef = { slot: number };

export class Program {
  constructor(
    /** Steps may be swapped for tuned ones between calls (background tuning). */
    readonly steps: Step[],
    readonly slotBytes: number[],
    readonly inputSlots: number,
    readonly outputs: OutputRef[],
    /** The values of the graph's parameter constants (paramValues) it was compiled from: the default for encode. */
    readonly params: Float32Array = new Float32Array(0),
    /** Bytes of the uniform buffer holding every step's parameters (each step's at a 256-byte aligned offset). */
    readonly paramBytes = 0,
  ) {}
  private paramBuf: GPUBuffer | null = null;
  private written: Float32Array | null = null;
  get dispatches(): number { return this.steps.length; }

  /**
   * Encodes all launches over the input bindings, with `params` as the values of the parameter
   * constants (those of a graph of this program's structure, paramValues order); returns one
   * buffer per output (the caller owns them, aliases included).
   * For profiling (ops/inspect/profile.ts): `timestamps` gives each launch its own pass writing
   * its begin and end times at query 2i and 2i + 1; `only` dispatches launch i alone (its inputs
   * bound, whatever they hold).
   */
  encode(dev: Device, pool: BufferPool, encoder: GPUCommandEncoder, inputs: readonly (GPUBuffer | GPUBufferBinding)[],
    params: Float32Array = this.params, profiling: { timestamps?: GPUQuerySet; only?: number } = {}): GPUBuffer[] {
    this.writeParams(dev, params);
    const bufs: (GPUBufferBinding | null)[] = new Array(this.slotBytes.length).fill(null);
    // Only the first `inputSlots` slots are inputs; kernel outputs follow. A cached program also
    // serves graphs of the same structure key with more inputs (inputs no kernel reads: an unused
    // jit argument, an input root realized alongside): those buffers must not land in output
    // slots, where a kernel would overwrite them and hand them out as results (two owners).
    for (let i = 0; i < Math.min(inputs.length, this.inputSlots); i++) { const b = inputs[i]!; bufs[i] = 'buffer' in b ? b : { buffer: b }; }
    const { timestamps, only } = profiling;
    let pass: GPUComputePassEncoder | null = null;
    this.steps.forEach((st, i) => {
      const entries: GPUBindGroupEntry[] = st.slots.map((s, binding) => {
        bufs[s] ??= { buffer: pool.acquire(this.slotBytes[s]!) };
        return { binding, resource: bufs[s]! };
      });
      if (st.params) entries.push({ binding: entries.length, resource: { buffer: this.paramBuf!, offset: st.params.offset, size: paramSize(st.params.pos.length) } });
      if (only === undefined || only === i) {
        const timestampWrites = timestamps && { querySet: timestamps, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
        if (timestampWrites) pass = encoder.beginComputePass({ timestampWrites });
        else pass ??= encoder.beginComputePass();
        pass.setPipeline(st.pipeline);
        pass.setBindGroup(0, dev.gpu.createBindGroup({ layout: st.pipeline.getBindGroupLayout(0), entries }));
        pass.dispatchWorkgroups(...st.code.grid);
        counters.dispatches++;
        if (timestamps) { pass.end(); pass = null; }
      }
      for (const s of st.release) { pool.release(bufs[s]!.buffer); bufs[s] = null; }
    });
    (pass as GPUComputePassEncoder | null)?.end();
    return this.outputs.map((o) => bufs[o.slot]?.buffer ?? pool.acquire(this.slotBytes[o.slot]!));
  }

  /**
   * Writes the steps' parameter values to the uniform buffer (queued before the caller's submit),
   * unless unchanged; submits the open encoder first (runtime/submit.ts), so take that after this.
   */
  writeParams(dev: Device, values: Float32Array = this.params): void {
    if (!this.paramBytes) return;
    const data = new Float32Array(this.paramBytes / 4);
    for (const st of this.steps) st.params?.pos.forEach((p, j) => { data[st.params!.offset / 4 + j] = values[p]!; });
    if (this.written && this.written.every((v, i) => Object.is(v, data[i]))) return;
    this.paramBuf ??= dev.gpu.createBuffer({ size: this.paramBytes, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    submitOpen(); // work encoded earlier (possibly this program's) must read the values it was encoded with
    dev.gpu.queue.writeBuffer(this.paramBuf, 0, data);
    this.written = data;
  }
}

/** Bytes of a uniform holding `count` parameters (vec4 elements). */
const paramSize = (count: number) => Math.ceil(count / 4) * 16;
/** The values of a graph's parameter constants, in the order a program of its structure numbers them. */
export const paramValues = (roots: readonly Node[]) => Float32Array.from(toposort(roots).filter(isParamConst), (n) => n.arg as number);

/**
 * Throws a TesseraError naming the (outermost) op when a tensor in the graph of `roots` is larger than one
 * storage binding may be. Constants are only stored when they are roots (otherwise inlined).
 * Called on the user's graph before the passes (so the error names the op the user called) and
 * again on the compiled graph.
 */
export function checkBindingLimit(roots: readonly Node[], limit: number): void {
  const rootSet = new Set(roots);
  for (const n of toposort(roots).reverse()) { // users first: name the outermost op that is too large
    const bytes = numel(n.shape) * byteSize(n.dtype);
    if (bytes > limit && (n.op !== 'const' || rootSet.has(n)))
      throw new TesseraError(n.op, `a ${n.dtype} tensor of shape ${fmtShape(n.shape)} needs ${bytes} bytes, over this device's storage binding limit of ${limit} bytes`,
        'split the work into smaller tensors (e.g. process the batch in chunks)');
  }
}

/** Compiles `roots` (already through the graph passes); `inputs` are the input nodes in slot order.
 * With `planKey` (runtime/plan-cache.ts: the structure key and what else the plan depends on), the
 * persistent plan cache is used: a stored plan replaces scheduling and codegen, and a compiled one is stored. */
export async function compileProgram(roots: readonly Node[], inputs: readonly Node[], dev: Device, pipelines: PipelineCache, opts: CompileOptions = {},
  planKey?: string): Promise<Program> {
  counters.programsCompiled++;
  const flags = debugFlags();
  if (flags.has('ir')) console.log(`// ---- graph\n${dumpGraph(roots)}`);
  checkBindingLimit(roots, dev.caps.maxBindingSize);
  const params = paramValues(roots);
  // TESSERA_DEBUG=fusion shows the scheduler's decisions: it schedules. A graph with fewer ops than
  // planCache.minKernels compiles to fewer kernels: it is neither looked up nor stored.
  if (planKey !== undefined && (flags.has('fusion') || !hasOps(roots, planCache.minKernels))) planKey = undefined;
  if (planKey !== undefined) {
    const plan = await loadPlan(planKey, inputs.length, roots.length, params.length);
    // A plan whose kernels were still being tuned serves background mode (tuning resumes); blocking mode tunes first.
    if (plan && !(tuneModeNow() === 'blocking' && plan.steps.some((st) => st.pending))) {
      const program = await programFromPlan(plan, params, pipelines).catch(() => null);
      if (program) {
        counters.planCacheHits++;
        if (flags.has('kernels')) console.log(program.steps.map((st) => `${st.code.name} grid=${st.code.grid.join('x')}`).join('\n'));
        const pending = plan.steps.flatMap((st, i) => (st.pending ? [i] : []));
        if (pending.length) resumeTuning(program, pending, roots, inputs, dev, pipelines, opts, planKey);
        return program;
      }
      counters.planCacheRejected++; // it did not build (a pipeline failed): compile instead
    }
  }
  const kernels = scheduleKernels(roots, dev, opts, flags);
  const { slotOf, slotBytes } = layout(kernels, inputs);
  // Each kernel's pipeline starts compiling as soon as its schedule is known: they compile concurrently.
  const live: { k: Kernel; code: KernelCode; pipe: Promise<GPUComputePipeline> }[] = [];
  for (const k of kernels) {
    const code = generate(k, dev.caps, await opts.schedule?.(k, dev));
    if (code.threads > 0) live.push({ k, code, pipe: pipelines.get(code.wgsl, code.name) });
  }
  const pipes = await Promise.all(live.map((l) => l.pipe));
  // Liveness: an intermediate slot is released after the last step that binds it.
  const keep = new Set<number>([...inputs.map((n) => slotOf.get(n)!), ...roots.map((r) => slotOf.get(r)!)]);
  const paramPos = paramPositions(roots);
  const offsets: number[] = [];
  let paramBytes = 0;
  for (const { code } of live) {
    offsets.push(paramBytes);
    if (code.params) paramBytes += Math.ceil(paramSize(code.params.length) / 256) * 256;
  }
  const steps = live.map(({ code }, i) => stepOf(code, pipes[i]!, slotOf, paramPos, offsets[i]!));
  const lastUse = new Map<number, number>();
  steps.forEach((st, i) => { for (const sl of st.slots) lastUse.set(sl, i); });
  for (const [sl, i] of lastUse) if (!keep.has(sl)) steps[i]!.release.push(sl);
  const program = new Program(steps, slotBytes, inputs.length, roots.map((r) => ({ slot: slotOf.get(r)! })), params, paramBytes);
  const tuned = live.map(({ k }, i) => watchTuning(program, i, k, opts.later?.(k, dev), dev, pipelines, slotOf, paramPos)).filter((t): t is Promise<void> => t !== null);
  if (planKey !== undefined && live.length >= planCache.minKernels) {
    const key = planKey;
    void storePlan(key, planOf(program, (st) => watching.has(st)));
    // Once tuning settled, the plan is stored again with the schedules it chose.
    if (tuned.length) afterTuning(Promise.allSettled(tuned).then(() => storePlan(key, planOf(program))));
  }
  if (flags.has('kernels')) console.log(steps.map((st) => `${st.code.name} grid=${st.code.grid.join('x')}`).join('\n'));
  return program;
}

/** Whether the graph of `roots` has at least `n` nodes that may get a kernel (not inputs, constants or views). */
function hasOps(roots: readonly Node[], n: number): boolean {
  let ops = 0;
  for (const m of toposort(roots)) if (!isLeafOp(m) && !isView(m.op) && ++ops >= n) return true;
  return false;
}

/** The kernels of `roots`, scheduled for the device's buffer limit (and the option's, when lower). */
function scheduleKernels(roots: readonly Node[], dev: Device, opts: CompileOptions, flags: Set<string>): Kernel[] {
  const kernelRoots = [...new Set(roots.filter((r) => r.op !== 'input'))];
  return schedule(kernelRoots, { fuse: opts.fuse ?? true, maxBuffers: Math.min(opts.maxBuffers ?? Infinity, dev.caps.maxBuffers), skipRules: opts.skipRules ?? measuredSkipRules(dev),
    log: flags.has('fusion') ? (m) => console.log(m) : undefined });
}

/** Buffer slots: the inputs first, then each kernel output in kernel order. */
function layout(kernels: readonly Kernel[], inputs: readonly Node[]): { slotOf: Map<Node, number>; slotBytes: number[] } {
  const slotOf = new Map<Node, number>();
  const slotBytes: number[] = [];
  const newSlot = (n: Node) => { slotBytes.push(Math.max(4, numel(n.shape) * byteSize(n.dtype))); return slotBytes.length - 1; };
  inputs.forEach((n) => slotOf.set(n, newSlot(n)));
  for (const k of kernels) for (const o of kernelOutputs(k)) if (!slotOf.has(o)) slotOf.set(o, newSlot(o));
  return { slotOf, slotBytes };
}

/** Parameter constants, numbered in graph order (as paramValues reads them). */
const paramPositions = (roots: readonly Node[]) => new Map(toposort(roots).filter(isParamConst).map((n, i) => [n, i]));

/** A step running `code`, its parameters at `offset` of the program's uniform (release filled in by the caller). */
function stepOf(code: KernelCode, pipeline: GPUComputePipeline, slotOf: ReadonlyMap<Node, number>, paramPos: ReadonlyMap<Node, number>, offset: number): Step {
  const slots = code.bindings.map((n) => {
    const sl = slotOf.get(n);
    if (sl === undefined) throw new Error(`program: no buffer for ${n}`);
    return sl;
  });
  return {
    code: { name: code.name, wgsl: code.wgsl, grid: code.grid, threads: code.threads }, pipeline, slots, release: [],
    params: code.params && { offset, pos: code.params.map((n) => paramPos.get(n)!) },
  };
}

/** Steps whose background tuning has not settled (so a plan stored meanwhile marks them pending). */
const watching = new WeakSet<Step>();

/**
 * Background tuning of step i: when a better schedule is found, the step is rebuilt with it and
 * swapped in for later calls (the same buffers in the same order, so the liveness plan stands).
 * Returns a promise settling once that is decided, or null when nothing is pending.
 */
function watchTuning(program: Program, i: number, k: Kernel, later: Promise<Schedule | undefined> | undefined, dev: Device, pipelines: PipelineCache,
  slotOf: ReadonlyMap<Node, number>, paramPos: ReadonlyMap<Node, number>): Promise<void> | null {
  if (!later) return null;
  const step = program.steps[i]!;
  watching.add(step);
  const done = later.then(async (sched) => {
    const now = program.steps[i]!;
    const code = sched && generate(k, dev.caps, sched);
    if (!code || code.wgsl === now.code.wgsl) return;
    const next = stepOf(code, await pipelines.get(code.wgsl, code.name), slotOf, paramPos, now.params?.offset ?? 0);
    if (next.slots.join() !== now.slots.join() || next.params?.pos.length !== now.params?.pos.length) return;
    program.steps[i] = { ...next, release: now.release };
    counters.kernelsSwapped++;
    if (debugFlags().has('tune')) console.log(`tessera: swapped in the tuned ${code.name} (${program.steps.length} steps)`);
  }).finally(() => watching.delete(step));
  afterTuning(done);
  return done.catch(() => {});
}

/**
 * A program built from a plan whose steps `pending` were still being tuned: once no user call
 * runs, the graph is scheduled again (the kernels, not their code: tuning needs them), each pending
 * step gets the schedule the tuner has now (a cached winner is swapped in) and its background
 * tuning resumes; then the plan is stored with what tuning chose. A graph that no longer matches
 * the plan step for step is left as it is.
 */
function resumeTuning(program: Program, pending: readonly number[], roots: readonly Node[], inputs: readonly Node[], dev: Device, pipelines: PipelineCache,
  opts: CompileOptions, planKey: string): void {
  afterTuning((async () => {
    await whenIdle();
    const kernels = scheduleKernels(roots, dev, opts, new Set());
    const { slotOf } = layout(kernels, inputs);
    const live = kernels.filter((k) => generate(k, dev.caps).threads > 0);
    if (live.length !== program.steps.length) return;
    const paramPos = paramPositions(roots);
    const tuned: Promise<void>[] = [];
    for (const i of pending) {
      const k = live[i]!;
      const code = generate(k, dev.caps, await opts.schedule?.(k, dev));
      const now = program.steps[i]!;
      const next = stepOf(code, now.pipeline, slotOf, paramPos, now.params?.offset ?? 0);
      if (next.slots.join() !== now.slots.join() || next.params?.pos.length !== now.params?.pos.length) return; // not this plan's kernel
      if (code.wgsl !== now.code.wgsl) {
        program.steps[i] = { ...next, pipeline: await pipelines.get(code.wgsl, code.name), release: now.release };
        counters.kernelsSwapped++;
      }
      const t = watchTuning(program, i, k, opts.later?.(k, dev), dev, pipelines, slotOf, paramPos);
      if (t) tuned.push(t);
    }
    await Promise.allSettled(tuned);
    await storePlan(planKey, planOf(program));
  })().catch(() => {}));
}

/**
 * A key for a graph's structure with inputs numbered by position: equal keys, same program.
 * Parameter constants (codegen/expr.ts isParamConst) are keyed without their values.
 * Inputs no kernel reads are not part of it, so graphs with different input counts can share a
 * program (encode ignores inputs past the program's own `inputSlots`).
 */
export function structureKey(roots: readonly Node[], inputs: readonly Node[]): string {
  const pos = new Map<Node, number>();
  const inputPos = new Map(inputs.map((n, i) => [n, i]));
  const lines = toposort(roots).map((n, i) => {
    pos.set(n, i);
    const arg = n.op === 'input' ? `in${inputPos.get(n)}` : isParamConst(n) ? '?' : argKey(n.arg);
    return `${n.op}|${n.dtype}|${n.shape.join(',')}|${arg}|${n.src.map((s) => pos.get(s)).join(',')}`;
  });
  return `${lines.join(';')}=>${roots.map((r) => pos.get(r)).join(',')}`;
}
