/**
 * ONNX Conv and ConvTranspose (1-D and 2-D, groups/depthwise, strides, pads, dilations, auto_pad)
 * on Tessera's conv2d (an implicit GEMM over a sliding-window view). ConvTranspose is the conv of
 * the zero-stuffed input with the spatially flipped, in/out-swapped kernel: all views, a gather
 * (the flip) and one matmul, so it fuses and differentiates.
 */
import * as E from '../../../ops/elementwise.ts';
import { gather } from '../../../ops/gather.ts';
import * as M from '../../../ops/movement.ts';
import { conv2d } from '../../../ops/nn/conv.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { indexList } from './slice.ts';

export interface Spatial { k: number[]; s: number[]; d: number[]; pads: [number, number][] }

/** Kernel, strides, dilations and [begin, end] pads per spatial axis of `inShape` ([N, C, ...spatial]). */
export function spatialSpec(c: OpContext, inShape: readonly number[], kernel: readonly number[]): Spatial {
  const n = inShape.length - 2, ones = Array<number>(n).fill(1);
  const k = [...kernel], s = c.intList('strides') ?? ones, d = c.intList('dilations') ?? ones;
  const p = c.intList('pads') ?? Array<number>(2 * n).fill(0);
  const auto = c.string('auto_pad', 'NOTSET');
  const pads = Array.from({ length: n }, (_, i): [number, number] => {
    if (auto === 'NOTSET') return [p[i]!, p[i + n]!];
    if (auto === 'VALID') return [0, 0];
    if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') throw c.error(`auto_pad '${auto}' is unknown`, 'use NOTSET, VALID, SAME_UPPER or SAME_LOWER');
    const L = inShape[i + 2]!, out = Math.ceil(L / s[i]!), need = Math.max(0, (out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - L);
    const small = Math.floor(need / 2);
    return auto === 'SAME_UPPER' ? [small, need - small] : [need - small, small];
  });
  return { k, s, d, pads };
}

/** Runs `f` on a 2-D layout: a 1-D input [N, C, L] becomes [N, C, 1, L]. */
function as2d(c: OpContext, x: Tensor, f: (x4: Tensor, lift: <T>(v: T[], one: T) => T[]) => Tensor): Tensor {
  if (x.rank === 4) return f(x, (v) => v);
  if (x.rank !== 3) throw c.error(`input [${x.shape.join(', ')}] must be [N, C, L] or [N, C, H, W]`, '3-D convolutions are not supported');
  const y = f(M.unsqueeze(x, 2), (v, one) => [one, ...v]);
  return M.squeeze(y, 2);
}

/** Largest kernel (KH * KW terms) computed as a sum of shifted slices. */
const DEPTHWISE_MAX_TERMS = 49;

/**
 * Depthwise conv (each group reads one input channel and writes `mult` outputs) as a sum of KH*KW
 * strided slices of the padded input, each scaled by one kernel tap per channel: one elementwise
 * kernel with simple reads. conv2d's grouped GEMM would run G matmuls of width `mult` (usually 1),
 * and bench/onnx.ts-sized layers ([200, 12, 48], 5x5) ran about 6x faster this way.
 */
function depthwise(x: Tensor, w: Tensor, s: number[], d: number[], pads: [number, number][]): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number], [Cout, , KH, KW] = w.shape as [number, number, number, number];
  const mult = Cout / C;
  let xp = M.pad(x, [[0, 0], [0, 0], pads[0]!, pads[1]!]);
  if (mult > 1) xp = M.reshape(M.expand(M.reshape(xp, [N, C, 1, xp.shape[2]!, xp.shape[3]!]), [N, C, mult, xp.shape[2]!, xp.shape[3]!]), [N, Cout,
    xp.shape[2]!, xp.shape[3]!]);
  const OH = Math.floor((H + pads[0]![0] + pads[0]![1] - (KH - 1) * d[0]! - 1) / s[0]!) + 1;
  const OW = Math.floor((W + pads[1]![0] + pads[1]![1] - (KW - 1) * d[1]! - 1) / s[1]!) + 1;
  let acc: Tensor | null = null;
  for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
    const [h0, w0] = [i * d[0]!, j * d[1]!];
    const win = M.slice(xp, [0, 0, h0, w0], [N, Cout, h0 + (OH - 1) * s[0]! + 1, w0 + (OW - 1) * s[1]! + 1], [1, 1, s[0]!, s[1]!]);
    const term = E.mul(win, M.reshape(M.slice(w, [0, 0, i, j], [Cout, 1, i + 1, j + 1]), [1, Cout, 1, 1]));
    acc = acc ? E.add(acc, term) : term;
  }
  return acc!;
}

