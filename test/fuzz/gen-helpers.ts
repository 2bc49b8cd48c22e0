/**
 * The differential fuzzer's program generator (not a test file). A program is a list of steps over
 * named values: inputs (seeded host data, constants made with full(), uint32 seeds) and steps, each
 * one public-API call on earlier values that can be replayed on fresh inputs (`run`) and printed as
 * code (`code`). Steps are chosen by trying them on live lazy tensors: shapes and dtypes come from
 * the tensors themselves, and a step the library rejects is simply not taken.
 *
 * Two properties keep a correct compiler from ever failing a check:
 *  - `exact`: a value equal bit for bit on the GPU and in the float64 interpreter (inputs, integer
 *    arithmetic, views, max/min, where...). Discontinuous ops (floor, sign, compares, float-to-int
 *    casts, argmax, mod) only take exact operands, so a rounding difference cannot flip them.
 *  - `bound`: an upper bound on |value|, so integers never overflow and floats stay where float32
 *    agrees with float64 to a relative tolerance.
 * Gradient programs use float32 and smooth ops only (finite differences need differentiability).
 */
import * as ts from '../../index.ts';
import { nn, type DType, type Tensor } from '../../index.ts';
import { prng } from '../../ops/creation.ts';

export interface InputSpec { id: string; shape: number[]; dtype: DType; seed: number; kind: 'data' | 'full' | 'seed'; value?: number }
export interface Step { id: string; args: string[]; code: (a: string[]) => string; run: (a: Tensor[]) => Tensor }
export interface Program {
  seed: number; inputs: InputSpec[]; steps: Step[]; outs: string[]; grad: boolean;
  /** The largest bound of a float value (scales the tolerance) and the dtypes the program computes in. */
  maxBound: number; dtypes: DType[];
}
export interface GenOptions { grad?: boolean; f16?: boolean; steps?: number }

const MAX_NUMEL = 1500;
const INT_LIMIT = 2 ** 20, FLOAT_LIMIT = 1e4;

/** Deterministic host data of an input. */
export function inputData(s: InputSpec): number[] {
  const r = prng(s.seed), n = s.shape.reduce((a, b) => a * b, 1);
  const one = (): number => {
    switch (s.dtype) {
      case 'float32': case 'float16': return Math.fround(-2 + 4 * r());
      case 'int32': return Math.floor(r() * 11) - 5;
      case 'uint32': return Math.floor(r() * 10);
      case 'bool': return r() < 0.5 ? 1 : 0;
      default: return s.dtype satisfies never;
    }
  };
  return Array.from({ length: n }, one);
}

/** A fresh tensor for an input. */
export function makeInput(s: InputSpec): Tensor {
  if (s.kind === 'full') return ts.full(s.shape, s.value!, s.dtype);
  if (s.kind === 'seed') return ts.tensor([s.seed >>> 0], { shape: [], dtype: 'uint32' });
  return ts.tensor(inputData(s), { shape: s.shape, dtype: s.dtype });
}

/** The bound and exactness of an input. */
export function inputInfo(s: InputSpec): { bound: number; exact: boolean } {
  if (s.kind === 'full') return { bound: Math.abs(s.value!), exact: s.dtype !== 'float16' };
  if (s.kind === 'seed') return { bound: 2 ** 32, exact: true };
  const bound = { float32: 2, float16: 2, int32: 5, uint32: 9, bool: 1 }[s.dtype];
  return { bound, exact: s.dtype !== 'float16' };
}

interface Val { id: string; t: Tensor; bound: number; exact: boolean }
interface CandT { args: Val[]; code: (a: string[]) => string; run: (a: Tensor[]) => Tensor; bound: number; exact: boolean }
type Cand = CandT | null;

/** Whether v broadcasts to `shape` (numpy rules) without changing it. */
const broadcasts = (v: { t: Tensor }, shape: readonly number[]) =>
  v.t.rank <= shape.length && v.t.shape.every((d, i) => d === 1 || d === shape[shape.length - v.t.rank + i]);
const isF = (d: DType) => d === 'float32' || d === 'float16';
const isI = (d: DType) => d === 'int32' || d === 'uint32';
const lit = (x: unknown) => JSON.stringify(x);

