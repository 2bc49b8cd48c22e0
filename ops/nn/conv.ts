/**
 * Convolution and pooling, composed from views, reductions and matmul, so they fuse and
 * differentiate like everything else (their gradients come from the view and matmul rules).
 *
 * Sliding windows are a pure view (no im2col copy): for one axis of length L, window k of output
 * position o reads x[o*stride + k*dilation]. Repeating the axis K times, flattening, and
 * re-reading the flat array with a row length of L'+dilation shifts row k by k*dilation; a
 * strided slice then picks o*stride. conv2d is then one batched matmul whose A operand reads the
 * windows view directly (an implicit GEMM): the tiled matmul template and its epilogue fusion
 * (bias, activation) apply unchanged.
 *
 * Layouts: NHWC (default; weights [KH, KW, Cin/groups, Cout], as TensorFlow) or NCHW (weights
 * [Cout, Cin/groups, KH, KW], as PyTorch). NCHW is computed the other way round, weights @ windows,
 * so its product is already NCHW and a 1x1 kernel reads the input with no window view at all. Padding: 'valid', 'same' (stride 1 output size =
 * input size; for stride > 1 TensorFlow's rule), a number, or [[top, bottom], [left, right]].
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { nodeOf, T, type TensorLike } from '../graph.ts';
import { matmul } from '../linalg.ts';
import { max, mean } from '../reduce.ts';
import { pad, permute, reshape, slice, expand, unsqueeze } from '../movement.ts';
import type { Tensor } from '../tensor.ts';

export type Padding = 'valid' | 'same' | number | readonly [readonly [number, number], readonly [number, number]];
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: Padding;
  dilation?: number | readonly [number, number];
  groups?: number;
  dataFormat?: 'NHWC' | 'NCHW';
}

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Windows along `axis`: [..., L, ...] -> [..., O, K, ...] with O = floor((L - (K-1)*d - 1)/s) + 1. */
export function slidingWindows(x: Tensor, axis: number, K: number, s: number, d: number): Tensor {
  const r = x.rank, L = x.shape[axis]!;
  const O = Math.floor((L - (K - 1) * d - 1) / s) + 1;
  if (O <= 0) throw new TesseraError('slidingWindows', `window ${K} (dilation ${d}) does not fit in an axis of length ${L}`, 'pad the input or use a smaller kernel');
  const others = [...Array(r).keys()].filter((a) => a !== axis);
  let y = permute(x, [...others, axis]);                       // [R..., L]
  const R = others.map((a) => x.shape[a]!);
  const Lp = Math.max(L, O * s + (K - 1) * d);
  const zeros = R.map(() => [0, 0] as [number, number]);
  if (Lp > L) y = pad(y, [...zeros, [0, Lp - L]]);
  y = expand(unsqueeze(y, R.length), [...R, K, Lp]);           // [R, K, L']
  y = pad(reshape(y, [...R, K * Lp]), [...zeros, [0, K * d]]);  // row k now starts k*d later
  y = reshape(y, [...R, K, Lp + d]);
  y = slice(y, [...R.map(() => 0), 0, 0], [...R, K, O * s]);
  y = reshape(y, [...R, K, O, s]);
  y = reshape(slice(y, [...R.map(() => 0), 0, 0, 0], [...R, K, O, 1]), [...R, K, O]);
  // Back to [..., O, K, ...] with O at `axis`.
  const perm: number[] = [];
  for (let a = 0, j = 0; a < r; a++) {
    if (a === axis) perm.push(R.length + 1, R.length);
    else perm.push(j++);
  }
  return permute(y, perm);
}

