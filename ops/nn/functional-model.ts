/**
 * The Keras functional API: models as graphs of layers.
 *
 *   const x = nn.input({ shape: [8, 8, 1] });
 *   const h = new nn.Conv2D(16, 3, { padding: 'same', activation: 'relu' }).call(x);
 *   const y = new nn.Add().call([h, new nn.Conv2D(16, 3, { padding: 'same' }).call(h)]);   // a residual
 *   const model = nn.model({ inputs: x, outputs: new nn.Dense(10).call(new nn.GlobalAveragePooling2D().call(y)) });
 *
 * Residual connections, several inputs and outputs, and shared layers (one layer object called
 * twice: one set of weights) are ordinary graphs. The model's forward pass walks the layer calls
 * in topological order; each layer's parameters appear once in the parameter tree (shared layers
 * too), so training, saving and loading treat the model like a Sequential one. An output whose
 * layer ends in an activation (Dense with softmax) exposes its logits to the loss, as Sequential does.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { shapesEqual, type Shape } from '../../ir/shape.ts';
import type { Tensor } from '../tensor.ts';
import { activations } from './activations.ts';
import { Layer, registerLayers, uniqueName, type LayerOptions, type Params } from './layers.ts';
import { Model } from './model.ts';
import type { SummaryRow } from './summary.ts';
import { isSymbolic, SymbolicTensor, type LayerCall } from './symbolic.ts';
import { layerContext, type Forward, type ModelContext, type Pre } from './training.ts';

/** The placeholder layer behind `nn.input`: the model's input of a fixed feature shape. */
export class InputLayer extends Layer {
  readonly shape: Shape;
  constructor(opts: LayerOptions & { shape: readonly number[] }) {
    super({ name: opts.name ?? uniqueName('input_layer') });
    const s = opts.shape;
    if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d > 0))
      throw new TesseraError('input', `shape ${Array.isArray(s) ? fmtShape(s) : String(s)} must be a list of positive integers (the feature shape, without the batch axis)`, 'e.g. nn.input({shape: [8, 8, 1]})');
    this.shape = [...s];
    this.configArgs = [{ shape: this.shape }];
    this.build(this.shape);
  }
  override get arity(): number { return 0; }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(_p: Params, x: Tensor): Tensor { return x; }
  override cacheKey() { return this.builtinKey(`Input(${this.shape})`); }
}

/** A symbolic input of feature shape `shape` (the batch axis is implicit). */
registerLayers([InputLayer], true);

export function input(opts: { shape: readonly number[]; name?: string }): SymbolicTensor {
  const l = new InputLayer(opts);
  return new SymbolicTensor(l.shape, l, []);
}

const list = (x: SymbolicTensor | readonly SymbolicTensor[], what: string): SymbolicTensor[] => {
  const xs = Array.isArray(x) ? [...x] : [x];
  if (!xs.length) throw new TesseraError('model', `no ${what} given`, `pass ${what}: nn.model({inputs, outputs})`);
  for (const s of xs)
    if (!isSymbolic(s)) throw new TesseraError('model', `${what} must be symbolic tensors (from nn.input and layer.call), got ${s === null ? 'null' : typeof s}`,
      'build the graph with x = nn.input({shape}), y = layer.call(x), then nn.model({inputs: x, outputs: y})');
  return xs;
};

/** A model over a graph of layer calls from `inputs` to `outputs`. */
export class FunctionalModel<Out extends Tensor | Tensor[] = Tensor> extends Model<Out> {
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** Layer calls in topological order (input layers excluded). */
  private readonly calls: LayerCall[];
  private readonly allLayers: Layer[];
  private readonly index = new Map<Layer, number>();

  constructor(args: { inputs: SymbolicTensor | readonly SymbolicTensor[]; outputs: SymbolicTensor | readonly SymbolicTensor[]; name?: string }) {
    super(args.name ?? uniqueName('functional'));
    this.inputs = list(args.inputs, 'inputs');
    this.outputs = list(args.outputs, 'outputs');
    for (const i of this.inputs)
      if (!(i.source.layer instanceof InputLayer)) throw new TesseraError('model', `input ${i} is not an nn.input(...)`, 'pass the tensors nn.input returned as inputs');
    // Topological order of the calls between inputs and outputs (depth first from the outputs).
    const order: LayerCall[] = [], seen = new Set<LayerCall>(), onPath = new Set<LayerCall>();
    const visit = (t: SymbolicTensor) => {
      const c = t.source;
      if (seen.has(c)) return;
      if (c.layer instanceof InputLayer) {
        if (!this.inputs.includes(t))
          throw new TesseraError('model', `the outputs depend on the input '${c.layer.name}', which is not among the model's inputs`, `add it to inputs: nn.model({inputs: [..., ${c.layer.name}], outputs})`);
        seen.add(c); return;
      }
      onPath.add(c);
      for (const s of c.inputs) visit(s);
      onPath.delete(c); seen.add(c); order.push(c);
    };
    for (const o of this.outputs) visit(o);
    this.calls = order;
    this.allLayers = [...this.inputs.map((i) => i.source.layer), ...order.map((c) => c.layer)].filter((l, i, a) => a.indexOf(l) === i);
    this.allLayers.forEach((l, i) => this.index.set(l, i));
  }

