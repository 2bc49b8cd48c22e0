/**
 * Hand-built ONNX models, for tests and benches (no test side effects: importing it loads nothing).
 *  - Writer: a tiny protobuf encoder (varints incl. negative int64, fixed32/64, bytes, packed or unpacked repeats).
 *  - GraphBuilder: inputs, outputs, initializers, nodes with attributes, with switches for the
 *    encodings a reader must accept (raw_data vs typed fields, packed vs not).
 */
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
