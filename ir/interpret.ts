/**
 * The reference interpreter: evaluates any graph on the CPU in float64. It is the tests' oracle,
 * so it is written for obviousness, not speed. Integer dtypes follow WGSL's semantics exactly
 * (wrapping arithmetic, division by zero returns the dividend, float->int casts saturate);
 * float dtypes are evaluated in float64 without rounding, so tests compare GPU results to it with
 * a tolerance. `random` is the exception that needs none: its values are exact float32 numbers the
 * GPU computes bit for bit the same (ir/random.ts).
 */
import { roundTo, wrapInt, isInt, type DType } from './dtype.ts';
import type { BinaryOp, InputArg, Node, PadArg, ReduceArg, ShrinkArg, UnaryOp } from './node.ts';
import { isBinary, isUnary, toposort } from './node.ts';
import { uniformAt } from './random.ts';
import { contiguousStrides, numel, type Shape } from './shape.ts';

export type Values = Map<Node, Float64Array>;

/** Evaluates `roots`; `inputs` gives the value of every input node (by node or by input uid). */
export function interpret(roots: readonly Node[], inputs: (n: Node) => ArrayLike<number>): Float64Array[] {
  const vals: Values = new Map();
  for (const n of toposort(roots)) vals.set(n, evalNode(n, (s) => vals.get(s)!, inputs));
  return roots.map((r) => vals.get(r)!);
}

/** Calls f(outFlat, multiIndex) for every element of `shape` in row-major order. */
function forEachIndex(shape: Shape, f: (flat: number, idx: number[]) => void): void {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(flat, idx);
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
}

const dot = (idx: readonly number[], st: readonly number[]) => idx.reduce((a, v, i) => a + v * st[i]!, 0);

export function unary(op: UnaryOp, x: number, d: DType, srcType: DType): number {
  switch (op) {
    case 'neg': return wrapInt(d, -x);
    case 'recip': return isInt(d) ? (x === 0 ? 0 : Math.trunc(1 / x)) : 1 / x;
    case 'sqrt': return Math.sqrt(x);
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'sin': return Math.sin(x);
    case 'cos': return Math.cos(x);
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    case 'abs': return wrapInt(d, Math.abs(x));
    case 'floor': return Math.floor(x);
    case 'sign': return Number.isNaN(x) ? NaN : Math.sign(x);
    case 'not': return x ? 0 : 1;
    case 'detach': return x;
    case 'cast':
      if (d === 'bool') return x !== 0 ? 1 : 0;
      if (isInt(d) && isInt(srcType)) return wrapInt(d, x); // WGSL reinterprets the bits
      // WGSL saturates float -> int to the nearest float32 that fits (2^31 - 128, 2^32 - 256)
      if (isInt(d) && !Number.isNaN(x)) return d === 'int32' ? Math.trunc(Math.min(Math.max(x, -2147483648), 2147483520)) : Math.trunc(Math.min(Math.max(x, 0), 4294967040));
      return roundTo(d, x);
    default: throw new Error(`interpreter: no rule for ${op satisfies never}`);
  }
}

export function binary(op: BinaryOp, a: number, b: number, d: DType): number {
  const int = isInt(d);
  switch (op) {
    case 'add': return int ? wrapInt(d, a + b) : a + b;
    case 'sub': return int ? wrapInt(d, a - b) : a - b;
    case 'mul': return d === 'int32' ? Math.imul(a, b) : d === 'uint32' ? Math.imul(a, b) >>> 0 : a * b;
    case 'div':
      if (!int) return a / b;
      if (b === 0) return a;
      return wrapInt(d, Math.trunc(a / b));
    case 'max': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    case 'min': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
    case 'pow': return Math.pow(a, b);
    case 'mod': {
      if (int) { if (b === 0) return 0; const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; }
      return a - b * Math.floor(a / b);
    }
    case 'lt': return a < b ? 1 : 0;
    case 'le': return a <= b ? 1 : 0;
    case 'eq': return a === b ? 1 : 0;
    case 'ne': return a !== b ? 1 : 0;
    case 'and': return a && b ? 1 : 0;
    case 'or': return a || b ? 1 : 0;
    default: throw new Error(`interpreter: no rule for ${op satisfies never}`);
  }
}