  get layers(): readonly Layer[] { return this.allLayers; }
  get inputShapes(): Shape[] { return this.inputs.map((i) => i.shape); }
  get outputNames(): string[] {
    const names = this.outputs.map((o) => o.source.layer.name);
    return names.map((n, i) => (names.indexOf(n) === i ? n : `${n}_${i}`));
  }
  buildInputs(shapes: readonly Shape[]): void {
    shapes.forEach((s, i) => {
      if (!shapesEqual(s, this.inputs[i]!.shape)) throw new TesseraError(this.name, `input ${i} has feature shape ${fmtShape(this.inputs[i]!.shape)}, got ${fmtShape(s)}`);
    });
  }
  outputShapes(): Shape[] { return this.outputs.map((o) => o.shape); }
  /** The layer with this name. */
  getLayer(name: string): Layer {
    const l = this.allLayers.find((x) => x.name === name);
    if (!l) throw new TesseraError(this.name, `has no layer named '${name}'`, `use one of ${this.allLayers.map((x) => x.name).join(', ')}`);
    return l;
  }

  protected architectureKey(): string | null {
    const keys = this.allLayers.map((l) => l.cacheKey());
    if (keys.some((k) => k === null)) return null;
    const id = (t: SymbolicTensor) => (t.source.layer instanceof InputLayer ? `i${this.inputs.indexOf(t)}` : `c${this.calls.indexOf(t.source)}`);
    const edges = this.calls.map((c) => `${this.index.get(c.layer)}(${c.inputs.map(id).join(',')})`);
    return JSON.stringify({ layers: keys, edges, outputs: this.outputs.map(id) });
  }

  forward(params: Params[], xs: Tensor[], ctx: ModelContext = {}): Forward {
    if (xs.length !== this.inputs.length) throw new TesseraError(this.name, `got ${xs.length} inputs, the model has ${this.inputs.length}`);
    const L = this.allLayers;
    const state = L.map((l, i) => ctx.state?.[i] ?? l.state);
    const values = new Map<LayerCall, Tensor>(), pres = new Map<LayerCall, Pre>();
    this.inputs.forEach((t, i) => values.set(t.source, xs[i]!));
    const outputCalls = new Set(this.outputs.map((o) => o.source));
    this.calls.forEach((c, k) => {
      const li = this.index.get(c.layer)!, ins = c.inputs.map((s) => values.get(s.source)!);
      // Each call draws from its own random stream: its position in the graph.
      const lctx = layerContext(ctx, k, li, c.layer.state, state);
      const pre = outputCalls.has(c) && ins.length === 1 ? c.layer.preActivation(params[li]!, ins[0]!, lctx) : null;
      pres.set(c, pre);
      values.set(c, pre ? activations[pre.activation](pre.z) : c.layer.applyInputs(params[li]!, ins, lctx));
    });
    return { outs: this.outputs.map((o) => values.get(o.source)!), pres: this.outputs.map((o) => pres.get(o.source) ?? null), state };
  }

  protected summaryRows(): SummaryRow[] {
    const name = (t: SymbolicTensor) => t.source.layer.name;
    const rows: SummaryRow[] = this.inputs.map((i) => ({ name: name(i), type: 'InputLayer', outputShape: i.shape, params: 0, connected: '-' }));
    for (const c of this.calls) {
      const out = c.layer.outputShapeFor(c.inputs.map((s) => s.shape));
      rows.push({ name: c.layer.name, type: c.layer.className, outputShape: out, params: c.layer.countParams() + c.layer.countState(), connected: c.inputs.map(name).join(', ') });
    }
    return rows;
  }

  /** @internal the graph as JSON-able data: each call's layer index and its inputs (serialize.ts). */
  graphSpec(): { inputs: number[]; calls: { layer: number; inputs: [string, number][] }[]; outputs: [string, number][] } {
    const ref = (t: SymbolicTensor): [string, number] => (t.source.layer instanceof InputLayer ? ['input', this.inputs.indexOf(t)] : ['call', this.calls.indexOf(t.source)]);
    return {
      inputs: this.inputs.map((i) => this.index.get(i.source.layer)!),
      calls: this.calls.map((c) => ({ layer: this.index.get(c.layer)!, inputs: c.inputs.map(ref) })),
      outputs: this.outputs.map(ref),
    };
  }
}

type OutOf<O> = O extends readonly SymbolicTensor[] ? Tensor[] : Tensor;
/** Keras's `keras.Model(inputs, outputs)`: predict returns a Tensor, or a Tensor[] when `outputs` is a list. */
export function model<O extends SymbolicTensor | readonly SymbolicTensor[]>(args: { inputs: SymbolicTensor | readonly SymbolicTensor[]; outputs: O; name?: string }): FunctionalModel<OutOf<O>> {
  return new FunctionalModel<OutOf<O>>(args);
}
