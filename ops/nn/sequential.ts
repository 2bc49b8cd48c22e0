/**
 * Sequential: a linear stack of layers, each fed the previous one's output. The first layer's
 * `inputShape` builds the model at once; otherwise it is built by the first data it sees.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { shapesEqual, type Shape } from '../../ir/shape.ts';
import type { Tensor } from '../tensor.ts';
import { activations } from './activations.ts';
import { checkLayer, uniqueName, type Layer, type Params } from './layers.ts';
import { Model } from './model.ts';
import type { SummaryRow } from './summary.ts';
import { layerContext, type Forward, type ModelContext } from './training.ts';

/** A linear stack of layers: `new Sequential([new Dense(10, {activation: 'relu', inputShape: [3]}), new Dense(1)])`. */
export class Sequential extends Model<Tensor> {
  private readonly stack: Layer[] = [];
  private builtShape: Shape | null = null;

  constructor(layers: readonly Layer[] = [], opts: { name?: string } = {}) {
    super(opts.name ?? uniqueName('sequential'));
    for (const l of layers) this.add(l);
  }
  get layers(): readonly Layer[] { return this.stack; }
  /** The input's feature shape once built, else null. */
  get inputShape(): Shape | null { return this.builtShape; }
  get inputShapes(): Shape[] | null { return this.builtShape ? [this.builtShape] : null; }
  get outputNames(): string[] { return [this.stack[this.stack.length - 1]?.name ?? 'output']; }

  add(layer: Layer): this {
    checkLayer(layer, 'Sequential');
    this.stack.push(layer);
    const first = this.stack[0]!;
    if (this.built) this.buildLayers([layer], this.computeOutputShape(this.builtShape!, this.stack.length - 1));
    else if (first.inputShape) this.build(first.inputShape);
    return this;
  }

  build(inputShape: Shape): void {
    if (this.built) { if (!shapesEqual(this.builtShape!, inputShape)) throw new TesseraError(this.name, `is built for inputs of feature shape ${fmtShape(this.builtShape!)}, not ${fmtShape(inputShape)}`); return; }
    if (!this.stack.length) throw new TesseraError(this.name, 'has no layers', 'add layers first: new Sequential([new Dense(...)])');
    this.buildLayers(this.stack, inputShape);
    this.builtShape = [...inputShape];
  }
  buildInputs(shapes: readonly Shape[]): void { this.build(shapes[0]!); }
  private buildLayers(layers: readonly Layer[], shape: Shape): void {
    let s = shape;
    for (const l of layers) { l.build(s); s = l.computeOutputShape(s); }
  }

  computeOutputShape(inputShape: Shape, upTo = this.stack.length): Shape {
    let s = inputShape;
    for (const l of this.stack.slice(0, upTo)) s = l.computeOutputShape(s);
    return s;
  }
  outputShapes(inputShapes: readonly Shape[]): Shape[] { return [this.computeOutputShape(inputShapes[0]!)]; }

  protected architectureKey(): string | null {
    const ls = this.layers.map((l) => l.cacheKey());
    return ls.every((k) => k !== null) ? JSON.stringify(ls) : null;
  }

  forward(params: Params[], xs: Tensor[], ctx: ModelContext = {}): Forward {
    const L = this.stack;
    if (!L.length) throw new TesseraError(this.name, 'has no layers', 'add layers first');
    const state = L.map((l, i) => ctx.state?.[i] ?? l.state);
    // Each layer draws from its own random stream: its index.
    const at = (i: number) => layerContext(ctx, i, i, L[i]!.state, state);
    let h = xs[0]!;
    for (let i = 0; i < L.length - 1; i++) h = L[i]!.apply(params[i]!, h, at(i));
    const last = L.length - 1;
    const pre = L[last]!.preActivation(params[last]!, h, at(last));
    const out = pre ? activations[pre.activation](pre.z) : L[last]!.apply(params[last]!, h, at(last));
    return { outs: [out], pres: [pre], state };
  }

  protected summaryRows(): SummaryRow[] {
    let shape: Shape | null = this.inputShape;
    return this.layers.map((l) => {
      shape = shape && l.built ? l.computeOutputShape(shape) : null;
      return { name: l.name, type: l.className, outputShape: shape, params: l.countParams() + l.countState() };
    });
  }
}

/** Keras-like factory: `nn.sequential([nn.dense(10, {activation: 'relu', inputShape: [3]}), nn.dense(1)])`. */
export const sequential = (layers: readonly Layer[] = [], opts: { name?: string } = {}) => new Sequential(layers, opts);
