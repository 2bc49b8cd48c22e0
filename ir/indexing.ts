/**
 * Symbolic index expressions: how a kernel finds, for the element it computes, the element of each
 * buffer it reads. Views are never copies: a view node maps an index into its own shape to an index
 * into its source's shape (reshape, permute, expand, pad, shrink). An `Ix` is such an index, held
 * as a flat row-major offset (`lin`), as one expression per dimension (`idx`), or both; the other
 * form is derived only when needed, so an elementwise chain over contiguous buffers reads
 * `buf[gid]` with no division at all.
 *
 * Index expressions are WGSL i32 expression strings with constant folding. The same code serves
 * codegen (through a Scope that emits `let` bindings) and the scheduler (a probing Scope that just
 * inlines), so what the scheduler checks is exactly what codegen emits.
 */
import type { Node, PadArg, ShrinkArg } from './node.ts';
import { contiguousStrides, numel, type Shape } from './shape.ts';

export interface Scope { let(expr: string): string }
/** A scope that inlines every expression; used to compare index patterns symbolically. */
export const probeScope: Scope = { let: (e) => e };

const isLit = (e: string) => /^-?\d+$/.test(e);
const lit = (v: number) => String(v);
export function iadd(a: string, b: string): string {
  if (a === '0') return b;
  if (b === '0') return a;
  if (isLit(a) && isLit(b)) return lit(+a + +b);
  if (isLit(b) && +b < 0) return `(${a} - ${-b})`;
  return `(${a} + ${b})`;
}
export function imul(a: string, k: number): string {
  if (k === 0 || a === '0') return '0';
  if (k === 1) return a;
  if (isLit(a)) return lit(+a * k);
  return `(${a} * ${k})`;
}
export function idiv(a: string, k: number): string {
  if (k === 1) return a;
  if (isLit(a)) return lit(Math.floor(+a / k));
  return `(${a} / ${k})`;
}
export function imod(a: string, k: number): string {
  if (k === 1) return '0';
  if (isLit(a)) return lit(+a % k);
  return `(${a} % ${k})`;
}

export class Ix {
  constructor(
    readonly shape: Shape,
    private _lin?: string,
    private _idx?: string[],
    /** Condition under which this index is in bounds (set below a pad); loads clamp when false. */
    readonly guard: string | null = null,
  ) {
    if (_lin === undefined && _idx === undefined) throw new Error('Ix needs lin or idx');
  }
  /** key(), until lin() or idx() derives the other form. */
  private _key: string | undefined;
  get knownLin(): string | undefined { return this._lin; }
  get knownIdx(): string[] | undefined { return this._idx; }

  lin(sc: Scope): string {
    if (this._lin === undefined) {
      const st = contiguousStrides(this.shape);
      this._lin = sc.let(this._idx!.reduce((acc, e, d) => (this.shape[d] === 1 ? acc : iadd(acc, imul(e, st[d]!))), '0'));
      this._key = undefined;
    }
    return this._lin;
  }
  idx(sc: Scope): string[] {
    if (this._idx === undefined) {
      const st = contiguousStrides(this.shape), lin = this._lin!;
      this._idx = this.shape.map((s, d) => (s === 1 ? '0' : sc.let(d === 0 ? idiv(lin, st[d]!) : imod(idiv(lin, st[d]!), s))));
      this._key = undefined;
    }
    return this._idx;
  }
  /** A string that identifies this index (for memoizing values computed at it). */
  key(): string { return (this._key ??= `${this._lin ?? ''}|${this._idx?.join(',') ?? ''}|${this.guard ?? ''}`); }
}

/** The index of a scalar (shape []) operand: where `random` reads its seed, whatever element it computes. */
export const SCALAR_IX = new Ix([], '0', []);

const andGuard = (g: string | null, c: string | null) => (g && c ? `(${g} && ${c})` : g ?? c);