/** Generates a random program from `seed`. */
export function generate(seed: number, opts: GenOptions = {}): Program {
  const r = prng(seed * 7919 + 17);
  const ri = (n: number) => Math.floor(r() * n);
  const pickOf = <T>(xs: readonly T[]): T => xs[ri(xs.length)]!;
  const grad = !!opts.grad;
  const dtypes: DType[] = grad ? ['float32'] : ['float32', 'float32', 'int32', 'uint32', 'bool', ...(opts.f16 ? ['float16' as DType] : [])];
  const prog: Program = { seed, inputs: [], steps: [], outs: [], grad, maxBound: 1, dtypes: [] };
  const vals: Val[] = [];
  let nIn = 0, nStep = 0;

  const addInput = (shape: number[], dtype: DType, kind: InputSpec['kind'] = 'data', value?: number): Val => {
    const spec: InputSpec = { id: `x${nIn++}`, shape, dtype, seed: (seed * 1000 + nIn * 31 + 7) >>> 0, kind, value };
    prog.inputs.push(spec);
    const v: Val = { id: spec.id, t: makeInput(spec), ...inputInfo(spec) };
    if (kind !== 'seed') vals.push(v);
    return v;
  };
  const randShape = (rank = 1 + ri(3)) => Array.from({ length: rank }, () => 1 + ri(5));
  const freshLike = (shape: readonly number[], dtype: DType) => addInput([...shape], dtype);
  // Recent values are picked more often, so programs grow deep as well as wide.
  const pick = (pred: (v: Val) => boolean = () => true): Val | null => {
    const ok = vals.filter(pred);
    if (!ok.length) return null;
    return ok[Math.max(0, ok.length - 1 - Math.floor(-Math.log(1 - r() * 0.999) * 2))]!;
  };
  const float = (v: Val) => isF(v.t.dtype);
  const c = (args: Val[], code: CandT['code'], run: CandT['run'], bound: number, exact: boolean): Cand => ({ args, code, run, bound, exact });

  // Each generator proposes one step (or null when it does not apply to the values at hand).
  const smoothUnary: [string, (b: number) => number | null, (a: Tensor) => Tensor, (a: string) => string][] = [
    ['tanh', () => 1, ts.tanh, (a) => `ts.tanh(${a})`],
    ['sigmoid', () => 1, ts.sigmoid, (a) => `ts.sigmoid(${a})`],
    ['sin', () => 1, ts.sin, (a) => `ts.sin(${a})`],
    ['cos', () => 1, ts.cos, (a) => `ts.cos(${a})`],
    ['exp', (b) => (b <= 4 ? Math.exp(b) : null), ts.exp, (a) => `ts.exp(${a})`],
    ['log1', (b) => Math.log(b * b + 1), (a) => ts.log(ts.add(ts.mul(a, a), 1)), (a) => `ts.log(ts.add(ts.mul(${a}, ${a}), 1))`],
    ['sqrt', (b) => Math.sqrt(b * b + 0.5), (a) => ts.sqrt(ts.add(ts.mul(a, a), 0.5)), (a) => `ts.sqrt(ts.add(ts.mul(${a}, ${a}), 0.5))`],
    ['recip', () => 1, (a) => ts.reciprocal(ts.add(ts.mul(a, a), 1)), (a) => `ts.reciprocal(ts.add(ts.mul(${a}, ${a}), 1))`],
    ['gelu', (b) => b, ts.gelu, (a) => `ts.gelu(${a})`],
    ['gelutanh', (b) => b, (a) => ts.gelu(a, { approximate: 'tanh' }), (a) => `ts.gelu(${a}, { approximate: 'tanh' })`],
    ['silu', (b) => b, ts.silu, (a) => `ts.silu(${a})`],
    ['softplus', (b) => b + 1, ts.softplus, (a) => `ts.softplus(${a})`],
    ['erf', () => 1, ts.erf, (a) => `ts.erf(${a})`],
    ['square', (b) => (b <= 50 ? b * b : null), ts.square, (a) => `ts.square(${a})`],
    ['neg', (b) => b, ts.neg, (a) => `ts.neg(${a})`],
  ];
  const gens: (() => Cand)[] = [
    // smooth float unary
    () => {
      const a = pick(float); if (!a) return null;
      const [, bf, run, code] = pickOf(smoothUnary);
      const b = bf(a.bound); if (b === null) return null;
      return c([a], ([x]) => code(x!), ([x]) => run(x!), b, false);
    },
    // scale and shift by a constant (powers of two keep exactness)
    () => {
      const a = pick((v) => v.t.dtype !== 'bool'); if (!a) return null;
      const k = pickOf(isF(a.t.dtype) ? [0.5, 2, -1.5, 0.1] : [2, -3]), s = pickOf(isF(a.t.dtype) ? [0, 1, -0.25] : [0, 1, -2]);
      const bound = a.bound * Math.abs(k) + Math.abs(s);
      const exact = a.exact && (isI(a.t.dtype) || ([0.5, 2].includes(k) && s === 0));
      if (a.t.dtype === 'uint32' && (k < 0 || s < 0)) return null;
      return c([a], ([x]) => `ts.add(ts.mul(${x}, ${k}), ${s})`, ([x]) => ts.add(ts.mul(x!, k), s), bound, exact);
    },
    // binary arithmetic on two values (broadcasting a suffix shape where possible)
    () => {
      const a = pick((v) => v.t.dtype !== 'bool'); if (!a) return null;
      const same = (v: Val) => v !== a && v.t.dtype !== 'bool' && (grad ? true : isF(v.t.dtype) === isF(a.t.dtype));
      let b = pick((v) => same(v) && broadcasts(v, a.t.shape));
      if (!b || r() < 0.3) b = freshLike(a.t.shape.slice(ri(a.t.rank + 1)), a.t.dtype);
      const op = pickOf(grad ? ['add', 'sub', 'mul', 'div'] : ['add', 'sub', 'mul', 'div', 'maximum', 'minimum']);
      const bound = op === 'mul' ? a.bound * b.bound : op === 'div' ? a.bound * Math.max(1, b.bound) : a.bound + b.bound;
      const intOut = isI(a.t.dtype) && isI(b.t.dtype) && op !== 'div';
      if (op === 'sub' && a.t.dtype === 'uint32' && b.t.dtype === 'uint32') return null; // wraps to ~2^32: no bound
      if (bound > (intOut ? INT_LIMIT : FLOAT_LIMIT)) return null;
      const exact = a.exact && b.exact && (intOut || op === 'maximum' || op === 'minimum');
      if (op === 'div') // a / (b² + 1): smooth, never divides by zero
        return c([a, b], ([x, y]) => `ts.div(${x}, ts.add(ts.mul(${y}, ${y}), 1))`, ([x, y]) => ts.div(x!, ts.add(ts.mul(y!, y!), 1)), bound, false);
      const f = (ts as unknown as Record<string, (x: Tensor, y: Tensor) => Tensor>)[op]!;
      return c([a, b], ([x, y]) => `ts.${op}(${x}, ${y})`, ([x, y]) => f(x!, y!), bound, exact);
    },
    // a wide expression: many operands of one shape (some constants made with full()), one kernel reading many buffers
    () => {
      const a = pick((v) => v.t.dtype !== 'bool' && v.t.size > 0); if (!a) return null;
      const n = 3 + ri(9), shape = [...a.t.shape], dt = a.t.dtype;
      const fits = (v: Val) => v.t.dtype === dt && broadcasts(v, shape);
      const ops: Val[] = [a];
      for (let i = 1; i < n; i++) {
        const old = r() < 0.4 ? pick((v) => fits(v) && !ops.includes(v)) : null;
        ops.push(old ?? (r() < 0.3 && !grad ? addInput(shape.slice(ri(shape.length + 1)), dt, 'full', pickOf([0, 1, 2]))
          : freshLike(shape.slice(ri(shape.length + 1)), dt)));
      }
      const bound = ops.reduce((m, v) => m + v.bound, 0);
      if (bound > (isI(dt) ? INT_LIMIT : FLOAT_LIMIT)) return null;
      const exact = isI(dt) && ops.every((v) => v.exact);
      return c(ops, (xs) => xs.slice(1).reduce((acc, x, i) => (i % 3 === 2 && dt !== 'uint32' ? `ts.sub(${acc}, ${x})` : `ts.add(${acc}, ${x})`),
        xs[0]!),
        (xs) => xs.slice(1).reduce((acc, x, i) => (i % 3 === 2 && dt !== 'uint32' ? ts.sub(acc, x) : ts.add(acc, x)), xs[0]!), bound, exact);
    },
    // pow of a positive base
    () => {
      const a = pick(float); if (!a) return null;
      const e = pickOf([2, 0.5, -1, 1.5]);
      const bound = e > 0 ? (a.bound + 0.5) ** e : 2;
      if (bound > FLOAT_LIMIT) return null;
      return c([a], ([x]) => `ts.pow(ts.add(ts.abs(${x}), 0.5), ${e})`, ([x]) => ts.pow(ts.add(ts.abs(x!), 0.5), e), bound, false);
    },
    // non-smooth but continuous float ops (not in gradient programs: finite differences across a kink)
    () => {
      if (grad) return null;
      const a = pick(float); if (!a) return null;
      const op = pickOf(['abs', 'relu', 'leakyRelu', 'elu', 'clip']);
      const code = op === 'clip' ? ([x]: string[]) => `ts.clip(${x}, -0.5, 1)` : ([x]: string[]) => `ts.${op}(${x})`;
      const f = (ts as unknown as Record<string, (t: Tensor) => Tensor>)[op]!;
      const run = op === 'clip' ? ([x]: Tensor[]) => ts.clip(x!, -0.5, 1) : ([x]: Tensor[]) => f(x!);
      return c([a], code, run, a.bound, a.exact && ['abs', 'relu', 'clip'].includes(op));
    },
    // discontinuous ops, on exact operands only
    () => {
      if (grad) return null;
      const a = pick((v) => v.exact && v.t.dtype !== 'bool'); if (!a) return null;
      const op = pickOf(['floor', 'sign', 'mod', 'floorDiv', 'cmp', 'cast']);
      if (op === 'floor' || op === 'sign') return c([a], ([x]) => `ts.${op}(${x})`, ([x]) => (op === 'floor' ? ts.floor(x!) : ts.sign(x!)),
        Math.max(1, a.bound), true);
      if (op === 'mod' || op === 'floorDiv') {
        if (isF(a.t.dtype)) return null; // float mod of exact values still rounds differently near multiples
        const k = pickOf(a.t.dtype === 'uint32' ? [3, 4] : [3, -2, 4]);
        return c([a], ([x]) => `ts.${op}(${x}, ${k})`, ([x]) => (op === 'mod' ? ts.mod(x!, k) : ts.floorDiv(x!, k)), a.bound, true);
      }
      if (op === 'cmp') {
        const b = pick((v) => v !== a && v.exact && v.t.dtype !== 'bool' && broadcasts(v, a.t.shape));
        const cmp = pickOf(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);
        const f = (ts as unknown as Record<string, (x: Tensor, y: Tensor | number) => Tensor>)[cmp]!;
        if (!b) return c([a], ([x]) => `ts.${cmp}(${x}, 0)`, ([x]) => f(x!, 0), 1, true);
        return c([a, b], ([x, y]) => `ts.${cmp}(${x}, ${y})`, ([x, y]) => f(x!, y!), 1, true);
      }
      const to = pickOf(['int32', 'uint32', 'bool', 'float32'] as DType[]);
      if (to === 'uint32' && a.t.dtype !== 'uint32') return null; // negative floats/ints saturate or wrap: covered by dtypes.test
      const bound = to === 'bool' ? 1 : a.bound;
      return c([a], ([x]) => `ts.castTo(${x}, '${to}')`, ([x]) => ts.castTo(x!, to), bound, a.exact);
    },
    // integer and bool ops
    () => {
      if (grad) return null;
      const a = pick((v) => v.t.dtype === 'bool'); if (!a) return null;
      const op = pickOf(['not', 'and', 'or', 'where', 'cast']);
      if (op === 'not') return c([a], ([x]) => `ts.logicalNot(${x})`, ([x]) => ts.logicalNot(x!), 1, a.exact);
      if (op === 'cast') { const to = pickOf(['float32', 'int32', 'uint32'] as DType[]); return c([a], ([x]) => `ts.castTo(${x}, '${to}')`, ([x]) =>
        ts.castTo(x!, to), 1, true); }
      const fits = (v: Val) => v !== a && broadcasts(v, a.t.shape);
      if (op === 'where') {
        const x = pick(fits) ?? freshLike(a.t.shape, pickOf(dtypes));
        const y = pick((v) => fits(v) && v !== x) ?? freshLike(a.t.shape, pickOf(dtypes));
        return c([a, x, y], ([cc, p, q]) => `ts.where(${cc}, ${p}, ${q})`, ([cc, p, q]) => ts.where(cc!, p!, q!), Math.max(x.bound, y.bound), a.exact
          && x.exact && y.exact);
      }
      const b = pick((v) => fits(v) && v.t.dtype === 'bool') ?? freshLike(a.t.shape, 'bool');
      const f = op === 'and' ? ts.logicalAnd : ts.logicalOr;
      return c([a, b], ([x, y]) => `ts.${op === 'and' ? 'logicalAnd' : 'logicalOr'}(${x}, ${y})`, ([x, y]) => f(x!, y!), 1, a.exact && b.exact);
    },
    // where with a float condition computed on exact values
    () => {
      const a = pick(); if (!a) return null;
      const cond = pick((v) => v.exact && v.t.dtype !== 'bool' && broadcasts(v, a.t.shape));
      if (!cond) return null;
      const b = pick((v) => v !== a && broadcasts(v, a.t.shape)
        && (!grad || float(v)));
      const other = b ?? freshLike(a.t.shape, a.t.dtype);
      return c([cond, a, other], ([k, x, y]) => `ts.where(ts.gt(${k}, 0), ${x}, ${y})`, ([k, x, y]) => ts.where(ts.gt(k!, 0), x!, y!),
        Math.max(a.bound, other.bound),
        cond.exact && a.exact && other.exact);
    },
    // views
    () => {
      const a = pick(); if (!a) return null;
      const s = a.t.shape as number[], n = a.t.size;
      const k = ri(9);
      if (k === 0) { const f = [1, 2, 3, 4, 6].filter((d) => n % d === 0), d = pickOf(f); return c([a], ([x]) => `ts.reshape(${x}, [${d}, -1])`,
        ([x]) => ts.reshape(x!, [d, -1]), a.bound, a.exact); }
      if (k === 1 && s.length > 1) {
        const p = [...s.keys()]; for (let i = p.length - 1; i > 0; i--) { const j = ri(i + 1); [p[i], p[j]] = [p[j]!, p[i]!]; }
        return c([a], ([x]) => `ts.permute(${x}, ${lit(p)})`, ([x]) => ts.permute(x!, p), a.bound, a.exact);
      }
      if (k === 2) {
        const b = s.map((d) => ri(d)), e = s.map((d, i) => b[i]! + 1 + ri(d - b[i]!)), st = s.map(() => 1 + ri(2));
        return c([a], ([x]) => `ts.slice(${x}, ${lit(b)}, ${lit(e)}, ${lit(st)})`, ([x]) => ts.slice(x!, b, e, st), a.bound, a.exact);
      }
      if (k === 3) {
        const p = s.map(() => [ri(2), ri(2)] as [number, number]), v = a.t.dtype === 'bool' ? 0 : pickOf([0, 0, 1]);
        return c([a], ([x]) => `ts.pad(${x}, ${lit(p)}, ${v})`, ([x]) => ts.pad(x!, p, v), Math.max(a.bound, v), a.exact);
      }
      if (k === 4 && s.length < 4) { const m = 2 + ri(2); return c([a], ([x]) => `ts.expand(ts.unsqueeze(${x}, 0), ${lit([m, ...s])})`, ([x]) =>
        ts.expand(ts.unsqueeze(x!, 0), [m, ...s]), a.bound, a.exact); }
      if (k === 5) {
        const ax = ri(s.length || 1);
        if (!s.length) return null;
        const b = pick((v) => v !== a && v.t.rank === s.length && v.t.shape.every((d, i) => i === ax || d === s[i]) && (!grad
          || float(v))) ?? freshLike(s.map((d, i) => (i === ax ? 1 + ri(3) : d)), a.t.dtype);
        return c([a, b], ([x, y]) => `ts.concat([${x}, ${y}], ${ax})`, ([x, y]) => ts.concat([x!, y!], ax), Math.max(a.bound, b.bound), a.exact
          && b.exact);
      }
      if (k === 6) {
        const b = pick((v) => v !== a && v.t.rank === s.length && v.t.shape.every((d, i) => d === s[i]) && (!grad || float(v))) ?? freshLike(s,
          a.t.dtype);
        const ax = ri(s.length + 1);
        return c([a, b], ([x, y]) => `ts.stack([${x}, ${y}], ${ax})`, ([x, y]) => ts.stack([x!, y!], ax), Math.max(a.bound, b.bound), a.exact
          && b.exact);
      }
      if (k === 7 && s.length > 1) return c([a], ([x]) => `ts.transpose(${x})`, ([x]) => ts.transpose(x!), a.bound, a.exact);
      if (k === 8) return c([a], ([x]) => `ts.flatten(ts.squeeze(ts.unsqueeze(${x}, -1)))`, ([x]) => ts.flatten(ts.squeeze(ts.unsqueeze(x!, -1))),
        a.bound, a.exact);
      return null;
    },
    // reductions
    () => {
      const a = pick((v) => v.t.rank > 0 && v.t.size > 0 && v.t.dtype !== 'bool'); if (!a) return null;
      const s = a.t.shape, axes = [...s.keys()].filter(() => r() < 0.5), ax = axes.length ? axes : [ri(s.length)];
      const keep = r() < 0.5, n = ax.reduce((m, i) => m * s[i]!, 1);
      const ops = grad ? ['sum', 'mean', 'logsumexp', 'variance'] : ['sum', 'mean', 'max', 'min', 'logsumexp', 'variance', 'argmax', 'argmin'];
      const op = pickOf(ops);
      if (op === 'argmax' || op === 'argmin') {
        if (!a.exact) return null;
        const one = ax[0]!;
        return c([a], ([x]) => `ts.${op}(${x}, ${one}, ${keep})`, ([x]) => (op === 'argmax' ? ts.argmax(x!, one, keep) : ts.argmin(x!, one, keep)),
          s[one]!, true);
      }
      if ((op === 'logsumexp' || op === 'variance') && !isF(a.t.dtype)) return null;
      if (op === 'logsumexp' && a.bound > 8) return null;
      const bound = op === 'sum' ? a.bound * n : op === 'variance' ? a.bound * a.bound * 4 : op === 'logsumexp' ? a.bound + Math.log(n) : a.bound;
      if (bound > (isI(a.t.dtype) ? INT_LIMIT : FLOAT_LIMIT)) return null;
      const f = (ts as unknown as Record<string, (x: Tensor, ax: number[], k: boolean) => Tensor>)[op]!;
      const exact = a.exact && (op === 'max' || op === 'min' || (isI(a.t.dtype) && op === 'sum'));
      return c([a], ([x]) => `ts.${op}(${x}, ${lit(ax)}, ${keep})`, ([x]) => f(x!, ax, keep), bound, exact);
    },
    // matmul with a fresh right operand, or with itself transposed
    () => {
      const a = pick((v) => v.t.rank >= 1 && v.t.rank <= 3 && v.t.dtype !== 'bool' && (isF(v.t.dtype) || !grad)); if (!a) return null;
      const K = a.t.shape[a.t.rank - 1]!;
      if (a.t.rank >= 2 && r() < 0.3) {
        const bound = a.bound * a.bound * K; if (bound > (isI(a.t.dtype) ? INT_LIMIT : FLOAT_LIMIT)) return null;
        return c([a], ([x]) => `ts.matmul(${x}, ts.transpose(${x}, -2, -1))`, ([x]) => ts.matmul(x!, ts.transpose(x!, -2, -1)), bound, a.exact
          && isI(a.t.dtype));
      }
      const N = 1 + ri(6), batch = a.t.rank === 3 && r() < 0.5 ? [a.t.shape[0]!] : [];
      const b = freshLike([...batch, K, N], isF(a.t.dtype) ? a.t.dtype : pickOf(['int32', 'float32'] as DType[]));
      const bound = a.bound * b.bound * K; if (bound > (isI(a.t.dtype) && isI(b.t.dtype) ? INT_LIMIT : FLOAT_LIMIT)) return null;
      return c([a, b], ([x, y]) => `ts.matmul(${x}, ${y})`, ([x, y]) => ts.matmul(x!, y!), bound, a.exact && b.exact && isI(a.t.dtype)
        && isI(b.t.dtype));
    },
    // conv2d and pooling on a 4-D value (or a fresh image)
    () => {
      let a = pick((v) => v.t.rank === 4 && float(v) && v.t.dtype === 'float32');
      if (!a || r() < 0.4) a = freshLike([1 + ri(2), 3 + ri(4), 3 + ri(4), 1 + ri(3)], 'float32');
      const nchw = r() < 0.3, [, H, W, C] = nchw ? [a.t.shape[0]!, a.t.shape[2]!, a.t.shape[3]!, a.t.shape[1]!] : (a.t.shape as number[]);
      const kind = pickOf(grad ? ['conv', 'conv', 'avg'] : ['conv', 'conv', 'max', 'avg']);
      const kk = 1 + ri(Math.min(3, H!, W!)), stride = 1 + ri(2), padding = pickOf(['valid', 'same'] as const);
      const fmt = nchw ? `, dataFormat: 'NCHW'` : '';
      if (kind === 'conv') {
        const cout = 1 + ri(4), groups = C! % 2 === 0 && cout % 2 === 0 && r() < 0.3 ? 2 : 1;
        const w = freshLike(nchw ? [cout, C! / groups, kk, kk] : [kk, kk, C! / groups, cout], 'float32');
        const o = { stride, padding, groups, ...(nchw ? { dataFormat: 'NCHW' as const } : {}) };
        return c([a, w], ([x, y]) => `ts.conv2d(${x}, ${y}, { stride: ${stride}, padding: '${padding}', groups: ${groups}${fmt} })`, ([x, y]) =>
          ts.conv2d(x!, y!, o),
          a.bound * w.bound * kk * kk * C!, false);
      }
      const o = { kernelSize: kk, stride, padding, ...(nchw ? { dataFormat: 'NCHW' as const } : {}) };
      const f = kind === 'max' ? ts.maxPool2d : ts.avgPool2d;
      return c([a], ([x]) => `ts.${kind}Pool2d(${x}, { kernelSize: ${kk}, stride: ${stride}, padding: '${padding}'${fmt} })`, ([x]) => f(x!, o),
        a.bound, a.exact && kind === 'max');
    },
    // device random numbers and dropout (seeded by a uint32 input)
    () => {
      const a = pick(float); if (!a) return null;
      const sd = addInput([], 'uint32', 'seed');
      if (r() < 0.5 || grad) {
        const rate = pickOf([0.25, 0.5]);
        return c([a, sd], ([x, s]) => `ts.dropout(${x}, ${rate}, ${s})`, ([x, s]) => ts.dropout(x!, rate, s!), a.bound / (1 - rate), false);
      }
      return c([a, sd], ([x, s]) => `ts.add(${x}, ts.randomUniform(${lit(a.t.shape)}, ${s}))`, ([x, s]) => ts.add(x!,
        ts.randomUniform([...a.t.shape], s!)), a.bound + 1, false);
    },
    // nn: softmax, logSoftmax, layerNorm and layers applied to explicit parameters
    () => {
      const a = pick((v) => v.t.rank >= 1 && v.t.dtype === 'float32' && v.t.size > 0); if (!a) return null;
      const D = a.t.shape[a.t.rank - 1]!;
      const k = ri(6);
      if (k === 0) return c([a], ([x]) => `ts.softmax(${x}, -1)`, ([x]) => ts.softmax(x!, -1), 1, false);
      if (k === 1 && a.bound < 50) return c([a], ([x]) => `ts.logSoftmax(${x}, -1)`, ([x]) => ts.logSoftmax(x!, -1), 2 * a.bound + Math.log(D) + 1,
        false);
      if (k === 2 && D > 1) {
        const g = freshLike([D], 'float32'), b = freshLike([D], 'float32');
        return c([a, g, b], ([x, p, q]) => `new nn.LayerNormalization(1e-3).apply({ gamma: ${p}, beta: ${q} }, ${x})`,
          ([x, p, q]) => new nn.LayerNormalization(1e-3).apply({ gamma: p!, beta: q! }, x!), 2 * Math.sqrt(D) + 2, false);
      }
      if (k === 3) {
        const u = 1 + ri(5), act = pickOf(grad ? ['linear', 'tanh', 'sigmoid', 'gelu'] : ['linear', 'relu', 'tanh', 'sigmoid', 'gelu']);
        const w = freshLike([D, u], 'float32'), b = freshLike([u], 'float32');
        const bound = a.bound * w.bound * D + 2; if (bound > FLOAT_LIMIT) return null;
        return c([a, w, b], ([x, p, q]) => `new nn.Dense(${u}, { activation: '${act}' }).apply({ kernel: ${p}, bias: ${q} }, ${x})`,
          ([x, p, q]) => new nn.Dense(u, { activation: act as nn.ActivationName }).apply({ kernel: p!, bias: q! }, x!), bound, false);
      }
      if (k === 4 && a.t.rank >= 2) {
        const kv = freshLike(a.t.shape, 'float32'), causal = r() < 0.5;
        return c([a, kv], ([q, kk]) => `nn.scaledDotProductAttention(${q}, ${kk}, ${kk}, { causal: ${causal} })`,
          ([q, kk]) => nn.scaledDotProductAttention(q!, kk!, kk!, { causal }), kv.bound, false);
      }
      if (k === 5 && !grad) {
        const sd = addInput([], 'uint32', 'seed');
        return c([a, sd], ([x, s]) => `new nn.Dropout(0.5).apply({}, ${x}, { training: true, seed: ${s} })`,
          ([x, s]) => new nn.Dropout(0.5).apply({}, x!, { training: true, seed: s! }), 2 * a.bound, false);
      }
      return null;
    },
  ];

  // Start from one or two inputs (sometimes a constant made with full(), as ones()/zeros() parameters are).
  const first = randShape();
  addInput(first, pickOf(dtypes));
  if (r() < 0.5) addInput(r() < 0.5 ? first : first.slice(1), pickOf(dtypes), r() < 0.3 ? 'full' : 'data', pickOf([0, 1, 0.5]));
  const want = opts.steps ?? 3 + ri(8);
  for (let tries = 0; prog.steps.length < want && tries < want * 8; tries++) {
    const cand = pickOf(gens)();
    if (!cand) continue;
    let t: Tensor;
    try { t = cand.run(cand.args.map((v) => v.t)); } catch (e) { if (e instanceof ts.TesseraError) continue; throw e; }
    if (t.size > MAX_NUMEL || (grad && t.dtype !== 'float32')) continue;
    const id = `v${nStep++}`;
    prog.steps.push({ id, args: cand.args.map((v) => v.id), code: cand.code, run: cand.run });
    vals.push({ id, t, bound: cand.bound, exact: cand.exact });
  }
  prog.maxBound = Math.max(1, ...vals.filter((v) => isF(v.t.dtype)).map((v) => v.bound));
  prog.dtypes = [...new Set(vals.map((v) => v.t.dtype))];
  // Outputs: the last value, sometimes with another (several outputs realized together share kernels).
  const last = vals[vals.length - 1]!;
  prog.outs = [last.id];
  if (!grad) for (let k = ri(4); k > 0; k--) { const o = pickOf(vals); if (!prog.outs.includes(o.id)) prog.outs.push(o.id); }
  return prog;
}

