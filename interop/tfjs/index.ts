/**
 * tessera/tfjs: a lazy TensorFlow.js backend. Importing this module registers the backend
 * 'tessera'; then `await tf.setBackend('tessera')`. Every tfjs kernel records Tessera ops; a
 * flush (a microtask after a burst of kernels, and every read) compiles all live tensors into
 * one fused program and one submit. See README.md ("TensorFlow.js backend").
 */
import { registerBackend } from '@tensorflow/tfjs-core';
import { engine } from '../../runtime/engine.ts';
import { TesseraBackend } from './backend.ts';
import { kernelConfigs, registerKernels } from './registry.ts';

export { TesseraBackend, kernelConfigs };

registerKernels();
// Priority 0: tfjs never picks 'tessera' by itself over a registered 'cpu' or 'webgpu'; setBackend does.
registerBackend('tessera', async () => {
  await engine();
  return new TesseraBackend();
}, 0);
