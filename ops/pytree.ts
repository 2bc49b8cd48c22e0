/**
 * Pytrees: nested arrays and plain objects with tensors at the leaves (model parameters,
 * optimizer state, a function's arguments and results). Transformations flatten them to a list of
 * tensors and rebuild them afterwards. Anything that is not a tensor, array or plain object is a
 * static leaf: part of the structure, compared by value.
 */
import { Tensor } from './tensor.ts';

export type PyTree = Tensor | readonly PyTree[] | { readonly [k: string]: PyTree } | number | string | boolean | null | undefined;

export interface Flat { leaves: Tensor[]; structure: string; unflatten: (leaves: readonly Tensor[]) => any }

const isPlain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;

/** A static leaf's part of the structure key: numbers by value (JSON would write NaN, Infinity and -Infinity all as null). */
const staticKey = (x: unknown): string =>
  typeof x === 'number' ? (Object.is(x, -0) ? '-0' : String(x)) : typeof x === 'bigint' ? `${x}n` : (JSON.stringify(x) ?? String(x));

export function flatten(tree: unknown): Flat {
  const leaves: Tensor[] = [];
  const build = (x: unknown): [string, (it: Iterator<Tensor>) => unknown] => {
    if (x instanceof Tensor) { leaves.push(x); return ['T', (it) => it.next().value]; }
    if (Array.isArray(x)) {
      const parts = x.map(build);
      return [`[${parts.map((p) => p[0]).join(',')}]`, (it) => parts.map((p) => p[1](it))];
    }
    if (isPlain(x)) {
      const keys = Object.keys(x).sort();
      const parts = keys.map((k) => build(x[k]));
      return [`{${keys.map((k, i) => `${JSON.stringify(k)}:${parts[i]![0]}`).join(',')}}`, (it) => Object.fromEntries(keys.map((k, i) => [k, parts[i]![1](it)]))];
    }
    return [`=${staticKey(x)}`, () => x];
  };
  const [structure, make] = build(tree);
  return { leaves, structure, unflatten: (ls) => make(ls[Symbol.iterator]()) };
}

/** Maps f over the tensor leaves of a tree. */
export function treeMap(tree: unknown, f: (t: Tensor, i: number) => Tensor): any {
  const { leaves, unflatten } = flatten(tree);
  return unflatten(leaves.map(f));
}
