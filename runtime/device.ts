/**
 * One device API over Node (the `webgpu` package: Dawn, here on Mesa's lavapipe) and browsers
 * (`navigator.gpu`). By default the device is created on first use with the adapter's own limits
 * (storage buffers per stage, workgroup sizes, binding sizes) and optional features (shader-f16,
 * timestamp-query, subgroups) requested, so kernels can use what the adapter has. An application
 * can instead hand Tessera its own GPUDevice (`init({device})`, before first use): capabilities then
 * come from that device's limits and features, and Tessera never destroys it.
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

export interface InitOptions {
  /** The application's device: Tessera runs on it and never destroys it. */
  device?: GPUDevice;
  /** Or an adapter to request Tessera's device on (with its preferred limits and features). */
  adapter?: GPUAdapter;
  /** Features the device must have: requested (with `adapter` or by default), or checked (with `device`). */
  requiredFeatures?: readonly GPUFeatureName[];
  /** Limits the device must have, by the same rule. */
  requiredLimits?: Record<string, number>;
}

let current: Promise<Device> | null = null;
/** The device `current` resolved to, once known (synchronous access for fromGPUBuffer). */
let resolved: Device | null = null;
/** Node's GPU instance must stay referenced: if it is collected, Dawn tears the device down. */
let keepAlive: GPU | null = null;

async function getGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  // Node: a dynamic import keeps the browser bundle free of the native module.
  const spec = 'webgpu';
  const mod = (await import(/* @vite-ignore */ spec)) as { create: (o: string[]) => GPU; globals: object };
  Object.assign(globalThis, mod.globals);
  // Dawn rounds timestamp queries to 2^16 ns by default (a browser's timing-attack guard); profiles need them exact.
  keepAlive ??= mod.create(['disable-dawn-features=timestamp_quantization']);
  return keepAlive;
}

/** Tessera's device if it is chosen and ready (after `await init()` or the first realization), else null. */
export const deviceNow = (): Device | null => resolved;

/** Tessera's device; created on the first call (the first realization) unless `init` chose one. */
export function getDevice(): Promise<Device> {
  current ??= requestPreferredDevice().then((d) => adoptDevice(d)).catch((e) => { current = null; throw e; });
  return current;
}

/**
 * Chooses the device Tessera runs on; call it before the first realization. With `device`, Tessera
 * shares the application's GPUDevice (buffers then pass both ways without copies: fromGPUBuffer,
 * gpuBuffer). With `adapter` (or nothing), Tessera requests its own device. A repeated call with the
 * device already in use (or with no options) returns it; any other choice after first use throws.
 */
export async function init(opts: InitOptions = {}): Promise<Device> {
  const { device, adapter, requiredFeatures = [], requiredLimits = {} } = opts;
  if (device && adapter)
    throw new TesseraError('init', 'both `device` and `adapter` were given',
      'pass the device to share, or the adapter Tessera should request a device on, not both');
  if (current) {
    if (!device && !adapter && !opts.requiredFeatures && !opts.requiredLimits) return current;
    const inUse = await current.catch(() => null);
    if (device && inUse?.gpu === device) return inUse;
    const what = device ? 'it already runs on another GPUDevice' : 'it cannot request another one';
    throw new TesseraError('init', `Tessera's device was already chosen (at its first use or by an earlier init), so ${what}`,
      'call init() once, before the first realization (data(), realize(), a jit call), or share the device Tessera chose: (await getDevice()).gpu');
  }
  // Set at once, so a realization starting while this init awaits waits for this device instead of making its own.
  const chosen = device ? validateSharedDevice(device, requiredFeatures, requiredLimits)
    : requestPreferredDevice(adapter, { requiredFeatures, requiredLimits });
  current = chosen.then((d) => adoptDevice(d, adapter)).catch((e) => { current = null; throw e; });
  return current;
}

/** What an application asks of a device beyond Tessera's preferences. */
export interface DeviceRequirements { requiredFeatures?: readonly GPUFeatureName[]; requiredLimits?: Record<string, number> }

