/**
 * explain(fnOrTensors, ...args): what the compiler does to a program. The graph is put through
 * the same passes, scheduler and code generator that running it would use, and the report lists
 * each kernel — the primitives it fuses, the buffers it reads and writes, bytes moved and FLOPs —
 * beside what the same graph would cost without fusion. As text (`toString()`), as a picture
 * (`toSVG()`), as Graphviz DOT (`toDOT()`), and as data (`kernels`). Nothing runs on the GPU:
 * the device is opened only for its limits (without an adapter, WebGPU's default limits are
 * used). The WGSL shown uses the untuned schedules. A function target's source lines are
 * recorded while it builds its graph (sources.ts).
 */
import type { DeviceCaps } from '../../codegen/kernels.ts';
import { measuredSkipRules } from '../../runtime/defaults.ts';
import { engine, globalOptions } from '../../runtime/engine.ts';
import { analyze, argLabels, resultNodes, type Analysis, type BufferInfo, type KernelInfo, type Target } from './analyze.ts';
import { graphDOT } from './graph-dot.ts';
import { graphSVG } from './graph-svg.ts';
import { fmtBytes, fmtCount } from './svg.ts';
import { fmtType, textTable } from './table.ts';
import { fmtSite, withSources } from './sources.ts';
import { resolveModel } from './model-step.ts';
import type { Model } from '../nn/model.ts';

const fmtBuf = (b: BufferInfo) => `${b.label} ${fmtType(b.dtype, b.shape)}`;
/** At most `max` characters, cut at a space, with the count of what was left out. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.lastIndexOf(' ', max - 8);
  const left = s.slice(cut > 0 ? cut : max - 8).trim().split(/,? /).length;
  return `${s.slice(0, cut > 0 ? cut : max - 8)} …+${left}`;
}

export class ExplainReport {
  readonly kernels: readonly KernelInfo[];
  readonly inputs: readonly BufferInfo[];
  readonly outputs: readonly BufferInfo[];
  constructor(readonly analysis: Analysis, readonly title = 'program', readonly device = '') {
    this.kernels = analysis.kernels;
    this.inputs = analysis.inputs;
    this.outputs = analysis.outputs;
  }
  get bytes(): number { return this.kernels.reduce((s, k) => s + k.bytes, 0); }
  get flops(): number { return this.kernels.reduce((s, k) => s + k.flops, 0); }

  /** One line: primitives, kernels, and what fusion saved. */
  summary(): string {
    const a = this.analysis, n = this.kernels.length;
    const saved = a.unfused.bytes > 0 && this.bytes > 0 ? `, ${(a.unfused.bytes / this.bytes).toFixed(1)}× the bytes` : '';
    return `${this.title}: ${a.primitives} primitives in ${n} kernel${n === 1 ? '' : 's'}, `
      + `${fmtBytes(this.bytes)} moved, ${fmtCount(this.flops)} FLOPs ` +
      `(without fusion: ${a.unfused.kernels} kernels, ${fmtBytes(a.unfused.bytes)}${saved})`;
  }

  /** The text table: one row per kernel. */
  toString(): string {
    const rows = this.kernels.map((k) => [
      `k${k.index}`, k.name, k.kind, clip(k.primitives.join(' ') || '(copy)', 48),
      clip(k.reads.map(fmtBuf).join(', ') || '-', 64), clip(k.writes.map(fmtBuf).join(', '), 40),
      fmtBytes(k.bytes), fmtCount(k.flops),
    ]);
    const lines = [this.summary(), ...(this.device ? [`compiled for: ${this.device}`] : []), '', textTable(['#', 'kernel', 'kind', 'fuses', 'reads', 'writes', 'bytes', 'FLOPs'], rows, [6, 7])];
    const sourced = this.kernels.filter((k) => k.sources.length);
    if (sourced.length) lines.push('', 'source lines:', ...sourced.map((k) => `  k${k.index} ${k.name}: ${k.sources.map(fmtSite).join('; ')}`));
    return lines.join('\n');
  }

  toSVG(): string { return graphSVG(this.analysis, this.summary()); }
  toDOT(): string { return graphDOT(this.analysis); }
  /** The WGSL of kernel `i` (by index or name). */
  wgsl(i: number | string): string {
    const k = typeof i === 'number' ? this.kernels[i] : this.kernels.find((x) => x.name === i);
    return k?.wgsl ?? '';
  }
  toJSON() {
    const { kernels, inputs, outputs, device } = this;
    return { summary: this.summary(), device, kernels, inputs, outputs, unfused: this.analysis.unfused };
  }
}

/** WebGPU's default limits: what explain compiles for when there is no adapter. */
const SPEC_DEFAULTS: DeviceCaps & { maxBuffers: number } = { maxWorkgroupsPerDim: 65535, maxWorkgroupSize: 256, f16: false, subgroups: false, maxBuffers: 8 };

/** Device limits for compiling: the engine's device, or WebGPU's defaults without one (`fallback`). */
export async function compileCaps(fallback = false): Promise<{ caps: DeviceCaps; maxBuffers: number; device: string; skipRules: readonly string[] }> {
  let caps: DeviceCaps & { maxBuffers: number } = SPEC_DEFAULTS, device = 'no WebGPU adapter: compiled for WebGPU\'s default limits';
  let skipRules = globalOptions.skipRules ?? [];
  try {
    const e = await engine();
    caps = e.dev.caps;
    skipRules = globalOptions.skipRules ?? measuredSkipRules(e.dev); // as the program itself is scheduled
    const i = e.dev.adapterInfo;
    device = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unnamed adapter';
  } catch (err) {
    if (!fallback) throw err;
  }
  return { caps, maxBuffers: Math.min(globalOptions.maxBuffers ?? Infinity, caps.maxBuffers), device, skipRules };
}

/**
 * The compiler's report on `target`: a tensor or pytree of tensors (their lazy graphs), or a
 * function applied to `args` (called once, on the real arguments, to build the graph), or a
 * model: `explain(model, x, y)` shows one train step, `explain(model, x)` the forward pass.
 */
export async function explain(target: Target | Model, ...args: unknown[]): Promise<ExplainReport> {
  const r = resolveModel('explain', target, args);
  target = r.target as Target;
  args = [...r.args];
  const nodes = withSources(() => resultNodes('explain', target, args));
  const { caps, maxBuffers, device, skipRules } = await compileCaps(true);
  const title = typeof target === 'function' && target.name ? target.name : 'program';
  return new ExplainReport(analyze(nodes, caps, { fuse: globalOptions.fuse ?? true, maxBuffers, skipRules }, argLabels(args)), title, device);
}
