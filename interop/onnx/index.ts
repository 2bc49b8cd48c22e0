/**
 * tessera/onnx: ONNX models imported into Tessera's graph IR, so they fuse like traced code, run
 * in the same submit as the caller's ops, and differentiate (see model.ts).
 *
 *   const model = await loadOnnx(bytes);             // Uint8Array, ArrayBuffer, or a path/URL
 *   const { output } = model.run({ input: x });      // lazy tensors
 */
import { TesseraError } from '../../ir/error.ts';
import { OnnxModel } from './model.ts';
import { decodeModel } from './schema.ts';

export { OnnxModel, type OnnxValueInfo, type RunOptions } from './model.ts';
export { supportedOps } from './registry.ts';

/** Decodes an ONNX model (bytes, or a file path in Node / a URL in browsers) and checks every op is supported. */
export async function loadOnnx(source: Uint8Array | ArrayBuffer | string): Promise<OnnxModel> {
  return loadOnnxSync(typeof source === 'string' ? await readSource(source) : source);
}

/** loadOnnx for bytes already in memory. */
export function loadOnnxSync(source: Uint8Array | ArrayBuffer): OnnxModel {
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
  if (!(bytes instanceof Uint8Array))
    throw new TesseraError('loadOnnx', `expected a Uint8Array, ArrayBuffer or path, got ${source === null ? 'null' : typeof source}`,
      'pass the bytes of a .onnx file');
  if (!bytes.length) throw new TesseraError('loadOnnx', 'the model is empty (0 bytes)', 'pass the bytes of a .onnx file');
  return new OnnxModel(decodeModel(bytes));
}

async function readSource(path: string): Promise<Uint8Array> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node && !/^https?:/.test(path);
  try {
    if (isNode) {
      const fsName = 'node:fs/promises';
      const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
      return new Uint8Array(await fs.readFile(path));
    }
    const res = await fetch(path);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new TesseraError('loadOnnx', `cannot read '${path}': ${(e as Error).message}`, 'check the path or URL');
  }
}
