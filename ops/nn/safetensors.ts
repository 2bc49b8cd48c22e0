/**
 * Weights in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
 * padded with spaces to 8 bytes, then the raw little-endian tensor bytes.
 *
 * Bytes (Uint8Array) work everywhere; file paths work in Node, through a dynamic import of
 * node:fs/promises behind a variable, so browser bundles never reference it. Saving reads every
 * tensor back in one submit. Loading validates the whole file before returning anything.
 */
import { f16ToF32, f32ToF16, hostArray, type DType, type TypedArray } from '../../ir/dtype.ts';
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { numel } from '../../ir/shape.ts';
import { realize } from '../../runtime/engine.ts';
import { unbindStorage } from '../../runtime/storage.ts';
import { fromHost, type Tensor } from '../tensor.ts';

export interface RawTensor { dtype: DType; shape: number[]; data: TypedArray }
export type Metadata = Record<string, string>;

const CODE: Record<DType, string> = { float32: 'F32', float16: 'F16', int32: 'I32', uint32: 'U32', bool: 'BOOL' };
/** File dtypes we read: bytes per element and the dtype they load as. */
const READ: Record<string, { bytes: number; as: DType }> = {
  F32: { bytes: 4, as: 'float32' }, F16: { bytes: 2, as: 'float16' }, BF16: { bytes: 2, as: 'float32' }, F64: { bytes: 8, as: 'float32' },
  I32: { bytes: 4, as: 'int32' }, U32: { bytes: 4, as: 'uint32' }, I64: { bytes: 8, as: 'int32' }, BOOL: { bytes: 1, as: 'bool' },
  U8: { bytes: 1, as: 'uint32' }, I8: { bytes: 1, as: 'int32' }, I16: { bytes: 2, as: 'int32' }, U16: { bytes: 2, as: 'uint32' },
};

function bytesOf(t: RawTensor): Uint8Array {
  const d = t.data;
  switch (t.dtype) {
    case 'float16': { const h = new Uint16Array(d.length); for (let i = 0; i < d.length; i++) h[i] = f32ToF16(d[i]!); return new Uint8Array(h.buffer); }
    case 'bool': return Uint8Array.from(d, (v) => (v ? 1 : 0));
    default: return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
}

/** Serializes named tensors (host data) to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata: Metadata = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new TesseraError('saveWeights', "a tensor cannot be named '__metadata__'");
    const b = bytesOf(t);
    header[name] = { dtype: CODE[t.dtype], shape: t.shape, data_offsets: [off, off + b.byteLength] };
    parts.push(b);
    off += b.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const b of parts) { out.set(b, p); p += b.byteLength; }
  return out;
}

function decodeValues(code: string, raw: Uint8Array, n: number, as: DType): TypedArray {
  const buf = raw.slice().buffer; // aligned copy
  const out = hostArray(as, n);
  const dv = new DataView(buf);
  switch (code) {
    case 'F32': case 'I32': case 'U32': out.set(new (out.constructor as Float32ArrayConstructor)(buf, 0, n) as never); break;
    case 'F16': { const h = new Uint16Array(buf, 0, n); for (let i = 0; i < n; i++) out[i] = f16ToF32(h[i]!); break; }
    case 'BF16': for (let i = 0; i < n; i++) out[i] = new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0]!; break;
    case 'F64': for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); break;
    case 'I64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true)); break;
    case 'BOOL': case 'U8': for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); break;
    case 'I8': for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); break;
    case 'I16': for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true); break;
    case 'U16': for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true); break;
  }
  return out;
}

/** Parses safetensors bytes; throws a TesseraError for anything malformed. */
export function decodeSafetensors(bytes: Uint8Array, op = 'loadWeights'): { tensors: Record<string, RawTensor>; metadata: Metadata } {
  const bad = (why: string): never => { throw new TesseraError(op, `not a valid safetensors file: ${why}`, 'pass bytes or a file written by saveWeights (or any safetensors writer)'); };
  if (bytes.byteLength < 8) bad(`${bytes.byteLength} bytes is shorter than the 8-byte header length`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.byteLength - 8) bad(`header length ${n} exceeds the file size ${bytes.byteLength}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try { header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))); } catch { return bad('the header is not JSON'); }
  const body = bytes.subarray(8 + n);
  const tensors: Record<string, RawTensor> = {};
  let metadata: Metadata = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') { metadata = e as unknown as Metadata; continue; }
    const info = READ[e?.dtype];
    if (!info) bad(`tensor '${name}' has unsupported dtype ${e?.dtype}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor '${name}' has an invalid shape`);
    const [a, b] = e.data_offsets ?? [];
    const count = numel(e.shape);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a! < 0 || b! > body.byteLength || b! - a! !== count * info!.bytes)
      bad(`tensor '${name}' (${e.dtype}${fmtShape(e.shape)}) has data offsets [${a}, ${b}] that do not fit its size or the file`);
    tensors[name] = { dtype: info!.as, shape: e.shape, data: decodeValues(e.dtype, body.subarray(a, b), count, info!.as) };
  }
  return { tensors, metadata };
}

/** Node's fs, imported only when a path is used (a variable specifier keeps bundlers away). */
async function fs(op: string): Promise<{ readFile(p: string): Promise<Uint8Array>; writeFile(p: string, d: Uint8Array): Promise<void> }> {
  const spec = 'node:fs/promises';
  try { return await import(/* @vite-ignore */ spec); } catch {
    throw new TesseraError(op, 'file paths need Node (node:fs is not available here)', 'pass no path to get the bytes (Uint8Array), and store them yourself');
  }
}

/** Reads tensors back (one submit) and encodes them; writes `path` when given (Node). Returns the bytes. */
export async function saveSafetensors(tensors: Record<string, Tensor>, path?: string, metadata: Metadata = {}): Promise<Uint8Array> {
  const names = Object.keys(tensors);
  const src = names.map((k) => tensors[k]!.use('saveWeights'));
  const { nodes, data } = names.length ? await realize(src, true) : { nodes: [], data: [] };
  nodes.forEach((n, i) => { if (src[i]!.op === 'input' && n !== src[i]) unbindStorage(n); }); // the extra handles the engine returns
  const raw: Record<string, RawTensor> = {};
  names.forEach((k, i) => { raw[k] = { dtype: tensors[k]!.dtype, shape: [...tensors[k]!.shape], data: data![i]! }; });
  const bytes = encodeSafetensors(raw, metadata);
  if (path !== undefined) await (await fs('saveWeights')).writeFile(path, bytes);
  return bytes;
}

/** Reads bytes from a path (Node), a Uint8Array or an ArrayBuffer. */
export async function readBytes(src: string | Uint8Array | ArrayBuffer, op = 'loadWeights'): Promise<Uint8Array> {
  if (typeof src === 'string') return new Uint8Array(await (await fs(op)).readFile(src));
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  throw new TesseraError(op, `expected a file path, Uint8Array or ArrayBuffer, got ${typeof src}`);
}

/** Loads named tensors (host-backed; uploaded on first use) from a path, bytes or a buffer. */
export async function loadSafetensors(src: string | Uint8Array | ArrayBuffer): Promise<{ tensors: Record<string, Tensor>; metadata: Metadata }> {
  const { tensors, metadata } = decodeSafetensors(await readBytes(src));
  return { tensors: Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, fromHost(t.data, t.dtype, t.shape, k)])), metadata };
}
