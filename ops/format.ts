/**
 * Tensor values as text, in numpy's repr style:
 *
 *   tensor([[ 1.5   , -2.    ,  0.25  ],
 *           [ 3.    ,  4.125 , 10.    ]], dtype=float32)
 *
 * Floats share one width and up to 4 decimals (trailing zeros trimmed as numpy does), or
 * exponent form for very large or small magnitudes; ints and bools print as they are. Large tensors
 * are summarized: more than 1000 elements show the first and last 3 entries of each axis around '...'.
 */
import type { DType } from '../ir/dtype.ts';

const THRESHOLD = 1000, EDGE = 3;

function floatFormatter(vals: number[]): (v: number) => string {
  const finite = vals.filter(Number.isFinite).map(Math.abs);
  const big = finite.length ? Math.max(...finite) : 0, small = finite.filter((v) => v > 0).reduce((m, v) => Math.min(m, v), Infinity);
  const sci = big >= 1e8 || (small < 1e-4 && small !== Infinity);
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (sci) return (v) => (Number.isFinite(v) ? v.toExponential(4) : special(v));
  // numpy prints every float with the digits the longest needs (at most 4), trailing zeros as spaces: '1.5  ', '-2.   '.
  const digits = Math.max(0, ...vals.filter(Number.isFinite).map((v) => { const s = v.toFixed(4).replace(/0+$/, ''); return s.length - s.indexOf('.') - 1; }));
  return (v) => {
    if (!Number.isFinite(v)) return special(v);
    const s = v.toFixed(digits), trimmed = digits ? s.replace(/0+$/, '') : `${s}.`;
    return trimmed.padEnd(s.length + (digits ? 0 : 1));
  };
}

/** The values of a tensor of `shape` (flat, row-major) as numpy-like text. */
export function formatTensor(data: ArrayLike<number>, shape: readonly number[], dtype: DType): string {
  const n = data.length, summarize = n > THRESHOLD;
  const shown: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const keepIdx = (d: number) => (summarize && shape[d]! > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => shape[d]! - EDGE + i)] : [...Array(shape[d]!).keys()]);
  const collect = (d: number, off: number) => {
    if (d === shape.length) { shown.push(data[off]!); return; }
    for (const i of keepIdx(d)) if (i >= 0) collect(d + 1, off + i * strides[d]!);
  };
  collect(0, 0);
  const isFloat = dtype === 'float32' || dtype === 'float16';
  const fmt = dtype === 'bool' ? (v: number) => (v ? 'True' : 'False') : isFloat ? floatFormatter(shown) : (v: number) => String(v);
  const width = Math.max(1, ...shown.map((v) => fmt(v).length));
  const pad = (s: string) => s.padStart(width);
  const prefix = 'tensor(';
  const build = (d: number, off: number, indent: string): string => {
    if (d === shape.length) return pad(fmt(data[off]!));
    const parts = keepIdx(d).map((i) => (i < 0 ? '...' : build(d + 1, off + i * strides[d]!, indent + ' ')));
    if (d === shape.length - 1) return `[${parts.join(', ')}]`;
    const sep = ',' + '\n'.repeat(shape.length - d - 1) + indent + ' ';
    return `[${parts.join(sep)}]`;
  };
  const body = shape.length === 0 ? fmt(data[0]!) : build(0, 0, ' '.repeat(prefix.length));
  return `${prefix}${body}, dtype=${dtype})`;
}
