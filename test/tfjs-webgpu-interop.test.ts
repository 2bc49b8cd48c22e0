/**
 * Tessera and tfjs-webgpu on one GPUDevice: tfjs's WebGPUBackend is constructed on Tessera's
 * device, and tensors pass both ways as GPU buffers (Tessera `gpuBuffer({copy})` -> tfjs
 * `tf.tensor({buffer})`; tfjs `dataToGPU()` -> `fromGPUBuffer`), with no readback on Tessera's side.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { close } from './grad-helpers.ts';

test('Tessera -> tfjs-webgpu matMul -> Tessera, on the same device', async () => {
  const dev = await ts.init();
  const tf = await import('@tensorflow/tfjs-core');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // tfjs-webgpu checks for navigator.gpu before it accepts a device; Node has none, so lend it one for this test.
  const g = globalThis as { navigator?: unknown };
  const hadNavigator = Object.getOwnPropertyDescriptor(g, 'navigator');
  if (!(g.navigator as { gpu?: unknown } | undefined)?.gpu)
    Object.defineProperty(g, 'navigator', { value: { gpu: (await import('webgpu')).create([]) }, configurable: true, writable: true });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // one that requests its own device: replace it (its kernels stay)
  tf.registerBackend('webgpu', () => new WebGPUBackend(dev.gpu), 0);
  assert.ok(await tf.setBackend('webgpu'), 'tfjs backend on Tessera\'s device');
  assert.is((tf.backend() as unknown as { device: GPUDevice }).device, dev.gpu, 'one device');
  const A = Array.from({ length: 24 }, (_, i) => (i % 7) - 3), B = Array.from({ length: 20 }, (_, i) => (i % 5) * 0.5);
  const s0 = ts.stats();
  const cpuForward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false); // small tensors would otherwise be computed on the CPU, with no GPU buffer to share
  const a = ts.tensor(A, { shape: [6, 4], dtype: 'float32' }).mul(2); // computed by Tessera
  const ta = tf.tensor({ buffer: await a.gpuBuffer({ copy: true }) }, [6, 4], 'float32');
  const tc = tf.relu(tf.matMul(ta, tf.tensor(B, [4, 5]))); // computed by tfjs
  const gpuData = tc.dataToGPU();
  const c = ts.fromGPUBuffer(gpuData.buffer!, { shape: [6, 5], dtype: 'float32' });
  const out = c.add(1).sum(-1);
  await out.realize();
  assert.is(ts.stats().readbacks - s0.readbacks, 0, 'no Tessera readback until the check');
  const want: number[] = [];
  for (let r = 0; r < 6; r++) {
    let s = 0;
    for (let j = 0; j < 5; j++) { let v = 0; for (let k = 0; k < 4; k++) v += 2 * A[r * 4 + k]! * B[k * 5 + j]!; s += Math.max(v, 0) + 1; }
    want.push(s);
  }
  close(await out.data(), want, 'matmul through tfjs, sums through Tessera');
  gpuData.tensorRef.dispose(); ta.dispose(); tc.dispose();
  tf.removeBackend('webgpu'); // disposes tfjs's buffers, not the device
  tf.env().set('WEBGPU_CPU_FORWARD', cpuForward);
  assert.equal(Array.from(await ts.tensor([1, 2]).add(1).data()), [2, 3], 'Tessera\'s device outlives the tfjs backend');
  if (hadNavigator) Object.defineProperty(g, 'navigator', hadNavigator); else delete g.navigator;
});

test.run();
