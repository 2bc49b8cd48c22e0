/**
 * On-device random numbers: `randomUniform` and `dropout`, on the counter-based `random`
 * primitive (ir/random.ts: Threefry-2x32). Nothing is generated on the host or uploaded: each
 * element is a hash of (seed, stream, its flat index), computed by whichever kernel reads it, so
 * random values fuse like elementwise ops (dropout after an activation is one kernel).
 *
 * The seed is a tensor (an int32 or uint32 scalar) or a number (a constant). A jitted function
 * that takes the seed as an argument draws new numbers on every call without retracing; that is
 * how fit() gives each train step its own dropout masks. The same seed, stream and shape always
 * give the same numbers (and, hash-consed, the same node): draw independent numbers inside one
 * computation with different seeds or `stream`s. The host-side generators (rand, randn, used
 * by the initializers) are in creation.ts.
 */
import { TesseraError, fmtShape } from '../ir/error.ts';
import { Node } from '../ir/node.ts';
import { checkShape, numel, type Shape } from '../ir/shape.ts';
import { add, ge, mul, where } from './elementwise.ts';
import { constant, nodeOf, reshape, T, type TensorLike } from './graph.ts';
import { Tensor } from './tensor.ts';

export interface RandomOptions {
  /** Which of the seed's independent streams to draw from: an integer in [0, 2^32), default 0. */
  stream?: number;
}

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v < 2 ** 32;

/** The seed as a uint32/int32 scalar node: a number becomes a constant (negative ones wrap as int32 would). */
function seedNode(seed: Tensor | number, op: string): Node {
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32)
      throw new TesseraError(op, `seed ${seed} is not a 32-bit integer`, 'pass an integer in [0, 2^32), or an int32/uint32 scalar tensor');
    return constant(seed >>> 0, 'uint32');
  }
  if (!(seed instanceof Tensor)) throw new TesseraError(op, `seed must be a number or a Tensor, got ${typeof seed}`);
  const n = seed.use(op);
  if (n.dtype !== 'uint32' && n.dtype !== 'int32')
    throw new TesseraError(op, `the seed tensor is ${n.dtype}; it must be uint32 or int32`, "make it with tensor(s, { dtype: 'uint32' }) or cast it");
  if (numel(n.shape) !== 1) throw new TesseraError(op, `the seed tensor has shape ${fmtShape(n.shape)}; it must hold one value`, 'pass a scalar tensor');
  return reshape(n, []);
}

function streamOf(opts: RandomOptions, op: string): number {
  const s = opts.stream ?? 0;
  if (!isU32(s)) throw new TesseraError(op, `stream ${s} must be an integer in [0, 2^32)`);
  return s;
}

/** Uniform float32 values in [0, 1) (or [low, high)), computed on the device from `seed`. */
export function randomUniform(shape: Shape, seed: Tensor | number, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('randomUniform', shape);
  const u = T(Node.make('random', 'float32', shape, [seedNode(seed, 'randomUniform')], streamOf(opts, 'randomUniform')));
  const lo = opts.low ?? 0, hi = opts.high ?? 1;
  return lo === 0 && hi === 1 ? u : add(mul(u, hi - lo), lo);
}

/**
 * Inverted dropout: each element is zeroed with probability `rate` and the others are scaled by
 * 1 / (1 - rate), so the expected value is unchanged: where(u >= rate, x / (1 - rate), 0) with u
 * = randomUniform(x.shape, seed). Composed from primitives: it fuses with its neighbours, and its
 * gradient is the same mask, scaled. The threshold is rate rounded to float32, so the interpreter
 * and the GPU keep exactly the same elements.
 */
export function dropout(x: TensorLike, rate: number, seed: Tensor | number, opts: RandomOptions = {}): Tensor {
  const t = T(nodeOf(x, 'dropout'));
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1))
    throw new TesseraError('dropout', `rate must be a number in [0, 1), got ${rate}`, 'rate is the fraction of elements to drop, e.g. 0.5');
  const s = seedNode(seed, 'dropout'), stream = streamOf(opts, 'dropout');
  if (rate === 0) return t;
  const u = T(Node.make('random', 'float32', t.shape, [s], stream));
  return where(ge(u, Math.fround(rate)), mul(t, 1 / (1 - rate)), 0);
}
