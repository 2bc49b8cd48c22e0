/**
 * Normalization layers with learned scale and shift: BatchNormalization (batch statistics in
 * training, moving statistics at inference, updated inside the jitted train step as non-trainable
 * state) and RMSNorm. LayerNormalization lives in layers.ts.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { normAxis, type Shape } from '../../ir/shape.ts';
import { add, mul, rsqrt, sub } from '../elementwise.ts';
import { reshape } from '../movement.ts';
import { mean, variance } from '../reduce.ts';
import type { Tensor } from '../tensor.ts';
import { rmsNorm } from './functional.ts';
import { getInitializer } from './initializers.ts';
import { Layer, registerLayers, type ApplyContext, type LayerOptions, type Params } from './layers.ts';

export interface BatchNormalizationOptions extends LayerOptions {
  /** The feature (channel) axis, counting the batch axis (default -1: channels last). */
  axis?: number;
  /** Moving statistics: moving = moving·momentum + batch·(1 - momentum) (default 0.99, as Keras). */
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
}

/**
 * Batch normalization (Ioffe & Szegedy), Keras semantics: in training, y = (x - mean_B) /
 * sqrt(var_B + ε)·γ + β with the batch's mean and (biased) variance over every axis but the feature
 * axis, and the moving mean/variance are updated (returned by the train step through the context's
 * `setState`); at inference (predict, evaluate, call) the moving statistics are used instead.
 */
export class BatchNormalization extends Layer {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  constructor(opts: BatchNormalizationOptions = {}) {
    super(opts);
    this.axis = opts.axis ?? -1;
    this.momentum = opts.momentum ?? 0.99;
    this.epsilon = opts.epsilon ?? 1e-3;
    this.center = opts.center ?? true;
    this.scale = opts.scale ?? true;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new TesseraError('BatchNormalization', `momentum must be in [0, 1), got ${opts.momentum}`);
    if (!(this.epsilon > 0)) throw new TesseraError('BatchNormalization', `epsilon must be positive, got ${opts.epsilon}`);
    this.configArgs = [opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  private featureAxis(rank: number): number {
    const a = normAxis(this.name, this.axis, rank + 1);
    if (a === 0) throw new TesseraError(this.name, 'cannot normalize along the batch axis (axis 0)', 'use the channel axis, e.g. -1');
    return a - 1;
  }
  protected override createParams(s: Shape): void {
    if (!s.length) throw new TesseraError(this.name, `inputs of feature shape ${fmtShape(s)} have no feature axis`);
    const d = s[this.featureAxis(s.length)]!;
    if (this.scale) this.params.gamma = getInitializer('ones')([d]);
    if (this.center) this.params.beta = getInitializer('zeros')([d]);
    this.state.movingMean = getInitializer('zeros')([d]);
    this.state.movingVariance = getInitializer('ones')([d]);
  }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(p: Params, x: Tensor, ctx?: ApplyContext): Tensor {
    const a = this.featureAxis(x.rank - 1) + 1, C = x.shape[a]!;
    const bshape = x.shape.map((d, i) => (i === a ? d : 1));
    const axes = x.shape.map((_, i) => i).filter((i) => i !== a);
    const st = ctx?.state ?? this.state;
    let mu: Tensor, v: Tensor;
    if (ctx?.training) {
      mu = mean(x, axes, true);
      v = variance(x, axes, true);
      const m = this.momentum;
      ctx.setState?.({
        movingMean: add(mul(st.movingMean!, m), mul(reshape(mu, [C]), 1 - m)),
        movingVariance: add(mul(st.movingVariance!, m), mul(reshape(v, [C]), 1 - m)),
      });
    } else {
      mu = reshape(st.movingMean!, bshape);
      v = reshape(st.movingVariance!, bshape);
    }
    let y = mul(sub(x, mu), rsqrt(add(v, this.epsilon)));
    if (p.gamma) y = mul(y, reshape(p.gamma, bshape));
    if (p.beta) y = add(y, reshape(p.beta, bshape));
    return y;
  }
  override cacheKey() { return this.builtinKey(`BatchNormalization(${this.axis},${this.momentum},${this.epsilon},${this.center},${this.scale})`); }
}

/** Root-mean-square normalization over the last axis with a learned scale: x / sqrt(mean(x²) + ε) · γ (Zhang & Sennrich; LLaMA's norm). */
export class RMSNorm extends Layer {
  constructor(readonly epsilon = 1e-6, opts: LayerOptions = {}) { super(opts); this.configArgs = [epsilon, opts]; if (this.inputShape) this.build(this.inputShape); }
  protected override createParams(s: Shape): void { this.params.gamma = getInitializer('ones')([s[s.length - 1]!]); }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(p: Params, x: Tensor): Tensor { return rmsNorm(x, { eps: this.epsilon, gamma: p.gamma }); }
  override cacheKey() { return this.builtinKey(`RMSNorm(${this.epsilon})`); }
}

registerLayers([BatchNormalization, RMSNorm], true);
