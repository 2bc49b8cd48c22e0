/**
 * WGSL for the `random` primitive: Threefry-2x32-20 unrolled into straight-line u32 code, built
 * from the constants of ir/random.ts (the interpreter's definition), so the two cannot drift.
 * WGSL's u32 arithmetic wraps like the interpreter's `>>> 0`, and f32(bits >> 8) * 2^-24 is exact,
 * so GPU values equal the interpreter's bit for bit.
 *
 * `t_uniform(k0, k1, i)`: element i of the stream under key (k0, k1) as an f32 in [0, 1).
 */
import { THREEFRY_PARITY, THREEFRY_ROTATIONS, THREEFRY_ROUNDS } from '../ir/random.ts';

/** The helper functions, emitted once per shader that calls `t_uniform(`. */
export function randomHelpers(): string {
  const L: string[] = [
    `let k2 = k0 ^ k1 ^ 0x${THREEFRY_PARITY.toString(16)}u;`,
    'var x0 = c0 + k0;',
    'var x1 = c1 + k1;',
  ];
  const ks = ['k0', 'k1', 'k2'];
  for (let r = 0; r < THREEFRY_ROUNDS; r++) {
    const rot = THREEFRY_ROTATIONS[r % 8]!;
    L.push(`x0 = x0 + x1; x1 = ((x1 << ${rot}u) | (x1 >> ${32 - rot}u)) ^ x0;`);
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      L.push(`x0 = x0 + ${ks[s % 3]}; x1 = x1 + ${ks[(s + 1) % 3]} + ${s}u;`);
    }
  }
  return [
    `fn t_threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> u32 {\n  ${L.join('\n  ')}\n  return x0;\n}`,
    // 5.9604644775390625e-8 is 2^-24 exactly.
    'fn t_uniform(k0: u32, k1: u32, i: u32) -> f32 { return f32(t_threefry(k0, k1, i, 0u) >> 8u) * 5.9604644775390625e-8; }',
  ].join('\n');
}
