/**
 * One device API over Node (the `webgpu` package: Dawn, here on Mesa's lavapipe) and browsers
 * (`navigator.gpu`). The device is created once, on first use, with the adapter's own limits
 * (storage buffers per stage, workgroup sizes, binding sizes) and optional features
 * (shader-f16, timestamp-query, subgroups) requested, so kernels can use what the adapter has.
 */
import { TesseraError } from '../ir/error.ts';
import type { DeviceCaps } from '../codegen/kernels.ts';
import { bumpDeviceEpoch } from './storage.ts';

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

/**
 * Device loss (the GPU process crashed, the driver reset, or `device.destroy()`): every later call
 * throws a TesseraError saying so, until `recoverDevice()`; then the next call opens a new device.
 * Tensors made from JS data upload again by themselves; tensors computed on the lost device report
 * that their data is gone. Sticky on purpose: code that holds GPU results must learn they are lost.
 */
let lostInfo: { reason: string; message: string } | null = null;

export function deviceLostError(op = 'device'): TesseraError {
  const why = lostInfo ? `${lostInfo.reason}${lostInfo.message ? `: ${lostInfo.message}` : ''}` : 'unknown reason';
  return new TesseraError(op, `the WebGPU device was lost (${why}); tensors computed on it are gone`,
    'call recoverDevice() to open a new device on the next call, then recompute lost tensors (tensors made from JS data upload again by themselves)');
}
/** Whether the device was lost (and recoverDevice() not yet called). */
export const deviceIsLost = () => lostInfo !== null;
/** Throws the device-lost error when the device was lost. */
export function checkDevice(op = 'device'): void { if (lostInfo) throw deviceLostError(op); }
const lostListeners: (() => void)[] = [];
/** Calls `f` whenever a device is lost (after the error state is set). */
export function onDeviceLost(f: () => void): void { lostListeners.push(f); }
/** After a device loss: lets the next call open a new device. */
export function recoverDevice(): void { lostInfo = null; }

export function getDevice(): Promise<Device> {
  checkDevice();
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
  gpuDevice.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`tessera: WebGPU device lost: ${info.message}`);
    current = null;
    lostInfo = { reason: info.reason ?? 'unknown', message: info.message ?? '' };
    bumpDeviceEpoch();
    for (const f of lostListeners) f();
  });
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
