/**
 * Losses (Keras names and semantics). Each is a pure function of (labels, predictions) built from
 * fusable ops, reduced to a scalar (the batch mean) by default.
 *
 * Numerical stability: with `fromLogits: true` the cross-entropies never form a probability:
 * binary uses softplus(z) - y·z, the categorical ones logSoftmax (a max-subtracted logsumexp).
 * On probabilities they clip to [1e-7, 1 - 1e-7] first, as Keras does. Model.compile goes one step
 * further: when the model ends in sigmoid/softmax and the loss is given probabilities, training
 * computes the loss from the pre-activation logits instead (same value, stable gradients).
 *
 * Label shapes are checked when the loss is built into a graph (and by fit, before any step):
 * a mismatch is a TesseraError naming the loss, both shapes and the fix.
 */
import { isFloat } from '../../ir/dtype.ts';
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { shapesEqual, type Shape } from '../../ir/shape.ts';
import { arange, tensor } from '../creation.ts';
import { abs, castTo, clip, div, eq, log, maximum, mul, ne, neg, square, sub, add, softplus } from '../elementwise.ts';
import { hostDataOf } from '../../runtime/storage.ts';
import { reshape, unsqueeze } from '../movement.ts';
import { mean, sum } from '../reduce.ts';
import { Tensor } from '../tensor.ts';
import { logSoftmax } from './functional.ts';
import type { NestedArray } from '../tensor.ts';

export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions { reduction?: Reduction }
export interface CrossentropyOptions extends LossOptions { fromLogits?: boolean }
export interface SparseCrossentropyOptions extends CrossentropyOptions {
  /** A label value that contributes nothing (Keras's ignore_class, PyTorch's ignore_index; e.g. -100 for unmasked tokens in masked-language-model training). */
  ignoreClass?: number;
}
/** What labels a loss reads: one per output (binary, regression), one-hot rows, or class indices. */
export type LossKind = 'binary' | 'categorical' | 'sparse' | 'regression' | 'custom';
export type Labels = Tensor | NestedArray;

const EPS = 1e-7;

const asTensor = (x: Labels, op: string): Tensor => {
  if (x instanceof Tensor) return x;
  if (Array.isArray(x) || typeof x === 'number') return tensor(x as NestedArray);
  throw new TesseraError(op, `expected a Tensor or nested arrays, got ${typeof x}`);
};

/**
 * Checks labels against predictions for a loss of `kind`; returns the shape the labels are read
 * as (binary/regression labels [B] against predictions [B, 1] are accepted and reshaped).
 */
export function checkLabels(name: string, kind: LossKind, labels: Shape, preds: Shape): Shape {
  const L = fmtShape(labels), P = fmtShape(preds);
  const lead = preds.slice(0, -1), C = preds[preds.length - 1];
  const fail = (fix: string): never => { throw new TesseraError(name, `labels of shape ${L} do not match predictions of shape ${P}`, fix); };
  switch (kind) {
    case 'custom': return labels;
    case 'binary': case 'regression':
      if (shapesEqual(labels, preds)) return labels;
      if (C === 1 && shapesEqual(labels, lead)) return preds;
      return fail(kind === 'binary'
        ? `give one 0/1 label per prediction: labels of shape ${P}${C === 1 ? ` (or ${fmtShape(lead)})` : ''}; for ${C} classes use categoricalCrossentropy (one-hot labels) or sparseCategoricalCrossentropy (class indices)`
        : `give targets of the prediction shape ${P}`);
    case 'categorical':
      if (preds.length === 0) return fail('predictions need a class axis (the last axis)');
      if (shapesEqual(labels, preds)) return labels;
      if (shapesEqual(labels, lead) || shapesEqual(labels, [...lead, 1]))
        return fail(`these look like integer class labels: use sparseCategoricalCrossentropy, or one-hot encode them to shape ${P}`);
      return fail(`give one-hot labels of shape ${P}`);
    case 'sparse':
      if (preds.length === 0) return fail('predictions need a class axis (the last axis)');
      if (shapesEqual(labels, lead) || shapesEqual(labels, [...lead, 1])) return lead;
      if (shapesEqual(labels, preds) && C !== 1)
        return fail(`these look like one-hot labels: use categoricalCrossentropy, or pass class indices of shape ${fmtShape(lead)}`);
      return fail(`give integer class indices of shape ${fmtShape(lead)} (or ${fmtShape([...lead, 1])})`);
  }
}

function prepare(name: string, kind: LossKind, yTrue: Labels, yPred: Tensor): [Tensor, Tensor] {
  if (!(yPred instanceof Tensor)) throw new TesseraError(name, `predictions must be a Tensor, got ${typeof yPred}`);
  const p = isFloat(yPred.dtype) ? yPred : castTo(yPred, 'float32');
  const y = asTensor(yTrue, name);
  const shape = checkLabels(name, kind, y.shape, p.shape);
  const yf = y.dtype === p.dtype ? y : castTo(y, p.dtype);
  return [shapesEqual(yf.shape, shape) ? yf : reshape(yf, shape), p];
}

