/**
 * What every kernel template shares: the generated code's shape (KernelCode), the device limits
 * codegen needs (DeviceCaps), buffer bindings and loads, the kernel's name, the workgroup grid and
 * the WGSL header. The templates are codegen/kernels.ts (elementwise, row), codegen/matmul.ts and codegen/attention.ts.
 */
import { storageType } from '../ir/dtype.ts';
import { isView, type InputArg, type Node, type ReduceArg } from '../ir/node.ts';
import type { Kernel } from '../ir/schedule/index.ts';
import { load, type Leaf } from './expr.ts';

export interface DeviceCaps { maxWorkgroupsPerDim: number; maxWorkgroupSize: number; f16: boolean; subgroups?: boolean }

export interface KernelCode {
  name: string;
  wgsl: string;
  /** Nodes bound at @binding(i), reads first, then outputs. */
  bindings: Node[];
  outputs: Node[];
  grid: [number, number, number];
  /** Work items, for stats and cost estimates. */
  threads: number;
  /** Parameter constants read from the uniform `t_params` bound after the buffers (see codegen/expr.ts isParamConst). */
  params?: Node[];
}

export interface Bindings { decls: string[]; nameOf: Map<Node, string>; nodes: Node[] }

export function bindBuffers(reads: readonly Node[], outputs: readonly Node[], lanes: 1 | 4 = 1): Bindings {
  const decls: string[] = [], nameOf = new Map<Node, string>(), nodes: Node[] = [];
  // Input names come from users (tensor names in files, layer names): only letters and digits, at most 24, reach the WGSL.
  const label = (n: Node) => (n.op === 'input' ? (n.arg as InputArg).name : n.op).replace(/[^A-Za-z0-9]/g, '').slice(0, 24);
  const elem = (n: Node) => (lanes === 4 ? `vec4<${storageType(n.dtype)}>` : storageType(n.dtype));
  reads.forEach((n, i) => {
    const name = `in${i}_${label(n)}`;
    decls.push(`@group(0) @binding(${nodes.length}) var<storage, read> ${name}: array<${elem(n)}>;`);
    nameOf.set(n, name); nodes.push(n);
  });
  outputs.forEach((n, i) => {
    const name = `out${i}_${label(n)}`;
    decls.push(`@group(0) @binding(${nodes.length}) var<storage, read_write> ${name}: array<${elem(n)}>;`);
    nameOf.set(n, name); nodes.push(n);
  });
  return { decls, nameOf, nodes };
}

/** A leaf provider that loads buffers bound in `b`. */
export const bufferLeaf = (b: Bindings, extra?: Leaf): Leaf => (n, ix, fb) => {
  const e = extra?.(n, ix, fb);
  if (e !== undefined) return e;
  const name = b.nameOf.get(n);
  return name && b.nodes.indexOf(n) < b.nodes.length ? load(name, n.dtype, ix, fb) : undefined;
};

/** Kernel name: which ops it fuses, in the order they are computed ("ew_mul_add_max_exp"). */
export function kernelName(k: Kernel, roots: readonly Node[], reads: readonly Node[]): string {
  const stop = new Set(reads);
  const ops: string[] = [];
  const seen = new Set<Node>();
  const walk = (n: Node) => { // the kernel's own expressions only: not through what it reads
    if (seen.has(n) || stop.has(n)) return;
    seen.add(n);
    n.src.forEach(walk);
    if (n.op === 'input' || n.op === 'const' || isView(n.op)) return;
    const op = n.op === 'reduce' ? (n.arg as ReduceArg).op : n.op;
    if (!ops.includes(op)) ops.push(op);
  };
  roots.forEach(walk);
  const prefix = k.kind === 'elementwise' ? 'ew' : k.kind;
  if ((k.kind === 'matmul' || k.kind === 'attention') && ops.includes('matmul')) ops.splice(ops.indexOf('matmul'), 1);
  const body = ops.slice(0, 6).join('_') + (ops.length > 6 ? `_and${ops.length - 6}more` : '');
  return `${prefix}_${body || 'copy'}`;
}

/** Workgroup grid for `groups` workgroups, folded into 2-D when over the per-dimension limit. */
export function grid(groups: number, maxPerDim: number): [number, number, number] {
  if (groups <= maxPerDim) return [Math.max(groups, 1), 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** The WGSL text of a kernel: the extensions it needs, a comment naming it, its code. */
export function header(wgsl: string, name: string, k: Kernel): string {
  const enable = (/\bf16\b/.test(wgsl) ? 'enable f16;\n' : '') + (/\bsubgroupAdd\(/.test(wgsl) ? 'enable subgroups;\n' : '');
  return `${enable}// kernel ${name} (${k.kind})\n${wgsl}`;
}

