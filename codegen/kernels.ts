/**
 * Kernel templates: a scheduled Kernel (ir/schedule/index.ts) becomes one WGSL compute shader.
 * Every template has the same shape: bind the buffers, emit WGSL functions that compute the fused
 * expressions at an index (codegen/expr.ts), and a `main` that walks the iteration space.
 *  - elementwise: one invocation per output element, several outputs per kernel.
 *  - row: reductions over a set of axes plus their fused consumers, one workgroup per row with a
 *    workgroup-shared tree reduction, or one invocation per row when rows are many and short.
 *  - matmul: see codegen/matmul.ts (tiled, schedule-parameterized).
 *  - attention: see codegen/attention.ts (softmax(scores)·v with an online softmax).
 * Grids larger than maxComputeWorkgroupsPerDimension fold into 2-D.
 */
import { wgslType, type DType } from '../ir/dtype.ts';
import { Ix, idiv, imod, probeScope, viewIx } from '../ir/indexing.ts';
import { isElementwise, type Node, type ReduceArg, type ReduceOp } from '../ir/node.ts';
import { kernelOutputs, readsOwnRow, ROW_LIN, type Kernel } from '../ir/schedule/index.ts';
import { bindBuffers, bufferLeaf, grid, header, kernelName, type DeviceCaps, type KernelCode } from './common.ts';
import { contiguousStrides, numel } from '../ir/shape.ts';
import { collectParams, emit, FnBuilder, helpers, literal, toStorage, withParamDecl, type Leaf } from './expr.ts';
import { attentionKernel, type AttentionSchedule } from './attention.ts';
import { matmulKernel, type MatmulSchedule } from './matmul.ts';
import { memoizedCode } from './memo.ts';

export type { DeviceCaps, KernelCode } from './common.ts';

