/**
 * Generated code, memoized by the kernel's structure: the kernels of a model's repeated layers
 * (and of every training step traced anew) differ only in which nodes they stand for, so each
 * distinct kernel is generated once and the others reuse its WGSL.
 *
 * A kernel's structure key lists, in a canonical order (depth first from its roots, sources in
 * order), every node its templates look at: the buffers it reads (op, dtype, shape and the name
 * its binding gets) and each node of its expressions (op, dtype, shape, arg and its sources'
 * positions), plus the template's own fields (kind, iteration space, stages). Codegen reads
 * nothing else of a node, and never its id, so equal keys (with equal device caps and schedule)
 * give equal WGSL. Parameter constants (expr.ts isParamConst) are keyed without their values,
 * which never reach the WGSL. The memo holds positions, not nodes: no tensor memory stays alive.
 */
import { argKey, type InputArg, type Node } from '../ir/node.ts';
import { kernelRoots, type Kernel } from '../ir/schedule/index.ts';
import type { DeviceCaps, KernelCode } from './common.ts';
import { isParamConst } from './expr.ts';

/** Shapes as text, by array: nodes share their frozen shape arrays (ir/node.ts), so most are joined once. */
const shapeText = new WeakMap<readonly number[], string>();
function shapeOf(s: readonly number[]): string {
  let t = shapeText.get(s);
  if (t === undefined) shapeText.set(s, (t = s.join(',')));
  return t;
}

/** A kernel's structure key, and its nodes in the key's order (reads included). */
export function kernelStructure(k: Kernel): { key: string; nodes: Node[] } {
  const reads = new Set(k.reads);
  const pos = new Map<Node, number>();
  const nodes: Node[] = [];
  let text = '';
  // Depth first, sources before users; an explicit stack (expressions may be deep) in two arrays.
  const stack: Node[] = [], next: number[] = [];
  const roots = kernelRoots(k);
  for (let r = roots.length - 1; r >= 0; r--) { stack.push(roots[r]!); next.push(0); }
  while (stack.length) {
    const top = stack.length - 1, n = stack[top]!, i = next[top]!;
    if (i === 0 && pos.has(n)) { stack.pop(); next.pop(); continue; }
    const read = reads.has(n);
    if (!read && i < n.src.length) { next[top] = i + 1; const s = n.src[i]!; if (!pos.has(s)) { stack.push(s); next.push(0); } continue; }
    stack.pop(); next.pop();
    if (pos.has(n)) continue;
    pos.set(n, nodes.length);
    nodes.push(n);
    if (read) { text += `R${n.op}|${n.dtype}|${shapeOf(n.shape)}|${n.op === 'input' ? (n.arg as InputArg).name : ''};`; continue; }
    text += `${n.op}|${n.dtype}|${shapeOf(n.shape)}|${n.arg === null ? '' : isParamConst(n) ? '?' : argKey(n.arg)}|`;
    for (let j = 0; j < n.src.length; j++) text += (j ? ',' : '') + pos.get(n.src[j]!)!;
    text += ';';
  }
  const at = (n: Node) => pos.get(n) ?? -1;
  let head: string;
  switch (k.kind) {
    case 'elementwise': head = `ew|${k.shape.join(',')}|${k.outputs.map(at).join(',')}`; break;
    case 'row': head = `row|${k.full.join(',')}|${k.axes.join(',')}|${k.stages.map((s) => `${s.kind}${at(s.node)}${s.kind === 'reduce' && s.write ? 'w' : ''}`).join(',')}`; break;
    case 'matmul': head = `mm|${at(k.node)}|${k.outputs.map(at).join(',')}`; break;
    case 'attention': head = `att|${at(k.node)}|${at(k.max)}|${at(k.sum)}|${k.scores ? at(k.scores) : -1}`; break;
  }
  return { key: `${head}|${k.reads.map(at).join(',')}\n${text}`, nodes };
}

/** KernelCode with its nodes (bindings, outputs, parameters) as positions in the structure's node list. */
interface Abstract { code: KernelCode; bindings: number[]; outputs: number[]; params?: number[] }

/** Entries kept (the whole memo is dropped when full: it refills with what is in use). */
const MAX_ENTRIES = 4096;
const memo = new Map<string, Abstract>();
/** Hits and misses, for tests and benches. */
export const codegenMemo = { hits: 0, misses: 0, enabled: true };

/** Empties the memo (benches measuring a first compile start from an empty one). */
export function clearCodegenMemo(): void { memo.clear(); }

const capsKey = (c: DeviceCaps) => `${c.maxWorkgroupsPerDim},${c.maxWorkgroupSize},${c.f16 ? 1 : 0},${c.subgroups ? 1 : 0}`;

/** `make()`'s code for kernel k, from the memo when a kernel of the same structure was generated with these caps and schedule. */
export function memoizedCode(k: Kernel, caps: DeviceCaps, sched: unknown, make: () => KernelCode): KernelCode {
  if (!codegenMemo.enabled) return make();
  const s = kernelStructure(k);
  const key = `${capsKey(caps)}|${sched === undefined ? '' : JSON.stringify(sched)}|${s.key}`;
  const hit = memo.get(key);
  if (hit) {
    codegenMemo.hits++;
    const node = (i: number) => s.nodes[i]!;
    const code: KernelCode = { ...hit.code, bindings: hit.bindings.map(node), outputs: hit.outputs.map(node), grid: [...hit.code.grid] };
    if (hit.params) code.params = hit.params.map(node);
    return code;
  }
  codegenMemo.misses++;
  const code = make();
  const pos = new Map(s.nodes.map((n, i) => [n, i]));
  const positions = (ns: readonly Node[]) => ns.map((n) => pos.get(n) ?? -1);
  const { params: _, ...plain } = code;
  const a: Abstract = { code: { ...plain, bindings: [], outputs: [], grid: [...code.grid] }, bindings: positions(code.bindings), outputs: positions(code.outputs) };
  if (code.params) a.params = positions(code.params);
  // A node the key does not cover (none should be) makes the entry unusable: not memoized.
  if ([...a.bindings, ...a.outputs, ...(a.params ?? [])].includes(-1)) return code;
  if (memo.size >= MAX_ENTRIES) memo.clear();
  memo.set(key, a);
  return code;
}
