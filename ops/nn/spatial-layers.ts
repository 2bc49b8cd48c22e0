/**
 * More convolutional layers (NHWC / NLC, Keras layouts): Conv1D, Conv2DTranspose, UpSampling2D,
 * and the global pooling heads GlobalAveragePooling2D / GlobalMaxPooling2D (and the 1-D average
 * over tokens, GlobalAveragePooling1D). Bias and activation fuse into the convolution's matmul.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import type { Shape } from '../../ir/shape.ts';
import { add, castTo } from '../elementwise.ts';
import { max, mean } from '../reduce.ts';
import type { Tensor } from '../tensor.ts';
import { activationName, getActivation, type ActivationFn, type ActivationName, type ActivationSpec } from './activations.ts';
import { conv1d } from './conv.ts';
import { conv2dTranspose, upSampling2d } from './conv-transpose.ts';
import { getInitializer, type InitializerSpec } from './initializers.ts';
import { Layer, registerLayers, type LayerOptions, type Params } from './layers.ts';

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
const f32 = (t: Tensor) => (t.dtype === 'float32' ? t : castTo(t, 'float32'));

interface ConvCommon extends LayerOptions { activation?: ActivationSpec; useBias?: boolean; kernelInitializer?: InitializerSpec; biasInitializer?: InitializerSpec }
/** A convolution with bias and activation; subclasses give the kernel shape and the convolution. */
abstract class ConvBase extends Layer {
  readonly activation: ActivationFn;
  readonly activationName: ActivationName | null;
  constructor(readonly filters: number, protected readonly common: ConvCommon, cls: string) {
    super(common);
    if (!Number.isInteger(filters) || filters <= 0) throw new TesseraError(cls, `filters must be a positive integer, got ${filters}`);
    this.activationName = activationName(common.activation, cls);
    this.activation = getActivation(common.activation, cls);
  }
  protected abstract kernelShape(s: Shape): number[];
  protected abstract conv(x: Tensor, kernel: Tensor): Tensor;
  protected override createParams(s: Shape): void {
    this.params.kernel = getInitializer(this.common.kernelInitializer ?? 'glorotUniform')(this.kernelShape(s));
    if (this.common.useBias ?? true) this.params.bias = getInitializer(this.common.biasInitializer ?? 'zeros')([this.filters]);
  }
  private z(p: Params, x: Tensor): Tensor { const y = this.conv(f32(x), p.kernel!); return p.bias ? add(y, p.bias) : y; }
  override preActivation(p: Params, x: Tensor) { return this.activationName === null ? null : { z: this.z(p, x), activation: this.activationName }; }
  apply(p: Params, x: Tensor): Tensor { return this.activation(this.z(p, x)); }
  override cacheKey(): string | null {
    return this.activationName === null ? null : this.builtinKey(`${this.className}(${this.filters},${JSON.stringify(this.configArgs.slice(1))})`);
  }
}

