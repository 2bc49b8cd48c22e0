/**
 * Metrics: pure functions (labels, predictions) -> the batch mean as a scalar tensor, so they are
 * computed inside the jitted train step next to the loss and summed on the device; fit reads all
 * of them back once per epoch. 'accuracy' picks its variant from the loss, as Keras does: binary
 * (threshold 0.5, or 0 when the loss reads logits), categorical (argmax of one-hot labels) or
 * sparse categorical (argmax against class indices).
 */
import { TesseraError } from '../../ir/error.ts';
import { castTo, eq, gt } from '../elementwise.ts';
import { reshape } from '../movement.ts';
import { argmax, mean } from '../reduce.ts';
import type { Tensor } from '../tensor.ts';
import { checkLabels, identityKey, meanAbsoluteError, meanSquaredError, type Loss, type LossKind } from './losses.ts';

export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
export interface Metric { readonly name: string; readonly fn: MetricFn; readonly key: string | null }
export type MetricSpec = 'accuracy' | 'acc' | 'binaryAccuracy' | 'categoricalAccuracy' | 'sparseCategoricalAccuracy'
  | 'mse' | 'mae' | 'meanSquaredError' | 'meanAbsoluteError' | MetricFn | Metric;

const labelsAs = (name: string, kind: LossKind, y: Tensor, p: Tensor) => {
  const shape = checkLabels(name, kind, y.shape, p.shape);
  return y.shape.join() === shape.join() ? y : reshape(y, shape);
};
const f32 = (t: Tensor) => castTo(t, 'float32');

/** Fraction of predictions on the same side of `threshold` as the 0/1 labels. */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  const y = labelsAs('binaryAccuracy', 'binary', yTrue, yPred);
  return mean(f32(eq(f32(gt(yPred, threshold)), f32(y))));
}
/** Fraction of rows whose argmax matches the one-hot labels' argmax. */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const y = labelsAs('categoricalAccuracy', 'categorical', yTrue, yPred);
  return mean(f32(eq(argmax(y, -1), argmax(yPred, -1))));
}
/** Fraction of rows whose argmax is the class index label. */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const y = labelsAs('sparseCategoricalAccuracy', 'sparse', yTrue, yPred);
  return mean(f32(eq(f32(argmax(yPred, -1)), f32(y))));
}

/** 'accuracy' for a loss whose kind is unknown (custom, regression): chosen from the shapes. */
function accuracyByShape(yTrue: Tensor, yPred: Tensor): Tensor {
  const C = yPred.shape[yPred.rank - 1] ?? 1;
  if (C === 1) return binaryAccuracy(yTrue, yPred);
  if (yTrue.shape.join() === yPred.shape.join()) return categoricalAccuracy(yTrue, yPred);
  return sparseCategoricalAccuracy(yTrue, yPred);
}

/** A Metric for a name or function, given the compiled loss (which picks the accuracy variant). */
export function getMetric(spec: MetricSpec | string, loss: Loss): Metric {
  if (typeof spec === 'object' && spec && 'fn' in spec) return spec;
  if (typeof spec === 'function') return { name: spec.name || 'metric', fn: spec, key: identityKey(spec) };
  const name = String(spec).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const threshold = loss.fromLogits ? 0 : 0.5;
  const acc = (fn: MetricFn): Metric => ({ name: String(spec), fn, key: `${name}:${loss.kind}:${threshold}` });
  switch (name) {
    case 'accuracy': case 'acc':
      if (loss.kind === 'binary') return acc((y, p) => binaryAccuracy(y, p, threshold));
      if (loss.kind === 'categorical') return acc(categoricalAccuracy);
      if (loss.kind === 'sparse') return acc(sparseCategoricalAccuracy);
      return acc(accuracyByShape);
    case 'binaryAccuracy': return acc((y, p) => binaryAccuracy(y, p, threshold));
    case 'categoricalAccuracy': return acc(categoricalAccuracy);
    case 'sparseCategoricalAccuracy': return acc(sparseCategoricalAccuracy);
    case 'mse': case 'meanSquaredError': return { name: String(spec), fn: (y, p) => meanSquaredError(y, p), key: 'mse' };
    case 'mae': case 'meanAbsoluteError': return { name: String(spec), fn: (y, p) => meanAbsoluteError(y, p), key: 'mae' };
  }
  throw new TesseraError('compile', `unknown metric '${spec}'`,
    "use 'accuracy', 'binaryAccuracy', 'categoricalAccuracy', 'sparseCategoricalAccuracy', 'mse', 'mae', or a function (yTrue, yPred) => scalar Tensor");
}