const WG_ID = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>`;

/** How a row kernel walks its rows: one invocation per row (`serial`), or a workgroup of `wg`
 * invocations per row combining partial results in a workgroup-shared tree (sums may first
 * combine within subgroups, when the adapter has them). */
export interface RowSchedule { serial: boolean; wg: number; subgroups?: boolean }

/** Geometry of a row kernel: rows (kept dims) x reduced extent. */
export function rowGeometry(k: Kernel & { kind: 'row' }) {
  const kept = k.full.map((_, d) => d).filter((d) => !k.axes.includes(d));
  const rows = numel(kept.map((d) => k.full[d]!)), red = numel(k.axes.map((d) => k.full[d]!));
  const lastReduced = k.axes.includes(k.full.length - 1) || k.full.length === 0;
  return { rows, red, lastReduced };
}

/** The untuned choice: one invocation per row when rows are short or strided, else a tree. */
export function rowHeuristic(k: Kernel & { kind: 'row' }, caps: DeviceCaps): RowSchedule {
  const { rows, red, lastReduced } = rowGeometry(k);
  const serial = red <= 16 || (!lastReduced && rows >= 256);
  return { serial, wg: serial ? Math.min(64, caps.maxWorkgroupSize) : Math.min(caps.maxWorkgroupSize, 256, Math.max(32, 2 ** Math.ceil(Math.log2(red)))) };
}

/** Elements per invocation of an elementwise kernel: 1, or 4 as vec4 (when `vectorizable`). */
export interface ElementwiseSchedule { lanes: 1 | 4 }

export type Schedule = MatmulSchedule | RowSchedule | ElementwiseSchedule | AttentionSchedule;

export function generate(k: Kernel, caps: DeviceCaps, sched?: Schedule): KernelCode {
  return memoizedCode(k, caps, sched, () => generateFresh(k, caps, sched));
}

function generateFresh(k: Kernel, caps: DeviceCaps, sched?: Schedule): KernelCode {
  const { value: code, params } = collectParams(() => {
    switch (k.kind) {
      case 'elementwise': return elementwiseKernel(k, caps, sched as ElementwiseSchedule | undefined);
      case 'row': return rowKernel(k, caps, sched as RowSchedule | undefined);
      case 'matmul': return matmulKernel(k, caps, sched as MatmulSchedule | undefined);
      case 'attention': return attentionKernel(k, caps, sched as AttentionSchedule | undefined);
    }
  });
  return params.length ? { ...code, wgsl: withParamDecl(code.wgsl, code.bindings.length, params.length), params } : code;
}

/**
 * Whether an elementwise kernel can compute four contiguous elements per invocation as vec4:
 * every buffer it reads is read element for element (contiguous, same layout as the output),
 * there are no index-dependent values (iota, random, pads, broadcasts, transposes) and no float16.
 * (iota and random are not elementwise, so the walk below rejects them: each lane needs its own index.)
 * Vector loads and stores move memory in 16-byte units, which matters most where a driver
 * scalarizes (lavapipe's copy kernel runs twice as fast on vec4).
 */
export function vectorizable(k: Kernel & { kind: 'elementwise' }): boolean {
  if (numel(k.shape) % 4 !== 0 || numel(k.shape) < 64) return false;
  const leaves = new Set<Node>([...k.reads, ...k.outputs]);
  const ok = (n: Node, ix: Ix, root: Node): boolean => {
    if (n.dtype === 'float16') return false;
    if (n !== root && leaves.has(n)) return ix.knownLin === 'gid';
    if (n.op === 'const') return true;
    if (n.op === 'reshape') return ok(n.src[0]!, viewIx(n, ix, probeScope).ix, root);
    if (!isElementwise(n.op)) return false;
    return n.src.every((s) => ok(s, ix, root));
  };
  return k.outputs.every((o) => ok(o, new Ix(o.shape, 'gid'), o));
}

function elementwiseKernel(k: Kernel & { kind: 'elementwise' }, caps: DeviceCaps, sched?: ElementwiseSchedule): KernelCode {
  const lanes = (sched?.lanes ?? 4) === 4 && vectorizable(k) ? 4 : 1;
  const b = bindBuffers(k.reads, k.outputs, lanes);
  const n = numel(k.shape) / lanes, WG = Math.min(256, caps.maxWorkgroupSize);
  const fb = new FnBuilder(lanes);
  const leaf = bufferLeaf(b);
  const root = new Ix(k.shape, 'gid');
  const stores = k.outputs.map((o) => {
    // A sibling output read here (only ever at this element: the scheduler checks) is computed inline.
    const v = emit(o, root, fb, (m, ix, f) => (k.outputs.includes(m) ? undefined : leaf(m, ix, f)));
    return `${b.nameOf.get(o)}[gid] = ${toStorage(v, o.dtype, lanes)};`;
  });
  const name = kernelName(k, k.outputs, k.reads);
  const main = `@compute @workgroup_size(${WG})
