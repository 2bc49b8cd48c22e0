/**
 * Tessera: a compute-kernel compiler for WebGPU. Tensor code in TypeScript is traced lazily into
 * a graph IR, fused into few kernels, lowered to WGSL and run on the GPU, in Node and browsers.
 * See ARCHITECTURE.md for the pipeline.
 */
export * from './core.ts';
export * as nn from './ops/nn/index.ts';
export { Sequential, Dense } from './ops/nn/index.ts';
export { explain, ExplainReport } from './ops/inspect/explain.ts';
export { captureSources } from './ops/inspect/sources.ts';
export type { KernelInfo, BufferInfo } from './ops/inspect/analyze.ts';
export { profile, ProfileReport, type KernelProfile } from './ops/inspect/profile.ts';
