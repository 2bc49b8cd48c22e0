/**
 * One vector-Jacobian rule per primitive, all in this table. A rule gets the cotangent `g` of a
 * node's output (same shape and dtype as the node) and returns one cotangent per source, or null
 * where no gradient flows (integer and boolean operands, conditions, indices). Rules are written
 * with differentiable primitives, so gradients of gradients work.
 *
 * Conventions: maximum/minimum split ties evenly (each side gets g/2); a max/min reduction splits
 * g evenly among the elements that attain the extreme; floor, sign, mod's divisor-rounding and
 * comparisons have zero gradient. `random` has no gradient: its value depends on no float input
 * (so dropout's gradient is the same mask, scaled).
 */
import * as B from './builder.ts';
import { isFloat } from './dtype.ts';
import { Node, type Op, type PadArg, type ReduceArg, type ShrinkArg } from './node.ts';

type Rule = (g: Node, n: Node) => (Node | null)[];

const none = (n: Node) => n.src.map(() => null);
const zero = (n: Node) => B.like(0, n);

export const VJP_RULES: Record<Op, Rule> = {
  input: () => [],
  const: () => [],
  iota: () => [],
  random: none, // its only operand is the integer seed: no gradient flows
  add: (g) => [g, g],
  sub: (g) => [g, B.neg(g)],
  mul: (g, n) => [B.mul(g, n.src[1]!), B.mul(g, n.src[0]!)],
  div: (g, n) => { const [, b] = n.src as [Node, Node]; const ga = B.div(g, b); return [ga, B.neg(B.mul(ga, n))]; },
  max: tieSplit,
  min: tieSplit,
  pow: (g, n) => {
    const [a, b] = n.src as [Node, Node];
    const ga = B.mul(g, B.mul(b, B.bin('pow', a, B.sub(b, B.like(1, b)))));
    // d/db a^b = a^b log a, defined as 0 where a <= 0 (as PyTorch does for a == 0).
    const pos = B.cmp('lt', B.like(0, a), a);
    const gb = B.where(pos, B.mul(g, B.mul(n, B.un('log', B.where(pos, a, B.like(1, a))))), zero(b));
    return [ga, gb];
  },
  mod: (g, n) => [g, B.neg(B.mul(g, B.un('floor', B.div(n.src[0]!, n.src[1]!))))],
  lt: none, le: none, eq: none, ne: none, and: none, or: none, not: none,
  detach: none,
  neg: (g) => [B.neg(g)],
  recip: (g, n) => [B.neg(B.mul(g, B.mul(n, n)))],
  sqrt: (g, n) => [B.div(g, B.scale(n, 2))],
  exp: (g, n) => [B.mul(g, n)],
  log: (g, n) => [B.div(g, n.src[0]!)],
  sin: (g, n) => [B.mul(g, B.un('cos', n.src[0]!))],
  cos: (g, n) => [B.neg(B.mul(g, B.un('sin', n.src[0]!)))],
  tanh: (g, n) => [B.mul(g, B.sub(B.like(1, n), B.mul(n, n)))],
  sigmoid: (g, n) => [B.mul(g, B.mul(n, B.sub(B.like(1, n), n)))],
  abs: (g, n) => [B.mul(g, B.un('sign', n.src[0]!))],
  floor: (_g, n) => [zero(n)],
  sign: (_g, n) => [zero(n)],
  cast: (g, n) => [isFloat(n.src[0]!.dtype) ? B.cast(g, n.src[0]!.dtype) : null],
  where: (g, n) => { const c = n.src[0]!; return [null, B.where(c, g, zero(n)), B.where(c, zero(n), g)]; },
  reduce: (g, n) => {
    const x = n.src[0]!, { op } = n.arg as ReduceArg;
    const ge = B.expand(g, x.shape);
    if (op === 'sum') return [ge];
    const hit = B.cast(B.cmp('eq', x, B.expand(n, x.shape)), x.dtype);
    const count = B.expand(B.reduce('sum', hit, (n.arg as ReduceArg).axes), x.shape);
    return [B.div(B.mul(ge, hit), count)];
  },
  reshape: (g, n) => [B.reshape(g, n.src[0]!.shape)],
  permute: (g, n) => {
    const p = n.arg as readonly number[], inv = new Array<number>(p.length);
    p.forEach((v, i) => { inv[v] = i; });
    return [B.permute(g, inv)];
  },
  expand: (g, n) => {
    // Sum over the broadcast axes: new leading axes (a source of lower rank) and size-1 axes that grew.
    const src = n.src[0]!, off = n.shape.length - src.shape.length;
    const axes = n.shape.map((d, i) => (i < off || (src.shape[i - off] === 1 && d !== 1) ? i : -1)).filter((i) => i >= 0);
    return [B.reshape(B.reduce('sum', g, axes), src.shape)];
  },
  pad: (g, n) => {
    const pads = n.arg as PadArg;
    return [Node.make('shrink', g.dtype, n.src[0]!.shape, [g], { start: pads.map((p) => p[0]), step: pads.map(() => 1) })];
  },
  shrink: (g, n) => [unshrink(g, n.arg as ShrinkArg, n.src[0]!.shape)],
  matmul: (g, n) => {
    const [a, b] = n.src as [Node, Node];
    return [B.matmul(g, B.mT(b)), B.matmul(B.mT(a), g)];
  },
};

