/**
 * ONNX shape ops: Shape, Size, Constant, ConstantOfShape, Range (always on the host), and the
 * reshaping views Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand (on the host when their
 * input is, else Tessera views: no copies).
 */
import { broadcastShapes, numel } from '../../../ir/shape.ts';
import * as M from '../../../ops/movement.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { shapeOf } from '../context.ts';
import { HostTensor } from '../host.ts';
import { hostTranspose } from '../host-ops.ts';
import { ElemType } from '../schema.ts';
import type { Tensor } from '../../../ops/tensor.ts';

export const normAxisOf = (c: OpContext, a: number, rank: number): number => {
  if (!Number.isInteger(a) || a < -rank || a >= rank) throw c.error(`axis ${a} is out of range for rank ${rank}`,
    `use an axis in [${-rank}, ${rank - 1}]`);
  return a < 0 ? a + rank : a;
};

/** An op's axes: from the attribute (older opsets) or from input `i` (newer ones), undefined when absent. */
export function axesOf(c: OpContext, i: number, inputSince: number, attr = 'axes'): number[] | undefined {
  if (c.opset >= inputSince) return c.has(i) ? c.ints(i) : undefined;
  return c.intList(attr);
}

const reshaped = (c: OpContext, dims: readonly number[]): HostTensor | Tensor => {
  const x = c.value(0);
  return x instanceof HostTensor && c.allHost ? new HostTensor(x.type, dims, x.data) : M.reshape(c.tensor(0), dims);
};

function reshapeTarget(c: OpContext): number[] {
  const inShape = shapeOf(c.value(0)), spec = c.ints(1), allowZero = c.int('allowzero', 0);
  const dims = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i] ?? -2 : d));
  if (dims.some((d) => d < -1) || dims.filter((d) => d === -1).length > 1)
    throw c.error(`shape ${JSON.stringify(spec)} is invalid for an input of shape [${inShape.join(', ')}]`,
      'use at most one -1, and 0 only where the input has that axis');
  const known = numel(dims.filter((d) => d !== -1)), total = numel(inShape);
  const out = dims.map((d) => (d === -1 ? (known ? total / known : 0) : d));
  if (numel(out) !== total || !out.every(Number.isInteger))
    throw c.error(`cannot reshape [${inShape.join(', ')}] (${total} elements) to ${JSON.stringify(spec)}`, 'keep the number of elements the same');
  return out;
}

function unsqueezeDims(c: OpContext): number[] {
  const s = shapeOf(c.value(0)), axes = axesOf(c, 1, 13) ?? [];
  const r = s.length + axes.length;
  const ax = new Set(axes.map((a) => normAxisOf(c, a, r)));
  const out: number[] = [];
  for (let d = 0, k = 0; d < r; d++) out.push(ax.has(d) ? 1 : s[k++]!);
  return out;
}

function squeezeDims(c: OpContext): number[] {
  const s = shapeOf(c.value(0)), axes = axesOf(c, 1, 13);
  const ax = axes ? axes.map((a) => normAxisOf(c, a, s.length)) : s.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of ax) if (s[a] !== 1) throw c.error(`axis ${a} of [${s.join(', ')}] has size ${s[a]}, not 1`, 'squeeze only size-1 axes');
  return s.filter((_, i) => !ax.includes(i));
}

function flattenDims(c: OpContext): number[] {
  const s = shapeOf(c.value(0)), a = normAxisOf(c, c.int('axis', 1), s.length + 1);
  return [numel(s.slice(0, a)), numel(s.slice(a))];
}

const view = (dims: (c: OpContext) => number[]): OnnxOp => ({ device: (c) => reshaped(c, dims(c)), host: (c) => reshaped(c, dims(c)) as HostTensor });

function perm(c: OpContext): number[] {
  const r = shapeOf(c.value(0)).length;
  return c.intList('perm') ?? [...Array(r).keys()].reverse();
}

function constantValue(c: OpContext): HostTensor {
  const t = c.tensorAttr('value');
  if (t) return new HostTensor(t.type, t.dims, t.data, t.isFloat && t.dims.length ? c.node.outputs[0] : undefined);
  if (c.hasAttr('value_float')) return HostTensor.of(ElemType.FLOAT, [], [c.float('value_float', 0)]);
  if (c.hasAttr('value_floats')) { const v = c.floatList('value_floats')!; return HostTensor.of(ElemType.FLOAT, [v.length], v); }
  if (c.hasAttr('value_int')) return HostTensor.of(ElemType.INT64, [], [c.int('value_int', 0)]);
  if (c.hasAttr('value_ints')) { const v = c.intList('value_ints')!; return HostTensor.of(ElemType.INT64, [v.length], v); }
  throw c.error(`has no supported value attribute (${[...c.node.attrs.keys()].join(', ') || 'none'})`,
    'use value, value_float(s) or value_int(s); sparse constants are not supported');
}

function constantOfShape(c: OpContext): HostTensor {
  const dims = c.ints(0);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw c.error(`shape ${JSON.stringify(dims)} is invalid`, 'use non-negative sizes');
  const v = c.tensorAttr('value') ?? HostTensor.of(ElemType.FLOAT, [1], [0]);
  return HostTensor.of(v.type, dims, new Array<number>(numel(dims)).fill(v.data[0] ?? 0));
}

function range(c: OpContext): HostTensor {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.host(i).data[0]!) as [number, number, number];
  if (delta === 0) throw c.error('delta is 0', 'use a non-zero delta');
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  return HostTensor.of(c.host(0).type, [n], Array.from({ length: n }, (_, i) => start + i * delta));
}

function shape(c: OpContext): HostTensor {
  const s = shapeOf(c.value(0)), r = s.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const dims = s.slice(clamp(c.int('start', 0)), c.hasAttr('end') ? clamp(c.int('end', r)) : r);
  return HostTensor.of(ElemType.INT64, [dims.length], dims);
}

const always = (f: (c: OpContext) => HostTensor): OnnxOp => ({ device: f, host: f });

export const SHAPE: Record<string, OnnxOp> = {
  Shape: always(shape),
  Size: always((c) => HostTensor.of(ElemType.INT64, [], [numel(shapeOf(c.value(0)))])),
  Constant: always(constantValue),
  ConstantOfShape: always(constantOfShape),
  Range: always(range),
  Reshape: view(reshapeTarget),
  Flatten: view(flattenDims),
  Squeeze: view(squeezeDims),
  Unsqueeze: view(unsqueezeDims),
  Transpose: { device: (c) => M.permute(c.tensor(0), perm(c)), host: (c) => hostTranspose(c.host(0), perm(c)) },
  Expand: {
    device: (c) => {
      const x = c.tensor(0);
      return M.expand(x, broadcastShapes('Expand', x.shape, c.ints(1)));
    },
  },
};
