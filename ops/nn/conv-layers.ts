/**
 * Convolutional layers over ops/nn/conv.ts: Conv2D (NHWC, kernel [KH, KW, Cin/groups, Cout] as in
 * Keras), MaxPooling2D, AveragePooling2D and Reshape. Conv2D's bias and activation fuse into the
 * convolution's matmul kernel (an implicit GEMM with an epilogue).
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { numel, type Shape } from '../../ir/shape.ts';
import { add, castTo } from '../elementwise.ts';
import { reshape } from '../movement.ts';
import type { Tensor } from '../tensor.ts';
import { activationName, getActivation, type ActivationFn, type ActivationName, type ActivationSpec } from './activations.ts';
import { avgPool2d, conv2d, maxPool2d, type Padding } from './conv.ts';
import { getInitializer, type InitializerSpec } from './initializers.ts';
import { Layer, registerLayers, type LayerOptions, type Params } from './layers.ts';

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
/** Output length of a window of k (dilation d) with stride s over n, for 'valid' or 'same'. */
const outLen = (n: number, k: number, s: number, d: number, pad: Padding) =>
  pad === 'same' ? Math.ceil(n / s) : typeof pad === 'number' ? Math.floor((n + 2 * pad - (k - 1) * d - 1) / s) + 1 : pad === 'valid' ? Math.floor((n - (k - 1) * d - 1) / s) + 1 : NaN;

export interface Conv2DOptions extends LayerOptions {
  strides?: number | readonly [number, number];
  padding?: 'valid' | 'same' | number;
  dilationRate?: number | readonly [number, number];
  groups?: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

/** 2-D convolution over NHWC inputs: activation(conv2d(x, kernel) + bias). */
export class Conv2D extends Layer {
  readonly kernelSize: [number, number];
  readonly activation: ActivationFn;
  readonly activationName: ActivationName | null;
  private readonly opts: Conv2DOptions;
  constructor(readonly filters: number, kernelSize: number | readonly [number, number], opts: Conv2DOptions = {}) {
    super(opts);
    if (!Number.isInteger(filters) || filters <= 0) throw new TesseraError('Conv2D', `filters must be a positive integer, got ${filters}`);
    this.kernelSize = pair(kernelSize);
    this.activationName = activationName(opts.activation, 'Conv2D');
    this.activation = getActivation(opts.activation, 'Conv2D');
    this.opts = opts;
    this.configArgs = [filters, kernelSize, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected override createParams(s: Shape): void {
    if (s.length !== 3) throw new TesseraError(this.name, `expects inputs of feature shape [height, width, channels], got ${fmtShape(s)}`, 'reshape images to [batch, H, W, C]');
    const g = this.opts.groups ?? 1;
    if (s[2]! % g || this.filters % g) throw new TesseraError(this.name, `channels ${s[2]} and filters ${this.filters} must be divisible by groups=${g}`);
    this.params.kernel = getInitializer(this.opts.kernelInitializer ?? 'glorotUniform')([...this.kernelSize, s[2]! / g, this.filters]);
    if (this.opts.useBias ?? true) this.params.bias = getInitializer(this.opts.biasInitializer ?? 'zeros')([this.filters]);
  }
  computeOutputShape(s: Shape): Shape {
    const [sh, sw] = pair(this.opts.strides ?? 1), [dh, dw] = pair(this.opts.dilationRate ?? 1), pad = this.opts.padding ?? 'valid';
    return [outLen(s[0]!, this.kernelSize[0], sh, dh, pad), outLen(s[1]!, this.kernelSize[1], sw, dw, pad), this.filters];
  }
  private conv(p: Params, x: Tensor): Tensor {
    const xf = x.dtype === 'float32' ? x : castTo(x, 'float32');
    const y = conv2d(xf, p.kernel!, { stride: this.opts.strides, padding: this.opts.padding ?? 'valid', dilation: this.opts.dilationRate, groups: this.opts.groups });
    return p.bias ? add(y, p.bias) : y;
  }
  override preActivation(p: Params, x: Tensor) { return this.activationName === null ? null : { z: this.conv(p, x), activation: this.activationName }; }
  apply(p: Params, x: Tensor): Tensor { return this.activation(this.conv(p, x)); }
  override cacheKey(): string | null {
    return this.activationName === null || this.constructor !== Conv2D ? null : `Conv2D(${this.filters},${this.kernelSize},${JSON.stringify(this.opts.strides ?? 1)},${JSON.stringify(this.opts.padding ?? 'valid')},${JSON.stringify(this.opts.dilationRate ?? 1)},${this.opts.groups ?? 1},${this.activationName},${this.opts.useBias ?? true})`;
  }
}

export interface Pool2DOptions extends LayerOptions { poolSize?: number | readonly [number, number]; strides?: number | readonly [number, number]; padding?: 'valid' | 'same' }

abstract class Pool2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  constructor(opts: Pool2DOptions) {
    super(opts);
    this.poolSize = pair(opts.poolSize ?? 2);
    this.strides = pair(opts.strides ?? this.poolSize);
    this.padding = opts.padding ?? 'valid';
    this.configArgs = [opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  computeOutputShape(s: Shape): Shape {
    return [outLen(s[0]!, this.poolSize[0], this.strides[0], 1, this.padding), outLen(s[1]!, this.poolSize[1], this.strides[1], 1, this.padding), s[2]!];
  }
  override cacheKey(): string | null {
    const ctor: unknown = this.constructor;
    return ctor === MaxPooling2D || ctor === AveragePooling2D ? `${this.className}(${this.poolSize},${this.strides},${this.padding})` : null;
  }
}
export class MaxPooling2D extends Pool2D {
  apply(_p: Params, x: Tensor): Tensor { return maxPool2d(x, { kernelSize: this.poolSize, stride: this.strides, padding: this.padding }); }
}
export class AveragePooling2D extends Pool2D {
  apply(_p: Params, x: Tensor): Tensor { return avgPool2d(x, { kernelSize: this.poolSize, stride: this.strides, padding: this.padding }); }
}

/** Reshapes the feature axes (the batch axis is kept): e.g. [64] -> [8, 8, 1]. */
export class Reshape extends Layer {
  readonly targetShape: number[];
  constructor(targetShape: readonly number[], opts: LayerOptions = {}) {
    super(opts);
    this.targetShape = [...targetShape];
    this.configArgs = [targetShape, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  computeOutputShape(s: Shape): Shape {
    if (numel(s) !== numel(this.targetShape)) throw new TesseraError(this.name, `cannot reshape features ${fmtShape(s)} to ${fmtShape(this.targetShape)}`);
    return this.targetShape;
  }
  apply(_p: Params, x: Tensor): Tensor {
    this.computeOutputShape(x.shape.slice(1));
    return reshape(x, [x.shape[0]!, ...this.targetShape]);
  }
  override cacheKey(): string | null { return this.constructor === Reshape ? `Reshape(${this.targetShape})` : null; }
}

registerLayers([Conv2D, MaxPooling2D, AveragePooling2D, Reshape], true);

export const conv2dLayer = (filters: number, kernelSize: number | readonly [number, number], opts: Conv2DOptions = {}) => new Conv2D(filters, kernelSize, opts);
export const maxPooling2d = (opts: Pool2DOptions = {}) => new MaxPooling2D(opts);
export const averagePooling2d = (opts: Pool2DOptions = {}) => new AveragePooling2D(opts);
export const reshapeLayer = (targetShape: readonly number[], opts: LayerOptions = {}) => new Reshape(targetShape, opts);
