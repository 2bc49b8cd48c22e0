/**
 * The attention template (FlashAttention's online softmax), for the `attention` kernels the
 * scheduler's attention rule makes (ir/schedule/attention.ts): out = softmax(x)·v over the keys,
 * where x is any fused expression of the scores q·kᵀ (scale, causal or padding mask).
 *
 * One invocation owns `tq` query rows of one batch element. It keeps each row's query vector and
 * output accumulator in registers, and walks the keys once: for key j it computes the score
 * (a dot product with k's row j, shared by its tq rows), x, and updates the row's running max m,
 * running sum l and accumulator: acc = acc·exp(m_old - m) + exp(x - m)·v[j]. At the end
 * out = acc / l. Scores and probabilities never reach memory. A row whose keys are all hidden
 * (x = -inf everywhere) gives 0/0 = NaN, as the unfused softmax does.
 * When the scores matmul was not fused (`k.scores` null), x reads the scores from their buffer.
 */
import { wgslType } from '../ir/dtype.ts';
import { Ix } from '../ir/indexing.ts';
import type { AttentionKernel } from '../ir/schedule/index.ts';
import { numel } from '../ir/shape.ts';
import { bindBuffers, bufferLeaf, grid, kernelName, type DeviceCaps, type KernelCode } from './common.ts';
import { emit, FnBuilder, helpers, literal, toStorage } from './expr.ts';
import { batchIndices, operandFn } from './matmul.ts';

/** tq query rows per invocation (they share each key's and value's loads), wg invocations per
 * workgroup; `unroll`: query vectors and accumulators as scalar registers with the head-dimension
 * loops unrolled, instead of arrays in private memory (drivers that scalarize favour it). */
export interface AttentionSchedule { tq: number; wg: number; unroll?: boolean }
export const DEFAULT_ATTENTION: AttentionSchedule = { tq: 1, wg: 64 };
export const attentionKey = (s: AttentionSchedule) => `attn${s.tq}x${s.wg}${s.unroll ? '/unroll' : ''}`;

