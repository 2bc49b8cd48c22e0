/**
 * Learning-rate schedules, as Keras's `keras.optimizers.schedules`: pass one as an optimizer's
 * `learningRate` and the rate becomes a function of the optimizer's step count (the updates done
 * before this one, from 0). The rate is a scalar expression of the step-count tensor in the
 * optimizer state, computed on the device inside the jitted train step: it changes every step
 * with no retrace and no upload, and it carries over from one `fit` call to the next (the
 * optimizer state does).
 *
 *   CosineDecay:       lr(s) = lr0 · ((1 - α) · ½(1 + cos(π · min(s, D) / D)) + α)
 *                      with warmupSteps W > 0: lr0 + (target - lr0) · s / W for s < W, then the
 *                      cosine from `warmupTarget` over s - W (Keras 3)
 *   ExponentialDecay:  lr(s) = lr0 · r^(s / D)   (staircase: r^floor(s / D))
 *
 * `valueAt(step)` computes the same rate on the host (float64), for logs.
 */
import { TesseraError } from '../../ir/error.ts';
import type { Tensor } from '../tensor.ts';
import { add, cos, div, floor, lt, minimum, mul, pow, sub, where } from '../elementwise.ts';

export abstract class LearningRateSchedule {
  /** The schedule and its parameters: train steps compiled for equal keys are shared. */
  abstract key(): string;
  /** The rate at `step` (a float32 scalar tensor: updates done before this one), as a scalar tensor. */
  abstract at(step: Tensor): Tensor;
  /** The rate at `step` on the host. */
  abstract valueAt(step: number): number;
}

const positive = (op: string, what: string, v: number) => {
  if (!(v > 0) || !Number.isFinite(v)) throw new TesseraError(op, `${what} must be a positive number, got ${v}`);
  return v;
};

export interface CosineDecayOptions {
  initialLearningRate: number;
  /** Steps over which the rate falls from its start (after any warmup) to α · start. */
  decaySteps: number;
  /** The final rate as a fraction of the start (default 0). */
  alpha?: number;
  /** Steps of linear warmup from `initialLearningRate` to `warmupTarget` before the decay (default 0). */
  warmupSteps?: number;
  /** The rate reached after warmup, where the decay starts (default: `initialLearningRate`, no warmup). */
  warmupTarget?: number;
}

/** Cosine decay (Loshchilov & Hutter's SGDR without restarts), optionally after a linear warmup. */
export class CosineDecay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly warmupSteps: number;
  readonly warmupTarget: number | null;
  constructor(o: CosineDecayOptions) {
    super();
    this.initialLearningRate = o.initialLearningRate;
    // A warmup may start from 0; without one the start is the peak, and must be positive.
    if (o.warmupTarget === undefined) positive('CosineDecay', 'initialLearningRate', o.initialLearningRate);
    else if (!(o.initialLearningRate >= 0) || !Number.isFinite(o.initialLearningRate))
      throw new TesseraError('CosineDecay', `initialLearningRate must be >= 0, got ${o.initialLearningRate}`);
    this.decaySteps = positive('CosineDecay', 'decaySteps', o.decaySteps);
    this.alpha = o.alpha ?? 0;
    this.warmupSteps = o.warmupSteps ?? 0;
    this.warmupTarget = o.warmupTarget ?? null;
    if (!(this.alpha >= 0 && this.alpha <= 1)) throw new TesseraError('CosineDecay', `alpha must be in [0, 1], got ${o.alpha}`);
    if (!(this.warmupSteps >= 0) || !Number.isFinite(this.warmupSteps)) throw new TesseraError('CosineDecay', `warmupSteps must be >= 0, got ${o.warmupSteps}`);
    if (this.warmupTarget !== null) positive('CosineDecay', 'warmupTarget', this.warmupTarget);
    if (this.warmupSteps > 0 && this.warmupTarget === null)
      throw new TesseraError('CosineDecay', `warmupSteps ${this.warmupSteps} needs a warmupTarget`, 'pass warmupTarget: the rate reached after warmup (initialLearningRate is where warmup starts)');
  }
  key() { return `cosine(${this.initialLearningRate},${this.decaySteps},${this.alpha},${this.warmupSteps},${this.warmupTarget})`; }
  private get peak() { return this.warmupTarget ?? this.initialLearningRate; }
  at(step: Tensor): Tensor {
    const decayed = (s: Tensor) => {
      const cosine = mul(add(cos(mul(div(minimum(s, this.decaySteps), this.decaySteps), Math.PI)), 1), 0.5);
      return mul(add(mul(cosine, 1 - this.alpha), this.alpha), this.peak);
    };
    if (!this.warmupSteps) return decayed(step);
    const warm = add(mul(step, (this.peak - this.initialLearningRate) / this.warmupSteps), this.initialLearningRate);
    return where(lt(step, this.warmupSteps), warm, decayed(sub(step, this.warmupSteps)));
  }
  valueAt(step: number): number {
    if (step < this.warmupSteps) return this.initialLearningRate + (this.peak - this.initialLearningRate) * step / this.warmupSteps;
    const s = Math.min(step - this.warmupSteps, this.decaySteps);
    return this.peak * ((1 - this.alpha) * 0.5 * (1 + Math.cos(Math.PI * s / this.decaySteps)) + this.alpha);
  }
}

export interface ExponentialDecayOptions { initialLearningRate: number; decaySteps: number; decayRate: number; staircase?: boolean }

/** Exponential decay: the rate is multiplied by `decayRate` every `decaySteps` steps (smoothly, or at once with `staircase`). */
export class ExponentialDecay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  constructor(o: ExponentialDecayOptions) {
    super();
    this.initialLearningRate = positive('ExponentialDecay', 'initialLearningRate', o.initialLearningRate);
    this.decaySteps = positive('ExponentialDecay', 'decaySteps', o.decaySteps);
    this.decayRate = positive('ExponentialDecay', 'decayRate', o.decayRate);
    this.staircase = o.staircase ?? false;
  }
  key() { return `exponential(${this.initialLearningRate},${this.decaySteps},${this.decayRate},${this.staircase})`; }
  at(step: Tensor): Tensor {
    const p = div(step, this.decaySteps);
    return mul(pow(this.decayRate, this.staircase ? floor(p) : p), this.initialLearningRate);
  }
  valueAt(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate * this.decayRate ** (this.staircase ? Math.floor(p) : p);
  }
}

export const cosineDecay = (o: CosineDecayOptions) => new CosineDecay(o);
export const exponentialDecay = (o: ExponentialDecayOptions) => new ExponentialDecay(o);
