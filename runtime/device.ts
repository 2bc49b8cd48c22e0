/**
 * One device API over Node (the `webgpu` package: Dawn, here on Mesa's lavapipe) and browsers
 * (`navigator.gpu`). The device is created once, on first use, with the adapter's own limits
 * (storage buffers per stage, workgroup sizes, binding sizes) and optional features
 * (shader-f16, timestamp-query, subgroups) requested, so kernels can use what the adapter has.
 */
import { TesseraError } from '../ir/error.ts';
import type { DeviceCaps } from '../codegen/common.ts';

export interface Device {
  gpu: GPUDevice;
  caps: DeviceCaps & { maxBuffers: number; maxBindingSize: number; maxBufferSize: number; timestamps: boolean; subgroups: boolean };
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  /** A short string naming the adapter, used to key tuning caches. */
  adapterKey: string;
}

let current: Promise<Device> | null = null;
/** Node's GPU instance must stay referenced: if it is collected, Dawn tears the device down. */
let keepAlive: GPU | null = null;

async function getGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  // Node: a dynamic import keeps the browser bundle free of the native module.
  const spec = 'webgpu';
  const mod = (await import(/* @vite-ignore */ spec)) as { create: (o: string[]) => GPU; globals: object };
  Object.assign(globalThis, mod.globals);
  keepAlive ??= mod.create([]);
  return keepAlive;
}

export function getDevice(): Promise<Device> {
  current ??= createDevice().catch((e) => { current = null; throw e; });
  return current;
}

async function createDevice(): Promise<Device> {
  const gpu = await getGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new TesseraError('device', 'no WebGPU adapter found',
      'in Node run `npm run setup` (installs the lavapipe Vulkan driver); in Chromium start with --enable-unsafe-webgpu');
  const L = adapter.limits;
  const want = ['shader-f16', 'timestamp-query', 'subgroups'].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const k of ['maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupsPerDimension',
    'maxBindGroups'] as const)
    requiredLimits[k] = L[k];
  const gpuDevice = await adapter.requestDevice({ requiredFeatures: want, requiredLimits });
  gpuDevice.lost.then((info) => { if (info.reason !== 'destroyed') console.error(`tessera: WebGPU device lost: ${info.message}`); current = null; });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const adapterInfo = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' };
  return {
    gpu: gpuDevice,
    caps: {
      maxWorkgroupsPerDim: L.maxComputeWorkgroupsPerDimension,
      maxWorkgroupSize: Math.min(L.maxComputeInvocationsPerWorkgroup, L.maxComputeWorkgroupSizeX),
      f16: want.includes('shader-f16'),
      maxBuffers: L.maxStorageBuffersPerShaderStage,
      maxBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      timestamps: want.includes('timestamp-query'),
      subgroups: want.includes('subgroups'),
    },
    adapterInfo,
    adapterKey: [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.device, adapterInfo.description].filter(Boolean).join('|') || 'unknown',
  };
}
