/**
 * Optimizers as pure update functions over pytrees: `update(params, grads, state)` returns new
 * parameters and state (called eagerly, outside jit and grad, it also starts realizing them, so
 * they never chain into the next step's graph; reading the loss right after joins that program). Inside the jitted train step each parameter's update
 * (weight, momentum, second moment) is a handful of elementwise ops on tensors of one shape, so
 * the scheduler fuses them into one kernel per parameter with several outputs; nothing is
 * written in place, and `jit`'s donation recycles the old buffers.
 *
 * Update rules follow Keras 3 (so results match a Keras model step for step):
 *   SGD:       m = μ·m - lr·g;  w += m  (Nesterov: w += μ·m - lr·g);  without momentum w -= lr·g
 *   Adam:      m += (g - m)(1 - β1);  v += (g² - v)(1 - β2);
 *              w -= lr·sqrt(1 - β2^t)/(1 - β1^t) · m / (sqrt(v) + ε)
 *   AdamW:     Adam after the decoupled decay w -= lr·λ·w
 *   RMSprop:   v = ρ·v + (1 - ρ)·g²;  w -= lr·g / (sqrt(v) + ε)
 * `weightDecay` (decoupled, applied before the update) is accepted by every optimizer. The step
 * count t lives in the state as a float32 scalar tensor, so bias correction needs no retrace.
 * Hyperparameters are compile-time constants of the step (changing them builds a new step).
 * `learningRate` may also be a schedule (schedules.ts: CosineDecay, ExponentialDecay), a function
 * of the step count computed in the step itself: the rate at an update is schedule(t - 1), t
 * counting this update, and the decoupled decay uses that rate too (Keras). Optimizers without
 * a step counter (SGD, RMSprop) keep one in their state when given a schedule.
 * The new weight reads the new moments element for element, so the scheduler's sibling rule
 * (ir/schedule/rules.ts, `siblings`) computes weight and moments in one kernel, the moments once.
 */
import { TesseraError } from '../../ir/error.ts';
import { fromHost, realizeSoonAll, Tensor } from '../tensor.ts';
import { isTracing } from '../transforms.ts';
import { add, mul, pow, sqrt, sub, div, square } from '../elementwise.ts';
import { flatten, type PyTree } from '../pytree.ts';
import { LearningRateSchedule } from './schedules.ts';

export type OptState = { [k: string]: PyTree };
export interface OptimizerOptions { learningRate?: number | LearningRateSchedule; weightDecay?: number }
/** The learning rate of one update: a number, or a scalar tensor (a schedule's value at this step). */
export type Rate = number | Tensor;

const zerosOf = (t: Tensor) => fromHost(new Float32Array(t.size), 'float32', t.shape, 'opt');

export abstract class Optimizer {
  abstract readonly name: string;
  /** A number, or a LearningRateSchedule of the step count. */
  readonly learningRate: number | LearningRateSchedule;
  readonly weightDecay: number;
  constructor(defaultLr: number, opts: OptimizerOptions, defaultDecay = 0) {
    this.learningRate = opts.learningRate ?? defaultLr;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
    const lr = this.learningRate;
    if (!(lr instanceof LearningRateSchedule) && (!(lr > 0) || !Number.isFinite(lr)))
      throw new TesseraError('optimizer', `learningRate must be a positive number or a learning-rate schedule, got ${opts.learningRate}`, 'for example 0.001, or nn.cosineDecay({initialLearningRate: 0.001, decaySteps: 1000})');
    if (!(this.weightDecay >= 0)) throw new TesseraError('optimizer', `weightDecay must be >= 0, got ${opts.weightDecay}`);
  }
  /** The hyperparameters: steps compiled for equal keys are shared between models. */
  abstract key(): string;
  /** The learning rate as it appears in key(). */
  protected get lrKey(): string { return typeof this.learningRate === 'number' ? String(this.learningRate) : this.learningRate.key(); }
  /** Whether the state holds a step counter (always for Adam's bias correction; with a schedule for all). */
  protected get counts(): boolean { return this.learningRate instanceof LearningRateSchedule; }
  /** Fresh state (zeros) for a parameter tree: the optimizer's slots, and the step counter where it counts. */
  init(params: PyTree): OptState {
    const slots = this.slots(flatten(params).leaves);
    return this.counts ? { step: fromHost(new Float32Array(1), 'float32', [], 'opt'), ...slots } : slots;
  }
  /** One step: per-leaf updates of a parameter tree and its gradient tree (same structure). */
  update(params: PyTree, grads: PyTree, state: OptState): { params: any; state: OptState } {
    const p = flatten(params), g = flatten(grads);
    if (p.structure !== g.structure) throw new TesseraError('optimizer', 'gradients do not have the structure of the parameters');
    const count = this.counts ? state.step as Tensor | undefined : undefined;
    if (this.counts && !count) throw new TesseraError('optimizer', `${this.name}'s state has no step counter`, 'make the state with this optimizer\'s init()');
    const t = count ? add(count, 1) : null;
    const lr: Rate = typeof this.learningRate === 'number' ? this.learningRate : this.learningRate.at(count!);
    const decayed = p.leaves.map((w) => (this.weightDecay ? sub(w, mul(w, typeof lr === 'number' ? lr * this.weightDecay : mul(lr, this.weightDecay))) : w));
    const r = this.step(decayed, g.leaves, state, lr, t);
    const s: OptState = t ? { step: t, ...r.state } : r.state;
    // Eagerly (not in jit or grad), the step is realized, as an optimizer step is elsewhere: the new
    // parameters and state never chain into the next step's graph. Reads made right after join it.
    if (!isTracing()) realizeSoonAll([...r.leaves, ...flatten(s).leaves]);
    return { params: p.unflatten(r.leaves), state: s };
  }
  /** Zeros for the optimizer's own slots (moments), per parameter leaf. */
  protected abstract slots(leaves: Tensor[]): OptState;
  /** The update of each leaf at rate `lr`; `t` (this update's number, from 1) where the state counts steps. Returns the new slots. */
  protected abstract step(w: Tensor[], g: Tensor[], state: OptState, lr: Rate, t: Tensor | null): { leaves: Tensor[]; state: OptState };
}

