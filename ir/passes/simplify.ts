/**
 * Algebraic simplification and constant folding, as one table of local rules applied bottom-up
 * (rewrite.ts) until nothing changes. Each rule keeps dtype and shape; float rules never change
 * results (no x*0 -> 0 for floats: NaN*0 is NaN).
 */
import { binary, unary } from '../interpret.ts';
import { isElementwise, isUnary, isView, Node, type BinaryOp, type PadArg, type ShrinkArg } from '../node.ts';
import { numel, shapesEqual } from '../shape.ts';
import { isFloat, roundTo } from '../dtype.ts';
import { rewrite } from './rewrite.ts';

const constOf = (n: Node): number | undefined => (n.op === 'const' ? (n.arg as number) : undefined);
const konst = (v: number, like: Node) => Node.make('const', like.dtype, like.shape, [], isFloat(like.dtype) ? v : roundTo(like.dtype, v));
const sameAs = (x: Node, n: Node) => x.dtype === n.dtype && shapesEqual(x.shape, n.shape);

export function simplifyNode(n: Node): Node {
  const [a, b] = n.src;
  const ca = a && constOf(a), cb = b && constOf(b);
  // Constants: views of a constant (except pad) and elementwise ops of constants fold.
  if (isView(n.op) && n.op !== 'pad' && a!.op === 'const') return konst(a!.arg as number, n);
  if (n.op === 'pad' && a!.op === 'const' && a!.arg === 0) return konst(0, n);
  if (isElementwise(n.op) && n.src.every((s) => s.op === 'const')) {
    if (n.op === 'where') return konst((n.src[0]!.arg as number) ? (n.src[1]!.arg as number) : (n.src[2]!.arg as number), n);
    const v = isUnary(n.op) ? unary(n.op, ca!, n.dtype, a!.dtype) : binary(n.op as BinaryOp, ca!, cb!, a!.dtype);
    return konst(v, n);
  }
  if (numel(n.shape) === 0 && n.op !== 'const') return konst(0, n);
  switch (n.op) {
    case 'add': if (cb === 0 && sameAs(a!, n)) return a!; if (ca === 0 && sameAs(b!, n)) return b!; break;
    case 'sub': if (cb === 0 && sameAs(a!, n)) return a!; break;
    case 'mul':
      if (cb === 1 && sameAs(a!, n)) return a!;
      if (ca === 1 && sameAs(b!, n)) return b!;
      if (!isFloat(n.dtype) && (ca === 0 || cb === 0)) return konst(0, n);
      break;
    case 'div': if (cb === 1 && sameAs(a!, n)) return a!; break;
    case 'neg': if (a!.op === 'neg') return a!.src[0]!; break;
    case 'not': if (a!.op === 'not') return a!.src[0]!; break;
    case 'detach': return a!;
    case 'cast': if (a!.dtype === n.dtype) return a!; break;
    case 'pow':
      if (cb === 1) return a!;
      if (cb === 2) return Node.make('mul', n.dtype, n.shape, [a!, a!]);
      if (cb === 0.5) return Node.make('sqrt', n.dtype, n.shape, [a!]);
      if (cb === -1) return Node.make('recip', n.dtype, n.shape, [a!]);
      break;
    case 'where': {
      const c = constOf(n.src[0]!);
      if (c !== undefined) return c ? n.src[1]! : n.src[2]!;
      if (n.src[1] === n.src[2]) return n.src[1]!;
      break;
    }
    case 'reshape':
      if (shapesEqual(a!.shape, n.shape)) return a!;
      if (a!.op === 'reshape') return Node.make('reshape', n.dtype, n.shape, [a!.src[0]!]);
      break;
    case 'expand':
      if (shapesEqual(a!.shape, n.shape)) return a!;
      if (a!.op === 'expand') return Node.make('expand', n.dtype, n.shape, [a!.src[0]!]);
      break;
    case 'permute': {
      const p = n.arg as readonly number[];
      if (p.every((v, i) => v === i)) return a!;
      if (a!.op === 'permute') { const q = a!.arg as readonly number[]; return Node.make('permute', n.dtype, n.shape, [a!.src[0]!], p.map((i) => q[i]!)); }
      break;
    }
    case 'shrink': {
      const { start, step } = n.arg as ShrinkArg;
      if (shapesEqual(a!.shape, n.shape) && start.every((s) => s === 0) && step.every((s) => s === 1)) return a!;
      break;
    }
    case 'pad': if ((n.arg as PadArg).every(([lo, hi]) => lo === 0 && hi === 0)) return a!; break;
    case 'reduce': if (shapesEqual(a!.shape, n.shape) && a!.dtype === n.dtype) return a!; break;
    default: break;
  }
  return n;
}

export const simplify = (roots: readonly Node[]) => rewrite(roots, simplifyNode);
