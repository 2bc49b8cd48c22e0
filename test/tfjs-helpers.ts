/**
 * tfjs in the tests: tfjs-core (its Node build), the cpu backend, tfjs-layers and the 'tessera'
 * backend. tfjs-core's Node build registers no gradients (the union package @tensorflow/tfjs
 * does) and its ESM dist cannot be imported by Node directly (extensionless imports), so the
 * gradient registrations are bundled once with esbuild into .cache/ and imported from there;
 * they register into tfjs's global registry, shared with the Node build.
 */
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../interop/tfjs/index.ts';

export { tf };
export * as tfl from '@tensorflow/tfjs-layers';

let grads: Promise<unknown> | null = null;
/** Registers tfjs's gradient functions (once). */
export function registerGradients(): Promise<unknown> {
  grads ??= (() => {
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    const outfile = '.cache/tfjs-gradients.mjs';
    buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error' });
    return import(pathToFileURL(outfile).href);
  })();
  return grads;
}
