/**
 * Upsampling, composed from views and conv2d: the transposed convolution (the gradient of a strided
 * convolution with respect to its input, used as a learned upsampler) and nearest-neighbour
 * upsampling.
 *
 * conv2dTranspose(x, w, stride s): insert s-1 zeros between input elements (a view: reshape, pad,
 * reshape), pad by K-1-p, and cross-correlate with the kernel flipped in both spatial axes (flip
 * is a view too), so out[i·s + a] += x[i]·w[a], as Keras's Conv2DTranspose and PyTorch's
 * ConvTranspose2d compute.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { nodeOf, T, type TensorLike } from '../graph.ts';
import { pad, permute, reshape, slice, unsqueeze } from '../movement.ts';
import { broadcastTo, flip } from '../rearrange.ts';
import type { Tensor } from '../tensor.ts';
import { conv2d } from './conv.ts';

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Inserts s-1 zeros between the elements of `axis`: length L -> (L-1)·s + 1. */
function dilate(x: Tensor, axis: number, s: number): Tensor {
  if (s === 1) return x;
  const L = x.shape[axis]!;
  const u = unsqueeze(x, axis + 1);
  const p = pad(u, u.shape.map((_, i) => (i === axis + 1 ? [0, s - 1] : [0, 0]) as [number, number]));
  const flat = reshape(p, x.shape.map((d, i) => (i === axis ? d * s : d)));
  return slice(flat, x.shape.map(() => 0), x.shape.map((d, i) => (i === axis ? (L - 1) * s + 1 : d)));
}

export interface Conv2dTransposeOptions { stride?: number | readonly [number, number]; padding?: 'valid' | 'same' }

/**
 * Transposed 2-D convolution over NHWC input [N, H, W, Cin] with weight [KH, KW, Cout, Cin]
 * (Keras's layout). Output H: 'valid' (H-1)·s + KH, 'same' H·s.
 */
export function conv2dTranspose(input: TensorLike, weight: TensorLike, opts: Conv2dTransposeOptions = {}): Tensor {
  const x = T(nodeOf(input, 'conv2dTranspose')), w = T(nodeOf(weight, 'conv2dTranspose'));
  if (x.rank !== 4 || w.rank !== 4 || w.shape[3] !== x.shape[3])
    throw new TesseraError('conv2dTranspose', `input ${fmtShape(x.shape)} and weight ${fmtShape(w.shape)} do not fit`, 'input [N, H, W, Cin], weight [KH, KW, Cout, Cin]');
  const s = pair(opts.stride, 1), K = [w.shape[0]!, w.shape[1]!], same = opts.padding === 'same';
  const xd = dilate(dilate(x, 1, s[0]), 2, s[1]);
  // 'same' crops p = max(K - s, 0) / 2 (floor) at the start, as the strided 'same' convolution it transposes pads.
  const padsFor = (i: 0 | 1): [number, number] => {
    if (!same) return [K[i]! - 1, K[i]! - 1];
    const p = Math.floor(Math.max(K[i]! - s[i]!, 0) / 2);
    return [K[i]! - 1 - p, s[i]! - 1 + p];
  };
  const wf = permute(flip(w, [0, 1]), [0, 1, 3, 2]); // [KH, KW, Cin, Cout]
  return conv2d(xd, wf, { padding: [padsFor(0), padsFor(1)] });
}

/** Nearest-neighbour upsampling of NHWC images by integer factors (a view: every output reads its source pixel). */
export function upSampling2d(input: TensorLike, size: number | readonly [number, number] = 2): Tensor {
  const x = T(nodeOf(input, 'upSampling2d'));
  if (x.rank !== 4) throw new TesseraError('upSampling2d', `input ${fmtShape(x.shape)} must be 4-D`, 'use [N, H, W, C]');
  const [sh, sw] = pair(size, 2);
  if (![sh, sw].every((v) => Number.isInteger(v) && v >= 1)) throw new TesseraError('upSampling2d', `size ${JSON.stringify(size)} must be positive integers`);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const e = broadcastTo(reshape(x, [B, H, 1, W, 1, C]), [B, H, sh, W, sw, C]);
  return reshape(e, [B, H * sh, W * sw, C]);
}
