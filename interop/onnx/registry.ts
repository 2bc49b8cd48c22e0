/** Every ONNX op Tessera imports, by op type (default domain), one family per file in ops/. */
import type { OnnxOp } from './context.ts';
import { CONV } from './ops/conv.ts';
import { ELEMENTWISE } from './ops/elementwise.ts';
import { LINALG } from './ops/linalg.ts';
import { NORM } from './ops/norm.ts';
import { POOL } from './ops/pool.ts';
import { REDUCE } from './ops/reduce.ts';
import { RESIZE } from './ops/resize.ts';
import { SHAPE } from './ops/shape.ts';
import { SLICE } from './ops/slice.ts';
import type { NodeProto } from './schema.ts';

export const OPS: Readonly<Record<string, OnnxOp>> = { ...ELEMENTWISE, ...SHAPE, ...SLICE, ...REDUCE, ...LINALG, ...CONV, ...POOL, ...NORM,
  ...RESIZE };

/** The op types Tessera can import, sorted (for docs and error messages). */
export const supportedOps = (): string[] => Object.keys(OPS).sort();

/** The op types of `nodes` that have no implementation (custom domains named as domain:op). */
export function unsupportedOps(nodes: readonly NodeProto[]): string[] {
  const bad = new Set<string>();
  for (const n of nodes) {
    const custom = n.domain !== '' && n.domain !== 'ai.onnx';
    if (custom || !Object.hasOwn(OPS, n.opType)) bad.add(custom ? `${n.domain}:${n.opType}` : n.opType);
  }
  return [...bad].sort();
}
