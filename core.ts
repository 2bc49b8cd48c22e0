/**
 * Tessera's core: tensors and their ops, autodiff and jit, the compiler and the runtime (device,
 * GPU-buffer interop, tuning). The package entry `tessera` (index.ts) adds the Keras-style `nn`
 * and the inspection tools (explain, profile); `tessera/core` is this alone, the smallest bundle
 * for an app or a library that only computes.
 */
import './ops/methods.ts';

export { Tensor, realizeAll, type NestedArray } from './ops/tensor.ts';
export { tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, rand, randn, seed, type TensorOptions } from './ops/creation.ts';
export { randomUniform, dropout, type RandomOptions } from './ops/random.ts';
export * from './ops/elementwise.ts';
export { sum, mean, max, min, argmax, argmin, variance, logsumexp, prod, all, any, std, norm, type Axes } from './ops/reduce.ts';
export { log1p, expm1, round, ceil, trunc, isnan, isinf, isfinite, tan, sinh, cosh, asinh, acosh, atanh, atan, atan2, asin, acos } from './ops/math.ts';
export { flip, roll, tile, repeat, swapaxes, moveaxis, broadcastTo, split, chunk, tril, triu } from './ops/rearrange.ts';
export { cumsum, cumprod } from './ops/scan.ts';
export { topk, sort, argsort } from './ops/sorting.ts';
export { oneHot, scatterAdd } from './ops/scatter.ts';
export { einsum } from './ops/einsum.ts';
export { formatTensor } from './ops/format.ts';
export { reshape, permute, transpose, expand, slice, pad, concat, stack, squeeze, unsqueeze, flatten } from './ops/movement.ts';
export { matmul, dot } from './ops/linalg.ts';
export { take, gather, takeAlongAxis } from './ops/gather.ts';
export { softmax, logSoftmax, layerNorm } from './ops/nn/functional.ts';
export type { TensorLike } from './ops/graph.ts';
export { TesseraError } from './ir/error.ts';
export type { DType, TypedArray } from './ir/dtype.ts';
export { stats, resetStats, type Stats } from './runtime/stats.ts';
export { globalOptions as compilerOptions, lazyGraphLimits } from './runtime/engine.ts';
export { getDevice, recoverDevice, init, requestPreferredDevice, type Device, type DeviceRequirements, type InitOptions } from './runtime/device.ts';
export { fromGPUBuffer, type FromGPUBufferOptions } from './ops/gpu-buffers.ts';
export { flush } from './runtime/activity.ts';
export { tuning, tuningComplete, type TuneMode } from './runtime/tuner.ts';
export { planCache, planCacheIdle } from './runtime/plan-cache.ts';
export { grad, valueAndGrad, vjp, jit, type Jitted, type JitOptions, type GradOptions } from './ops/transforms.ts';
export { flatten as treeFlatten, treeMap, type PyTree } from './ops/pytree.ts';
export { conv2d, maxPool2d, avgPool2d, slidingWindows, type Conv2dOptions, type Pool2dOptions, type Padding } from './ops/nn/conv.ts';
