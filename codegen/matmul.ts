/**
 * The matmul template, parameterized by a schedule (not one hand-written kernel per size):
 *   wgM x wgN invocations per workgroup, each computing a tm x tn register block of C, walking K
 *   one step at a time (direct loads) or in bk-deep slices staged through workgroup memory.
 * Operands are read through the fused prologue functions a_val/b_val (any elementwise expression
 * or view of buffers: a transposed operand is just a different index), and each result passes
 * through the fused epilogue (bias, activation, residual...) before it is stored. Any M, N, K:
 * edge blocks clamp their loads and skip out-of-range stores.
 */
import { wgslType } from '../ir/dtype.ts';
import { Ix } from '../ir/indexing.ts';
import type { Kernel } from '../ir/schedule/index.ts';
import type { Node } from '../ir/node.ts';
import { contiguousStrides, numel, type Shape } from '../ir/shape.ts';
import { emit, FnBuilder, helpers, toStorage, type Leaf } from './expr.ts';
import { bindBuffers, bufferLeaf, grid, kernelName, type DeviceCaps, type KernelCode } from './common.ts';

export interface MatmulSchedule {
  wgM: number; wgN: number;   // invocations per workgroup along M and N
  tm: number; tn: number;     // register block per invocation
  bk: number;                 // K slice staged in workgroup memory (shared only)
  shared: boolean;            // stage operand tiles in workgroup memory
  ku?: number;                // K steps per loop iteration (direct loads only; default 1)
  vec?: number;               // vector width of the accumulators along N (1 or 4; needs tn % 4 == 0)
}

export const DEFAULT_MATMUL: MatmulSchedule = { wgM: 8, wgN: 8, tm: 4, tn: 4, bk: 8, shared: false };

export const scheduleKey = (s: MatmulSchedule) => `${s.wgM}x${s.wgN}/${s.tm}x${s.tn}${s.shared ? `/smem${s.bk}` : ''}${(s.ku ?? 1) > 1 ? `/ku${s.ku}` : ''}${s.vec === 4 ? '/vec4' : ''}`;

/** Whether schedule s can run on the device (workgroup size and memory limits). */
export function scheduleFits(s: MatmulSchedule, caps: DeviceCaps): boolean {
  const threads = s.wgM * s.wgN;
  if (threads > caps.maxWorkgroupSize) return false;
  if (s.shared && ((s.wgM * s.tm + s.wgN * s.tn) * s.bk * 4 > 16384 || (s.wgM * s.tm * s.bk) % threads || (s.wgN * s.tn * s.bk) % threads)) return false;
  return true;
}

/**
 * `fn name(bt, rows, cols) -> T`: the value of `node` (a [...batch, rows, cols] operand, any fused
 * expression or view of buffers) at flat batch index bt, row and column.
 */
export function operandFn(name: string, node: Node, rowsName: string, colsName: string, leaf: Leaf): string {
  const fb = new FnBuilder();
  const v = emit(node, new Ix(node.shape, undefined, [...batchIndices(node.shape.slice(0, -2), fb), rowsName, colsName]), fb, leaf);
  return `fn ${name}(bt: i32, ${rowsName}: i32, ${colsName}: i32) -> ${wgslType(node.dtype)} {\n${fb.body()}\n  return ${v};\n}`;
}

/** The index along each batch axis of flat batch index `bt` (lets in fb). */
export function batchIndices(batchShape: Shape, fb: FnBuilder): string[] {
  const bst = contiguousStrides(batchShape);
  return batchShape.map((s, i) => (s === 1 ? '0' : fb.let(i === 0 ? `(bt / ${bst[i]})` : `((bt / ${bst[i]}) % ${s})`)));
}

