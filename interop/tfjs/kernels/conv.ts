/**
 * Convolutions: Conv2D, FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2D, and their
 * gradient kernels, which are Tessera's own vjp of the forward convolution (linear in each
 * operand, so the primal is zeros of the operand's shape). tfjs filters are [KH, KW, Cin, Cout]
 * (depthwise: [KH, KW, C, M], output channel c*M + m, i.e. a grouped convolution with C groups).
 */
import { backend_util } from '@tensorflow/tfjs-core';
import { fmtShape } from '../../../ir/error.ts';
import { zeros } from '../../../ops/creation.ts';
import { add } from '../../../ops/elementwise.ts';
import { permute, reshape } from '../../../ops/movement.ts';
import { conv2d } from '../../../ops/nn/conv.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import { vjp } from '../../../ops/transforms.ts';
import { kernel, unsupported } from '../kernel.ts';
import { activate } from './activations.ts';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
interface ConvAttrs {
  strides: [number, number] | number; pad: Pad; dataFormat?: 'NHWC' | 'NCHW'; dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil'; activation?: string; leakyreluAlpha?: number;
  inputShape?: [number, number, number, number]; filterShape?: [number, number, number, number];
}
type Shape4 = [number, number, number, number];

/** The convolution tfjs means by (attrs, depthwise), as a function of (x, filter) in tfjs layouts. */
function convFn(name: string, a: ConvAttrs, depthwise: boolean) {
  const nchw = a.dataFormat === 'NCHW';
  return (x: Tensor, filter: Tensor): Tensor => {
    const xh = nchw ? permute(x, [0, 2, 3, 1]) : x;
    // Explicit pads come in the data format's axis order: NHWC order for the NHWC-shaped input.
    const pad = nchw && Array.isArray(a.pad) ? [a.pad[0]!, a.pad[2]!, a.pad[3]!, a.pad[1]!] as backend_util.ExplicitPadding : a.pad;
    const info = backend_util.computeConv2DInfo(xh.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations ?? 1, pad, a.dimRoundingMode, depthwise);
    const { top, bottom, left, right } = info.padInfo;
    const [KH, KW, C, M] = filter.shape as Shape4;
    const w = depthwise ? reshape(filter, [KH, KW, 1, C * M]) : filter;
    const y = conv2d(xh, w, {
      stride: [info.strideHeight, info.strideWidth], dilation: [info.dilationHeight, info.dilationWidth],
      padding: [[top, bottom], [left, right]], groups: depthwise ? C : 1,
    });
    if (y.shape[1] !== info.outHeight || y.shape[2] !== info.outWidth)
      unsupported(name, `dimRoundingMode '${a.dimRoundingMode}' giving output ${info.outHeight}x${info.outWidth} for input ${fmtShape(xh.shape)}`);
    return nchw ? permute(y, [0, 3, 1, 2]) : y;
  };
}

const forward = (name: string, depthwise: boolean) => kernel<ConvAttrs>(name, ({ x, filter }, a) => convFn(name, a, depthwise)(x!, filter!));
const fused = (name: string, depthwise: boolean) => kernel<ConvAttrs>(name, ({ x, filter, bias, preluActivationWeights }, a) => {
  const y = convFn(name, a, depthwise)(x!, filter!);
  return activate(bias ? add(y, bias) : y, a.activation, preluActivationWeights, a.leakyreluAlpha);
});
/** d(conv)/dx applied to dy: the vjp at x = 0 (conv is linear in x). */
const backpropInput = (name: string, depthwise: boolean) => kernel<ConvAttrs>(name, ({ dy, filter }, a) => {
  const f = convFn(name, a, depthwise);
  const [, back] = vjp((x) => f(x, filter!), zeros(a.inputShape!));
  return back(dy!)[0]!;
});
/** d(conv)/dfilter applied to dy: the vjp at filter = 0. */
const backpropFilter = (name: string, depthwise: boolean) => kernel<ConvAttrs>(name, ({ x, dy }, a) => {
  const f = convFn(name, a, depthwise);
  const [, back] = vjp((w) => f(x!, w), zeros(a.filterShape!));
  return back(dy!)[0]!;
});

export const convKernels = [
  forward('Conv2D', false),
  fused('FusedConv2D', false),
  backpropInput('Conv2DBackpropInput', false),
  backpropFilter('Conv2DBackpropFilter', false),
  forward('DepthwiseConv2dNative', true),
  fused('FusedDepthwiseConv2D', true),
  backpropInput('DepthwiseConv2dNativeBackpropInput', true),
  backpropFilter('DepthwiseConv2dNativeBackpropFilter', true),
];
