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

/** The largest header we parse (the reference implementation's limit): a length field past it is a bomb, not a header. */
const MAX_HEADER = 100 * 1024 * 1024;

interface Entry { dtype: unknown; shape: unknown; data_offsets: unknown }

/**
 * Parses safetensors bytes; anything malformed is a TesseraError naming what is wrong (header
 * length past the file or over 100 MB, a header that is not UTF-8 JSON of objects, unknown dtypes,
 * bad shapes, offsets out of range, overlapping or not matching the shape, integers that do not
 * fit int32). Memory use is bounded by the file's size.
 */
export function decodeSafetensors(bytes: Uint8Array, op = 'loadWeights'): { tensors: Record<string, RawTensor>; metadata: Metadata } {
  const bad = (why: string): never => { throw new TesseraError(op, `not a valid safetensors file: ${why}`, 'pass bytes or a file written by saveWeights (or any safetensors writer)'); };
  if (!(bytes instanceof Uint8Array)) bad(`expected bytes (Uint8Array), got ${typeof bytes}`);
  if (bytes.byteLength < 8) bad(`${bytes.byteLength} bytes is shorter than the 8-byte header length`);
  const big = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (big > BigInt(bytes.byteLength - 8)) bad(`header length ${big} exceeds the file size ${bytes.byteLength}`);
  const n = Number(big);
  if (n > MAX_HEADER) bad(`header length ${n} is over the ${MAX_HEADER}-byte limit`);
  let text = '';
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)); } catch { bad('the header is not UTF-8 text'); }
  let header: unknown;
  try { header = JSON.parse(text); } catch { bad('the header is not JSON'); }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    bad(`the header is JSON ${Array.isArray(header) ? 'array' : header === null ? 'null' : typeof header}, not an object`);
  const body = bytes.subarray(8 + n);
  const tensors: Record<string, RawTensor> = Object.create(null);
  let metadata: Metadata = {};
  const spans: [number, number, string][] = [];
  const entries: { name: string; code: string; shape: number[]; a: number; b: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) =>
        typeof v === 'string')) bad('__metadata__ must map names to strings');
      metadata = { ...(raw as Metadata) };
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(`the entry of tensor '${name}' is not an object`);
    const e = raw as Entry;
    const code = typeof e.dtype === 'string' && Object.hasOwn(READ, e.dtype) ? e.dtype
      : bad(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(READ).join(', ')})`);
    const info = READ[code]!;
    const shape = Array.isArray(e.shape) && e.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? (e.shape as number[])
      : bad(`tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((v) => Number.isSafeInteger(v)))
      bad(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)} (expected [begin, end])`);
    const [a, b] = offs as [number, number], count = numel(shape);
    if (a < 0 || b < a || b > body.byteLength || b - a !== count * info.bytes)
      bad(`tensor '${name}' (${code}${fmtShape(shape)}, ${count * info.bytes} bytes) has data offsets [${a}, ${b}] ` +
        `that do not fit its size or the ${body.byteLength}-byte data`);
    spans.push([a, b, name]);
    entries.push({ name, code, shape, a, b });
  }
  spans.sort((x, y) => x[0] - y[0]);
  let last: [number, number, string] | null = null; // the span reaching furthest so far
  for (const sp of spans) {
    if (sp[1] === sp[0]) continue; // empty tensors take no bytes
    if (last && sp[0] < last[1]) bad(`the data of tensors '${last[2]}' and '${sp[2]}' overlap ([${last[0]}, ${last[1]}] and [${sp[0]}, ${sp[1]}])`);
    if (!last || sp[1] > last[1]) last = sp;
  }
  // Decoded only now: spans that do not overlap bound the memory by the file's size.
  for (const { name, code, shape, a, b } of entries) {
    if (code === 'I64' && !fitsInt32(body.subarray(a, b),
      numel(shape))) bad(`tensor '${name}' (I64) holds values outside int32, which it would load as`);
    tensors[name] = { dtype: READ[code]!.as, shape, data: decodeValues(code, body.subarray(a, b), numel(shape), READ[code]!.as) };
  }
  return { tensors: Object.fromEntries(Object.entries(tensors)), metadata };
}

/** Whether every little-endian int64 in `raw` fits in int32. */
function fitsInt32(raw: Uint8Array, n: number): boolean {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < n; i++) { const v = dv.getBigInt64(8 * i, true); if (v < -2147483648n || v > 2147483647n) return false; }
  return true;
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