/** Maps an index into view node `v`'s shape to an index into its source's shape. */
export function viewIx(v: Node, ix: Ix, sc: Scope): { ix: Ix; valid: string | null } {
  const src = v.src[0]!.shape;
  switch (v.op) {
    case 'reshape': {
      const lin = ix.knownLin;
      const idx = ix.knownIdx ? reshapeIdx(ix.knownIdx, v.shape, src, sc) : undefined;
      return { ix: new Ix(src, lin, idx, ix.guard), valid: null };
    }
    case 'permute': {
      const perm = v.arg as readonly number[], idx = ix.idx(sc);
      const out = new Array<string>(src.length);
      perm.forEach((p, d) => { out[p] = idx[d]!; });
      const moved = perm.some((p, d) => p !== d && src[p] !== 1);
      return { ix: new Ix(src, moved ? undefined : ix.knownLin, out, ix.guard), valid: null };
    }
    case 'expand': {
      const off = v.shape.length - src.length;
      const expanded = src.some((s, d) => s !== v.shape[d + off]);
      if (!expanded && off === 0) return { ix, valid: null };
      const idx = ix.idx(sc);
      return { ix: new Ix(src, undefined, src.map((s, d) => (s === 1 ? '0' : idx[d + off]!)), ix.guard), valid: null };
    }
    case 'shrink': {
      const { start, step } = v.arg as ShrinkArg, idx = ix.idx(sc);
      return { ix: new Ix(src, undefined, idx.map((e, d) => iadd(imul(e, step[d]!), lit(start[d]!))), ix.guard), valid: null };
    }
    case 'pad': {
      const pads = v.arg as PadArg, idx = ix.idx(sc);
      const conds: string[] = [];
      const out = idx.map((e, d) => {
        const [lo, hi] = pads[d]!;
        const s = iadd(e, lit(-lo));
        if (lo > 0) conds.push(`(${s} >= 0)`);
        if (hi > 0) conds.push(`(${s} < ${src[d]})`);
        return lo || hi ? sc.let(s) : s;
      });
      const valid = conds.length ? sc.let(conds.join(' && ')) : null;
      return { ix: new Ix(src, undefined, out, andGuard(ix.guard, valid)), valid };
    }
    default: throw new Error(`viewIx: ${v.op} is not a view`);
  }
}

/** Reshape by groups of dimensions whose sizes multiply to the same number, so a split or merge
 * of neighbouring dimensions costs a multiply-add or one div/mod, not a full flatten. */
function reshapeIdx(idx: readonly string[], out: Shape, src: Shape, sc: Scope): string[] {
  const res = src.map(() => '0');
  if (numel(out) === 0) return res;
  const od = out.map((_, d) => d).filter((d) => out[d] !== 1);
  const sd = src.map((_, d) => d).filter((d) => src[d] !== 1);
  let i = 0, j = 0;
  while (i < od.length || j < sd.length) {
    const go = [od[i++]!], gs = [sd[j++]!];
    let po = out[go[0]!]!, ps = src[gs[0]!]!;
    while (po !== ps) {
      if (po < ps) { const d = od[i++]!; go.push(d); po *= out[d]!; }
      else { const d = sd[j++]!; gs.push(d); ps *= src[d]!; }
    }
    if (go.length === 1 && gs.length === 1) { res[gs[0]!] = idx[go[0]!]!; continue; }
    let flat = '0', m = 1;
    for (let k = go.length - 1; k >= 0; k--) { flat = iadd(flat, imul(idx[go[k]!]!, m)); m *= out[go[k]!]!; }
    flat = gs.length > 1 ? sc.let(flat) : flat;
    let st = 1;
    for (let k = gs.length - 1; k >= 0; k--) {
      const d = gs[k]!;
      res[d] = sc.let(k === 0 ? idiv(flat, st) : imod(idiv(flat, st), src[d]!));
      st *= src[d]!;
    }
  }
  return res;
}
