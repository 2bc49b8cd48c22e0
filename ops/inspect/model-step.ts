/**
 * A model as something explain and profile can look at: one train step (forward, backward and
 * the optimizer update, the program fit runs per batch) on a batch, or the forward pass. The
 * step takes one object argument, so report labels read `params.dense_1.kernel`, `opt.m.0`, `x`.
 */
import { TesseraError } from '../../ir/error.ts';
import { tensor } from '../creation.ts';
import { Model } from '../nn/model.ts';
import { Tensor, type NestedArray } from '../tensor.ts';

export interface ModelTarget { target: (arg: any) => unknown; args: unknown[]; what: string }

export function trainStepTarget(model: Model<Tensor | Tensor[]>, x: Tensor, y: Tensor): ModelTarget {
  if (!model.loss) throw new TesseraError('explain', `model '${model.name}' is not compiled`,
    'call model.compile({...}) first, or look at its forward pass');
  if (!model.built) model.buildInputs([x.shape.slice(1)]);
  const step = model.makeTrainStep();
  const layers = model.layers;
  const params = Object.fromEntries(layers.map((l, i) => [l.name, model.params[i]!]));
  const target = function trainStep(a: { params: typeof params; opt: unknown; x: Tensor; y: Tensor }) {
    return step(layers.map((l) => a.params[l.name]!), a.opt as never, a.x, a.y);
  };
  Object.defineProperty(target, 'name', { value: `train step of ${model.name}` });
  return { target, args: [{ params, opt: model.initOptimizerState(), x, y }],
    what: `one train step of model '${model.name}' (forward, backward, update)` };
}

export function forwardTarget(model: Model<Tensor | Tensor[]>, x: Tensor): ModelTarget {
  if (!model.built) model.buildInputs([x.shape.slice(1)]);
  const layers = model.layers;
  const params = Object.fromEntries(layers.map((l, i) => [l.name, model.params[i]!]));
  const target = function forward(a: { params: typeof params; x: Tensor }) { return model.forward(layers.map((l) => a.params[l.name]!), [a.x], { state: model.states }).outs[0]!; };
  Object.defineProperty(target, 'name', { value: `forward pass of ${model.name}` });
  return { target, args: [{ params, x }], what: `the forward pass of model '${model.name}'` };
}

/** explain(model, x, y) / profile(model, x): a model's train step (with labels) or forward pass; anything else unchanged. */
export function resolveModel(op: string, target: unknown, args: readonly unknown[]): { target: unknown; args: readonly unknown[]; title?: string } {
  if (!(target instanceof Model)) return { target, args };
  const t = (v: unknown, what: string): Tensor => {
    if (v instanceof Tensor) return v;
    if (Array.isArray(v) || ArrayBuffer.isView(v)) return tensor(v as NestedArray, { dtype: 'float32' });
    throw new TesseraError(op, `${what} must be a Tensor or an array, got ${v === undefined ? 'nothing' : typeof v}`,
      `${op}(model, x) for the forward pass, ${op}(model, x, y) for a train step`);
  };
  const m = args.length >= 2 ? trainStepTarget(target, t(args[0], 'x'), t(args[1], 'y')) : forwardTarget(target, t(args[0], 'x'));
  return { target: m.target, args: m.args, title: m.target.name };
}
