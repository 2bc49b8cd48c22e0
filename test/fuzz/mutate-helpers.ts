/**
 * Mutation fuzzing of file parsers (not a test file): a parser given a mutated real file must
 * either return a valid result or throw a TesseraError; any other error (a TypeError, a RangeError
 * from a huge allocation) is a finding. Used by test/safetensors-hostile.test.ts and
 * test/onnx-hostile.test.ts; protobufMutation covers what ONNX files need: truncation, wrong wire
 * types (the low 3 bits of a tag), and huge declared sizes (a length-delimited field claiming ~2^35 bytes).
 */
import * as assert from 'uvu/assert';
import { TesseraError } from '../../index.ts';

export type Mutation = (src: Uint8Array, r: () => number) => Uint8Array;

/** Byte-level mutations any format must survive: flips, random bytes, truncation, duplicated and deleted ranges. */
export const byteMutation: Mutation = (src, r) => {
  const ri = (n: number) => Math.floor(r() * n);
  switch (ri(4)) {
    case 0: { const b = src.slice(); for (let k = 1 + ri(4); k > 0; k--) b[ri(b.length)] ^= 1 << ri(8); return b; }
    case 1: return src.subarray(0, ri(src.length));
    case 2: { const a = ri(src.length), e = Math.min(src.length, a + 1 + ri(64)); return concatBytes(src.subarray(0, e), src.subarray(a)); }
    default: { const a = ri(src.length), e = Math.min(src.length, a + 1 + ri(64)); return concatBytes(src.subarray(0, a), src.subarray(e)); }
  }
};

/** Protocol-buffer mutations (ONNX): a tag's wire type changed, a huge length varint, truncation inside a field. */
export const protobufMutation: Mutation = (src, r) => {
  const ri = (n: number) => Math.floor(r() * n), at = ri(src.length);
  switch (ri(3)) {
    case 0: { const b = src.slice(); b[at] = (b[at]! & ~7) | ri(8); return b; }                      // wire type
    case 1: return concatBytes(src.subarray(0, at), Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x7f), src.subarray(at + 1)); // ~2^35 length
    default: return byteMutation(src, r);
  }
};

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Runs `n` mutations over `files` through `parse`; returns how many were accepted and rejected. */
export async function mutationFuzz<T>(o: {
  files: readonly Uint8Array[]; parse: (b: Uint8Array) => T | Promise<T>; mutate: Mutation; n: number; r: () => number;
  /** Asserts an accepted result is valid. */
  check?: (value: T, i: number) => void;
}): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0, rejected = 0;
  for (let i = 0; i < o.n; i++) {
    const m = o.mutate(o.files[i % o.files.length]!, o.r);
    let value: T;
    try { value = await o.parse(m); } catch (e) {
      if (!(e instanceof TesseraError)) assert.unreachable(`mutation ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      rejected++;
      continue;
    }
    o.check?.(value, i);
    accepted++;
  }
  return { accepted, rejected };
}
