/**
 * ONNX test helpers (not a test file: it defines no tests).
 *  - Writer, GraphBuilder: hand-built ONNX models (test/onnx-builder.ts, re-exported here).
 *  - ortRun: the same model run by onnxruntime-web's wasm backend (single-threaded), the reference.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import * as ort from 'onnxruntime-web';
import * as assert from 'uvu/assert';
import { loadOnnx } from '../interop/onnx/index.ts';
import { realizeAll, tensor, type Tensor } from '../index.ts';
import { allclose } from './helpers.ts';

export * from './onnx-builder.ts';

// ORT's wasm under TurboFan can stall for tens of seconds on first compile; Liftoff alone starts at once.
setFlagsFromString('--liftoff-only');
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('../node_modules/onnxruntime-web/dist/', import.meta.url).pathname;
ort.env.logLevel = 'error';

export type OrtFeed = { type: 'float32' | 'int64' | 'int32' | 'bool'; dims: number[]; data: ArrayLike<number> };

/** Runs the model with onnxruntime-web (wasm); returns every output's data and dims. */
export async function ortRun(model: Uint8Array, feeds: Record<string, OrtFeed>): Promise<Record<string, { data: number[]; dims: number[] }>> {
  const s = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    const data = v.type === 'float32' ? Float32Array.from(v.data) : v.type === 'int64' ? BigInt64Array.from(Array.from(v.data, BigInt))
      : v.type === 'int32' ? Int32Array.from(v.data) : Uint8Array.from(v.data);
    f[k] = new ort.Tensor(v.type, data, v.dims);
  }
  const out = await s.run(f);
  const res: Record<string, { data: number[]; dims: number[] }> = {};
  for (const [k, t] of Object.entries(out)) res[k] = { data: Array.from(t.data as ArrayLike<number | bigint>, Number), dims: [...t.dims] };
  await s.release();
  return res;
}

export const modelBytes = (path: string) => new Uint8Array(readFileSync(new URL(`../node_modules/${path}`, import.meta.url)));

/** A seeded feed: floats in [-1, 1) (or ints in [lo, hi]) of the given dims. */
export function feed(dims: number[], seed = 1, type: OrtFeed['type'] = 'float32', lo = -3, hi = 3): OrtFeed {
  let a = seed >>> 0;
  const next = () => { a = (a * 1664525 + 1013904223) >>> 0; return a / 2 ** 32; };
  const n = dims.reduce((p, q) => p * q, 1);
  const data = Array.from({ length: n },
    () => (type === 'float32' ? next() * 2 - 1 : type === 'bool' ? +(next() < 0.5) : lo + Math.floor(next() * (hi - lo + 1))));
  return { type, dims, data };
}

/** Runs `model` in Tessera and in ORT on the same feeds and compares every output (values and dims). */
export async function checkOnnx(model: Uint8Array, feeds: Record<string, OrtFeed>,
  tol: { rtol?: number; atol?: number; msg?: string } = {}): Promise<void> {
  const m = await loadOnnx(model);
  const inputs: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(feeds))
    inputs[k] = tensor(Array.from(v.data), { shape: v.dims, dtype: v.type === 'float32' ? 'float32' : v.type === 'bool' ? 'bool' : 'int32' });
  const out = m.run(inputs);
  await realizeAll(Object.values(out));
  const ref = await ortRun(model, feeds);
  for (const [k, r] of Object.entries(ref)) {
    const t = out[k];
    assert.ok(t, `${tol.msg ?? ''} output ${k} missing`);
    assert.equal([...t!.shape], r.dims, `${tol.msg ?? ''} output ${k} dims`);
    allclose(await t!.data(), r.data, { rtol: tol.rtol ?? 1e-4, atol: tol.atol ?? 1e-5, msg: `${tol.msg ?? ''} output ${k}` });
  }
}
