/**
 * Lowers a fused expression (a DAG of elementwise ops and views over loads) to WGSL statements.
 * Each kernel template asks for the value of a node at an index inside one WGSL function; the
 * emitter writes `let` bindings (one per node and index, so shared subexpressions are computed
 * once) named after the op that made them, and returns the name holding the value.
 */
import { f16ToF32, f32ToF16, wgslType, type DType } from '../ir/dtype.ts';
import { Ix, SCALAR_IX, viewIx, type Scope } from '../ir/indexing.ts';
import { isView, type BinaryOp, type Node } from '../ir/node.ts';
import { randomHelpers } from './random.ts';

/** Statements of one WGSL function body, with memoized lets. */
export class FnBuilder implements Scope {
  readonly lines: string[] = [];
  /** Lanes per value: 1, or 4 when the kernel computes four contiguous elements per invocation as vec4. */
  constructor(readonly lanes: 1 | 4 = 1) {}
  private lets = new Map<string, string>();
  private vals = new Map<string, string>();
  private n = 0;
  let(expr: string, hint = 'x'): string {
    if (/^-?[\w.]+$/.test(expr)) return expr;
    const hit = this.lets.get(expr);
    if (hit) return hit;
    const name = `${hint}${this.n++}`;
    this.lines.push(`let ${name} = ${expr};`);
    this.lets.set(expr, name);
    return name;
  }
  value(key: string): string | undefined { return this.vals.get(key); }
  setValue(key: string, name: string): void { this.vals.set(key, name); }
  body(indent = '  '): string { return this.lines.map((l) => indent + l).join('\n'); }
}

/** Provides the value of a node the expression does not compute itself (a buffer, an accumulator). */
export type Leaf = (n: Node, ix: Ix, fb: FnBuilder) => string | undefined;

export function literal(v: number, d: DType): string {
  switch (d) {
    case 'bool': return v ? 'true' : 'false';
    case 'int32': return `i32(${Math.trunc(v) | 0})`;
    case 'uint32': return `${Math.trunc(v) >>> 0}u`;
    case 'float32': case 'float16': {
      const t = wgslType(d);
      // A value the dtype cannot hold is a shader-creation error: round first (to ±Infinity if too large).
      v = d === 'float16' ? f16ToF32(f32ToF16(v)) : Math.fround(v);
      // Non-finite constants are a WGSL shader-creation error, so they are built at run time from
      // private variables (T_INF, T_NAN) that helpers() declares.
      if (Number.isNaN(v)) return d === 'float32' ? 'bitcast<f32>(T_NAN)' : 'f16(bitcast<f32>(T_NAN))';
      if (!Number.isFinite(v)) {
        const inf = v > 0 ? 'bitcast<f32>(T_INF)' : '(-bitcast<f32>(T_INF))';
        return d === 'float32' ? inf : `f16(${inf})`;
      }
      const s = String(v);
      return `${t}(${s.includes('e') || s.includes('.') ? s : s + '.0'})`;
    }
    default: return d satisfies never;
  }
}

/**
 * Float32 constants are run-time parameters of a kernel, read from a small uniform buffer
 * (`t_params`), so graphs that differ only in such values (a learning rate, a bias correction, a
 * scale) share one program and one pipeline. Structural constants stay literals in the WGSL: the
 * values simplification rules test for (0, 1, -1, 2, 0.5: x+0, x*1, pow(x, 2) -> x*x, ...), so
 * whether a rule fired is already part of the graph's structure; non-finite values (built from bit
 * patterns); and integer, bool and float16 constants (indices, masks, counts: they change with
 * the structure anyway, and f16 literals round at compile time).
 */
const STRUCTURAL = new Set([0, 1, -1, 2, 0.5]);
export const isParamConst = (n: Node): boolean =>
  n.op === 'const' && n.dtype === 'float32' && Number.isFinite(n.arg as number) && !STRUCTURAL.has(n.arg as number);

