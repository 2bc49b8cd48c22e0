/**
 * profile(fnOrTensors, ...args): runs a program on the GPU and reports, per kernel, its time, its
 * FLOPs and bytes (see analyze.ts), the GFLOP/s and GB/s it reached, and how close that is to
 * the roofline of this adapter — its copy bandwidth and fma throughput, measured on the spot
 * (runtime/ceilings.ts). Kernels are timed with timestamp queries (one compute pass per kernel)
 * where the adapter has `timestamp-query`, otherwise by dispatching each kernel alone and timing
 * submit to completion (which adds the submit overhead). The program is the one `realize` would
 * run, tuned schedules included. Source lines of the ops each kernel fused are captured while a
 * function target builds its graph (tensors passed in carry them only if `captureSources(true)`
 * was on when they were built).
 */
import { quickCeilings, type QuickCeilings } from '../../runtime/ceilings.ts';
import { aliasOf, engine, ensureUploaded, globalOptions, inputsOf, programFor } from '../../runtime/engine.ts';
import { launchTimes, median, timeProgram } from '../../runtime/profile.ts';
import { storageOf } from '../../runtime/storage.ts';
import { analyze, argLabels, resultNodes, type KernelInfo, type Target } from './analyze.ts';
import { compileCaps } from './explain.ts';
import { rooflineSVG } from './roofline-svg.ts';
import { fmtSite, withSources } from './sources.ts';
import { resolveModel } from './model-step.ts';
import type { Model } from '../nn/model.ts';
import { fmtBytes, fmtCount } from './svg.ts';
import { textTable } from './table.ts';

export interface KernelProfile extends KernelInfo {
  /** Median GPU time of one run, in milliseconds. */
  ms: number;
  gflops: number;
  gbs: number;
  /** FLOPs per byte moved. */
  intensity: number;
  /** Achieved fraction of the roofline at this intensity: min(fma peak, intensity × copy bandwidth). */
  ofRoofline: number;
}

export interface ProfileOptions { reps?: number }

export class ProfileReport {
  constructor(
    readonly title: string,
    readonly kernels: readonly KernelProfile[],
    readonly ceilings: QuickCeilings,
    /** 'timestamp-query' or 'dispatch alone' */
    readonly method: string,
    /** Median wall time of the whole program, submit to completion, in ms. */
    readonly totalMs: number,
    readonly adapter: string,
  ) {}

  toString(): string {
    const c = this.ceilings;
    const head = `${this.title}: ${this.kernels.length} kernels, ${this.totalMs.toFixed(3)} ms per run (wall), `
      + `kernels timed by ${this.method} on ${this.adapter}\n` +
      `ceilings (measured now): copy ${c.copyGBs.toFixed(1)} GB/s, fma ${c.fmaGFLOPs.toFixed(1)} GFLOP/s`;
    const site = (k: KernelProfile) => (k.sources.length ? fmtSite(k.sources[0]!) + (k.sources.length > 1 ? ` (+${k.sources.length - 1})` : '') : '');
    const rows = this.kernels.map((k) => [`k${k.index}`, k.name, k.ms.toFixed(3), fmtCount(k.flops), fmtBytes(k.bytes),
      k.gflops.toFixed(2), k.gbs.toFixed(2), `${(100 * k.ofRoofline).toFixed(1)}%`, site(k)]);
    const table = textTable(['#', 'kernel', 'ms', 'FLOPs', 'bytes', 'GFLOP/s', 'GB/s', 'roofline', 'source'], rows, [2, 3, 4, 5, 6, 7]);
    const more = this.kernels.filter((k) => k.sources.length > 1);
    const all = more.length ? ['', 'all source lines:', ...more.map((k) => `  k${k.index}: ${k.sources.map(fmtSite).join('; ')}`)] : [];
    return [head, '', table, ...all].join('\n');
  }
  toSVG(): string { return rooflineSVG(this); }
  toJSON() {
    const { title, method, totalMs, adapter, ceilings, kernels } = this;
    return { title, method, totalMs, adapter, ceilings, kernels };
  }
}

/** Runs and times `target` (a tensor, pytree of tensors, a function applied to `args`, or a model as in explain). */
export async function profile(target: Target | Model, ...args: unknown[]): Promise<ProfileReport> {
  return profileWith({}, target, ...args);
}

export async function profileWith(opts: ProfileOptions, target: Target | Model, ...args: unknown[]): Promise<ProfileReport> {
  const reps = opts.reps ?? 5;
  const m = resolveModel('profile', target, args);
  target = m.target as Target;
  args = [...m.args];
  const nodes = withSources(() => resultNodes('profile', target, args));
  const { caps, maxBuffers, skipRules } = await compileCaps();
  const a = analyze(nodes, caps, { fuse: globalOptions.fuse ?? true, maxBuffers, skipRules }, argLabels(args));
  const e = await engine();
  const inputs = inputsOf(a.roots);
  const compute = [...new Set(a.roots.filter((r) => !aliasOf(r)))];
  const program = await programFor(e, compute, inputs, globalOptions);
  const storages = inputs.map((n) => storageOf(n));
  for (const s of storages) s.retain();
  let times: number[], totalMs: number;
  const method = e.dev.caps.timestamps ? 'timestamp-query' : 'dispatch alone';
  try {
    const bufs = storages.map((s) => ensureUploaded(e, s));
    times = await launchTimes(e, program, bufs, reps);
    totalMs = median(await timeProgram(e, program, bufs, reps));
  } finally { for (const s of storages) s.release(); }
  const ceilings = await quickCeilings(e);
  // Launches are the kernels that do work, in order; they carry the WGSL that actually ran (tuned schedules).
  const kernels: KernelProfile[] = [];
  let j = 0;
  program.steps.forEach((st, i) => {
    while (j < a.kernels.length && a.kernels[j]!.name !== st.code.name) j++;
    const k = a.kernels[j++];
    if (!k) throw new Error(`profile: launch ${i} (${st.code.name}) matches no scheduled kernel`);
    // A time below the clock's resolution reads 0: no rate can be given.
    const ms = times[i]!, s = ms > 0 ? ms * 1e6 : Infinity;
    const intensity = k.bytes ? k.flops / k.bytes : 0;
    const roof = Math.min(ceilings.fmaGFLOPs, intensity * ceilings.copyGBs);
    const gflops = k.flops / s, gbs = k.bytes / s;
    kernels.push({ ...k, wgsl: st.code.wgsl, ms, gflops, gbs, intensity, ofRoofline: k.flops ? gflops / roof : gbs / ceilings.copyGBs });
  });
  const info = e.dev.adapterInfo;
  const title = typeof target === 'function' && target.name ? target.name : 'program';
  const adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  return new ProfileReport(title, kernels, ceilings, method, totalMs, adapter);
}