export interface SGDOptions extends OptimizerOptions { momentum?: number; nesterov?: boolean }
export class SGD extends Optimizer {
  readonly name = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(opts: SGDOptions = {}) {
    super(0.01, opts);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new TesseraError('SGD', `momentum must be in [0, 1), got ${opts.momentum}`);
  }
  key() { return `sgd(${this.lrKey},${this.momentum},${this.nesterov},${this.weightDecay})`; }
  protected slots(leaves: Tensor[]): OptState { return this.momentum ? { m: leaves.map(zerosOf) } : {}; }
  protected step(w: Tensor[], g: Tensor[], state: OptState, lr: Rate) {
    const mu = this.momentum;
    if (!mu) return { leaves: w.map((wi, i) => sub(wi, mul(g[i]!, lr))), state: {} };
    const m = (state.m as Tensor[]).map((mi, i) => sub(mul(mi, mu), mul(g[i]!, lr)));
    const leaves = w.map((wi, i) => (this.nesterov ? add(wi, sub(mul(m[i]!, mu), mul(g[i]!, lr))) : add(wi, m[i]!)));
    return { leaves, state: { m } };
  }
}

export interface AdamOptions extends OptimizerOptions { beta1?: number; beta2?: number; epsilon?: number }
export class Adam extends Optimizer {
  readonly name: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(opts: AdamOptions = {}, defaultDecay = 0) {
    super(0.001, opts, defaultDecay);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const)
      if (!(v >= 0 && v < 1)) throw new TesseraError(this.name, `${k} must be in [0, 1), got ${v}`);
  }
  key() { return `${this.name}(${this.lrKey},${this.beta1},${this.beta2},${this.epsilon},${this.weightDecay})`; }
  protected override get counts() { return true; }
  protected slots(leaves: Tensor[]): OptState { return { m: leaves.map(zerosOf), v: leaves.map(zerosOf) }; }
  protected step(w: Tensor[], g: Tensor[], state: OptState, lr: Rate, t: Tensor | null) {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    // alpha = lr * sqrt(1 - b2^t) / (1 - b1^t): a scalar expression, inlined into each update kernel.
    const alpha = div(mul(sqrt(sub(1, pow(b2, t!))), lr), sub(1, pow(b1, t!)));
    const m = (state.m as Tensor[]).map((mi, i) => add(mi, mul(sub(g[i]!, mi), 1 - b1)));
    const v = (state.v as Tensor[]).map((vi, i) => add(vi, mul(sub(square(g[i]!), vi), 1 - b2)));
    const leaves = w.map((wi, i) => sub(wi, div(mul(m[i]!, alpha), add(sqrt(v[i]!), eps))));
    return { leaves, state: { m, v } };
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); Keras's default decay is 0.004. */
export class AdamW extends Adam {
  override readonly name: string = 'AdamW';
  constructor(opts: AdamOptions = {}) { super(opts, 0.004); }
}

export interface RMSpropOptions extends OptimizerOptions { rho?: number; epsilon?: number }
/** RMSprop (Keras defaults; no momentum, not centered): v = ρ·v + (1 - ρ)·g²;  w -= lr·g / (sqrt(v) + ε). */
export class RMSprop extends Optimizer {
  readonly name = 'RMSprop';
  readonly rho: number;
  readonly epsilon: number;
  constructor(opts: RMSpropOptions = {}) {
    super(0.001, opts);
    this.rho = opts.rho ?? 0.9;
    this.epsilon = opts.epsilon ?? 1e-7;
  }
  key() { return `rmsprop(${this.lrKey},${this.rho},${this.epsilon},${this.weightDecay})`; }
  protected slots(leaves: Tensor[]): OptState { return { v: leaves.map(zerosOf) }; }
  protected step(w: Tensor[], g: Tensor[], state: OptState, lr: Rate) {
    const v = (state.v as Tensor[]).map((vi, i) => add(mul(vi, this.rho), mul(square(g[i]!), 1 - this.rho)));
    return { leaves: w.map((wi, i) => sub(wi, div(mul(g[i]!, lr), add(sqrt(v[i]!), this.epsilon)))), state: { v } };
  }
}

export const sgd = (opts: SGDOptions = {}) => new SGD(opts);
export const adam = (opts: AdamOptions = {}) => new Adam(opts);
export const adamw = (opts: AdamOptions = {}) => new AdamW(opts);
export const rmsprop = (opts: RMSpropOptions = {}) => new RMSprop(opts);

export type OptimizerSpec = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | Optimizer;
/** An optimizer from a name ('sgd', 'adam', 'adamw', 'rmsprop'; Keras defaults; 'rmsprop' when omitted, as Keras) or an instance. */
export function getOptimizer(spec: OptimizerSpec | string | undefined): Optimizer {
  if (spec instanceof Optimizer) return spec;
  switch (String(spec ?? 'rmsprop').toLowerCase()) {
    case 'sgd': return new SGD();
    case 'adam': return new Adam();
    case 'adamw': return new AdamW();
    case 'rmsprop': return new RMSprop();
  }
  throw new TesseraError('compile', `unknown optimizer '${spec}'`, "use 'sgd', 'adam', 'adamw', 'rmsprop', or an instance such as new nn.Adam({learningRate: 0.01})");
}