let params: Node[] | null = null;
/** Runs a kernel template, collecting the parameter constants its WGSL reads (t_params[i], in order). */
export function collectParams<T>(template: () => T): { value: T; params: Node[] } {
  const outer = params;
  params = [];
  try {
    const value = template();
    return { value, params };
  } finally { params = outer; }
}
/** The declaration of the parameter uniform at `binding`, inserted after the enable directives. */
export const withParamDecl = (wgsl: string, binding: number, count: number) => wgsl.replace(/^((?:enable [^;]+;\n)*)/,
  `$1@group(0) @binding(${binding}) var<uniform> t_params: array<vec4<f32>, ${Math.ceil(count / 4)}>;\n`);

/** Index into a buffer at `ix`, clamped to 0 when the index lies in a pad. */
export function flatIndex(ix: Ix, fb: FnBuilder): string {
  const lin = ix.lin(fb);
  return ix.guard ? fb.let(`select(0, ${lin}, ${ix.guard})`) : lin;
}

/** A load of buffer variable `name` holding dtype `d` at `ix`. */
export function load(name: string, d: DType, ix: Ix, fb: FnBuilder): string {
  const e = `${name}[${flatIndex(ix, fb)}]`;
  return d === 'bool' ? `(${e} != ${lit(0, 'uint32', fb)})` : e;
}

/** Converts a value of dtype d to what a storage buffer of that dtype holds. */
export const toStorage = (v: string, d: DType, lanes: 1 | 4 = 1) =>
  d === 'bool' ? (lanes === 4 ? `select(vec4<u32>(0u), vec4<u32>(1u), ${v})` : `select(0u, 1u, ${v})`) : v;

const BIN: Partial<Record<BinaryOp, string>> = { add: '+', sub: '-', mul: '*', div: '/', lt: '<', le: '<=', eq: '==', ne: '!=', and: '&&', or: '||' };

export function emit(n: Node, ix: Ix, fb: FnBuilder, leaf: Leaf): string {
  const key = `${n.id}@${ix.key()}`;
  const hit = fb.value(key);
  if (hit) return hit;
  const fromLeaf = leaf(n, ix, fb);
  const v = fromLeaf ?? emitOp(n, ix, fb, leaf);
  const name = fromLeaf !== undefined && /^[\w]+$/.test(fromLeaf) ? fromLeaf : fb.let(v, `${n.op}_`);
  fb.setValue(key, name);
  return name;
}

/** The WGSL type of a value of dtype d in fb (vec4 in vector mode). */
const valueType = (d: DType, fb: FnBuilder) => (fb.lanes === 4 ? `vec4<${wgslType(d)}>` : wgslType(d));
/** A literal in fb's lanes (splat in vector mode). */
const lit = (v: number, d: DType, fb: FnBuilder) => (fb.lanes === 4 ? `vec4<${wgslType(d)}>(${literal(v, d)})` : literal(v, d));
/** A scalar helper applied per lane in vector mode (lavapipe and most GPUs scalarize these anyway). */
function call(fb: FnBuilder, f: string, args: string[], out: DType): string {
  if (fb.lanes === 1) return `${f}(${args.join(', ')})`;
  return `vec4<${wgslType(out)}>(${['x', 'y', 'z', 'w'].map((c) => `${f}(${args.map((x) => `${x}.${c}`).join(', ')})`).join(', ')})`;
}

