/**
 * ONNX Resize (opset 10+) and Upsample (older opsets): nearest and (multi-)linear, separable per
 * axis. Source positions and weights are computed on the host from the static shapes; each resized
 * axis is one or two gathers (ops/gather.ts) blended with a constant weight vector, so the whole
 * resize fuses and differentiates.
 */
import * as E from '../../../ops/elementwise.ts';
import { tensor } from '../../../ops/creation.ts';
import { gather } from '../../../ops/gather.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { indexList } from './slice.ts';

type Transform = (x: number, scale: number, inLen: number, outLen: number) => number;

const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  half_pixel_symmetric: (x, s, i, o) => { const adj = o / (s * i), c = i / 2 - (i * adj) / 2; return c + (x + 0.5) / (s * adj) - 0.5; },
  pytorch_half_pixel: (x, s, _i, o) => (o > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, i, o) => (o === 1 ? 0 : (x * (i - 1)) / (o - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nn: (x, s) => (x + 0.5) / s,
};

const ROUNDING: Record<string, (v: number) => number> = {
  round_prefer_floor: (v) => (v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v)),
  round_prefer_ceil: (v) => Math.round(v),
  floor: Math.floor,
  ceil: Math.ceil,
};

interface Spec { mode: string; transform: Transform; round: (v: number) => number; scales: number[]; sizes: number[] }

function resizeAxis(x: Tensor, axis: number, spec: Spec): Tensor {
  const inLen = x.shape[axis]!, outLen = spec.sizes[axis]!, s = spec.scales[axis]!;
  if (inLen === outLen && s === 1) return x;
  const pos = Array.from({ length: outLen }, (_, i) => spec.transform(i, s, inLen, outLen));
  const clamp = (v: number) => Math.min(Math.max(v, 0), inLen - 1);
  if (spec.mode === 'nearest') return gather(x, indexList(pos.map((p) => clamp(spec.round(p)))), axis);
  const p = pos.map(clamp), i0 = p.map(Math.floor), i1 = i0.map((i) => Math.min(i + 1, inLen - 1));
  const w = tensor(Float32Array.from(p, (v, k) => v - i0[k]!), { shape: x.shape.map((d, a) => (a === axis ? outLen : 1)) });
  const a = gather(x, indexList(i0), axis), b = gather(x, indexList(i1), axis);
  return E.add(a, E.mul(E.sub(b, a), w));
}

function spec(c: OpContext, x: Tensor): Spec {
  const upsample = c.node.opType === 'Upsample';
  const mode = c.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear')
    throw c.error(`mode '${mode}' is not supported`, "use 'nearest' or 'linear'");
  const ctm = upsample || c.opset < 11 ? 'asymmetric' : c.string('coordinate_transformation_mode', 'half_pixel');
  const transform = TRANSFORMS[ctm];
  if (!transform) throw c.error(`coordinate_transformation_mode '${ctm}' is not supported`, `use one of ${Object.keys(TRANSFORMS).join(', ')}`);
  const nm = upsample || c.opset < 11 ? 'floor' : c.string('nearest_mode', 'round_prefer_floor');
  const round = ROUNDING[nm];
  if (!round) throw c.error(`nearest_mode '${nm}' is unknown`, `use one of ${Object.keys(ROUNDING).join(', ')}`);
  if (c.int('antialias', 0)) throw c.error('antialias=1 is not supported', 'export with antialias off');
  const scaleIn = upsample && c.opset < 9 ? undefined : c.opset < 11 ? 1 : 2;
  let scales = scaleIn === undefined ? c.floatList('scales') : c.has(scaleIn) && c.host(scaleIn).size ? c.host(scaleIn).numbers() : undefined;
  let sizes = !upsample && c.opset >= 11 && c.has(3) && c.host(3).size ? c.ints(3) : undefined;
  const axes = c.intList('axes')?.map((a) => (a < 0 ? a + x.rank : a));
  const full = (v: number[], fill: number) => (axes ? x.shape.map((_, i) => (axes.includes(i) ? v[axes.indexOf(i)]! : fill)) : v);
  if (sizes) { sizes = full(sizes, 0).map((v, i) => (axes && !axes.includes(i) ? x.shape[i]! : v)); scales = sizes.map((o, i) => o / x.shape[i]!); }
  else if (scales) { scales = full(scales, 1); sizes = scales.map((s, i) => Math.floor(x.shape[i]! * s)); }
  else throw c.error('neither scales nor sizes is given', 'give one of them');
  if (scales.length !== x.rank) throw c.error(`${scales.length} scales for an input of rank ${x.rank}`, 'give one scale per axis');
  return { mode: mode === 'bilinear' ? 'linear' : mode, transform, round, scales, sizes: sizes! };
}

function resize(c: OpContext): Tensor {
  let x = c.tensor(0);
  const s = spec(c, x);
  for (let a = 0; a < x.rank; a++) x = resizeAxis(x, a, s);
  return x;
}

export const RESIZE: Record<string, OnnxOp> = {
  Resize: { device: resize },
  Upsample: { device: resize },
};