function resolvePadding(p: Padding | undefined, H: number, W: number, k: [number, number], s: [number, number], d: [number, number]): [[number, number], [number, number]] {
  if (p === undefined || p === 'valid') return [[0, 0], [0, 0]];
  if (typeof p === 'number') return [[p, p], [p, p]];
  if (p === 'same') {
    const one = (L: number, K: number, S: number, D: number): [number, number] => {
      const out = Math.ceil(L / S), need = Math.max(0, (out - 1) * S + (K - 1) * D + 1 - L);
      return [Math.floor(need / 2), need - Math.floor(need / 2)];
    };
    return [one(H, k[0], s[0], d[0]), one(W, k[1], s[1], d[1])];
  }
  return [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
}

/** 2-D convolution (cross-correlation, as in every framework). */
export function conv2d(input: TensorLike, weight: TensorLike, opts: Conv2dOptions = {}): Tensor {
  const nchw = opts.dataFormat === 'NCHW';
  let x = T(nodeOf(input, 'conv2d')), w = T(nodeOf(weight, 'conv2d'));
  if (x.rank !== 4 || w.rank !== 4)
    throw new TesseraError('conv2d', `input ${fmtShape(x.shape)} and weight ${fmtShape(w.shape)} must both be 4-D`, nchw ? 'input [N, C, H, W], weight [Cout, Cin/groups, KH, KW]' : 'input [N, H, W, C], weight [KH, KW, Cin/groups, Cout]');
  if (nchw) { x = permute(x, [0, 2, 3, 1]); w = permute(w, [2, 3, 1, 0]); }
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const [KH, KW, Cg, Cout] = w.shape as [number, number, number, number];
  const G = opts.groups ?? 1;
  if (!Number.isInteger(G) || G < 1 || C % G || Cout % G || Cg * G !== C) {
    // The channel axis the other layout would read: a likely sign of NCHW data passed as NHWC, or the reverse.
    const other = nchw ? x.shape[2]! : x.shape[1]!, fmt = nchw ? 'NCHW' : 'NHWC';
    const swapped = Number.isInteger(G) && G >= 1 && Cg * G === other
      ? `; its ${nchw ? 'last' : 'second'} axis has ${other} = groups * ${Cg}, so the data may be ${nchw ? 'NHWC' : 'NCHW'}` : '';
    throw new TesseraError('conv2d', `input ${fmtShape(nodeOf(input, 'conv2d').shape)} read as ${fmt} (dataFormat '${fmt}') has ${C} channels, ` +
      `weight ${fmtShape(nodeOf(weight, 'conv2d').shape)} expects ${Cg} per group with groups=${G} and ${Cout} outputs${swapped}`,
    swapped ? `pass dataFormat: '${nchw ? 'NHWC' : 'NCHW'}' (weights then ${nchw ? '[KH, KW, Cin/groups, Cout]' : '[Cout, Cin/groups, KH, KW]'}), ` +
      'or transpose the input' : 'make Cin = groups * weight in-channels and Cout divisible by groups');
  }
  const s = pair(opts.stride, 1), d = pair(opts.dilation, 1);
  const [[pt, pb], [pl, pr]] = resolvePadding(opts.padding, H, W, [KH, KW], s, d);
  if (nchw) return conv2dNCHW(T(nodeOf(input, 'conv2d')), T(nodeOf(weight, 'conv2d')), G, s, d, [[pt, pb], [pl, pr]]);
  const xp = pt || pb || pl || pr ? pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
  const win = slidingWindows(slidingWindows(xp, 1, KH, s[0], d[0]), 3, KW, s[1], d[1]); // [B, OH, KH, OW, KW, C]
  const OH = win.shape[1]!, OW = win.shape[3]!;
  const patches = permute(reshape(win, [B, OH, KH, OW, KW, G, Cg]), [5, 0, 1, 3, 2, 4, 6]); // [G, B, OH, OW, KH, KW, Cg]
  const A = reshape(patches, [G, B * OH * OW, KH * KW * Cg]);
  const Wm = reshape(permute(reshape(w, [KH, KW, Cg, G, Cout / G]), [3, 0, 1, 2, 4]), [G, KH * KW * Cg, Cout / G]);
  let y = matmul(A, Wm);                                         // [G, B*OH*OW, Cout/G]
  return G === 1 ? reshape(y, [B, OH, OW, Cout]) : reshape(permute(reshape(y, [G, B, OH, OW, Cout / G]), [1, 2, 3, 0, 4]), [B, OH, OW, Cout]);
}

/**
 * NCHW conv2d as out[b, g] = W[g] @ cols[b, g]: weights [G, Cout/G, Cg*KH*KW] (a reshape of
 * [Cout, Cg, KH, KW]) times the windows [B, G, Cg*KH*KW, OH*OW]. The product is [B, Cout, OH*OW],
 * already NCHW, so an epilogue (bias, batch norm, activation) reads it element for element and
 * joins the matmul's kernel. A 1x1 kernel needs no windows: cols is the (strided) input itself.
 */
function conv2dNCHW(x: Tensor, w: Tensor, G: number, s: [number, number], d: [number, number], pads: [[number, number], [number, number]]): Tensor {
  const [B, C] = x.shape as [number, number], [Cout, Cg, KH, KW] = w.shape as [number, number, number, number];
  const [[pt, pb], [pl, pr]] = pads;
  const xp = pt || pb || pl || pr ? pad(x, [[0, 0], [0, 0], [pt, pb], [pl, pr]]) : x;
  let cols: Tensor, OH: number, OW: number;
  if (KH === 1 && KW === 1) {
    const Hp = xp.shape[2]!, Wp = xp.shape[3]!;
    const xs = s[0] > 1 || s[1] > 1 ? slice(xp, [0, 0, 0, 0], [B, C, Hp, Wp], [1, 1, s[0], s[1]]) : xp;
    OH = xs.shape[2]!; OW = xs.shape[3]!;
    cols = reshape(xs, [B, G, Cg, OH * OW]);
  } else {
    const win = slidingWindows(slidingWindows(xp, 2, KH, s[0], d[0]), 4, KW, s[1], d[1]); // [B, C, OH, KH, OW, KW]
    OH = win.shape[2]!; OW = win.shape[4]!;
    cols = reshape(permute(reshape(win, [B, G, Cg, OH, KH, OW, KW]), [0, 1, 2, 4, 6, 3, 5]), [B, G, Cg * KH * KW, OH * OW]);
  }
  const y = matmul(reshape(w, [1, G, Cout / G, Cg * KH * KW]), cols); // [B, G, Cout/G, OH*OW]
  return reshape(y, [B, Cout, OH, OW]);
}

export interface Pool2dOptions { kernelSize: number | readonly [number, number]; stride?: number | readonly [number, number]; padding?: Padding; dataFormat?: 'NHWC' | 'NCHW' }

function pool(kind: 'max' | 'avg', input: TensorLike, opts: Pool2dOptions): Tensor {
  const name = `${kind}Pool2d`, nchw = opts.dataFormat === 'NCHW';
  let x = T(nodeOf(input, name));
  if (x.rank !== 4) throw new TesseraError(name, `input ${fmtShape(x.shape)} must be 4-D`, nchw ? 'use [N, C, H, W]' : 'use [N, H, W, C]');
  if (nchw) x = permute(x, [0, 2, 3, 1]);
  const k = pair(opts.kernelSize, 1), s = pair(opts.stride ?? opts.kernelSize, 1);
  const [[pt, pb], [pl, pr]] = resolvePadding(opts.padding, x.shape[1]!, x.shape[2]!, k, s, [1, 1]);
  // Max pooling pads with -inf so padding never wins; average pooling counts padding as zeros.
  const xp = pt || pb || pl || pr ? pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]], kind === 'max' ? -Infinity : 0) : x;
  const win = slidingWindows(slidingWindows(xp, 1, k[0], s[0], 1), 3, k[1], s[1], 1); // [B, OH, KH, OW, KW, C]
  const y = kind === 'max' ? max(win, [2, 4]) : mean(win, [2, 4]);
  return nchw ? permute(y, [0, 3, 1, 2]) : y;
}
export const maxPool2d = (x: TensorLike, opts: Pool2dOptions) => pool('max', x, opts);
/** Average pooling; padded positions count as zeros (PyTorch's count_include_pad=True). */
export const avgPool2d = (x: TensorLike, opts: Pool2dOptions) => pool('avg', x, opts);