function evalNode(n: Node, v: (s: Node) => Float64Array, inputs: (n: Node) => ArrayLike<number>): Float64Array {
  const out = new Float64Array(numel(n.shape));
  const s0 = n.src[0]!;
  switch (n.op) {
    case 'input': {
      const data = inputs(n);
      if (data.length !== out.length) throw new Error(`interpreter: input ${(n.arg as InputArg).name} has ${data.length} values, shape needs ${out.length}`);
      for (let i = 0; i < out.length; i++) out[i] = data[i]!;
      return out;
    }
    case 'const': out.fill(n.arg as number); return out;
    case 'iota': forEachIndex(n.shape, (f, idx) => { out[f] = idx[n.arg as number]!; }); return out;
    case 'random': {
      // Bit-identical to the GPU: uint32 arithmetic in JS numbers (>>> 0), the same float conversion.
      const seed = v(s0)[0]! >>> 0, stream = (n.arg as number) >>> 0;
      for (let i = 0; i < out.length; i++) out[i] = uniformAt(seed, stream, i);
      return out;
    }
    case 'where': {
      const [c, a, b] = n.src.map(v);
      for (let i = 0; i < out.length; i++) out[i] = c![i] ? a![i]! : b![i]!;
      return out;
    }
    case 'reduce': {
      const { op, axes } = n.arg as ReduceArg;
      const x = v(s0);
      out.fill(op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity);
      const ost = contiguousStrides(n.shape);
      forEachIndex(s0.shape, (f, idx) => {
        const o = idx.reduce((a, iv, d) => a + (axes.includes(d) ? 0 : iv * ost[d]!), 0);
        const cur = out[o]!, val = x[f]!;
        out[o] = op === 'sum' ? cur + val : Number.isNaN(val) || Number.isNaN(cur) ? NaN : op === 'max' ? Math.max(cur, val) : Math.min(cur, val);
      });
      if (isInt(n.dtype)) for (let i = 0; i < out.length; i++) out[i] = wrapInt(n.dtype, out[i]!);
      return out;
    }
    case 'reshape': return v(s0).slice();
    case 'permute': {
      const perm = n.arg as number[], x = v(s0), st = contiguousStrides(s0.shape);
      forEachIndex(n.shape, (f, idx) => { out[f] = x[idx.reduce((a, iv, d) => a + iv * st[perm[d]!]!, 0)]!; });
      return out;
    }
    case 'expand': {
      const x = v(s0), st = contiguousStrides(s0.shape).map((s, d) => (s0.shape[d] === 1 ? 0 : s));
      const off = n.shape.length - s0.shape.length;
      forEachIndex(n.shape, (f, idx) => { out[f] = x[dot(idx.slice(off), st)]!; });
      return out;
    }
    case 'pad': {
      const pads = n.arg as PadArg, x = v(s0), st = contiguousStrides(s0.shape);
      forEachIndex(n.shape, (f, idx) => {
        const src = idx.map((iv, d) => iv - pads[d]![0]);
        out[f] = src.every((sv, d) => sv >= 0 && sv < s0.shape[d]!) ? x[dot(src, st)]! : 0;
      });
      return out;
    }
    case 'shrink': {
      const { start, step } = n.arg as ShrinkArg, x = v(s0), st = contiguousStrides(s0.shape);
      forEachIndex(n.shape, (f, idx) => { out[f] = x[dot(idx.map((iv, d) => start[d]! + iv * step[d]!), st)]!; });
      return out;
    }
    case 'matmul': {
      const a = v(s0), b = v(n.src[1]!), r = n.shape.length;
      const M = n.shape[r - 2]!, N = n.shape[r - 1]!, K = s0.shape[r - 1]!;
      const batch = numel(n.shape.slice(0, -2));
      for (let bi = 0; bi < batch; bi++)
        for (let m = 0; m < M; m++)
          for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += a[bi * M * K + m * K + k]! * b[bi * K * N + k * N + j]!;
            out[bi * M * N + m * N + j] = isInt(n.dtype) ? wrapInt(n.dtype, acc) : acc;
          }
      return out;
    }
    default: {
      const op = n.op;
      if (isUnary(op)) {
        const x = v(s0);
        for (let i = 0; i < out.length; i++) out[i] = unary(op, x[i]!, n.dtype, s0.dtype);
      } else if (isBinary(op)) {
        const a = v(s0), b = v(n.src[1]!);
        const d = n.src[0]!.dtype;
        for (let i = 0; i < out.length; i++) out[i] = binary(op, a[i]!, b[i]!, d);
      } else throw new Error(`interpreter: no rule for ${op satisfies never}`);
      return out;
    }
  }
}
