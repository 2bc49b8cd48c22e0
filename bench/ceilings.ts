/**
 * The adapter's own ceilings, measured in the same run as the benchmark that prints them:
 *  - copy: a hand-written WGSL copy kernel (vec4<f32> and scalar f32 variants); GB/s counts the
 *    bytes read plus the bytes written.
 *  - fma: a hand-written WGSL kernel in which every invocation runs several independent fma
 *    chains (scalar f32 and vec4<f32> variants); GFLOP/s counts 2 flops per fma lane.
 * The best variant of each is the ceiling. Other benches import `measureCeilings` (once per run)
 * and `copyFloor(bytes)` (the copy kernel over exactly the bytes a kernel must move).
 *
 * Standalone: npx tsx bench/ceilings.ts
 */
import { engine, type Engine } from '../runtime/engine.ts';
import { BufferUsage } from '../runtime/gpu.ts';
import { brief, environment, fmt, heading, isMain, printEnvironment, table, timeAsync, writeResults, type Timing } from './common.ts';

const WG = 256;
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Workgroup grid for `threads` invocations of WG each: 2-D when it exceeds the per-dimension limit. */
function grid(threads: number, maxDim: number): [number, number] {
  const groups = Math.ceil(threads / WG);
  if (groups <= maxDim) return [groups, 1];
  const y = Math.ceil(groups / maxDim);
  return [Math.ceil(groups / y), y];
}

const pipelines = new Map<string, GPUComputePipeline>();
async function pipeline(e: Engine, wgsl: string, label: string): Promise<GPUComputePipeline> {
  let p = pipelines.get(wgsl);
  if (!p) {
    const module = e.dev.gpu.createShaderModule({ code: wgsl, label });
    p = await e.dev.gpu.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
    pipelines.set(wgsl, p);
  }
  return p;
}