export interface Conv1DOptions extends ConvCommon { strides?: number; padding?: 'valid' | 'same' | 'causal'; dilationRate?: number; groups?: number }
/** 1-D convolution over [batch, steps, channels]: kernel [K, Cin/groups, filters]; padding 'causal' for autoregressive models. */
export class Conv1D extends ConvBase {
  readonly kernelSize: number;
  constructor(filters: number, kernelSize: number, private readonly opts: Conv1DOptions = {}) {
    super(filters, opts, 'Conv1D');
    if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new TesseraError('Conv1D', `kernelSize must be a positive integer, got ${kernelSize}`);
    this.kernelSize = kernelSize;
    this.configArgs = [filters, kernelSize, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected kernelShape(s: Shape): number[] {
    if (s.length !== 2) throw new TesseraError(this.name, `expects inputs of feature shape [steps, channels], got ${fmtShape(s)}`);
    const g = this.opts.groups ?? 1;
    if (s[1]! % g || this.filters % g) throw new TesseraError(this.name, `channels ${s[1]} and filters ${this.filters} must be divisible by groups=${g}`);
    return [this.kernelSize, s[1]! / g, this.filters];
  }
  protected conv(x: Tensor, k: Tensor): Tensor {
    return conv1d(x, k, { stride: this.opts.strides, padding: this.opts.padding ?? 'valid', dilation: this.opts.dilationRate, groups: this.opts.groups });
  }
  computeOutputShape(s: Shape): Shape {
    const st = this.opts.strides ?? 1, d = this.opts.dilationRate ?? 1, p = this.opts.padding ?? 'valid', L = s[0]!;
    const out = p === 'valid' ? Math.floor((L - (this.kernelSize - 1) * d - 1) / st) + 1 : p === 'same' ? Math.ceil(L / st) : Math.floor((L - 1) / st) + 1;
    return [out, this.filters];
  }
}

export interface Conv2DTransposeOptions extends ConvCommon { strides?: number | readonly [number, number]; padding?: 'valid' | 'same' }
/** Transposed 2-D convolution (learned upsampling): kernel [KH, KW, filters, Cin]; output H·s ('same') or (H-1)·s + KH ('valid'). */
export class Conv2DTranspose extends ConvBase {
  readonly kernelSize: [number, number];
  constructor(filters: number, kernelSize: number | readonly [number, number], private readonly opts: Conv2DTransposeOptions = {}) {
    super(filters, opts, 'Conv2DTranspose');
    this.kernelSize = pair(kernelSize);
    this.configArgs = [filters, kernelSize, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected kernelShape(s: Shape): number[] {
    if (s.length !== 3) throw new TesseraError(this.name, `expects inputs of feature shape [height, width, channels], got ${fmtShape(s)}`);
    return [...this.kernelSize, this.filters, s[2]!];
  }
  protected conv(x: Tensor, k: Tensor): Tensor { return conv2dTranspose(x, k, { stride: this.opts.strides, padding: this.opts.padding }); }
  computeOutputShape(s: Shape): Shape {
    const st = pair(this.opts.strides ?? 1), same = this.opts.padding === 'same';
    return [0, 1].map((i) => (same ? s[i]! * st[i]! : (s[i]! - 1) * st[i]! + this.kernelSize[i]!)).concat(this.filters);
  }
}

/** Nearest-neighbour upsampling of [batch, H, W, C] by integer factors. */
export class UpSampling2D extends Layer {
  readonly size: [number, number];
  constructor(opts: LayerOptions & { size?: number | readonly [number, number] } = {}) {
    super(opts);
    this.size = pair(opts.size ?? 2);
    this.configArgs = [opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  computeOutputShape(s: Shape): Shape { return [s[0]! * this.size[0], s[1]! * this.size[1], s[2]!]; }
  apply(_p: Params, x: Tensor): Tensor { return upSampling2d(x, this.size); }
  override cacheKey() { return this.builtinKey(`UpSampling2D(${this.size})`); }
}

/** Averages (or maxes) over the spatial axes: [batch, H, W, C] -> [batch, C] (keepdims: [batch, 1, 1, C]). */
abstract class GlobalPool extends Layer {
  readonly keepdims: boolean;
  constructor(private readonly rank: number, opts: LayerOptions & { keepdims?: boolean }) {
    super(opts);
    this.keepdims = opts.keepdims ?? false;
    this.configArgs = [opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected override createParams(s: Shape): void {
    if (s.length !== this.rank + 1) throw new TesseraError(this.name, `expects inputs of feature shape [${this.rank === 2 ? 'height, width' : 'steps'}, channels], got ${fmtShape(s)}`);
  }
  computeOutputShape(s: Shape): Shape { return this.keepdims ? [...s.slice(0, -1).map(() => 1), s[s.length - 1]!] : [s[s.length - 1]!]; }
  protected get axes(): number[] { return this.rank === 2 ? [1, 2] : [1]; }
  override cacheKey() { return this.builtinKey(`${this.className}(${this.keepdims})`); }
}
export class GlobalAveragePooling2D extends GlobalPool {
  constructor(opts: LayerOptions & { keepdims?: boolean } = {}) { super(2, opts); }
  apply(_p: Params, x: Tensor): Tensor { return mean(x, this.axes, this.keepdims); }
}
export class GlobalMaxPooling2D extends GlobalPool {
  constructor(opts: LayerOptions & { keepdims?: boolean } = {}) { super(2, opts); }
  apply(_p: Params, x: Tensor): Tensor { return max(x, this.axes, this.keepdims); }
}
/** Average over the steps of [batch, steps, features] (a sentence embedding from token embeddings). */
export class GlobalAveragePooling1D extends GlobalPool {
  constructor(opts: LayerOptions & { keepdims?: boolean } = {}) { super(1, opts); }
  apply(_p: Params, x: Tensor): Tensor { return mean(x, this.axes, this.keepdims); }
}

registerLayers([Conv1D, Conv2DTranspose, UpSampling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling1D], true);