/** Evaluates a program on fresh inputs: every value by id. */
export function evaluate(prog: Program, inputs?: Map<string, Tensor>): Map<string, Tensor> {
  const env = new Map<string, Tensor>(inputs ?? prog.inputs.map((s) => [s.id, makeInput(s)] as const));
  for (const st of prog.steps) env.set(st.id, st.run(st.args.map((a) => env.get(a)!)));
  return env;
}

/** The program as a runnable TypeScript snippet. */
export function toCode(prog: Program, note = ''): string {
  const lines = [`// fuzz repro: seed ${prog.seed}${note ? `, ${note}` : ''}`, `import * as ts from 'tessera';`, `import { nn } from 'tessera';`];
  const used = new Set(prog.steps.flatMap((s) => s.args));
  for (const s of prog.inputs) {
    if (!used.has(s.id) && !prog.outs.includes(s.id)) continue;
    if (s.kind === 'full') lines.push(`const ${s.id} = ts.full(${lit(s.shape)}, ${s.value}, '${s.dtype}');`);
    else if (s.kind === 'seed') lines.push(`const ${s.id} = ts.tensor([${s.seed >>> 0}], { shape: [], dtype: 'uint32' });`);
    else lines.push(`const ${s.id} = ts.tensor(${lit(inputData(s))}, { shape: ${lit(s.shape)}, dtype: '${s.dtype}' });`);
  }
  for (const st of prog.steps) lines.push(`const ${st.id} = ${st.code(st.args)};`);
  lines.push(`await ts.realizeAll([${prog.outs.join(', ')}]);`);
  for (const o of prog.outs) lines.push(`console.log(await ${o}.data());`);
  return lines.join('\n');
}