/** max/min: the larger (smaller) operand gets g; equal operands get g/2 each. */
function tieSplit(g: Node, n: Node): Node[] {
  const [a, b] = n.src as [Node, Node];
  const isMax = n.op === 'max';
  const aWins = isMax ? B.cmp('lt', b, a) : B.cmp('lt', a, b);
  const bWins = isMax ? B.cmp('lt', a, b) : B.cmp('lt', b, a);
  const tie = B.cmp('eq', a, b);
  const half = B.scale(g, 0.5), z = zero(n);
  return [B.where(aWins, g, B.where(tie, half, z)), B.where(bWins, g, B.where(tie, half, z))];
}

const N = Node;

/** Scatters g (the shrunk view's cotangent) back into zeros of the source shape, axis by axis.
 * A negative step (a reversed axis, flip) reverses g on that axis first: then it reads upwards. */
function unshrink(g: Node, arg: ShrinkArg, src: readonly number[]): Node {
  if (arg.step.some((s) => s < 0)) {
    const rev = N.make('shrink', g.dtype, g.shape, [g], { start: g.shape.map((n, d) => (arg.step[d]! < 0 ? n - 1 : 0)), step: arg.step.map((s) => (s < 0 ? -1 : 1)) });
    const start = arg.start.map((st, d) => (arg.step[d]! < 0 ? st + (g.shape[d]! - 1) * arg.step[d]! : st));
    return unshrink(rev, { start, step: arg.step.map(Math.abs) }, src);
  }
  const { start, step } = arg;
  let cur = g;
  for (let d = 0; d < src.length; d++) {
    const n = cur.shape[d]!, s = step[d]!, st = start[d]!;
    if (n === 0) return B.konst(0, g.dtype, src);
    if (s > 1) {
      // Interleave zeros: [.., n, ..] -> [.., n, s, ..] padded -> [.., n*s, ..], then cut to the span.
      const sh1 = [...cur.shape.slice(0, d + 1), 1, ...cur.shape.slice(d + 1)];
      const r = B.reshape(cur, sh1);
      const pads = sh1.map((_, i) => (i === d + 1 ? [0, s - 1] : [0, 0]) as [number, number]);
      const padded = N.make('pad', g.dtype, sh1.map((v, i) => (i === d + 1 ? s : v)), [r], pads);
      const flat = B.reshape(padded, cur.shape.map((v, i) => (i === d ? n * s : v)));
      const span = (n - 1) * s + 1;
      cur = N.make('shrink', g.dtype, flat.shape.map((v, i) => (i === d ? span : v)), [flat], { start: flat.shape.map(() => 0), step: flat.shape.map(() => 1) });
    }
    const len = cur.shape[d]!;
    const pads = cur.shape.map((_, i) => (i === d ? [st, src[d]! - st - len] : [0, 0]) as [number, number]);
    cur = N.make('pad', g.dtype, cur.shape.map((v, i) => (i === d ? src[d]! : v)), [cur], pads);
  }
  return cur;
}
