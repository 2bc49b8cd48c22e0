// Browser checks for device sharing (run from ./checks.ts): the page requests its own GPUDevice and
// hands it to Tessera before first use; then a hand-written WGSL pass writes a buffer, Tessera computes
// from it in place, and a second page pass reads Tessera's result buffer, with no Tessera readback.
import * as ts from '../../index.ts';
import { APP_USAGE, appRead, fillPass, mapPass } from '../app-helpers.ts';

type CheckFn = (name: string, fn: () => Promise<string | void>) => Promise<boolean>;
let device: GPUDevice | null = null;

/** Must run before anything realizes a tensor. */
export const initWithPageDevice = (check: CheckFn) => check('init({ device }) with the page\'s own GPUDevice (requestPreferredDevice)', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return 'no adapter';
  device = await ts.requestPreferredDevice(adapter);
  const dev = await ts.init({ device });
  if (dev.gpu !== device) return 'Tessera runs on another device';
  if (dev.caps.maxBuffers !== device.limits.maxStorageBuffersPerShaderStage) return 'capabilities differ from the device\'s limits';
});

const ROUND_TRIP = 'GPU buffers in and out: page WGSL pass -> Tessera -> page WGSL pass, zero readbacks';
export const gpuBufferRoundTrip = (check: CheckFn) => check(ROUND_TRIP, async () => {
  if (!device) return 'no shared device';
  const n = 200, a = device.createBuffer({ size: n * 4, usage: APP_USAGE }), out = device.createBuffer({ size: n * 4, usage: APP_USAGE });
  fillPass(device, a, n, '(x - 100.0) * 0.125');
  const s0 = ts.stats();
  const x = ts.fromGPUBuffer(a, { shape: [20, 10], dtype: 'float32' });
  const y = ts.softmax(x, -1).mul(10).add(x.relu());
  mapPass(device, await y.gpuBuffer(), out, n, 'v + 0.5');
  const s1 = ts.stats();
  if (s1.readbacks !== s0.readbacks || s1.uploads !== s0.uploads)
    return `readbacks ${s1.readbacks - s0.readbacks}, uploads ${s1.uploads - s0.uploads}`;
  const xs = Array.from({ length: n }, (_, i) => (i - 100) * 0.125);
  const want = xs.map((v, i) => {
    const row = xs.slice(Math.floor(i / 10) * 10, Math.floor(i / 10) * 10 + 10), m = Math.max(...row);
    return (10 * Math.exp(v - m)) / row.reduce((s, u) => s + Math.exp(u - m), 0) + Math.max(v, 0) + 0.5;
  });
  const got = await appRead(device, out, n);
  for (let i = 0; i < n; i++)
    if (!(Math.abs(got[i]! - want[i]!) <= 1e-4 * (1 + Math.abs(want[i]!)))) return `[${i}]: got ${got[i]}, expected ${want[i]}`;
  a.destroy(); out.destroy();
});