function emitOp(n: Node, ix: Ix, fb: FnBuilder, leaf: Leaf): string {
  const t = wgslType(n.dtype), vt = valueType(n.dtype, fb);
  const a = () => emit(n.src[0]!, ix, fb, leaf);
  const b = () => emit(n.src[1]!, ix, fb, leaf);
  const isF = n.dtype === 'float32' || n.dtype === 'float16';
  const v4 = fb.lanes === 4;
  if (isView(n.op)) {
    const { ix: sub, valid } = viewIx(n, ix, fb);
    const v = emit(n.src[0]!, sub, fb, leaf);
    return valid ? `select(${literal(0, n.dtype)}, ${v}, ${valid})` : v;
  }
  switch (n.op) {
    case 'const': {
      if (!params || !isParamConst(n)) return lit(n.arg as number, n.dtype, fb);
      const i = params.includes(n) ? params.indexOf(n) : params.push(n) - 1;
      const v = `t_params[${i >> 2}].${'xyzw'[i & 3]}`;
      return v4 ? `vec4<f32>(${v})` : v;
    }
    case 'iota': return `${t}(${ix.idx(fb)[n.arg as number]})`;
    case 'random': {
      // The element's flat index is the counter; the seed is read at the scalar index.
      if (v4) throw new Error('codegen: random needs one lane per invocation (vectorizable excludes it)');
      const s = n.src[0]!, seed = emit(s, SCALAR_IX, fb, leaf);
      return `t_uniform(${s.dtype === 'uint32' ? seed : `bitcast<u32>(${seed})`}, ${literal(n.arg as number, 'uint32')}, u32(${ix.lin(fb)}))`;
    }
    case 'input': case 'reduce': case 'matmul':
      throw new Error(`codegen: ${n} must be provided by the kernel template`);
    case 'neg': return n.dtype === 'uint32' ? `(${lit(0, n.dtype, fb)} - ${a()})` : `(-${a()})`;
    case 'recip': return `(${lit(1, n.dtype, fb)} / ${a()})`;
    case 'sign':
      if (isF) return call(fb, `t_sign_${t}`, [a()], n.dtype);
      return n.dtype === 'uint32' ? `select(${lit(0, n.dtype, fb)}, ${lit(1, n.dtype, fb)}, ${a()} != ${lit(0, n.dtype, fb)})` : `sign(${a()})`;
    case 'sqrt': case 'exp': case 'log': case 'sin': case 'cos': case 'abs': case 'floor':
      return `${n.op}(${a()})`;
    case 'tanh': return call(fb, `t_tanh_${t}`, [a()], n.dtype);
    case 'sigmoid': return call(fb, `t_sigmoid_${t}`, [a()], n.dtype);
    case 'not': return `(!${a()})`;
    case 'detach': return a();
    case 'cast': {
      const s = n.src[0]!.dtype;
      if (n.dtype === 'bool') return s === 'float32' || s === 'float16' ? call(fb, `t_ne_${wgslType(s)}`, [a(), lit(0, s, fb)], 'bool') : `(${a()} != ${lit(0, s, fb)})`;
      if (s === 'bool') return `select(${lit(0, n.dtype, fb)}, ${lit(1, n.dtype, fb)}, ${a()})`;
      return `${vt}(${a()})`;
    }
    case 'max': case 'min':
      if (n.dtype === 'bool') return `(${a()} ${n.op === 'max' ? (v4 ? '|' : '||') : (v4 ? '&' : '&&')} ${b()})`;
      return isF ? call(fb, `t_${n.op}_${t}`, [a(), b()], n.dtype) : `${n.op}(${a()}, ${b()})`;
    case 'ne': {
      const st = n.src[0]!.dtype;
      // NaN != x must be true, but drivers may compile != as an ordered compare (WGSL allows assuming no NaNs).
      if (st === 'float32' || st === 'float16') return call(fb, `t_ne_${wgslType(st)}`, [a(), b()], 'bool');
      return `(${a()} != ${b()})`;
    }
    case 'pow': return call(fb, `t_pow_${t}`, [a(), b()], n.dtype);
    case 'mod': return call(fb, isF ? `t_fmod_${t}` : `t_imod_${t}`, [a(), b()], n.dtype);
    case 'where': return `select(${emit(n.src[2]!, ix, fb, leaf)}, ${emit(n.src[1]!, ix, fb, leaf)}, ${emit(n.src[0]!, ix, fb, leaf)})`;
    case 'lt': case 'le':
      // WGSL orders numbers only: bools compare as 0/1.
      if (n.src[0]!.dtype === 'bool') return `(${valueType('uint32', fb)}(${a()}) ${BIN[n.op]} ${valueType('uint32', fb)}(${b()}))`;
      return `(${a()} ${BIN[n.op]} ${b()})`;
    case 'and': case 'or': return `(${a()} ${n.op === 'and' ? (v4 ? '&' : '&&') : (v4 ? '|' : '||')} ${b()})`;
    case 'add': case 'sub': case 'mul': case 'div': case 'eq': return `(${a()} ${BIN[n.op]} ${b()})`;
    default: throw new Error(`codegen: no rule for ${n.op satisfies never}`);
  }
}

