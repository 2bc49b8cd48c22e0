/**
 * A Program is a compiled graph: a fixed list of kernel launches over numbered buffer slots, with
 * a liveness plan (each intermediate slot goes back to the pool right after its last reader, so
 * later kernels reuse its memory). Eager realization and jit both compile to a Program; eager
 * caches programs by the graph's structure, jit by the input signature. Running a program encodes
 * every launch into one command encoder; the caller submits once.
 */
import { generate, type KernelCode, type Schedule } from '../codegen/kernels.ts';
import { byteSize } from '../ir/dtype.ts';
import { TesseraError, fmtShape } from '../ir/error.ts';
import { argKey, dumpGraph, toposort, type Node } from '../ir/node.ts';
import { schedule, kernelOutputs, type Kernel } from '../ir/schedule/index.ts';
import { numel } from '../ir/shape.ts';
import type { Device } from './device.ts';
import type { BufferPool } from './pool.ts';
import type { PipelineCache } from './pipelines.ts';
import { counters, debugFlags } from './stats.ts';

export interface CompileOptions {
  /** Fuse elementwise ops, reductions and matmul epilogues (default true). Off: one kernel per op. */
  fuse?: boolean;
  /** Storage buffers one kernel may bind (default: the device's limit). Lower it to test what a
   * stricter adapter (WebGPU's default 8, SwiftShader's 10) would compile; it never goes above the device's. */
  maxBuffers?: number;
  /** Picks the schedule of a matmul or row kernel (the autotuner); undefined: the template's heuristic. */
  schedule?: (k: Kernel, dev: Device) => Promise<Schedule | undefined> | Schedule | undefined;
}

/** What a step keeps of its kernel: no graph nodes, so a cached Program holds no tensor memory alive. */
export type StepCode = Pick<KernelCode, 'name' | 'wgsl' | 'grid' | 'threads'>;
interface Step { code: StepCode; pipeline: GPUComputePipeline; slots: number[]; release: number[] }
/** Where each root's result comes from: a slot a kernel writes, or an input it aliases. */
type OutputRef = { slot: number };

export class Program {
  constructor(
    readonly steps: Step[],
    readonly slotBytes: number[],
    readonly inputSlots: number,
    readonly outputs: OutputRef[],
  ) {}
  get dispatches(): number { return this.steps.length; }

  /** Encodes all launches over the input bindings; returns one buffer per output (the caller owns them).
   * For profiling (ops/inspect/profile.ts): `timestamps` gives each launch its own pass writing
   * its begin and end times at query 2i and 2i + 1; `only` dispatches launch i alone (its inputs
   * bound, whatever they hold). */
  encode(dev: Device, pool: BufferPool, encoder: GPUCommandEncoder, inputs: readonly (GPUBuffer | GPUBufferBinding)[],
    profiling: { timestamps?: GPUQuerySet; only?: number } = {}): GPUBuffer[] {
    const bufs: (GPUBufferBinding | null)[] = new Array(this.slotBytes.length).fill(null);
    // Only the first `inputSlots` slots are inputs; kernel outputs follow. A cached program also
    // serves graphs of the same structure key with more inputs (inputs no kernel reads: an unused
    // jit argument, an input root realized alongside): those buffers must not land in output
    // slots, where a kernel would overwrite them and hand them out as results (two owners).
    for (let i = 0; i < Math.min(inputs.length, this.inputSlots); i++) { const b = inputs[i]!; bufs[i] = 'buffer' in b ? b : { buffer: b }; }
    const { timestamps, only } = profiling;
    let pass: GPUComputePassEncoder | null = null;
    this.steps.forEach((st, i) => {
      const entries = st.slots.map((s, binding) => {
        bufs[s] ??= { buffer: pool.acquire(this.slotBytes[s]!) };
        return { binding, resource: bufs[s]! };
      });
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
}

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

/** Compiles `roots` (already through the graph passes); `inputs` are the input nodes in slot order. */
export async function compileProgram(roots: readonly Node[], inputs: readonly Node[], dev: Device, pipelines: PipelineCache, opts: CompileOptions = {}): Promise<Program> {
  counters.programsCompiled++;
  const flags = debugFlags();
  if (flags.has('ir')) console.log(`// ---- graph\n${dumpGraph(roots)}`);
  checkBindingLimit(roots, dev.caps.maxBindingSize);
  const kernelRoots = [...new Set(roots.filter((r) => r.op !== 'input'))];
  const kernels = schedule(kernelRoots, { fuse: opts.fuse ?? true, maxBuffers: Math.min(opts.maxBuffers ?? Infinity, dev.caps.maxBuffers),
    log: flags.has('fusion') ? (m) => console.log(m) : undefined });
  const slotOf = new Map<Node, number>();
  const slotBytes: number[] = [];
  const newSlot = (n: Node) => { slotBytes.push(Math.max(4, numel(n.shape) * byteSize(n.dtype))); return slotBytes.length - 1; };
  inputs.forEach((n) => slotOf.set(n, newSlot(n)));
  for (const k of kernels) for (const o of kernelOutputs(k)) if (!slotOf.has(o)) slotOf.set(o, newSlot(o));
  const codes: KernelCode[] = [];
  for (const k of kernels) codes.push(generate(k, dev.caps, await opts.schedule?.(k, dev)));
  const live = kernels.map((k, i) => ({ k, code: codes[i]! })).filter(({ code }) => code.threads > 0);
  const pipes = await Promise.all(live.map(({ code }) => pipelines.get(code.wgsl, code.name)));
  // Liveness: an intermediate slot is released after the last step that binds it.
  const keep = new Set<number>([...inputs.map((n) => slotOf.get(n)!), ...roots.map((r) => slotOf.get(r)!)]);
  const lastUse = new Map<number, number>();
  const steps: Step[] = live.map(({ code }, i) => {
    const slots = code.bindings.map((n) => {
      const s = slotOf.get(n);
      if (s === undefined) throw new Error(`program: no buffer for ${n}`);
      lastUse.set(s, i);
      return s;
    });
    return { code: { name: code.name, wgsl: code.wgsl, grid: code.grid, threads: code.threads }, pipeline: pipes[i]!, slots, release: [] };
  });
  for (const [s, i] of lastUse) if (!keep.has(s)) steps[i]!.release.push(s);
  if (flags.has('kernels')) console.log(steps.map((s) => `${s.code.name} grid=${s.code.grid.join('x')}`).join('\n'));
  return new Program(steps, slotBytes, inputs.length, roots.map((r) => ({ slot: slotOf.get(r)! })));
}

/**
 * A key for a graph's structure with inputs numbered by position: equal keys, same program.
 * Inputs no kernel reads are not part of it, so graphs with different input counts can share a
 * program (encode ignores inputs past the program's own `inputSlots`).
 */
export function structureKey(roots: readonly Node[], inputs: readonly Node[]): string {
  const pos = new Map<Node, number>();
  const inputPos = new Map(inputs.map((n, i) => [n, i]));
  const lines = toposort(roots).map((n, i) => {
    pos.set(n, i);
    const arg = n.op === 'input' ? `in${inputPos.get(n)}` : argKey(n.arg);
    return `${n.op}|${n.dtype}|${n.shape.join(',')}|${arg}|${n.src.map((s) => pos.get(s)).join(',')}`;
  });
  return `${lines.join(';')}=>${roots.map((r) => pos.get(r)).join(',')}`;
}
