/**
 * ONNX test helpers (not a test file: it defines no tests).
 *  - Writer: a tiny protobuf encoder (varints incl. negative int64, fixed32/64, bytes, packed or unpacked repeats).
 *  - GraphBuilder: hand-built ONNX models (inputs, outputs, initializers, nodes with attributes),
 *    with switches for the encodings a reader must accept (raw_data vs typed fields, packed vs not).
 *  - ortRun: the same model run by onnxruntime-web's wasm backend (single-threaded), the reference.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import * as ort from 'onnxruntime-web';
import * as assert from 'uvu/assert';
import { loadOnnx } from '../interop/onnx/index.ts';
import { realizeAll, tensor, type Tensor } from '../index.ts';
import { allclose } from './helpers.ts';

export class Writer {
  private bytes: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; this.bytes.push(b); } while (x);
    return this;
  }
  tag(field: number, wire: number): this { return this.varint(field * 8 + wire); }
  int(field: number, v: number | bigint): this { return this.tag(field, 0).varint(v); }
  f32(field: number, v: number): this { const b = new Uint8Array(new Float32Array([v]).buffer); this.tag(field,
    5); this.bytes.push(...b); return this; }
  raw(field: number, b: Uint8Array): this { this.tag(field, 2).varint(b.length); this.bytes.push(...b); return this; }
  str(field: number, s: string): this { return this.raw(field, new TextEncoder().encode(s)); }
  msg(field: number, w: Writer): this { return this.raw(field, w.finish()); }
  ints(field: number, vs: readonly (number | bigint)[], packed: boolean): this {
    if (!packed) { for (const v of vs) this.int(field, v); return this; }
    const w = new Writer(); for (const v of vs) w.varint(v); return this.msg(field, w);
  }
  floats(field: number, vs: readonly number[], packed: boolean): this {
    if (!packed) { for (const v of vs) this.f32(field, v); return this; }
    return this.raw(field, new Uint8Array(new Float32Array(vs).buffer));
  }
  finish(): Uint8Array { return Uint8Array.from(this.bytes); }
}

export const T = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

export interface TensorSpec { type: number; dims: number[]; values: readonly number[]; raw?: boolean }
export type AttrValue = number | string | readonly number[] | { f: number } | { floats: readonly number[] } | { tensor: TensorSpec };

export interface EncodeOptions { packed?: boolean; raw?: boolean }

export function encodeTensor(t: TensorSpec, name = '', opts: EncodeOptions = {}): Writer {
  const w = new Writer().ints(1, t.dims, opts.packed ?? false).int(2, t.type);
  if (name) w.str(8, name);
  const raw = t.raw ?? opts.raw ?? true;
  if (raw) {
    let b: Uint8Array;
    if (t.type === T.FLOAT) b = new Uint8Array(new Float32Array(t.values).buffer);
    else if (t.type === T.DOUBLE) b = new Uint8Array(new Float64Array(t.values).buffer);
    else if (t.type === T.INT64) b = new Uint8Array(new BigInt64Array(t.values.map((v) => BigInt(v))).buffer);
    else if (t.type === T.INT32) b = new Uint8Array(new Int32Array(t.values).buffer);
    else b = Uint8Array.from(t.values.map((v) => v & 0xff));
    w.raw(9, b);
  } else if (t.type === T.FLOAT) w.floats(4, t.values, true);
  else if (t.type === T.INT64) w.ints(7, t.values, true);
  else if (t.type === T.DOUBLE) w.raw(10, new Uint8Array(new Float64Array(t.values).buffer));
  else w.ints(5, t.values, true);
  return w;
}

function encodeAttr(name: string, v: AttrValue, opts: EncodeOptions): Writer {
  const w = new Writer().str(1, name);
  if (typeof v === 'number') return Number.isInteger(v) ? w.int(3, v).int(20, 2) : w.f32(2, v).int(20, 1);
  if (typeof v === 'string') return w.str(4, v).int(20, 3);
  if (Array.isArray(v)) return w.ints(8, v as number[], opts.packed ?? false).int(20, 7);
  if ('f' in v) return w.f32(2, v.f).int(20, 1);
  if ('floats' in v) return w.floats(7, v.floats, opts.packed ?? false).int(20, 6);
  if ('tensor' in v) return w.msg(5, encodeTensor(v.tensor, '', opts)).int(20, 4);
  throw new Error(`attribute ${name}`);
}

function valueInfo(name: string, type: number, dims?: readonly (number | string)[]): Writer {
  const tt = new Writer().int(1, type);
  if (dims) {
    const s = new Writer();
    for (const d of dims) s.msg(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().str(2, d));
    tt.msg(2, s);
  }
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tt));
}

export class GraphBuilder {
  private g = new Writer();
  private n = 0;
  constructor(readonly opset = 13, readonly opts: EncodeOptions = {}) { this.g.str(2, 'g'); }
  input(name: string, type: number, dims?: readonly (number | string)[]): this { this.g.msg(11, valueInfo(name, type, dims)); return this; }
  output(name: string, type: number = T.FLOAT, dims?: readonly (number | string)[]): this { this.g.msg(12, valueInfo(name, type,
    dims)); return this; }
  init(name: string, t: TensorSpec): this { return this.initProto(encodeTensor(t, name, this.opts)); }
  /** An initializer encoded by hand (e.g. with external data). */
  initProto(w: Writer): this { this.g.msg(5, w); return this; }
  node(op: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}, domain = ''): this {
    const w = new Writer();
    for (const i of inputs) w.str(1, i);
    for (const o of outputs) w.str(2, o);
    w.str(3, `${op.toLowerCase()}_${this.n++}`).str(4, op);
    for (const [k, v] of Object.entries(attrs)) w.msg(5, encodeAttr(k, v, this.opts));
    if (domain) w.str(7, domain);
    this.g.msg(1, w);
    return this;
  }
  encode(): Uint8Array {
    return new Writer().int(1, 8).str(2, 'tessera-test').msg(7, this.g).msg(8, new Writer().str(1, '').int(2, this.opset)).finish();
  }
}

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