function reduce(perSample: Tensor, r: Reduction = 'mean'): Tensor {
  if (r === 'none') return perSample;
  if (r === 'sum') return sum(perSample);
  return mean(perSample);
}
/** Elementwise losses are averaged over the last axis per sample (Keras), then reduced. */
const lastAxisMean = (t: Tensor) => (t.rank === 0 ? t : mean(t, -1));

/** One-hot rows [..., C] for class indices [...] (float, compared in the predictions' dtype). */
function oneHot(labels: Tensor, classes: number, like: Tensor): Tensor {
  const ids = castTo(arange(classes), like.dtype);
  return castTo(eq(unsqueeze(labels, -1), ids), like.dtype);
}

/** Binary cross-entropy: labels in [0, 1], predictions probabilities (or logits with fromLogits). */
export function binaryCrossentropy(yTrue: Labels, yPred: Tensor, opts: CrossentropyOptions = {}): Tensor {
  const [y, p] = prepare('binaryCrossentropy', 'binary', yTrue, yPred);
  let l: Tensor;
  if (opts.fromLogits) l = sub(softplus(p), mul(y, p)); // = max(z,0) - y z + log(1 + e^-|z|)
  else {
    const q = clip(p, EPS, 1 - EPS);
    l = neg(add(mul(y, log(q)), mul(sub(1, y), log(sub(1, q)))));
  }
  return reduce(lastAxisMean(l), opts.reduction);
}

/** Categorical cross-entropy: one-hot (or soft) labels over the last axis. */
export function categoricalCrossentropy(yTrue: Labels, yPred: Tensor, opts: CrossentropyOptions = {}): Tensor {
  const [y, p] = prepare('categoricalCrossentropy', 'categorical', yTrue, yPred);
  const logp = opts.fromLogits ? logSoftmax(p) : log(clip(div(p, sum(p, -1, true)), EPS, 1 - EPS));
  return reduce(neg(sum(mul(y, logp), -1)), opts.reduction);
}

/**
 * Throws when sparse labels are not class indices: each must be an integer in [0, classes) (or
 * the ignored class). Run on the host copy of the labels (fit checks all of them before training;
 * the loss function checks labels made from JS data), since a label out of range would otherwise
 * select no class and train silently with loss 0.
 */
export function checkSparseLabels(name: string, labels: ArrayLike<number>, classes: number, ignoreClass?: number): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v === ignoreClass) continue;
    if (!(Number.isInteger(v) && v >= 0 && v < classes))
      throw new TesseraError(name, `label ${v} (at index ${i}) is not a class index in [0, ${classes - 1}]: the predictions have ${classes} classes`,
        `give integer labels 0..${classes - 1}, make the last layer output one value per class${ignoreClass === undefined ? ', or mark labels to skip with ignoreClass' : ''}`);
  }
}

/** Sparse categorical cross-entropy: integer class indices (int or float dtype) against [..., C] predictions. */
export function sparseCategoricalCrossentropy(yTrue: Labels, yPred: Tensor, opts: SparseCrossentropyOptions = {}): Tensor {
  const name = 'sparseCategoricalCrossentropy';
  const [y, p] = prepare(name, 'sparse', yTrue, yPred);
  const C = p.shape[p.rank - 1]!;
  const host = yTrue instanceof Tensor ? hostLabels(yTrue) : flatLabels(yTrue);
  if (host) checkSparseLabels(name, host, C, opts.ignoreClass);
  const logp = opts.fromLogits ? logSoftmax(p) : log(clip(div(p, sum(p, -1, true)), EPS, 1 - EPS));
  const hot = oneHot(y, C, p);
  const per = neg(sum(mul(hot, logp), -1));
  if (opts.ignoreClass === undefined) return reduce(per, opts.reduction);
  const keep = castTo(ne(y, opts.ignoreClass), p.dtype), kept = mul(per, keep);
  if ((opts.reduction ?? 'mean') !== 'mean') return reduce(kept, opts.reduction);
  return div(sum(kept), maximum(sum(keep), 1)); // the mean over the labels not ignored
}

const flatLabels = (x: NestedArray): number[] => (Array.isArray(x) ? x.flatMap(flatLabels) : [+x]);
/** The labels' values when they live on the host (made from JS data), else null (computed on the device: not read back). */
function hostLabels(t: Tensor): ArrayLike<number> | null {
  const n = t.node;
  return n.op === 'input' ? (hostDataOf(n) ?? null) : null;
}

export function meanSquaredError(yTrue: Labels, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const [y, p] = prepare('meanSquaredError', 'regression', yTrue, yPred);
  return reduce(lastAxisMean(square(sub(p, y))), opts.reduction);
}

export function meanAbsoluteError(yTrue: Labels, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const [y, p] = prepare('meanAbsoluteError', 'regression', yTrue, yPred);
  return reduce(lastAxisMean(abs(sub(p, y))), opts.reduction);
}

// ---- loss objects (what compile() holds) ----------------------------------------------------

