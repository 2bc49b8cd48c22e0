/**
 * The fused graph in Graphviz DOT: a cluster per kernel holding its primitives, input buffers as
 * ellipses, and edges between primitives (within a kernel) and along buffers (between kernels).
 * `dot -Tsvg` draws it; the report's own SVG (graph-svg.ts) needs no Graphviz.
 */
import type { Analysis } from './analyze.ts';
import { fmtType } from './table.ts';

const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

export function graphDOT(a: Analysis): string {
  const L = ['digraph tessera {', '  rankdir=TB; node [fontname="monospace" fontsize=10]; edge [fontname="monospace" fontsize=9 color="#8a93a3"];'];
  for (const b of a.inputs) L.push(`  ${q(b.label)} [shape=ellipse label=${q(`${b.label}\n${fmtType(b.dtype, b.shape)}`)}];`);
  for (const k of a.kernels) {
    L.push(`  subgraph cluster_k${k.index} {`, `    label=${q(`k${k.index} ${k.name} (${k.kind})`)}; style="rounded,filled"; fillcolor="#f4f7fb";`);
    const prims = k.primitives.length ? k.primitives : ['copy'];
    prims.forEach((p, i) => L.push(`    ${q(`k${k.index}_${i}`)} [shape=box style=rounded label=${q(p)}];`));
    for (let i = 1; i < prims.length; i++) L.push(`    ${q(`k${k.index}_${i - 1}`)} -> ${q(`k${k.index}_${i}`)} [style=dotted arrowhead=none];`);
    L.push('  }');
  }
  const first = (i: number) => q(`k${i}_0`), last = (i: number) => q(`k${i}_${Math.max(0, a.kernels[i]!.primitives.length - 1)}`);
  for (const k of a.kernels)
    for (const b of k.reads) {
      const from = b.producer === null ? q(b.label) : last(b.producer);
      L.push(`  ${from} -> ${first(k.index)} [label=${q(fmtType(b.dtype, b.shape))}];`);
    }
  L.push('}');
  return L.join('\n');
}
