/**
 * einsum over explicit subscripts ('ij,jk->ik', 'bhqd,bhkd->bhqk', 'ii->i' is not supported),
 * lowered to the ops that fuse best: letters only one operand has (and the output does not) are
 * summed first; then each pair is one batched matmul (letters in both operands and the output
 * are the batch, letters in both and not the output are contracted) between permutes and
 * reshapes (views). Without '->' the output is the letters seen once, sorted (numpy's rule).
 * Operands fold left to right.
 */
import { TesseraError, fmtShape } from '../ir/error.ts';
import { mul } from './elementwise.ts';
import { matmul } from './linalg.ts';
import { permute, reshape } from './movement.ts';
import { sum } from './reduce.ts';
import type { Tensor } from './tensor.ts';
import { broadcastTo } from './rearrange.ts';

interface Term { t: Tensor; s: string }

function reduceTo(x: Term, keep: Set<string>): Term {
  const drop = [...x.s].map((c, i) => (keep.has(c) ? -1 : i)).filter((i) => i >= 0);
  return drop.length ? { t: sum(x.t, drop), s: [...x.s].filter((c) => keep.has(c)).join('') } : x;
}
const order = (x: Term, s: string): Tensor => (x.s === s ? x.t : permute(x.t, [...s].map((c) => x.s.indexOf(c))));

function pair(a: Term, b: Term, out: Set<string>, sizes: Map<string, number>): Term {
  const inB = new Set(b.s), inA = new Set(a.s);
  const batch = [...a.s].filter((c) => inB.has(c) && out.has(c)).join('');
  const contr = [...a.s].filter((c) => inB.has(c) && !out.has(c)).join('');
  const aOnly = [...a.s].filter((c) => !inB.has(c)).join(''), bOnly = [...b.s].filter((c) => !inA.has(c)).join('');
  const size = (s: string) => [...s].reduce((p, c) => p * sizes.get(c)!, 1), dims = (s: string) => [...s].map((c) => sizes.get(c)!);
  if (!contr.length && (!aOnly.length || !bOnly.length)) {
    // No contraction: an elementwise product with broadcasting in the letters of both.
    const s = batch + aOnly + bOnly, shape = dims(s);
    const A = broadcastTo(reshape(order(a, batch + aOnly), [...dims(batch + aOnly), ...dims(bOnly).map(() => 1)]), shape);
    const bb = order(b, batch + bOnly), B = broadcastTo(reshape(bb, [...dims(batch), ...dims(aOnly).map(() => 1), ...dims(bOnly)]), shape);
    return { t: mul(A, B), s };
  }
  const A = reshape(order(a, batch + aOnly + contr), [size(batch), size(aOnly), size(contr)]);
  const B = reshape(order(b, batch + contr + bOnly), [size(batch), size(contr), size(bOnly)]);
  return { t: reshape(matmul(A, B), dims(batch + aOnly + bOnly)), s: batch + aOnly + bOnly };
}

/** Einstein summation: `einsum('ij,jk->ik', a, b)`. */
export function einsum(subscripts: string, ...operands: Tensor[]): Tensor {
  const spec = subscripts.replace(/\s+/g, '');
  const [lhs, rhs] = spec.includes('->') ? spec.split('->') as [string, string] : [spec, undefined];
  const ins = lhs.split(',');
  if (ins.length !== operands.length) throw new TesseraError('einsum', `'${subscripts}' names ${ins.length} operands, got ${operands.length}`);
  if (spec.includes('.')) throw new TesseraError('einsum', 'ellipsis (...) is not supported', 'name every axis with a letter');
  const sizes = new Map<string, number>();
  ins.forEach((s, k) => {
    const t = operands[k]!;
    if (!/^[a-zA-Z]*$/.test(s)) throw new TesseraError('einsum', `subscripts '${s}' must be letters`);
    if (s.length !== t.rank) throw new TesseraError('einsum', `operand ${k} has shape ${fmtShape(t.shape)} (rank ${t.rank}) but subscripts '${s}'`, 'give one letter per axis');
    if (new Set(s).size !== s.length) throw new TesseraError('einsum', `repeated letters within one operand ('${s}': diagonals) are not supported`, 'take the diagonal with a mask first');
    [...s].forEach((c, i) => {
      const d = t.shape[i]!, prev = sizes.get(c);
      if (prev !== undefined && prev !== d && prev !== 1 && d !== 1) throw new TesseraError('einsum', `letter '${c}' has sizes ${prev} and ${d}`);
      sizes.set(c, Math.max(prev ?? 1, d));
    });
  });
  const counts = new Map<string, number>();
  for (const c of ins.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
  const out = rhs ?? [...counts.keys()].filter((c) => counts.get(c) === 1).sort().join('');
  for (const c of out) if (!sizes.has(c)) throw new TesseraError('einsum', `output letter '${c}' is in no operand`);
  if (new Set(out).size !== out.length) throw new TesseraError('einsum', `output '${out}' repeats a letter`);
  // Broadcast size-1 axes up front, so every letter has one size.
  let terms: Term[] = ins.map((s, k) => ({ s, t: broadcastTo(operands[k]!, [...s].map((c) => sizes.get(c)!)) }));
  const needed = (from: number) => new Set([...out, ...terms.slice(from).flatMap((x) => [...x.s])]);
  terms = terms.map((x, k) => reduceTo(x, new Set([...out, ...terms.filter((_, j) => j !== k).flatMap((y) => [...y.s])])));
  let acc = terms[0]!;
  for (let k = 1; k < terms.length; k++) acc = pair(acc, terms[k]!, needed(k + 1), sizes);
  acc = reduceTo(acc, new Set(out));
  return order(acc, out);
}
