/** The engine every graph pass uses: rebuild a graph bottom-up, applying a rule at each node. */
import { Node, toposort } from '../node.ts';

/** A rule looks at a node whose sources are already rewritten and returns it or a replacement. */
export type Rule = (n: Node) => Node;

export function rewrite(roots: readonly Node[], rule: Rule): Node[] {
  const done = new Map<Node, Node>();
  for (const n of toposort(roots)) {
    let m = n;
    for (let i = 0; i < n.src.length; i++) {
      if (done.get(n.src[i]!) === n.src[i]) continue;
      m = Node.make(n.op, n.dtype, n.shape, n.src.map((s) => done.get(s)!), n.arg);
      break;
    }
    for (let i = 0; i < 100; i++) { const r = rule(m); if (r === m) break; m = r; }
    done.set(n, m);
  }
  return roots.map((r) => done.get(r)!);
}