export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** A configured loss: callable through `call`, with what the model needs to know about it. */
export class Loss {
  constructor(
    readonly name: string,
    readonly kind: LossKind,
    readonly fn: (yTrue: Labels, yPred: Tensor, fromLogits: boolean) => Tensor,
    readonly fromLogits = false,
    /** Identifies the computation for sharing compiled steps between models; null (the default for user losses): never shared. */
    readonly key: string | null = null,
  ) {}
  call(yTrue: Labels, yPred: Tensor): Tensor { return this.fn(yTrue, yPred, this.fromLogits); }
  /** Throws the loss's TesseraError when labels of shape `labels` cannot go with predictions of shape `preds`. */
  check(labels: Shape, preds: Shape): void { checkLabels(this.name, this.kind, labels, preds); }
  /** Throws when label values cannot be read (sparse labels out of range); fit runs it on the host data before training. */
  checkValues(labels: ArrayLike<number>, _labelShape: Shape, preds: Shape): void {
    if (this.kind === 'sparse') checkSparseLabels(this.name, labels, preds[preds.length - 1]!, this.ignoreClass);
  }
  /** The ignored label value of a sparse loss (see SparseCrossentropyOptions). */
  get ignoreClass(): number | undefined { return undefined; }
  /** The activation whose input this loss can read instead (sigmoid for binary, softmax for categorical). */
  get logitsOf(): 'sigmoid' | 'softmax' | null {
    if (this.fromLogits) return null;
    return this.kind === 'binary' ? 'sigmoid' : this.kind === 'categorical' || this.kind === 'sparse' ? 'softmax' : null;
  }
  /** This loss computed from logits. */
  onLogits(logits: Tensor, yTrue: Labels): Tensor { return this.fn(yTrue, logits, true); }
}

export class BinaryCrossentropy extends Loss {
  constructor(opts: { fromLogits?: boolean } = {}) { super('binaryCrossentropy', 'binary', (y, p, fl) => binaryCrossentropy(y, p, { fromLogits: fl }), !!opts.fromLogits, `binaryCrossentropy(${!!opts.fromLogits})`); }
}
export class CategoricalCrossentropy extends Loss {
  constructor(opts: { fromLogits?: boolean } = {}) { super('categoricalCrossentropy', 'categorical', (y, p, fl) => categoricalCrossentropy(y, p, { fromLogits: fl }), !!opts.fromLogits, `categoricalCrossentropy(${!!opts.fromLogits})`); }
}
export class SparseCategoricalCrossentropy extends Loss {
  private readonly ignored: number | undefined;
  constructor(opts: { fromLogits?: boolean; ignoreClass?: number } = {}) {
    const ig = opts.ignoreClass;
    super('sparseCategoricalCrossentropy', 'sparse', (y, p, fl) => sparseCategoricalCrossentropy(y, p, { fromLogits: fl, ignoreClass: ig }), !!opts.fromLogits,
      `sparseCategoricalCrossentropy(${!!opts.fromLogits},${ig})`);
    this.ignored = ig;
  }
  override get ignoreClass(): number | undefined { return this.ignored; }
}
export class MeanSquaredError extends Loss {
  constructor() { super('meanSquaredError', 'regression', (y, p) => meanSquaredError(y, p), false, 'meanSquaredError'); }
}
export class MeanAbsoluteError extends Loss {
  constructor() { super('meanAbsoluteError', 'regression', (y, p) => meanAbsoluteError(y, p), false, 'meanAbsoluteError'); }
}

const BY_NAME: Record<string, () => Loss> = {
  binaryCrossentropy: () => new BinaryCrossentropy(),
  categoricalCrossentropy: () => new CategoricalCrossentropy(),
  sparseCategoricalCrossentropy: () => new SparseCategoricalCrossentropy(),
  meanSquaredError: () => new MeanSquaredError(), mse: () => new MeanSquaredError(),
  meanAbsoluteError: () => new MeanAbsoluteError(), mae: () => new MeanAbsoluteError(),
};
export type LossName = 'binaryCrossentropy' | 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'meanSquaredError' | 'mse' | 'meanAbsoluteError' | 'mae';
export type LossSpec = LossName | Loss | LossFn;

const customIds = new WeakMap<object, number>();
let nextCustom = 0;
/** A unique key for a user function (steps compiled for it are shared only with itself). */
export const identityKey = (f: object) => { if (!customIds.has(f)) customIds.set(f, nextCustom++); return `fn#${customIds.get(f)}`; };

/** A Loss from a name ('binaryCrossentropy' or 'binary_crossentropy'), a Loss, or a function (yTrue, yPred) => scalar. */
export function getLoss(spec: LossSpec | string): Loss {
  if (spec instanceof Loss) return spec;
  if (typeof spec === 'function') return new Loss(spec.name || 'loss', 'custom', (y, p) => spec(asTensor(y, 'loss'), p), false, identityKey(spec));
  const name = String(spec).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const make = BY_NAME[name];
  if (!make) throw new TesseraError('compile', `unknown loss '${spec}'`, `use one of ${Object.keys(BY_NAME).join(', ')}, a Loss, or a function (yTrue, yPred) => scalar Tensor`);
  return make();
}
