/**
 * The compiler, as a visible list of named passes. Each pass is a function from graph (a list of
 * root nodes) to graph. Common-subexpression elimination needs no pass: nodes are hash-consed
 * (node.ts), so equal subgraphs are already one node. Dead code never reaches a pass: a graph is
 * only what is reachable from the roots being realized.
 * After these graph passes, ir/schedule/ splits the graph into kernels and codegen/ lowers them.
 */
import type { Node } from '../node.ts';
import { simplify } from './simplify.ts';
import { splitReductions } from './split-reductions.ts';

export interface Pass { name: string; run: (roots: readonly Node[]) => Node[] }

export const PASSES: readonly Pass[] = [
  { name: 'simplify', run: simplify },                 // algebraic identities, constant folding
  { name: 'split-reductions', run: splitReductions },  // long reductions into few rows -> two stages
  { name: 'simplify-again', run: simplify },           // clean up what splitting introduced
];

export function runPasses(roots: readonly Node[], passes: readonly Pass[] = PASSES): Node[] {
  let g = [...roots];
  for (const p of passes) g = p.run(g);
  return g;
}
