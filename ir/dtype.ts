/**
 * Data types. A dtype decides the WGSL scalar type used for arithmetic, the type used in storage
 * buffers (bool is stored as u32 because WGSL has no host-shareable bool), and the typed array
 * that `Tensor.data()` returns (float16 comes back as Float32Array: Node 20 has no Float16Array).
 */
export type DType = 'float32' | 'float16' | 'int32' | 'uint32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float16', 'int32', 'uint32', 'bool'];

export type TypedArray = Float32Array | Int32Array | Uint32Array | Uint8Array;

export const isFloat = (d: DType) => d === 'float32' || d === 'float16';
export const isInt = (d: DType) => d === 'int32' || d === 'uint32';

/** WGSL type used for values of this dtype inside a kernel. */
export function wgslType(d: DType): string {
  switch (d) {
    case 'float32': return 'f32';
    case 'float16': return 'f16';
    case 'int32': return 'i32';
    case 'uint32': return 'u32';
    case 'bool': return 'bool';
    default: return d satisfies never;
  }
}

/** WGSL element type of a storage buffer holding this dtype. */
export const storageType = (d: DType) => (d === 'bool' ? 'u32' : wgslType(d));

/** Bytes per element in GPU storage. */
export const byteSize = (d: DType) => (d === 'float16' ? 2 : 4);

/** The typed array `data()` returns for this dtype. */
export function hostArray(d: DType, n: number): TypedArray {
  switch (d) {
    case 'float32': case 'float16': return new Float32Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'bool': return new Uint8Array(n);
    default: return d satisfies never;
  }
}

/** numpy-style promotion for binary ops: bool < uint32 < int32 < float16 < float32. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  const rank: Record<DType, number> = { bool: 0, uint32: 1, int32: 2, float16: 3, float32: 4 };
  return rank[a] >= rank[b] ? a : b;
}

/** Rounds a float64 value to what the dtype can hold (the interpreter's storage semantics). */
export function roundTo(d: DType, v: number): number {
  switch (d) {
    case 'float32': return Math.fround(v);
    case 'float16': return f16ToF32(f32ToF16(v));
    case 'int32': return Number.isNaN(v) ? 0 : v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : Math.trunc(v);
    case 'uint32': return Number.isNaN(v) ? 0 : v >= 4294967295 ? 4294967295 : v <= 0 ? 0 : Math.trunc(v);
    case 'bool': return v !== 0 ? 1 : 0;
    default: return d satisfies never;
  }
}

/** Wraps an integer result as WGSL integer arithmetic does (two's complement). */
export function wrapInt(d: DType, v: number): number {
  if (d === 'int32') return Number(BigInt.asIntN(32, BigInt(Math.trunc(v))));
  if (d === 'uint32') return Number(BigInt.asUintN(32, BigInt(Math.trunc(v))));
  return v;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
/** IEEE float16 bits of a number (round to nearest even). */
export function f32ToF16(v: number): number {
  f32buf[0] = v;
  const x = u32buf[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