function conv(c: OpContext): Tensor {
  const x = c.tensor(0), w = c.tensor(1), g = c.int('group', 1);
  const sp = spatialSpec(c, x.shape, c.intList('kernel_shape') ?? w.shape.slice(2));
  const y = as2d(c, x, (x4, lift) => {
    const w4 = w.rank === 4 ? w : M.unsqueeze(w, 2);
    const pads = lift(sp.pads, [0, 0] as [number, number]), s = lift(sp.s, 1), d = lift(sp.d, 1);
    const dw = g > 1 && g === x4.shape[1] && w4.shape[1] === 1 && w4.shape[0]! % g === 0 && w4.shape[2]! * w4.shape[3]! <= DEPTHWISE_MAX_TERMS;
    if (dw) return depthwise(x4, w4, s, d, pads);
    return conv2d(x4, w4, { dataFormat: 'NCHW', groups: c.int('group', 1), stride: [s[0]!, s[1]!], dilation: [d[0]!, d[1]!], padding: [pads[0]!,
      pads[1]!] });
  });
  return c.has(2) ? E.add(y, M.reshape(c.tensor(2), [1, c.tensor(2).size, ...Array(x.rank - 2).fill(1)])) : y;
}

function convTranspose(c: OpContext): Tensor {
  const x = c.tensor(0), w = c.tensor(1), g = c.int('group', 1), n = x.rank - 2;
  const k = c.intList('kernel_shape') ?? w.shape.slice(2);
  const sp = spatialSpec(c, x.shape.map((v, i) => (i < 2 ? v : v)), k);
  const op = c.intList('output_padding') ?? Array<number>(n).fill(0);
  const outShape = c.intList('output_shape'), auto = c.string('auto_pad', 'NOTSET');
  const pads = sp.pads.map(([b, e], i): [number, number] => {
    const L = x.shape[i + 2]!, full = sp.s[i]! * (L - 1) + op[i]! + (k[i]! - 1) * sp.d[i]! + 1;
    const target = outShape ? outShape[outShape.length - n + i]! : auto.startsWith('SAME') ? L * sp.s[i]! : undefined;
    if (target === undefined) return [b, e];
    const total = full - target, half = Math.floor(total / 2);
    return auto === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
  });
  const Cin = w.shape[0]!, CoutG = w.shape[1]!;
  // Kernel [Cin, Cout/g, k...] -> [Cout, Cin/g, k...], flipped along every spatial axis.
  let wf = M.reshape(M.permute(M.reshape(w, [g, Cin / g, CoutG, ...k]), [0, 2, 1, ...k.map((_, i) => i + 3)]), [g * CoutG, Cin / g, ...k]);
  k.forEach((kk, i) => { wf = gather(wf, indexList(Array.from({ length: kk }, (_, j) => kk - 1 - j)), i + 2); });
  return as2d(c, x, (x4, lift) => {
    const s = lift(sp.s, 1), d = lift(sp.d, 1), pd = lift(pads, [0, 0] as [number, number]), kk = lift(k, 1), opad = lift(op, 0);
    // Zero-stuff: [N, C, H, W] -> [N, C, H, s, W, s] (zeros after each element) -> [N, C, (H-1)s+1, (W-1)s+1].
    const [N, C, H, W] = x4.shape as [number, number, number, number];
    let z = M.pad(M.reshape(x4, [N, C, H, 1, W, 1]), [[0, 0], [0, 0], [0, 0], [0, s[0]! - 1], [0, 0], [0, s[1]! - 1]]);
    z = M.slice(M.reshape(z, [N, C, H * s[0]!, W * s[1]!]), [0, 0, 0, 0], [N, C, (H - 1) * s[0]! + 1, (W - 1) * s[1]! + 1]);
    const edge = (i: number): [number, number] => [(kk[i]! - 1) * d[i]! - pd[i]![0], (kk[i]! - 1) * d[i]! - pd[i]![1] + opad[i]!];
    const [[t, b], [l, r]] = [edge(0), edge(1)];
    z = M.slice(z, [0, 0, Math.max(-t, 0), Math.max(-l, 0)], [N, C, z.shape[2]! - Math.max(-b, 0), z.shape[3]! - Math.max(-r, 0)]);
    const w4 = wf.rank === 4 ? wf : M.unsqueeze(wf, 2);
    const y = conv2d(z, w4, { dataFormat: 'NCHW', groups: g, dilation: [d[0]!, d[1]!], padding: [[Math.max(t, 0), Math.max(b, 0)], [Math.max(l, 0),
      Math.max(r, 0)]] });
    return c.has(2) ? E.add(y, M.reshape(c.tensor(2), [1, c.tensor(2).size, 1, 1])) : y;
  });
}

export const CONV: Record<string, OnnxOp> = {
  Conv: { device: conv },
  ConvTranspose: { device: convTranspose },
};