export interface Conv1dOptions { stride?: number; padding?: 'valid' | 'same' | 'causal' | number; dilation?: number; groups?: number }
/**
 * 1-D convolution over [N, L, C] with weight [K, Cin/groups, Cout] (Keras's layout): conv2d over
 * a height-1 image. 'causal' pads (K-1)·dilation on the left only, so output t sees inputs ≤ t.
 */
export function conv1d(input: TensorLike, weight: TensorLike, opts: Conv1dOptions = {}): Tensor {
  const x = T(nodeOf(input, 'conv1d')), w = T(nodeOf(weight, 'conv1d'));
  if (x.rank !== 3 || w.rank !== 3) throw new TesseraError('conv1d', `input ${fmtShape(x.shape)} and weight ${fmtShape(w.shape)} must both be 3-D`, 'input [N, L, C], weight [K, Cin/groups, Cout]');
  const d = opts.dilation ?? 1, p = opts.padding ?? 'valid';
  const padding: Padding = p === 'causal' ? [[0, 0], [(w.shape[0]! - 1) * d, 0]] : typeof p === 'number' ? [[0, 0], [p, p]] : p;
  const y = conv2d(unsqueeze(x, 1), unsqueeze(w, 0), { stride: [1, opts.stride ?? 1], padding, dilation: [1, d], groups: opts.groups });
  return reshape(y, [y.shape[0]!, y.shape[2]!, y.shape[3]!]);
}
