/**
 * A raw WebGPU application that hands its own GPUDevice to Tessera, run in a fresh process by
 * test/device-sharing.test.ts (init must come before Tessera's first use, and the unit tests share one
 * process). It prints one JSON line: { checks: [{ name, ok, detail? }] }. With the argument `adapter`, it
 * passes its adapter instead and lets Tessera request the device.
 */
import { create, globals } from 'webgpu';
import * as ts from '../index.ts';
import { APP_USAGE, appRead, fillPass, mapPass } from './app-helpers.ts';

Object.assign(globalThis, globals);
const gpu = create([]); // the app keeps its GPU instance referenced (Dawn tears devices down with it)
const checks: { name: string; ok: boolean; detail?: string }[] = [];
const check = async (name: string, f: () => Promise<string | void>) => {
  try {
    const d = await f();
    checks.push(d ? { name, ok: false, detail: d } : { name, ok: true });
  } catch (e) {
    checks.push({ name, ok: false, detail: String(e) });
  }
};
const expectError = async (f: () => Promise<unknown>, ...parts: string[]) => {
  try { await f(); return 'no error'; } catch (e) {
    const m = (e as Error).message;
    if (!(e instanceof ts.TesseraError)) return `not a TesseraError: ${m}`;
    const miss = parts.find((p) => !m.includes(p));
    if (miss) return `message ${JSON.stringify(m)} lacks ${JSON.stringify(miss)}`;
  }
};
const worst = (got: ArrayLike<number>, want: number[], tol = 1e-5) => {
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) return `[${i}]: got ${got[i]}, expected ${want[i]}`;
};

if (process.argv[2] === 'adapter') { // the other way: Tessera requests its device on the app's adapter
  const adapter = (await gpu.requestAdapter())!;
  await check('init({ adapter, requiredLimits }): Tessera\'s preferred limits, the app\'s own winning', async () => {
    const d = await ts.init({ adapter, requiredLimits: { maxStorageBuffersPerShaderStage: 8 } });
    if (d.gpu.limits.maxStorageBuffersPerShaderStage !== 8 || d.caps.maxBuffers !== 8) return `maxBuffers ${d.caps.maxBuffers}`;
    if (d.gpu.limits.maxBufferSize !== adapter.limits.maxBufferSize) return 'maxBufferSize is not the adapter\'s';
    return worst(await ts.tensor([1, 2, 3], { dtype: 'float32' }).square().data(), [1, 4, 9]);
  });
  console.log(JSON.stringify({ checks }));
  process.exit(0);
}

await check('init with a lost device is a TesseraError', async () => {
  const lost = await (await gpu.requestAdapter())!.requestDevice();
  lost.destroy();
  return expectError(() => ts.init({ device: lost }), 'init', 'is lost');
});

const adapter = (await gpu.requestAdapter())!;
const device = await adapter.requestDevice(); // WebGPU's default limits, not the adapter's
let dev: ts.Device;
await check('init with a device lacking required features or limits is a TesseraError', async () =>
  (await expectError(() => ts.init({ device, requiredFeatures: ['no-such-feature' as GPUFeatureName] }), 'lacks feature \'no-such-feature\''))
  ?? expectError(() => ts.init({ device, requiredLimits: { maxStorageBuffersPerShaderStage: 1000 } }),
    'lacks limit maxStorageBuffersPerShaderStage=1000'));

await check('init({ device }) before first use: Tessera runs on the app\'s device (also for work started before init resolved)', async () => {
  const pending = ts.init({ device });
  const early = ts.tensor([1, 2], { dtype: 'float32' }).mul(3).data(); // not awaited: must run on the shared device
  dev = await pending;
  if (dev.gpu !== device) return 'another device';
  if ((await ts.getDevice()) !== dev) return 'getDevice() differs';
  return worst(await early, [3, 6]);
});

await check('capabilities come from the device, not the adapter', async () => {
  const want = device.limits.maxStorageBuffersPerShaderStage;
  if (dev.caps.maxBuffers !== want)
    return `maxBuffers ${dev.caps.maxBuffers}, device has ${want} (adapter ${adapter.limits.maxStorageBuffersPerShaderStage})`;
  if (dev.caps.f16 !== device.features.has('shader-f16')) return 'f16 differs from the device';
  // 12 inputs summed: kernels must bind no more storage buffers than the device (not the adapter) allows
  const xs = Array.from({ length: 12 }, (_, k) => ts.tensor([k, 2 * k, 3 * k]));
  return worst(await xs.reduce((a, b) => a.add(b)).data(), [66, 132, 198]);
});

await check('round trip on the app\'s device: WGSL pass -> Tessera -> WGSL pass, zero readbacks', async () => {
  const n = 256, a = device.createBuffer({ size: n * 4, usage: APP_USAGE }), out = device.createBuffer({ size: n * 4, usage: APP_USAGE });
  fillPass(device, a, n, '(x - 128.0) * 0.0625');
  const s0 = ts.stats();
  const x = ts.fromGPUBuffer(a, { shape: [16, 16], dtype: 'float32' });
  const y = x.sub(x.mean(-1, true)).square().add(x.abs());
  mapPass(device, await y.gpuBuffer(), out, n, 'v * 2.0');
  const s1 = ts.stats();
  if (s1.readbacks !== s0.readbacks || s1.uploads !== s0.uploads)
    return `readbacks ${s1.readbacks - s0.readbacks}, uploads ${s1.uploads - s0.uploads}`;
  const xs = Array.from({ length: n }, (_, i) => (i - 128) * 0.0625);
  const want = xs.map((v, i) => {
    const r = Math.floor(i / 16), m = xs.slice(r * 16, r * 16 + 16).reduce((p, q) => p + q, 0) / 16;
    return 2 * ((v - m) ** 2 + Math.abs(v));
  });
  return worst(await appRead(device, out, n), want);
});

await check('init with another device after first use is a TesseraError; the same device is accepted', async () => {
  const other = await (await gpu.requestAdapter())!.requestDevice();
  const err = await expectError(() => ts.init({ device: other }), 'already runs on another GPUDevice');
  other.destroy();
  if (err) return err;
  if ((await ts.init({ device })) !== dev) return 'the same device gave another Device';
});

await check('Tessera never destroys the app\'s device', async () => {
  const lost = await Promise.race([device.lost.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
  if (lost) return 'the device is lost';
});

console.log(JSON.stringify({ checks }));
process.exit(0);
