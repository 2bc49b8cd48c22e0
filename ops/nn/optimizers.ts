/**
 * Optimizers as pure update functions over pytrees: `update(params, grads, state)` returns new
 * parameters and state as lazy tensors. Inside the jitted train step each parameter's update
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
 * The new weight reads the new moments element for element, so the scheduler's sibling rule
 * (ir/schedule/rules.ts, `siblings`) computes weight and moments in one kernel, the moments once.
 */
import { TesseraError } from '../../ir/error.ts';
import { fromHost, Tensor } from '../tensor.ts';
import { add, mul, pow, sqrt, sub, div, square } from '../elementwise.ts';
import { flatten, type PyTree } from '../pytree.ts';

export type OptState = { [k: string]: PyTree };
export interface OptimizerOptions { learningRate?: number; weightDecay?: number }

const zerosOf = (t: Tensor) => fromHost(new Float32Array(t.size), 'float32', t.shape, 'opt');

export abstract class Optimizer {
  abstract readonly name: string;
  readonly learningRate: number;
  readonly weightDecay: number;
  constructor(defaultLr: number, opts: OptimizerOptions, defaultDecay = 0) {
    this.learningRate = opts.learningRate ?? defaultLr;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
    if (!(this.learningRate > 0) || !Number.isFinite(this.learningRate)) throw new TesseraError('optimizer', `learningRate must be a positive number, got ${opts.learningRate}`);
    if (!(this.weightDecay >= 0)) throw new TesseraError('optimizer', `weightDecay must be >= 0, got ${opts.weightDecay}`);
  }
  /** The hyperparameters: steps compiled for equal keys are shared between models. */
  abstract key(): string;
  /** Fresh state (zeros) for a parameter tree. */
  abstract init(params: PyTree): OptState;
  /** One step: per-leaf updates of a parameter tree and its gradient tree (same structure). */
  update(params: PyTree, grads: PyTree, state: OptState): { params: any; state: OptState } {
    const p = flatten(params), g = flatten(grads);
    if (p.structure !== g.structure) throw new TesseraError('optimizer', 'gradients do not have the structure of the parameters');
    const { leaves, state: s } = this.step(p.leaves.map((w) => (this.weightDecay ? sub(w, mul(w, this.learningRate * this.weightDecay)) : w)), g.leaves, state);
    return { params: p.unflatten(leaves), state: s };
  }
  protected abstract step(w: Tensor[], g: Tensor[], state: OptState): { leaves: Tensor[]; state: OptState };
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
  key() { return `sgd(${this.learningRate},${this.momentum},${this.nesterov},${this.weightDecay})`; }
  init(params: PyTree): OptState {
    return this.momentum ? { m: flatten(params).leaves.map(zerosOf) } : {};
  }
  protected step(w: Tensor[], g: Tensor[], state: OptState) {
    const lr = this.learningRate, mu = this.momentum;
    if (!mu) return { leaves: w.map((wi, i) => sub(wi, mul(g[i]!, lr))), state: {} };
    const m = (state.m as Tensor[]).map((mi, i) => add(mul(mi, mu), mul(g[i]!, -lr)));
    const leaves = w.map((wi, i) => (this.nesterov ? add(wi, add(mul(m[i]!, mu), mul(g[i]!, -lr))) : add(wi, m[i]!)));
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
  key() { return `${this.name}(${this.learningRate},${this.beta1},${this.beta2},${this.epsilon},${this.weightDecay})`; }
  init(params: PyTree): OptState {
    const leaves = flatten(params).leaves;
    return { step: fromHost(new Float32Array(1), 'float32', [], 'opt'), m: leaves.map(zerosOf), v: leaves.map(zerosOf) };
  }
  protected step(w: Tensor[], g: Tensor[], state: OptState) {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const t = add(state.step as Tensor, 1);
    // alpha = lr * sqrt(1 - b2^t) / (1 - b1^t): a scalar expression, inlined into each update kernel.
    const alpha = div(mul(sqrt(sub(1, pow(b2, t))), this.learningRate), sub(1, pow(b1, t)));
    const m = (state.m as Tensor[]).map((mi, i) => add(mi, mul(sub(g[i]!, mi), 1 - b1)));
    const v = (state.v as Tensor[]).map((vi, i) => add(vi, mul(sub(square(g[i]!), vi), 1 - b2)));
    const leaves = w.map((wi, i) => sub(wi, div(mul(m[i]!, alpha), add(sqrt(v[i]!), eps))));
    return { leaves, state: { step: t, m, v } };
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
  key() { return `rmsprop(${this.learningRate},${this.rho},${this.epsilon},${this.weightDecay})`; }
  init(params: PyTree): OptState { return { v: flatten(params).leaves.map(zerosOf) }; }
  protected step(w: Tensor[], g: Tensor[], state: OptState) {
    const v = (state.v as Tensor[]).map((vi, i) => add(mul(vi, this.rho), mul(square(g[i]!), 1 - this.rho)));
    return { leaves: w.map((wi, i) => sub(wi, div(mul(g[i]!, this.learningRate), add(sqrt(v[i]!), this.epsilon)))), state: { v } };
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
