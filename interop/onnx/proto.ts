/**
 * A protobuf wire-format reader: just what decoding ONNX needs (schema.ts names the fields).
 *
 * Why not a library: ONNX needs five wire concepts (varints, 32/64-bit fixed values, length-
 * delimited bytes, packed repeated scalars), this file is ~100 lines with no dependency, and it
 * returns views into the file's bytes (raw_data is never copied). protobufjs would add ~20 KB
 * gzipped plus generated code for the whole onnx.proto.
 *
 * proto2 quirks handled here: every repeated scalar may come packed (wire type 2) or unpacked (one
 * tag per element); negative int64 values are 10-byte varints, decoded exactly with BigInt.
 * Malformed input (truncated varints or lengths, unknown wire types) throws a TesseraError.
 */
import { TesseraError } from '../../ir/error.ts';

/** Wire types. */
export const Wire = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;

const corrupt = (what: string) => new TesseraError('loadOnnx', `the file is not a valid ONNX protobuf (${what})`,
  'check the file is a complete .onnx model (not truncated, not an external-data file, not text)');

export class Reader {
  pos: number;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean { return this.pos >= this.end; }

  /** An unsigned varint as a number (exact below 2^53; larger values round, which ONNX never needs exactly). */
  varint(): number {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw corrupt('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw corrupt('varint longer than 10 bytes');
  }

  /** A signed 64-bit varint (int64, int32 fields too: negative int32 are sign-extended to 64 bits). */
  int64(): number {
    let len = 0;
    while (this.pos + len < this.end && this.buf[this.pos + len]! >= 0x80 && len < 10) len++;
    if (len < 7) return this.varint(); // at most 49 bits: a non-negative number, exact
    let v = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw corrupt('truncated varint');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, v));
      shift += 7n;
    }
    throw corrupt('varint longer than 10 bytes');
  }

  float32(): number { this.need(4); const v = this.view.getFloat32(this.pos, true); this.pos += 4; return v; }
  float64(): number { this.need(8); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }

  /** A length-delimited field's bytes, as a view into the buffer. */
  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string { return new TextDecoder().decode(this.bytes()); }

  /** A nested message: a reader over its bytes. */
  message(): Reader { const b = this.bytes(); return new Reader(b); }

  /** The next field's tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8), wire = t % 8;
    if (field === 0) throw corrupt('field number 0');
    return [field, wire];
  }

  /** Skips a field of the given wire type. */
  skip(wire: number): void {
    if (wire === Wire.Varint) this.varint();
    else if (wire === Wire.Fixed64) { this.need(8); this.pos += 8; }
    else if (wire === Wire.Bytes) this.bytes();
    else if (wire === Wire.Fixed32) { this.need(4); this.pos += 4; }
    else throw corrupt(`unsupported wire type ${wire}`);
  }

  /** Appends one repeated scalar field's values, packed (wire type 2) or a single unpacked value. */
  repeated(wire: number, out: number[], read: (r: Reader) => number, scalarWire: number): void {
    if (wire === Wire.Bytes) {
      const r = this.message();
      while (!r.done) out.push(read(r));
    } else if (wire === scalarWire) out.push(read(this));
    else throw corrupt(`wire type ${wire} for a repeated scalar field`);
  }

  private need(n: number): void { if (n < 0 || this.pos + n > this.end) throw corrupt('truncated field'); }
}

/** Calls `f(field, wire, reader)` for every field of the message in `r`; `f` must consume or skip the value. */
export function fields(r: Reader, f: (field: number, wire: number, r: Reader) => void): void {
  while (!r.done) {
    const [field, wire] = r.tag();
    const at = r.pos;
    f(field, wire, r);
    if (r.pos === at) r.skip(wire);
  }
}

export const readInt64 = (r: Reader) => r.int64();
export const readFloat = (r: Reader) => r.float32();
export const readDouble = (r: Reader) => r.float64();
export const readUint64 = (r: Reader) => r.varint();