export function matmulKernel(k: Kernel & { kind: 'matmul' }, caps: DeviceCaps, sched: MatmulSchedule = DEFAULT_MATMUL): KernelCode {
  const mm = k.node, outs = k.outputs;
  const [A, B] = mm.src as [typeof mm, typeof mm];
  const r = mm.shape.length;
  const M = mm.shape[r - 2]!, N = mm.shape[r - 1]!, K = A.shape[r - 1]!;
  const batchShape = mm.shape.slice(0, -2), BATCH = numel(batchShape);
  const t = wgslType(mm.dtype), isF = t === 'f32' || t === 'f16';
  const b = bindBuffers(k.reads, outs);
  const leaf = bufferLeaf(b);

  const fnA = operandFn('a_val', A, 'm', 'k', leaf);
  const fnB = operandFn('b_val', B, 'k', 'n', leaf);
  // The epilogues, from the accumulator at flat index lin (each reads the product, and the others, only there).
  const efb = new FnBuilder();
  const stores = outs.map((o) => {
    const v = o === mm ? 'acc' : emit(o, new Ix(o.shape, 'lin'), efb, (n, ix, fb) => (n === mm && ix.knownLin === 'lin' ? 'acc' : outs.includes(n) ? undefined : leaf(n, ix, fb)));
    return `${b.nameOf.get(o)}[lin] = ${toStorage(v, o.dtype)};`;
  });
  const fnE = `fn epi(lin: i32, acc: ${t}) {\n${efb.body()}\n  ${stores.join('\n  ')}\n}`;

  const { wgM, wgN, tm, tn, bk, shared } = sched, ku = sched.ku ?? 1;
  const vw = sched.vec === 4 && tn % 4 === 0 ? 4 : 1; // accumulate tn columns as vec4s
  const BM = wgM * tm, BN = wgN * tn, threads = wgM * wgN;
  const tilesM = Math.ceil(M / BM), tilesN = Math.ceil(N / BN);
  const groups = tilesM * tilesN * BATCH;
  const fma = (a: string, bb: string, c: string) => (isF ? `fma(${a}, ${bb}, ${c})` : `(${c} + ${a} * ${bb})`);
  const zero = `${t}(0)`;
  const L: string[] = [];
  // Accumulators: tm x tn scalars, or tm x (tn/4) vec4s updated with one vector fma each.
  const acc = (i: number, j: number) => (vw === 4 ? `acc_${i}_${j >> 2}[${j & 3}]` : `acc_${i}_${j}`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j += vw) L.push(`var acc_${i}_${vw === 4 ? j >> 2 : j} = ${vw === 4 ? `vec4<${t}>()` : zero};`);
  const fmaBlock = (a: (i: number) => string, b: (j: number) => string, indent: string) => {
    for (let i = 0; i < tm; i++)
      for (let j = 0; j < tn; j += vw) {
        if (vw === 1) { L.push(`${indent}acc_${i}_${j} = ${fma(a(i), b(j), `acc_${i}_${j}`)};`); continue; }
        const g = `acc_${i}_${j >> 2}`;
        L.push(`${indent}${g} = ${fma(`vec4<${t}>(${a(i)})`, `vec4<${t}>(${b(j)}, ${b(j + 1)}, ${b(j + 2)}, ${b(j + 3)})`, g)};`);
      }
  };
  let shDecl = '';
  if (!shared) {
    for (let i = 0; i < tm; i++) L.push(`let mr${i} = min(m0 + ${i}, ${M - 1});`);
    for (let j = 0; j < tn; j++) L.push(`let nc${j} = min(n0 + ${j}, ${N - 1});`);
    // K in steps of ku (consecutive k of one row or column are neighbours in memory when an
    // operand is transposed), then the remainder one step at a time.
    const step = (from: string, to: number, u: number) => {
      L.push(`for (var k = ${from}; k < ${to}; k += ${u}) {`);
      for (let q = 0; q < u; q++) {
        const kq = q ? `k + ${q}` : 'k';
        for (let i = 0; i < tm; i++) L.push(`  let a${i}_${q} = a_val(bt, mr${i}, ${kq});`);
        for (let j = 0; j < tn; j++) L.push(`  let b${j}_${q} = b_val(bt, ${kq}, nc${j});`);
      }
      for (let q = 0; q < u; q++) fmaBlock((i) => `a${i}_${q}`, (j) => `b${j}_${q}`, '  ');
      L.push('}');
    };
    const main = Math.floor(K / ku) * ku;
    if (main > 0) step('0', main, ku);
    if (main < K) step(String(main), K, 1);
  } else {
    shDecl = `var<workgroup> sh_a: array<${t}, ${bk * BM}>;\nvar<workgroup> sh_b: array<${t}, ${bk * BN}>;`;
    L.push(`for (var k0 = 0; k0 < ${K}; k0 += ${bk}) {`);
    L.push(`  for (var e = tid; e < ${bk * BM}; e += ${threads}) { let kk = e / ${BM}; let mm = e % ${BM}; let gm = tm0 + mm; let gk = k0 + kk;`);
    L.push(`    sh_a[e] = select(${zero}, a_val(bt, min(gm, ${M - 1}), min(gk, ${K - 1})), gm < ${M} && gk < ${K}); }`);
    L.push(`  for (var e = tid; e < ${bk * BN}; e += ${threads}) { let kk = e / ${BN}; let nn = e % ${BN}; let gn = tn0 + nn; let gk = k0 + kk;`);
    L.push(`    sh_b[e] = select(${zero}, b_val(bt, min(gk, ${K - 1}), min(gn, ${N - 1})), gn < ${N} && gk < ${K}); }`);
    L.push('  workgroupBarrier();');
    L.push(`  for (var kk = 0; kk < ${bk}; kk++) {`);
    for (let i = 0; i < tm; i++) L.push(`    let a${i} = sh_a[kk * ${BM} + ly * ${tm} + ${i}];`);
    for (let j = 0; j < tn; j++) L.push(`    let b${j} = sh_b[kk * ${BN} + lx * ${tn} + ${j}];`);
    fmaBlock((i) => `a${i}`, (j) => `b${j}`, '    ');
    L.push('  }', '  workgroupBarrier();', '}');
  }
  // The results are stored in a loop over the register block, so the driver compiles the
  // epilogue (and the bounds check) once rather than once per accumulator. Measured on lavapipe
  // (512x256x1024, 16x16 tile): unrolled plain stores took 8.3 s to build at the first dispatch and
  // ran 97 ms; the loop 1.7 s and 81 ms (with a gelu epilogue, unrolled: ~10 s).
  L.push(`var accs: array<${t}, ${tm * tn}>;`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) L.push(`accs[${i * tn + j}] = ${acc(i, j)};`);
  L.push(`for (var e = 0; e < ${tm * tn}; e++) {`, `  let mi = m0 + e / ${tn}; let nj = n0 + e % ${tn};`,
    `  if (mi < ${M} && nj < ${N}) { epi(bt * ${M * N} + mi * ${N} + nj, accs[e]); }`, '}');

  const name = kernelName(k, [...outs], k.reads);
  const exit = `if (g >= ${groups}) { return; }`;
  const main = `@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = i32(wid.x + wid.y * nwg.x);
  ${exit}
  let bt = g / ${tilesM * tilesN};
  let tile = g % ${tilesM * tilesN};
  let tm0 = (tile / ${tilesN}) * ${BM};
  let tn0 = (tile % ${tilesN}) * ${BN};
  let tid = i32(lid);
  let ly = tid / ${wgN};
  let lx = tid % ${wgN};
  let m0 = tm0 + ly * ${tm};
  let n0 = tn0 + lx * ${tn};
  ${L.join('\n  ')}
}`;
  const text = `${fnA}\n${fnB}\n${fnE}\n${main}`;
  const wgsl = `${/\bf16\b/.test(text + b.decls.join('')) ? 'enable f16;\n' : ''}// kernel ${name} (matmul ${M}x${K}x${N}, batch ${BATCH}, schedule ${scheduleKey(sched)})\n${b.decls.join('\n')}\n${shDecl}\n${helpers(text)}\n${text}\n`;
  return { name, wgsl, bindings: b.nodes, outputs: [...outs], grid: grid(groups, caps.maxWorkgroupsPerDim), threads: M * N * BATCH };
}
