/**
 * Train, eval and predict steps as pure functions, and their jitted forms.
 *
 * `trainStep(spec)` is `(params, optState, x, y, seed?, state?) => {params, optState, loss, metrics, state}`:
 * forward in training mode, backward (valueAndGrad) and the optimizer update, all lazy. `seed` (a
 * uint32 scalar tensor) feeds the layers that draw random numbers (Dropout); `state` is the
 * layers' non-trainable state (BatchNormalization's moving statistics), read by the forward pass
 * and returned updated, so the running statistics change inside the jitted step. Eval and predict
 * run the forward pass in inference mode (moving statistics, no dropout). fit jits a wrapper of
 * the step that also adds the batch's loss and metric sums to an accumulator vector, and donates
 * the state (params, optimizer state, layer state, accumulator), so one batch is one submit with
 * no readback and no buffer growth; the host reads the accumulator once per epoch.
 *
 * Models with several inputs and outputs: x and y are arrays (one tensor per input / output); the
 * loss is the weighted sum of one loss per output, and with several outputs each output's loss is
 * also reported as `<output>_loss` and each metric as `<output>_<metric>`.
 *
 * Jitted steps are cached process-wide by a key describing the computation (architecture, losses,
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

export type Pre = { z: Tensor; activation: ActivationName } | null;
/** A model's forward pass: one output per model output, the logits of those that end in an activation, the layers' new state. */
export interface Forward { outs: Tensor[]; pres: Pre[]; state: Params[] }
/** What a model's forward pass gets besides parameters and inputs: training mode, the step's seed, the layers' state. */
export interface ModelContext { readonly training?: boolean; readonly seed?: Tensor; readonly state?: Params[] }
export type ForwardFn = (params: Params[], xs: Tensor[], ctx?: ModelContext) => Forward;

/** A metric bound to one output of the model; `name` is what logs show. */
export interface OutputMetric extends Metric { readonly output: number }

export interface StepSpec {
  forward: ForwardFn;
  /** One loss per output. */
  losses: readonly Loss[];
  lossWeights: readonly number[];
  metrics: readonly OutputMetric[];
  /** Output names (per-output losses are reported as `<name>_loss` when there are several). */
  outputNames: readonly string[];
  optimizer: Optimizer;
}
export interface StepResult { params: Params[]; optState: OptState; loss: Tensor; metrics: Record<string, Tensor>; state: Params[] }

/** The names of the values a step reports besides the loss, in accumulator order. */
export function metricNames(spec: Pick<StepSpec, 'metrics' | 'outputNames'>): string[] {
  const perOutput = spec.outputNames.length > 1 ? spec.outputNames.map((o) => `${o}_loss`) : [];
  return [...perOutput, ...spec.metrics.map((m) => m.name)];
}

/** The loss of one output; reads the logits when the output ends in the activation the loss can absorb. */
export function lossOf(loss: Loss, out: Tensor, pre: Pre, y: Tensor): Tensor {
  const a = loss.logitsOf;
  if (a && pre && pre.activation === a) return loss.onLogits(pre.z, y);
  return loss.call(y, out);
}

const perOutputLosses = (spec: Pick<StepSpec, 'losses'>, fw: Forward, ys: readonly Tensor[]) =>
  spec.losses.map((l, i) => lossOf(l, fw.outs[i]!, fw.pres[i]!, ys[i]!));

function total(spec: Pick<StepSpec, 'lossWeights'>, ls: readonly Tensor[]): Tensor {
  let t = spec.lossWeights[0] === 1 ? ls[0]! : mul(ls[0]!, spec.lossWeights[0]!);
  for (let i = 1; i < ls.length; i++) t = add(t, spec.lossWeights[i] === 1 ? ls[i]! : mul(ls[i]!, spec.lossWeights[i]!));
  return t;
}

function reports(spec: Pick<StepSpec, 'metrics' | 'outputNames'>, ys: readonly Tensor[], outs: readonly Tensor[], ls: readonly Tensor[]): Record<string, Tensor> {
  const r: Record<string, Tensor> = {};
  if (spec.outputNames.length > 1) spec.outputNames.forEach((o, i) => { r[`${o}_loss`] = ls[i]!; });
  for (const m of spec.metrics) r[m.name] = m.fn(ys[m.output]!, outs[m.output]!);
  return r;
}

