/**
 * The adapter's own ceilings, from two hand-written WGSL kernels: a copy (memory bandwidth; GB/s
 * counts bytes read plus bytes written; vec4<f32> and f32 variants) and independent fma chains
 * per invocation (arithmetic; 2 flops per fma lane; scalar and vec4 variants). The benchmarks
 * (bench/ceilings.ts) time these runners in detail; `quickCeilings` takes the fastest of a few
 * short runs (a ceiling is what the adapter can reach, so the best run, not the median), for profile reports and `tessera info`.
 */
import type { Engine } from './engine.ts';
import { BufferUsage } from './gpu.ts';

const WG = 256;
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Workgroup grid for `threads` invocations of WG each: 2-D when it exceeds the per-dimension limit. */
function grid(threads: number, maxDim: number): [number, number] {
  const groups = Math.ceil(threads / WG);
  if (groups <= maxDim) return [groups, 1];
  const y = Math.ceil(groups / maxDim);
  return [Math.ceil(groups / y), y];
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
function pipeline(e: Engine, wgsl: string, label: string): Promise<GPUComputePipeline> {
  let m = pipelines.get(e.dev.gpu);
  if (!m) pipelines.set(e.dev.gpu, (m = new Map()));
  let p = m.get(wgsl);
  if (!p) {
    const module = e.dev.gpu.createShaderModule({ code: wgsl, label });
    p = e.dev.gpu.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
    m.set(wgsl, p);
  }
  return p;
}

/** Runs one dispatch and waits for it. */
async function runOnce(e: Engine, p: GPUComputePipeline, bufs: GPUBuffer[], g: [number, number]): Promise<void> {
  const bg = e.dev.gpu.createBindGroup({ layout: p.getBindGroupLayout(0), entries: bufs.map((buffer, binding) => ({ binding,
    resource: { buffer } })) });
  const enc = e.dev.gpu.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(g[0], g[1]);
  pass.end();
  e.dev.gpu.queue.submit([enc.finish()]);
  await e.dev.gpu.queue.onSubmittedWorkDone();
}

/** A prepared kernel: `run()` dispatches it once and waits; `dispose()` frees its buffers. */
export interface Runner { run: () => Promise<void>; dispose: () => void }

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

/** The copy kernel over `bytesEachWay` bytes read and the same written. */
export async function copyRunner(e: Engine, bytesEachWay: number, variant: CopyVariant = 'vec4'): Promise<Runner> {
  const elems = variant === 'vec4' ? Math.ceil(bytesEachWay / 16) : Math.ceil(bytesEachWay / 4);
  const size = Math.ceil(bytesEachWay / 16) * 16;
  const g = grid(elems, e.dev.caps.maxWorkgroupsPerDim);
  const p = await pipeline(e, copyWgsl(variant, elems, g[0] * WG), `copy_${variant}`);
  const src = e.dev.gpu.createBuffer({ size, usage: STORAGE });
  const dst = e.dev.gpu.createBuffer({ size, usage: STORAGE });
  return { run: () => runOnce(e, p, [src, dst], g), dispose: () => { src.destroy(); dst.destroy(); } };
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

export const fmaFlops = (c: FmaConfig, threads: number) => 2 * c.vec * c.chains * c.iters * threads;
export const fmaName = (c: FmaConfig) => `${c.vec === 4 ? 'vec4' : 'f32'} x ${c.chains} chains x ${c.iters} iters`;

/** The fma kernel over `threads` invocations (`fmaFlops` of arithmetic per run). */
export async function fmaRunner(e: Engine, c: FmaConfig, threads = 1 << 15): Promise<Runner> {
  const p = await pipeline(e, fmaWgsl(c, threads), `fma_${c.vec}x${c.chains}`);
  const params = e.dev.gpu.createBuffer({ size: 16, usage: STORAGE });
  e.dev.gpu.queue.writeBuffer(params, 0, new Float32Array([0.999, 0.001, 0, 0]));
  const dst = e.dev.gpu.createBuffer({ size: threads * 4, usage: STORAGE });
  return { run: () => runOnce(e, p, [params, dst], [Math.ceil(threads / WG), 1]), dispose: () => { params.destroy(); dst.destroy(); } };
}

export const FMA_CONFIGS: FmaConfig[] = [
  { vec: 1, chains: 8, iters: 512 },
  { vec: 1, chains: 16, iters: 512 },
  { vec: 1, chains: 32, iters: 256 },
  { vec: 1, chains: 48, iters: 256 },
  { vec: 4, chains: 8, iters: 256 },
];

// ---- quick ceilings -----------------------------------------------------------------------------
export interface QuickCeilings { copyGBs: number; fmaGFLOPs: number; copy: string; fma: string }

async function bestMs(r: Runner, reps: number): Promise<number> {
  await r.run();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); await r.run(); xs.push(performance.now() - t0); }
  r.dispose();
  return Math.min(...xs);
}

const quick = new WeakMap<GPUDevice, Promise<QuickCeilings>>();
/** Copy and fma ceilings from short runs (a 16 MiB copy each way, two fma shapes), once per device. */
export function quickCeilings(e: Engine, reps = 5): Promise<QuickCeilings> {
  let q = quick.get(e.dev.gpu);
  if (!q) {
    q = (async () => {
      const bytes = 16 * 2 ** 20;
      let best: QuickCeilings = { copyGBs: 0, fmaGFLOPs: 0, copy: '', fma: '' };
      for (const v of ['vec4', 'f32'] as const) {
        const gbs = (2 * bytes) / ((await bestMs(await copyRunner(e, bytes, v), reps)) * 1e6);
        if (gbs > best.copyGBs) best = { ...best, copyGBs: gbs, copy: `copy ${v}, 16 MiB each way` };
      }
      for (const c of [FMA_CONFIGS[2]!, FMA_CONFIGS[4]!]) {
        const gf = fmaFlops(c, 1 << 15) / ((await bestMs(await fmaRunner(e, c), reps)) * 1e6);
        if (gf > best.fmaGFLOPs) best = { ...best, fmaGFLOPs: gf, fma: `fma ${fmaName(c)}` };
      }
      return best;
    })();
    quick.set(e.dev.gpu, q);
  }
  return q;
}