/** Runs one dispatch and waits for it. */
async function runOnce(e: Engine, p: GPUComputePipeline, bufs: GPUBuffer[], g: [number, number]): Promise<void> {
  const bg = e.dev.gpu.createBindGroup({ layout: p.getBindGroupLayout(0), entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const enc = e.dev.gpu.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(g[0], g[1]);
  pass.end();
  e.dev.gpu.queue.submit([enc.finish()]);
  await e.dev.gpu.queue.onSubmittedWorkDone();
}

// ---- copy ---------------------------------------------------------------------------------------
export type CopyVariant = 'vec4' | 'f32';

function copyWgsl(variant: CopyVariant, n: number, rowStride: number): string {
  const t = variant === 'vec4' ? 'vec4<f32>' : 'f32';
  return `@group(0) @binding(0) var<storage, read> src: array<${t}>;
@group(0) @binding(1) var<storage, read_write> dst: array<${t}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${rowStride}u;
  if (i < ${n}u) { dst[i] = src[i]; }
}`;
}

export interface CopyResult { variant: CopyVariant; bytesEachWay: number; ms: number; gbs: number; timing: Timing }

/** A prepared copy kernel over `bytesEachWay` bytes: `run()` dispatches it once and waits. */
export async function copyRunner(bytesEachWay: number, variant: CopyVariant = 'vec4'): Promise<{ run: () => Promise<void>; dispose: () => void }> {
  const e = await engine();
  const elems = variant === 'vec4' ? Math.ceil(bytesEachWay / 16) : Math.ceil(bytesEachWay / 4);
  const size = Math.ceil(bytesEachWay / 16) * 16;
  const g = grid(elems, e.dev.caps.maxWorkgroupsPerDim);
  const p = await pipeline(e, copyWgsl(variant, elems, g[0] * WG), `copy_${variant}`);
  const src = e.dev.gpu.createBuffer({ size, usage: STORAGE });
  const dst = e.dev.gpu.createBuffer({ size, usage: STORAGE });
  return { run: () => runOnce(e, p, [src, dst], g), dispose: () => { src.destroy(); dst.destroy(); } };
}

/** The copy kernel over `bytesEachWay` bytes read and the same written (GB/s counts both). */
export async function measureCopy(bytesEachWay: number, variant: CopyVariant = 'vec4', reps = 15): Promise<CopyResult> {
  const c = await copyRunner(bytesEachWay, variant);
  const timing = await timeAsync(c.run, { reps, warmup: 2, maxMs: 3000 });
  c.dispose();
  return { variant, bytesEachWay, ms: timing.median, gbs: (2 * bytesEachWay) / (timing.median * 1e6), timing };
}

/** The floor for a kernel that must move `bytesMoved` bytes (read + write): the best copy of half each way. */
export async function copyFloor(bytesMoved: number, reps = 15): Promise<CopyResult> {
  const a = await measureCopy(bytesMoved / 2, 'vec4', reps);
  const b = await measureCopy(bytesMoved / 2, 'f32', reps);
  return a.ms <= b.ms ? a : b;
}

// ---- fma ----------------------------------------------------------------------------------------
export interface FmaConfig { vec: 1 | 4; chains: number; iters: number }

function fmaWgsl(c: FmaConfig, threads: number): string {
  const t = c.vec === 4 ? 'vec4<f32>' : 'f32';
  const init = Array.from({ length: c.chains }, (_, j) => `  var a${j} = ${t}(x + ${j}.0 * 0.001);`).join('\n');
  const body = Array.from({ length: c.chains }, (_, j) => `    a${j} = fma(a${j}, m, k);`).join('\n');
  const sum = Array.from({ length: c.chains }, (_, j) => `a${j}`).join(' + ');
  const out = c.vec === 4 ? 'dot(s, vec4<f32>(1.0))' : 's';
  return `@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= ${threads}u) { return; }
  let x = f32(i) * 1e-7;
  let m = ${t}(params[0]);
  let k = ${t}(params[1]);
${init}
  for (var it = 0u; it < ${c.iters}u; it = it + 1u) {
${body}
  }
  let s = ${sum};
  dst[i] = ${out};
}`;
}

export interface FmaResult { config: FmaConfig; threads: number; flops: number; ms: number; gflops: number; timing: Timing }

export async function measureFma(c: FmaConfig, threads = 1 << 15, reps = 9): Promise<FmaResult> {
  const e = await engine();
  const p = await pipeline(e, fmaWgsl(c, threads), `fma_${c.vec}x${c.chains}`);
  const params = e.dev.gpu.createBuffer({ size: 16, usage: STORAGE });
  e.dev.gpu.queue.writeBuffer(params, 0, new Float32Array([0.999, 0.001, 0, 0]));
  const dst = e.dev.gpu.createBuffer({ size: threads * 4, usage: STORAGE });
  const timing = await timeAsync(() => runOnce(e, p, [params, dst], [Math.ceil(threads / WG), 1]), { reps, warmup: 1, maxMs: 3000 });
  params.destroy(); dst.destroy();
  const flops = 2 * c.vec * c.chains * c.iters * threads;
  return { config: c, threads, flops, ms: timing.median, gflops: flops / (timing.median * 1e6), timing };
}

export const FMA_CONFIGS: FmaConfig[] = [
  { vec: 1, chains: 8, iters: 512 },
  { vec: 1, chains: 16, iters: 512 },
  { vec: 1, chains: 32, iters: 256 },
  { vec: 1, chains: 48, iters: 256 },
  { vec: 4, chains: 8, iters: 256 },
];

// ---- together -----------------------------------------------------------------------------------
export interface Ceilings { copyGBs: number; copyVariant: string; fmaGFLOPs: number; fmaConfig: string; copies: CopyResult[]; fmas: FmaResult[] }

let cached: Ceilings | null = null;

/** Measures (once per process) the copy and fma ceilings; `print` shows the detail table. */
export async function measureCeilings(print = false): Promise<Ceilings> {
  if (!cached) {
    const copies: CopyResult[] = [];
    for (const mib of [16, 64]) for (const v of ['vec4', 'f32'] as const) copies.push(await measureCopy(mib * 2 ** 20, v));
    const fmas: FmaResult[] = [];
    for (const c of FMA_CONFIGS) fmas.push(await measureFma(c));
    const bc = copies.reduce((a, b) => (b.gbs > a.gbs ? b : a));
    const bf = fmas.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    cached = { copyGBs: bc.gbs, copyVariant: `${bc.variant}, ${bc.bytesEachWay / 2 ** 20} MiB each way`, fmaGFLOPs: bf.gflops, fmaConfig: fmaName(bf.config), copies, fmas };
  }
  if (print) printCeilings(cached, true);
  return cached;
}

const fmaName = (c: FmaConfig) => `${c.vec === 4 ? 'vec4' : 'f32'} x ${c.chains} chains x ${c.iters} iters`;

export function printCeilings(c: Ceilings, detail = false): void {
  if (detail) {
    heading('ceilings: copy kernel (hand-written WGSL; GB/s = (read + write bytes) / time)');
    table(['variant', 'MiB each way', 'ms (median)', 'GB/s', 'reps'], c.copies.map((r) => [r.variant, r.bytesEachWay / 2 ** 20, r.ms, r.gbs, String(r.timing.reps)]));
    heading('ceilings: fma kernel (hand-written WGSL; independent fma chains per invocation; 2 flops per fma lane)');
    table(['config', 'invocations', 'GFLOP', 'ms (median)', 'GFLOP/s', 'reps'], c.fmas.map((r) => [fmaName(r.config), String(r.threads), r.flops / 1e9, r.ms, r.gflops, String(r.timing.reps)]));
  }
  console.log(`ceilings (this run): copy ${fmt(c.copyGBs)} GB/s [${c.copyVariant}]   fma ${fmt(c.fmaGFLOPs)} GFLOP/s [${c.fmaConfig}]`);
}

export const ceilingsJson = (c: Ceilings) => ({
  copyGBs: c.copyGBs, copyVariant: c.copyVariant, fmaGFLOPs: c.fmaGFLOPs, fmaConfig: c.fmaConfig,
  copies: c.copies.map((r) => ({ variant: r.variant, bytesEachWay: r.bytesEachWay, gbs: r.gbs, ...brief(r.timing) })),
  fmas: c.fmas.map((r) => ({ config: fmaName(r.config), threads: r.threads, gflop: r.flops / 1e9, gflops: r.gflops, ...brief(r.timing) })),
});

export async function main(): Promise<void> {
  const env = await environment();
  heading('bench/ceilings.ts: adapter ceilings');
  printEnvironment(env);
  const c = await measureCeilings(true);
  writeResults('ceilings', { env, ...ceilingsJson(c) });
}

if (isMain(import.meta.url)) await main();