export function attentionKernel(k: AttentionKernel, caps: DeviceCaps, sched: AttentionSchedule = DEFAULT_ATTENTION): KernelCode {
  const out = k.node, [P, V] = out.src as [typeof out, typeof out], x = k.max.src[0]!, S = k.scores;
  const r = out.shape.length, batchShape = out.shape.slice(0, -2), BATCH = numel(batchShape);
  const Tq = P.shape[r - 2]!, Tk = P.shape[r - 1]!, Dv = out.shape[r - 1]!, Dk = S ? S.src[0]!.shape[r - 1]! : 0;
  const t = wgslType(out.dtype);
  const b = bindBuffers(k.reads, [out]);
  const leaf = bufferLeaf(b);
  const { tq, wg } = sched;

  const fns = [operandFn('v_val', V, 'k', 'n', leaf)];
  if (S) fns.push(operandFn('q_val', S.src[0]!, 'm', 'k', leaf), operandFn('k_val', S.src[1]!, 'k', 'n', leaf));
  const sf = new FnBuilder();
  const ix = new Ix(x.shape, undefined, [...batchIndices(batchShape, sf), 'i', 'j']);
  const xv = emit(x, ix, sf, (n, at, fb) => (n === S ? 's' : leaf(n, at, fb)));
  fns.push(`fn score(bt: i32, i: i32, j: i32${S ? `, s: ${t}` : ''}) -> ${t} {\n${sf.body()}\n  return ${xv};\n}`);

  const rows = [...Array(tq).keys()], un = !!sched.unroll;
  const ninf = literal(-Infinity, out.dtype), zero = `${t}(0)`, one = `${t}(1)`;
  // q{row}[d] and acc{row}[d]: array elements, or scalars q{row}_{d} with the loop over d unrolled.
  const qv = (q: number, d: number | string) => (un ? `q${q}_${d}` : `q${q}[${d}]`), av = (q: number, d: number | string) => (un ? `acc${q}_${d}` : `acc${q}[${d}]`);
  const overD = (n: number, body: (d: number | string) => string[], indent: string): string[] =>
    un ? [...Array(n).keys()].flatMap((d) => body(d).map((l) => indent + l)) : [`${indent}for (var d = 0; d < ${n}; d++) {`, ...body('d').map((l) => `${indent}  ${l}`), `${indent}}`];
  const L: string[] = [];
  for (const q of rows) {
    L.push(`let i${q} = min(row0 + ${q}, ${Tq - 1});`);
    if (S) {
      if (un) for (let d = 0; d < Dk; d++) L.push(`let ${qv(q, d)} = q_val(bt, i${q}, ${d});`);
      else L.push(`var q${q}: array<${t}, ${Dk}>;`, ...overD(Dk, (d) => [`${qv(q, d)} = q_val(bt, i${q}, ${d});`], ''));
    }
    if (un) for (let d = 0; d < Dv; d++) L.push(`var ${av(q, d)} = ${zero};`);
    else L.push(`var acc${q}: array<${t}, ${Dv}>;`);
    L.push(`var m${q} = ${ninf};`, `var l${q} = ${zero};`);
  }
  L.push(`for (var j = 0; j < ${Tk}; j++) {`);
  if (S) {
    L.push(`  ${rows.map((q) => `var s${q} = ${zero};`).join(' ')}`);
    L.push(...overD(Dk, (d) => [`let k${un ? d : 'd'} = k_val(bt, ${d}, j);`, ...rows.map((q) => `s${q} = fma(${qv(q, d)}, k${un ? d : 'd'}, s${q});`)], '  '));
  }
  for (const q of rows) {
    L.push(`  let x${q} = score(bt, i${q}, j${S ? `, s${q}` : ''});`);
    L.push(`  let mn${q} = max(m${q}, x${q});`);
    // While every key so far is hidden (mn = -inf), keep the accumulator as it is (zero).
    L.push(`  let live${q} = mn${q} != ${ninf};`);
    L.push(`  let c${q} = select(${one}, exp(m${q} - mn${q}), live${q});`);
    L.push(`  let p${q} = select(${zero}, exp(x${q} - mn${q}), live${q});`);
    L.push(`  l${q} = l${q} * c${q} + p${q};`, `  m${q} = mn${q};`);
  }
  L.push(...overD(Dv, (d) => [`let v${un ? d : 'd'} = v_val(bt, j, ${d});`, ...rows.map((q) => `${av(q, d)} = fma(p${q}, v${un ? d : 'd'}, ${av(q, d)} * c${q});`)], '  '));
  L.push('}');
  const o = b.nameOf.get(out)!;
  for (const q of rows) {
    L.push(`if (row0 + ${q} < ${Tq}) {`, `  let base${q} = (bt * ${Tq} + row0 + ${q}) * ${Dv};`);
    L.push(...overD(Dv, (d) => [`${o}[base${q} + ${d}] = ${toStorage(`${av(q, d)} / l${q}`, out.dtype)};`], '  '), '}');
  }

  const blocks = Math.ceil(Tq / tq), invocations = BATCH * blocks, groups = Math.ceil(invocations / wg);
  const name = kernelName(k, [out], k.reads);
  const main = `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = i32(wid.x + wid.y * nwg.x) * ${wg} + i32(lid);
  if (g >= ${invocations}) { return; }
  let bt = g / ${blocks};
  let row0 = (g % ${blocks}) * ${tq};
  ${L.join('\n  ')}
}`;
  const text = `${fns.join('\n')}\n${main}`;
  const what = `attention ${Tq}x${Tk}, head dims ${S ? `${Dk}/` : ''}${Dv}, batch ${BATCH}, scores ${S ? 'fused' : 'read'}, schedule ${attentionKey(sched)}`;
  const wgsl = `${/\bf16\b/.test(text + b.decls.join('')) ? 'enable f16;\n' : ''}// kernel ${name} (${what})\n${b.decls.join('\n')}\n${helpers(text)}\n${text}\n`;
  return { name, wgsl, bindings: b.nodes, outputs: [out], grid: grid(groups, caps.maxWorkgroupsPerDim), threads: invocations };
}

/** The untuned choice: several rows per invocation (sharing key and value loads) when rows are many. */
export function attentionHeuristic(k: AttentionKernel, caps: DeviceCaps): AttentionSchedule {
  const rows = numel(k.node.shape.slice(0, -1)), tq = rows >= 2048 ? 8 : rows >= 1024 ? 4 : rows >= 256 ? 2 : 1;
  // Measured at W5 (2048 rows, head dims 64) on lavapipe: unrolled registers 1.75x faster than
  // private arrays at tq 4, and tq 8 2x faster than tq 4 (bench/attention.ts, TESSERA_DEBUG=tune).
  return { tq, wg: Math.min(64, caps.maxWorkgroupSize), unroll: tq * headDims(k) <= MAX_UNROLLED };
}

/** Scalar registers an unrolled invocation may keep (and so its code size stays bounded). */
const MAX_UNROLLED = 1024;
/** Values per query row an invocation keeps: the query vector (when scores are fused) and the accumulator. */
const headDims = (k: AttentionKernel) => (k.scores ? k.scores.src[0]!.shape.at(-1)! : 0) + k.node.shape.at(-1)!;

/** Tuning candidates (the heuristic first). */
export function attentionCandidates(k: AttentionKernel, caps: DeviceCaps): AttentionSchedule[] {
  const out = [attentionHeuristic(k, caps)];
  const dims = headDims(k);
  for (const tq of [1, 2, 4, 8]) for (const wg of [32, 64]) if (wg <= caps.maxWorkgroupSize) {
    out.push({ tq, wg });
    if (tq * dims <= MAX_UNROLLED) out.push({ tq, wg, unroll: true });
  }
  return out;
}

/** Multiply-adds of an attention kernel (scores and weighted sum). */
export function attentionWork(k: AttentionKernel): number {
  const P = k.node.src[0]!, r = P.shape.length;
  return numel(P.shape) * ((k.scores ? k.scores.src[0]!.shape[r - 1]! : 0) + k.node.shape[r - 1]!);
}