/** Helper functions kernels may call, emitted only when used. Named per type: WGSL has no overloading. */
export function helpers(body: string): string {
  const out: string[] = [];
  // One scan of the body for the helper calls it makes (`t_tanh_f32(` ...), not one search per helper.
  const called = new Set(body.match(/t_[a-z]+_[fiu](?:16|32)\(/g));
  if (body.includes('T_INF')) out.push('var<private> T_INF: u32 = 0x7f800000u;');
  if (body.includes('T_NAN')) out.push('var<private> T_NAN: u32 = 0x7fc00000u;');
  if (body.includes('t_uniform(')) out.push(randomHelpers());
  for (const t of ['f32', 'f16']) {
    const z = `${t}(0.0)`, one = `${t}(1.0)`;
    const uses = (f: string) => called.has(`${f}_${t}(`);
    if (uses('t_tanh')) out.push(`fn t_tanh_${t}(x: ${t}) -> ${t} { let e = exp(${t}(-2.0) * abs(x)); return sign(x) * (${one} - e) / (${one} + e); }`);
    if (uses('t_sigmoid')) out.push(`fn t_sigmoid_${t}(x: ${t}) -> ${t} { let e = exp(-abs(x)); return select(e, ${one}, x >= ${z}) / (${one} + e); }`);
    // NaN tests by bit pattern: drivers may fold `a != a` to false (WGSL lets them assume no NaNs).
    if (['t_isnan', 't_max', 't_min', 't_ne', 't_sign'].some(uses))
      out.push(`fn t_isnan_${t}(x: ${t}) -> bool { return (bitcast<u32>(f32(x)) & 0x7fffffffu) > 0x7f800000u; }`);
    if (uses('t_max')) out.push(`fn t_max_${t}(a: ${t}, b: ${t}) -> ${t} { return select(b, a, a > b || t_isnan_${t}(a)); }`);
    if (uses('t_min')) out.push(`fn t_min_${t}(a: ${t}, b: ${t}) -> ${t} { return select(b, a, a < b || t_isnan_${t}(a)); }`);
    if (uses('t_ne')) out.push(`fn t_ne_${t}(a: ${t}, b: ${t}) -> bool { return a != b || t_isnan_${t}(a) || t_isnan_${t}(b); }`);
    if (uses('t_sign')) out.push(`fn t_sign_${t}(x: ${t}) -> ${t} { return select(sign(x), x, t_isnan_${t}(x)); }`);
    if (uses('t_fmod') || uses('t_pow')) out.push(`fn t_fmod_${t}(a: ${t}, b: ${t}) -> ${t} { return a - b * floor(a / b); }`);
    if (uses('t_pow')) out.push(
      `fn t_pow_${t}(x: ${t}, y: ${t}) -> ${t} {\n` +
      `  if (y == ${z}) { return ${one}; }\n` +
      `  if (x == ${z}) { return select(${z}, ${one} / x, y < ${z}); }\n` +
      `  let m = exp2(y * log2(abs(x)));\n` +
      `  if (x > ${z}) { return m; }\n` +
      `  if (floor(y) != y) { return (x - x) / (x - x); }\n` +
      `  return select(m, -m, t_fmod_${t}(y, ${t}(2.0)) == ${one});\n}`);
  }
  for (const t of ['i32', 'u32'])
    if (called.has(`t_imod_${t}(`))
      out.push(`fn t_imod_${t}(a: ${t}, b: ${t}) -> ${t} { if (b == ${t}(0)) { return ${t}(0); } let r = a % b; return select(r, r + b, r != ${t}(0) && ((r < ${t}(0)) != (b < ${t}(0)))); }`);
  return out.join('\n');
}
