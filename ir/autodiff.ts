/**
 * Reverse-mode autodiff as a graph-to-graph transform: given output nodes and their cotangents,
 * walk the graph backwards applying each primitive's rule from vjp-rules.ts, summing cotangents
 * where a node has several users. The result is ordinary nodes, so backward graphs go through the
 * same passes and fusion as forward ones (and can be differentiated again).
 */
import * as B from './builder.ts';
import { isFloat } from './dtype.ts';
import { toposort, type Node } from './node.ts';
import { shapesEqual } from './shape.ts';
import { VJP_RULES } from './vjp-rules.ts';

/** Cotangents of `wrt` given cotangents of `outputs` (null: `wrt` does not affect the outputs). */
export function backward(outputs: readonly Node[], cotangents: readonly Node[], wrt: readonly Node[]): (Node | null)[] {
  const order = toposort(outputs);
  // Only nodes on a path from a wrt node to an output need cotangents.
  const needed = new Set<Node>(wrt);
  for (const n of order) if (n.src.some((s) => needed.has(s))) needed.add(n);
  const ct = new Map<Node, Node>();
  const accumulate = (n: Node, g: Node) => {
    if (!needed.has(n) || !isFloat(n.dtype)) return;
    if (!shapesEqual(g.shape, n.shape) || g.dtype !== n.dtype) throw new Error(`autodiff: cotangent ${g} does not match ${n}`);
    const prev = ct.get(n);
    ct.set(n, prev ? B.add(prev, g) : g);
  };
  outputs.forEach((o, i) => accumulate(o, cotangents[i]!));
  const wrtSet = new Set(wrt);
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    const g = ct.get(n);
    if (!g || (wrtSet.has(n) && n.src.length === 0)) continue;
    const grads = VJP_RULES[n.op](g, n);
    n.src.forEach((s, j) => { const gs = grads[j]; if (gs) accumulate(s, gs); });
  }
  return wrt.map((w) => ct.get(w) ?? null);
}