const asList = (t: Tensor | readonly Tensor[]): Tensor[] => (Array.isArray(t) ? [...t] : [t as Tensor]);

/** The pure train step (eager or jitted alike); `seed` is needed by models with Dropout, `state` by models with BatchNormalization (default: the layers' own). */
export function trainStep(spec: StepSpec, defaultState: () => Params[] = () => []) {
  return (params: Params[], optState: OptState, x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[], seed?: Tensor, state?: Params[]): StepResult => {
    const xs = asList(x), ys = asList(y);
    const ctx: ModelContext = { training: true, seed, state: state ?? defaultState() };
    const [loss, grads] = valueAndGrad((p: Params[]) => total(spec, perOutputLosses(spec, spec.forward(p, xs, ctx), ys)))(params);
    // Same nodes as inside the gradient's forward pass (hash-consing, same masks), so no recomputation.
    const fw = spec.forward(params, xs, ctx);
    const metrics = reports(spec, ys, fw.outs, perOutputLosses(spec, fw, ys));
    const next = spec.optimizer.update(params, grads, optState);
    return { params: next.params, optState: next.state, loss, metrics, state: fw.state };
  };
}

/** The pure eval step: loss and metrics of a batch (inference mode: moving statistics, no dropout). */
export function evalStep(spec: Omit<StepSpec, 'optimizer'>) {
  return (params: Params[], x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[], state?: Params[]) => {
    const ys = asList(y);
    const fw = spec.forward(params, asList(x), { state });
    const ls = perOutputLosses(spec, fw, ys);
    return { loss: total(spec, ls), metrics: reports(spec, ys, fw.outs, ls) };
  };
}

/** Adds [loss, ...metrics] × batch size to the accumulator (sums over the epoch). */
const accumulate = (acc: Tensor, n: number, loss: Tensor, metrics: Record<string, Tensor>, names: readonly string[]) =>
  add(acc, mul(stack([loss, ...names.map((m) => metrics[m]!)]), n));

export interface TrainState { params: Params[]; optState: OptState; state: Params[]; acc: Tensor }
/** (state, xs, ys, seed) -> next state; the state is donated. */
export type TrainFn = Jitted<[TrainState, Tensor[], Tensor[], Tensor], TrainState>;
/** (params, state, acc, xs, ys) -> acc + batch sums; acc is donated. */
export type EvalFn = Jitted<[Params[], Params[], Tensor, Tensor[], Tensor[]], Tensor>;
export type PredictFn = Jitted<[Params[], Params[], Tensor[]], Tensor[]>;

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
    const step = trainStep(spec), names = metricNames(spec);
    return jit((s: TrainState, xs: Tensor[], ys: Tensor[], seed: Tensor): TrainState => {
      const r = step(s.params, s.optState, xs, ys, seed, s.state);
      return { params: r.params, optState: r.optState, state: r.state, acc: accumulate(s.acc, xs[0]!.shape[0]!, r.loss, r.metrics, names) };
    }, { donate: [0] });
  });
}

export function evalFn(key: string | null, spec: Omit<StepSpec, 'optimizer'>): EvalFn {
  return cached(caches.evaluate, key, () => {
    const ev = evalStep(spec), names = metricNames(spec);
    return jit((params: Params[], state: Params[], acc: Tensor, xs: Tensor[], ys: Tensor[]) => {
      const r = ev(params, xs, ys, state);
      return accumulate(acc, xs[0]!.shape[0]!, r.loss, r.metrics, names);
    }, { donate: [2] });
  });
}

export function predictFn(key: string | null, forward: ForwardFn): PredictFn {
  return cached(caches.predict, key, () => jit((params: Params[], state: Params[], xs: Tensor[]) => forward(params, xs, { state }).outs));
}

/** The per-layer context a model gives layer `i` (its random stream, its state, where its new state goes). */
export function layerContext(ctx: ModelContext, stream: number, li: number, own: Params, next: Params[]): ApplyContext {
  return { training: ctx.training, seed: ctx.seed, stream, state: ctx.state?.[li] ?? own, setState: (s) => { next[li] = s; } };
}
