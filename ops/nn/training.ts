/**
 * Train, eval and predict steps as pure functions, and their jitted forms.
 *
 * `trainStep(spec)` is `(params, optState, x, y, seed?) => {params, optState, loss, metrics}`:
 * forward in training mode, backward (valueAndGrad) and the optimizer update, all lazy. `seed` (a
 * uint32 scalar tensor) feeds the layers that draw random numbers (Dropout); eval and predict run
 * the forward pass in inference mode, without one. fit jits a wrapper of the step that also adds
 * the batch's loss and metric sums to an accumulator vector, and donates the state (params,
 * optimizer state, accumulator), so one batch is one submit with no readback and no buffer
 * growth; the host reads the accumulator once per epoch. The seed is an argument of the jitted
 * step (a new 4-byte value per step, never a retrace).
 *
 * Jitted steps are cached process-wide by a key describing the computation (layer configs, loss,
 * metrics, optimizer hyperparameters): a second model of the same architecture reuses the traces
 * and compiled programs of the first. Anything not describable (a user function) gets a unique key.
 */
import { jit, valueAndGrad, type Jitted } from '../transforms.ts';
import { add, mul } from '../elementwise.ts';
import { stack } from '../movement.ts';
import type { Tensor } from '../tensor.ts';
import type { ActivationName } from './activations.ts';
import type { ApplyContext, Params } from './layers.ts';
import type { Loss } from './losses.ts';
import type { Metric } from './metrics.ts';
import type { Optimizer, OptState } from './optimizers.ts';

/** A model's forward pass: the output, and (when the last op is an activation) its input. */
export interface Forward { out: Tensor; pre: { z: Tensor; activation: ActivationName } | null }
export type ForwardFn = (params: Params[], x: Tensor, ctx?: ApplyContext) => Forward;

export interface StepSpec { forward: ForwardFn; loss: Loss; metrics: readonly Metric[]; optimizer: Optimizer }
export interface StepResult { params: Params[]; optState: OptState; loss: Tensor; metrics: Record<string, Tensor> }

/** The loss of a forward pass; reads the logits when the model ends in the activation the loss can absorb. */
export function lossOf(loss: Loss, fw: Forward, y: Tensor): Tensor {
  const a = loss.logitsOf;
  if (a && fw.pre && fw.pre.activation === a) return loss.onLogits(fw.pre.z, y);
  return loss.call(y, fw.out);
}

function metricsOf(metrics: readonly Metric[], y: Tensor, out: Tensor): Record<string, Tensor> {
  return Object.fromEntries(metrics.map((m) => [m.name, m.fn(y, out)]));
}

/** The pure train step (eager or jitted alike); `seed` is needed by models with Dropout. */
export function trainStep(spec: StepSpec) {
  return (params: Params[], optState: OptState, x: Tensor, y: Tensor, seed?: Tensor): StepResult => {
    const ctx: ApplyContext = { training: true, seed };
    const [loss, grads] = valueAndGrad((p: Params[]) => lossOf(spec.loss, spec.forward(p, x, ctx), y))(params);
    // Same nodes as inside the gradient's forward pass (hash-consing, same masks), so no recomputation.
    const metrics = metricsOf(spec.metrics, y, spec.forward(params, x, ctx).out);
    const next = spec.optimizer.update(params, grads, optState);
    return { params: next.params, optState: next.state, loss, metrics };
  };
}

/** The pure eval step: loss and metrics of a batch. */
export function evalStep(spec: Omit<StepSpec, 'optimizer'>) {
  return (params: Params[], x: Tensor, y: Tensor) => {
    const fw = spec.forward(params, x);
    return { loss: lossOf(spec.loss, fw, y), metrics: metricsOf(spec.metrics, y, fw.out) };
  };
}

/** Adds [loss, ...metrics] × batch size to the accumulator (sums over the epoch). */
const accumulate = (acc: Tensor, n: number, loss: Tensor, metrics: Record<string, Tensor>, names: readonly Metric[]) =>
  add(acc, mul(stack([loss, ...names.map((m) => metrics[m.name]!)]), n));

export interface TrainState { params: Params[]; optState: OptState; acc: Tensor }
/** (state, x, y, seed) -> next state; the state is donated. */
export type TrainFn = Jitted<[TrainState, Tensor, Tensor, Tensor], TrainState>;
/** (params, acc, x, y) -> acc + batch sums; acc is donated. */
export type EvalFn = Jitted<[Params[], Tensor, Tensor, Tensor], Tensor>;
export type PredictFn = Jitted<[Params[], Tensor], Tensor>;

const caches = { train: new Map<string, TrainFn>(), evaluate: new Map<string, EvalFn>(), predict: new Map<string, PredictFn>() };
function cached<F>(m: Map<string, F>, key: string | null, make: () => F): F {
  if (key === null) return make();
  let f = m.get(key);
  if (!f) m.set(key, (f = make()));
  return f;
}

/** Keys of a model's computation, or null where some part is a user function (then nothing is shared). */
export interface StepKeys { forward: string | null; evaluate: string | null; train: string | null }

export function trainFn(key: string | null, spec: StepSpec): TrainFn {
  return cached(caches.train, key, () => {
    const step = trainStep(spec);
    return jit((s: TrainState, x: Tensor, y: Tensor, seed: Tensor): TrainState => {
      const r = step(s.params, s.optState, x, y, seed);
      return { params: r.params, optState: r.optState, acc: accumulate(s.acc, x.shape[0]!, r.loss, r.metrics, spec.metrics) };
    }, { donate: [0] });
  });
}

export function evalFn(key: string | null, spec: Omit<StepSpec, 'optimizer'>): EvalFn {
  return cached(caches.evaluate, key, () => {
    const ev = evalStep(spec);
    return jit((params: Params[], acc: Tensor, x: Tensor, y: Tensor) => {
      const r = ev(params, x, y);
      return accumulate(acc, x.shape[0]!, r.loss, r.metrics, spec.metrics);
    }, { donate: [1] });
  });
}

export function predictFn(key: string | null, forward: ForwardFn): PredictFn {
  return cached(caches.predict, key, () => jit((params: Params[], x: Tensor) => forward(params, x).out));
}