/** The application's device, if it is usable and has what `init` was asked for. */
async function validateSharedDevice(device: GPUDevice, features: readonly GPUFeatureName[], wanted: Record<string, number>): Promise<GPUDevice> {
  if (await isLost(device))
    throw new TesseraError('init', 'the GPUDevice passed to init() is lost (destroyed, or lost by the driver)',
      'request a new device (requestPreferredDevice()) and pass that');
  const limits = device.limits as unknown as Record<string, number>;
  const low = Object.entries(wanted).filter(([k, v]) => !(k in limits) || !satisfies(k, limits[k]!, v));
  const missing = [...features.filter((f) => !device.features.has(f)).map((f) => `feature '${f}'`),
    ...low.map(([k, v]) => `limit ${k}=${v} (it has ${limits[k]})`)];
  if (missing.length)
    throw new TesseraError('init', `the device lacks ${missing.join(', ')}`,
      'request the device with them (requestPreferredDevice(adapter, { requiredFeatures, requiredLimits }) does), or drop them');
  return device;
}

/** A device that is lost has its `lost` promise settled already (it settles in a task, not synchronously). */
async function isLost(device: GPUDevice): Promise<boolean> {
  return Promise.race([device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);
}

/** `min*` limits (alignments) are satisfied by smaller values, the others by larger. */
const satisfies = (name: string, have: number, want: number) => (name.startsWith('min') ? have <= want : have >= want);

/** The limits Tessera raises to the adapter's maximum when it requests a device. */
const PREFERRED_LIMITS = ['maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupsPerDimension',
  'maxBindGroups'] as const;
/** Optional features Tessera uses when the adapter has them. */
const PREFERRED_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as const;

/**
 * Requests a GPUDevice with the limits and features Tessera prefers (the adapter's maximum storage
 * buffers per stage, binding and buffer sizes, workgroup sizes and storage; shader-f16,
 * timestamp-query and subgroups where present), plus the application's own `requiredFeatures` and
 * `requiredLimits` (which win over Tessera's). For applications that create the device themselves and
 * then share it: `init({ device: await requestPreferredDevice(adapter) })`. The caller owns the device.
 * Without an adapter, the default (high-performance) adapter is requested. An adapter gives one device.
 */
export async function requestPreferredDevice(adapter?: GPUAdapter, extra: DeviceRequirements = {}): Promise<GPUDevice> {
  adapter ??= (await (await getGPU()).requestAdapter({ powerPreference: 'high-performance' })) ?? undefined;
  if (!adapter)
    throw new TesseraError('device', 'no WebGPU adapter found',
      'in Node run `npm run setup` (installs the lavapipe Vulkan driver); in Chromium start with --enable-unsafe-webgpu');
  const L = adapter.limits as unknown as Record<string, number>, has = (f: string) => adapter.features.has(f);
  const missing = (extra.requiredFeatures ?? []).filter((f) => !has(f));
  if (missing.length)
    throw new TesseraError('device', `the adapter lacks feature${missing.length > 1 ? 's' : ''} ${missing.map((f) => `'${f}'`).join(', ')}`,
      'choose another adapter or do without them');
  const requiredFeatures = [...new Set([...PREFERRED_FEATURES.filter(has), ...(extra.requiredFeatures ?? [])])] as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const k of PREFERRED_LIMITS) requiredLimits[k] = L[k]!;
  Object.assign(requiredLimits, extra.requiredLimits);
  try {
    return await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    throw new TesseraError('device', `the adapter refused the device: ${(e as Error).message}`,
      'check requiredLimits against adapter.limits; an adapter gives one device, so request a new adapter for another');
  }
}

/** Wraps a GPUDevice; capabilities come from the device's own limits and features, never the adapter's. */
function adoptDevice(gpuDevice: GPUDevice, adapter?: GPUAdapter): Device {
  gpuDevice.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`tessera: WebGPU device lost: ${info.message}`);
    if (resolved?.gpu === gpuDevice) { current = null; resolved = null; }
  });
  const L = gpuDevice.limits, has = (f: string) => gpuDevice.features.has(f);
  const info = (gpuDevice as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? adapter?.info ?? ({} as GPUAdapterInfo);
  const adapterInfo = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '',
    description: info.description ?? '' };
  return resolved = {
    gpu: gpuDevice,
    caps: {
      maxWorkgroupsPerDim: L.maxComputeWorkgroupsPerDimension,
      maxWorkgroupSize: Math.min(L.maxComputeInvocationsPerWorkgroup, L.maxComputeWorkgroupSizeX),
      f16: has('shader-f16'),
      maxBuffers: L.maxStorageBuffersPerShaderStage,
      maxBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      timestamps: has('timestamp-query'),
      subgroups: has('subgroups'),
    },
    adapterInfo,
    adapterKey: [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.device, adapterInfo.description].filter(Boolean).join('|') || 'unknown',
  };
}