fn main(${WG_ID}) {
  let gid = i32((wid.x + wid.y * nwg.x) * ${WG}u + lid);
  if (gid >= ${n}) { return; }
${fb.body()}
  ${stores.join('\n  ')}
}`;
  const wgsl = header(`${b.decls.join('\n')}\n${helpers(fb.lines.join('\n'))}\n${main}\n`, name, k);
  return { name, wgsl, bindings: b.nodes, outputs: [...k.outputs], grid: grid(Math.ceil(n / WG), caps.maxWorkgroupsPerDim), threads: n };
}

function identity(op: ReduceOp, d: DType): string {
  if (op === 'sum') return literal(0, d);
  const hi = op === 'min';
  switch (d) {
    case 'float32': case 'float16': return literal(hi ? Infinity : -Infinity, d);
    case 'int32': return hi ? 'i32(2147483647)' : 'i32(-2147483648)';
    case 'uint32': return hi ? '4294967295u' : '0u';
    case 'bool': return hi ? 'true' : 'false';
    default: return d satisfies never;
  }
}
function combine(op: ReduceOp, d: DType, a: string, b: string): string {
  if (op === 'sum') return `(${a} + ${b})`;
  if (d === 'bool') return `(${a} ${op === 'max' ? '||' : '&&'} ${b})`;
  const t = wgslType(d);
  return t === 'f32' || t === 'f16' ? `t_${op}_${t}(${a}, ${b})` : `${op}(${a}, ${b})`;
}

function rowKernel(k: Kernel & { kind: 'row' }, caps: DeviceCaps, sched: RowSchedule = rowHeuristic(k, caps)): KernelCode {
  const outs = kernelOutputs(k);
  const b = bindBuffers(k.reads, outs);
  const full = k.full, axes = k.axes;
  const kept = full.map((_, d) => d).filter((d) => !axes.includes(d));
  const rowShape = kept.map((d) => full[d]!), redShape = axes.map((d) => full[d]!);
  const ROWS = numel(rowShape), RED = numel(redShape);
  const trailing = axes.every((a, i) => a === full.length - axes.length + i);
  const { serial, wg: WG } = sched;
  const reduces = k.stages.filter((s) => s.kind === 'reduce').map((s) => s.node);
  const stageVar = (n: Node) => `s${reduces.indexOf(n)}`;
  const fns: string[] = [];
  const bodyLines: string[] = [];
  // The reductions before stage i, as parameters and arguments of its function (prefixes, built once).
  const paramList = [''], argList = [''];
  reduces.forEach((r, j) => { paramList.push(`${paramList[j]}, s${j}: ${wgslType(r.dtype)}`); argList.push(`${argList[j]}, s${j}`); });
  const prevParams = (i: number) => paramList[i]!;
  const prevArgs = (i: number) => argList[i]!;
  const fullFnStart = (fb: FnBuilder) => {
    const rs = contiguousStrides(rowShape), js = contiguousStrides(redShape);
    kept.forEach((d, i) => fb.lines.push(`let i${d} = ${i === 0 ? idiv('r', rs[i]!) : imod(idiv('r', rs[i]!), rowShape[i]!)};`));
    axes.forEach((d, i) => fb.lines.push(`let i${d} = ${i === 0 ? idiv('j', js[i]!) : imod(idiv('j', js[i]!), redShape[i]!)};`));
    return new Ix(full, trailing ? `(r * ${RED} + j)` : undefined, full.map((_, d) => `i${d}`));
  };
  const leafFor = (upto: number): Leaf => bufferLeaf(b, (n, ix, fb) => {
    const i = reduces.indexOf(n);
    if (i < 0) return undefined;
    if (i >= upto) throw new Error(`codegen: stage reads a later reduction`);
    if (ix.knownLin === ROW_LIN || readsOwnRow(full, axes, ix.idx(fb))) return stageVar(n);
    throw new Error(`codegen: reduction read at an index the scheduler did not allow`);
  });
  const sharedTypes = new Set<string>();
  let usesSubgroups = false;
  for (const s of k.stages) {
    const fb = new FnBuilder();
    const i = s.kind === 'reduce' ? reduces.indexOf(s.node) : reduces.length;
    // A stage sees the reductions computed before it (stages are in dependency order).
    const upto = k.stages.slice(0, k.stages.indexOf(s)).filter((st) => st.kind === 'reduce').length;
    if (s.kind === 'reduce') {
      const { op } = s.node.arg as ReduceArg;
      const t = wgslType(s.node.dtype);
      const start = fullFnStart(fb);
      const v = emit(s.node.src[0]!, start, fb, leafFor(upto));
      fns.push(`fn stage${i}(r: i32, j: i32${prevParams(i)}) -> ${t} {\n${fb.body()}\n  return ${v};\n}`);
      const id = identity(op, s.node.dtype);
      const comb = (a: string, c: string) => combine(op, s.node.dtype, a, c);
      if (serial) {
        bodyLines.push(`var acc${i} = ${id};`, `for (var j = 0; j < ${RED}; j++) { acc${i} = ${comb(`acc${i}`, `stage${i}(r, j${prevArgs(i)})`)}; }`, `let s${i} = acc${i};`);
      } else if (sched.subgroups && op === 'sum' && (t === 'f32' || t === 'i32' || t === 'u32')) {
        // Subgroup sums first, then one partial per subgroup combined through workgroup memory.
        sharedTypes.add(t);
        usesSubgroups = true;
        const sh = `red_${t}`;
        bodyLines.push(
          `var acc${i} = ${id};`,
          `for (var j = t; j < ${RED}; j += ${WG}) { acc${i} = ${comb(`acc${i}`, `stage${i}(r, j${prevArgs(i)})`)}; }`,
          `let sg${i} = subgroupAdd(acc${i});`,
          `if (sgi == 0u) { ${sh}[u32(t) / sgs] = sg${i}; }`,
          `workgroupBarrier();`,
          `if (t == 0) { var tot = ${id}; for (var w = 0u; w < ${WG}u / sgs; w++) { tot = tot + ${sh}[w]; } ${sh}[0] = tot; }`,
          `workgroupBarrier();`,
          `let s${i} = ${sh}[0];`,
          `workgroupBarrier();`);
      } else {
        sharedTypes.add(t);
        const sh = `red_${t}`;
        bodyLines.push(
          `var acc${i} = ${id};`,
          `for (var j = t; j < ${RED}; j += ${WG}) { acc${i} = ${comb(`acc${i}`, `stage${i}(r, j${prevArgs(i)})`)}; }`,
          `${sh}[t] = acc${i};`,
          `workgroupBarrier();`,
          `for (var w = ${WG / 2}; w > 0; w >>= 1u) { if (t < i32(w)) { ${sh}[t] = ${comb(`${sh}[t]`, `${sh}[t + i32(w)]`)}; } workgroupBarrier(); }`,
          `let s${i} = ${sh}[0];`,
          `workgroupBarrier();`);
      }
      if (s.write) bodyLines.push(`${serial ? '' : 'if (t == 0) '}{ ${b.nameOf.get(s.node)}[r] = ${toStorage(`s${i}`, s.node.dtype)}; }`);
    } else if (s.kind === 'full') {
      const start = fullFnStart(fb);
      const v = emit(s.node, start, fb, (n, ix, f) => (n === s.node ? undefined : leafFor(upto)(n, ix, f)));
      const idx = start.lin(fb);
      const fi = fns.length;
      fns.push(`fn out_full${fi}(r: i32, j: i32${prevParams(upto)}) {\n${fb.body()}\n  ${b.nameOf.get(s.node)}[${idx}] = ${toStorage(v, s.node.dtype)};\n}`);
      bodyLines.push(serial ? `for (var j = 0; j < ${RED}; j++) { out_full${fi}(r, j${prevArgs(upto)}); }`
        : `for (var j = t; j < ${RED}; j += ${WG}) { out_full${fi}(r, j${prevArgs(upto)}); }`);
    } else {
      const v = emit(s.node, new Ix(s.node.shape, ROW_LIN), fb, (n, ix, f) => (n === s.node ? undefined : leafFor(upto)(n, ix, f)));
      const fi = fns.length;
      fns.push(`fn out_row${fi}(r: i32${prevParams(upto)}) {\n${fb.body()}\n  ${b.nameOf.get(s.node)}[r] = ${toStorage(v, s.node.dtype)};\n}`);
      bodyLines.push(`${serial ? '' : 'if (t == 0) '}{ out_row${fi}(r${prevArgs(upto)}); }`);
    }
  }
  const name = kernelName(k, k.stages.map((s) => s.node), k.reads);
  const shared = [...sharedTypes].map((t) => `var<workgroup> red_${t}: array<${t}, ${WG}>;`).join('\n');
  const main = serial
    ? `@compute @workgroup_size(${WG})
fn main(${WG_ID}) {
  let r = i32((wid.x + wid.y * nwg.x) * ${WG}u + lid);
  if (r >= ${ROWS}) { return; }
  ${bodyLines.join('\n  ')}
}`
    : `@compute @workgroup_size(${WG})
fn main(${WG_ID}${usesSubgroups ? ', @builtin(subgroup_invocation_id) sgi: u32, @builtin(subgroup_size) sgs: u32' : ''}) {
  let r = i32(wid.x + wid.y * nwg.x);
  if (r >= ${ROWS}) { return; }
  let t = i32(lid);
  ${bodyLines.join('\n  ')}
}`;
  const text = fns.join('\n') + '\n' + main;
  const wgsl = header(`${b.decls.join('\n')}\n${shared}\n${helpers(text)}\n${text}\n`, name, k);
  const groups = serial ? Math.ceil(ROWS / WG) : ROWS;
  return { name, wgsl, bindings: b.nodes, outputs: outs, grid: grid(groups, caps.maxWorkgroupsPerDim), threads: ROWS * Math.max(RED, 1) }; // rows over an empty axis still get the identity written
}
