/**
 * Layers. A layer holds its parameters as Tensors in `params` (an object, e.g. {kernel, bias})
 * and computes with a pure function `apply(params, x)`: the model passes the parameters in, so
 * the same code runs eagerly, under `grad` and inside a jitted train step. Training replaces the
 * graph node behind each parameter tensor (the tensor objects stay the same), so `layer.kernel`
 * always shows the current weights.
 *
 * A forward pass may also get an `ApplyContext`: whether it trains (fit's step) or infers
 * (predict, evaluate, call), and in training a per-step random seed and the layer's own stream of
 * it. Dropout reads it; other layers ignore it. The seed is a tensor argument of the jitted step,
 * so each step draws new masks without retracing.
 *
 * Layers are built lazily: `build(inputShape)` (feature shape, without the batch axis) creates
 * the parameters once the input size is known, from `inputShape` or the first input seen.
 * Names are unique per class as in Keras ('dense', 'dense_1', ...).
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { numel, shapesEqual, type Shape } from '../../ir/shape.ts';
import { add, castTo } from '../elementwise.ts';
import { dropout as dropoutOp } from '../random.ts';
import { matmul } from '../linalg.ts';
import { reshape } from '../movement.ts';
import { layerNorm } from './functional.ts';
import { Tensor } from '../tensor.ts';
import { isSymbolic, SymbolicTensor } from './symbolic.ts';
import { activationName, getActivation, type ActivationFn, type ActivationName, type ActivationSpec } from './activations.ts';
import { getInitializer, type InitializerSpec } from './initializers.ts';

export type Params = { [name: string]: Tensor };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LayerClass = abstract new (...args: any[]) => Layer;
/** Layer classes by name, for loading architectures (serialize.ts); the library's own are also "builtins" (shareable compiled steps). */
const REGISTRY = new Map<string, LayerClass>();
const BUILTINS = new Set<unknown>();
/** Registers layer classes so saved architectures naming them can be loaded (`builtin`: the library's own classes). */
export function registerLayers(classes: readonly LayerClass[], builtin = false): void {
  for (const c of classes) {
    const prev = REGISTRY.get(c.name);
    if (prev && prev !== c) throw new TesseraError('registerLayer', `another layer class is already registered as '${c.name}'`, 'give your layer class a unique name');
    REGISTRY.set(c.name, c);
    if (builtin) BUILTINS.add(c);
  }
}
/** The registered layer class of this name, or undefined. */
export const layerClass = (name: string): LayerClass | undefined => REGISTRY.get(name);

const nameCounts = new Map<string, number>();
/** 'dense', then 'dense_1', 'dense_2', ... (Keras naming). */
export function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n ? `${base}_${n}` : base;
}
/** Keras's class-name to layer-name rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, BatchNormalization -> batch_normalization. */
export const snake = (s: string) => s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

/** What a forward pass knows besides the parameters and the input. */
export interface ApplyContext {
  /** True in fit's train step (Dropout drops); false or absent in predict, evaluate and call. */
  readonly training?: boolean;
  /** The step's random seed: an int32/uint32 scalar tensor, a new value each step (needed when training with Dropout). */
  readonly seed?: Tensor;
  /** Which stream of the seed this layer draws from; a model gives each layer its index, so two Dropout layers never share a mask. */
  readonly stream?: number;
  /** The layer's non-trainable state to read (a model passes the step's state; default the layer's own `state`). */
  readonly state?: Params;
  /** Receives the layer's new state in training (BatchNormalization's moving statistics); the model returns it from the step. */
  readonly setState?: (next: Params) => void;
}

export interface LayerOptions {
  name?: string;
  /** The input's feature shape (without the batch axis), e.g. [3]; lets the model build before seeing data. */
  inputShape?: readonly number[];
}

export abstract class Layer {
  readonly name: string;
  readonly inputShape?: readonly number[];
  /** The parameters, by name. The tensors are updated in place by training (same objects). */
  readonly params: Params = {};
  /** Non-trainable state, by name (BatchNormalization's moving mean and variance): saved and loaded with the weights, never differentiated. */
  readonly state: Params = {};
  /** The constructor's arguments, for saving the architecture (model.toJSON); each layer class sets them. */
  protected configArgs: unknown[] = [];
  private builtShape: Shape | null = null;

  constructor(opts: LayerOptions = {}) {
    this.name = opts.name ?? uniqueName(snake(this.constructor.name));
    if (opts.inputShape) {
      if (!opts.inputShape.every((d) => Number.isInteger(d) && d > 0))
        throw new TesseraError(this.constructor.name, `inputShape ${fmtShape(opts.inputShape)} must be positive integers (the feature shape, without the batch axis)`);
      this.inputShape = [...opts.inputShape];
    }
  }

  get className(): string { return this.constructor.name; }
  /** The layer's configuration: its class and constructor arguments (JSON; see ops/nn/serialize.ts). */
  getConfig(): { className: string; name: string; args: unknown[] } { return { className: this.className, name: this.name, args: this.configArgs }; }
  /** How many tensors the layer takes (merge layers such as Add take several). */
  get arity(): number | 'many' { return 1; }
  /** Builds for the feature shapes of each input (one for most layers). */
  buildFor(shapes: readonly Shape[]): void { this.build(shapes[0]!); }
  /** The output feature shape for the inputs' feature shapes. */
  outputShapeFor(shapes: readonly Shape[]): Shape { return this.computeOutputShape(shapes[0]!); }
  /** apply over a list of inputs (one for most layers). */
  applyInputs(p: Params, xs: readonly Tensor[], ctx?: ApplyContext): Tensor { return this.apply(p, xs[0]!, ctx); }
  get built(): boolean { return this.builtShape !== null; }
  /** The feature shape the layer was built for. */
  get builtInputShape(): Shape | null { return this.builtShape; }

  /** Creates the parameters for inputs of feature shape `inputShape` (once; later calls check it). */
  build(inputShape: Shape): void {
    if (this.builtShape) {
      if (!shapesEqual(this.builtShape, inputShape))
        throw new TesseraError(this.name, `was built for inputs of feature shape ${fmtShape(this.builtShape)} but got ${fmtShape(inputShape)}`,
          'give every call inputs with the same feature shape, or make a new layer');
      return;
    }
    this.createParams(inputShape);
    this.builtShape = [...inputShape];
  }
  protected createParams(_inputShape: Shape): void {}
  /** The output feature shape for an input feature shape. */
  abstract computeOutputShape(inputShape: Shape): Shape;
  /** The forward computation with the given parameters (pure: no state is read or written); `ctx` says whether it trains. */
  abstract apply(params: Params, x: Tensor, ctx?: ApplyContext): Tensor;
  /**
   * The computation split before its final activation, for losses that read logits:
   * apply(p, x) = activation(z). Layers without one return null.
   */
  preActivation(_params: Params, _x: Tensor, _ctx?: ApplyContext): { z: Tensor; activation: ActivationName } | null { return null; }
  /**
   * Describes the computation, for sharing compiled steps between equal models; null when not
   * shareable (the default, so subclasses that change `apply` never share a built-in's steps).
   */
  cacheKey(): string | null { return null; }
  /** `key` for the library's own layer classes; null for user subclasses (their apply may differ). */
  protected builtinKey(key: string): string | null { return BUILTINS.has(this.constructor) ? key : null; }

  /**
   * Applies the layer to `x` with its current parameters (lazy; builds the layer on first use);
   * inference unless `ctx` says training. Merge layers (Add, Concatenate, ...) take a list. Called on
   * symbolic tensors (`nn.input`, functional API) it returns a symbolic tensor: a node of a model's graph.
   */
  call(x: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor;
  call(x: Tensor | readonly Tensor[], ctx?: ApplyContext): Tensor;
  call(x: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], ctx?: ApplyContext): Tensor | SymbolicTensor {
    const xs = Array.isArray(x) ? [...x] : [x];
    const arity = this.arity;
    if (arity === 1 && xs.length !== 1) throw new TesseraError(this.name, `takes one input, got a list of ${xs.length}`, 'call it on one tensor; merge several with Add or Concatenate first');
    if (arity === 'many' && (!Array.isArray(x) || xs.length < 2)) throw new TesseraError(this.name, 'takes a list of at least two inputs', `call it as layer.call([a, b])`);
    if (xs.every(isSymbolic)) {
      const shapes = xs.map((s) => s.shape);
      this.buildFor(shapes);
      return new SymbolicTensor(this.outputShapeFor(shapes), this, xs);
    }
    for (const t of xs) {
      if (isSymbolic(t)) throw new TesseraError(this.name, 'got symbolic and real tensors together', 'call layers either on nn.input(...) graphs or on tensors');
      if (!(t instanceof Tensor)) throw new TesseraError(this.name, `expected a Tensor, got ${typeof t}`, 'wrap arrays with tensor(...)');
      if (t.rank < 1) throw new TesseraError(this.name, 'inputs need a batch axis', 'pass a tensor of shape [batch, ...features]');
    }
    const ts = xs as Tensor[];
    this.buildFor(ts.map((t) => t.shape.slice(1)));
    return this.applyInputs(this.params, ts, ctx);
  }
  /** Trainable parameter count. */
  countParams(): number { return Object.values(this.params).reduce((s, t) => s + t.size, 0); }
  /** Non-trainable state element count. */
  countState(): number { return Object.values(this.state).reduce((s, t) => s + t.size, 0); }
  /** Parameters and state by name (state names as they are: 'movingMean'). */
  namedWeights(): Params { return { ...this.params, ...this.state }; }
  /** The parameters, then the state (Keras's get_weights order: trainable, then non-trainable). */
  getWeights(): Tensor[] { return Object.values(this.namedWeights()); }
  /** Replaces the parameters' and state's values (same shapes, getWeights order), e.g. with tensors from another layer. */
  setWeights(weights: readonly Tensor[]): void {
    const all = this.namedWeights(), names = Object.keys(all);
    if (weights.length !== names.length) throw new TesseraError(this.name, `setWeights got ${weights.length} tensors for ${names.length} weights (${names.join(', ')})`);
    names.forEach((k, i) => {
      const w = weights[i]!, p = all[k]!;
      if (!shapesEqual(w.shape, p.shape)) throw new TesseraError(this.name, `setWeights: ${k} has shape ${fmtShape(p.shape)}, got ${fmtShape(w.shape)}`);
    });
    names.forEach((k, i) => assignTensor(all[k]!, weights[i]!.dtype === 'float32' ? weights[i]! : castTo(weights[i]!, 'float32')));
  }
}

/** Points `target` at `value`'s graph node: everyone holding `target` sees the new value. */
/** Throws a TesseraError unless `x` is a Layer (a plain function or a config object is a common slip). */
export function checkLayer(x: unknown, op: string): asserts x is Layer {
  if (x instanceof Layer) return;
  const what = typeof x === 'function' ? `a plain function${x.name ? ` (${x.name})` : ''}` : x === null ? 'null' : Array.isArray(x) ? 'an array'
    : typeof x;
  throw new TesseraError(op, `expected a layer, got ${what}`,
    typeof x === 'function' ? "use a layer (new Activation('relu'), new Dense(8), ...) or subclass Layer to wrap a custom computation"
      : 'pass layer instances, e.g. new Dense(8)');
}

export function assignTensor(target: Tensor, value: Tensor): void { target.node = value.use('assign'); }

// ---------------------------------------------------------------------------------------------
export interface DenseOptions extends LayerOptions {
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

/** Fully connected: activation(x @ kernel + bias), kernel [inputs, units]. Applies to the last axis. */
export class Dense extends Layer {
  readonly activation: ActivationFn;
  readonly activationName: ActivationName | null;
  readonly useBias: boolean;
  private readonly opts: DenseOptions;
  constructor(readonly units: number, opts: DenseOptions = {}) {
    super(opts);
    if (!Number.isInteger(units) || units <= 0) throw new TesseraError('Dense', `units must be a positive integer, got ${units}`);
    this.activationName = activationName(opts.activation, 'Dense');
    this.activation = getActivation(opts.activation, 'Dense');
    this.useBias = opts.useBias ?? true;
    getInitializer(opts.kernelInitializer ?? 'glorotUniform', 'Dense');
    getInitializer(opts.biasInitializer ?? 'zeros', 'Dense');
    this.opts = opts;
    this.configArgs = [units, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  get kernel(): Tensor { return this.params.kernel ?? this.unbuilt('kernel'); }
  get bias(): Tensor | undefined { return this.useBias ? (this.params.bias ?? this.unbuilt('bias')) : undefined; }
  private unbuilt(what: string): never {
    throw new TesseraError(this.name, `has no ${what} yet: the layer is not built`, 'give the first layer an inputShape, or call the model on data first');
  }
  protected override createParams(inputShape: Shape): void {
    if (inputShape.length < 1) throw new TesseraError(this.name, 'inputs need a feature axis', 'pass inputs of shape [batch, features]');
    const inDim = inputShape[inputShape.length - 1]!;
    this.params.kernel = getInitializer(this.opts.kernelInitializer ?? 'glorotUniform')([inDim, this.units]);
    if (this.useBias) this.params.bias = getInitializer(this.opts.biasInitializer ?? 'zeros')([this.units]);
  }
  computeOutputShape(s: Shape): Shape { return [...s.slice(0, -1), this.units]; }
  override preActivation(p: Params, x: Tensor) {
    const k = p.kernel!;
    if (x.shape[x.rank - 1] !== k.shape[0])
      throw new TesseraError(this.name, `expects inputs with ${k.shape[0]} features (last axis), got shape ${fmtShape(x.shape)}`, 'check the input shape of the model');
    const xf = x.dtype === 'float32' ? x : castTo(x, 'float32');
    const z = this.useBias ? add(matmul(xf, k), p.bias!) : matmul(xf, k);
    return this.activationName === null ? null : { z, activation: this.activationName };
  }
  apply(p: Params, x: Tensor): Tensor {
    const pre = this.preActivation(p, x);
    if (pre) return this.activation(pre.z);
    const xf = x.dtype === 'float32' ? x : castTo(x, 'float32');
    return this.activation(this.useBias ? add(matmul(xf, p.kernel!), p.bias!) : matmul(xf, p.kernel!));
  }
  override cacheKey(): string | null { return this.activationName === null ? null : this.builtinKey(`Dense(${this.units},${this.activationName},${this.useBias})`); }
}

/** PyTorch-style fully connected layer: `new Linear(inFeatures, outFeatures)` (kernel [in, out]). */
export class Linear extends Dense {
  constructor(inFeatures: number, outFeatures: number, opts: Omit<DenseOptions, 'inputShape'> & { bias?: boolean } = {}) {
    super(outFeatures, { ...opts, useBias: opts.bias ?? opts.useBias, inputShape: [inFeatures] });
    this.configArgs = [inFeatures, outFeatures, opts];
  }
}

/** An activation as a layer: `new Activation('relu')`. */
export class Activation extends Layer {
  readonly activation: ActivationFn;
  readonly activationName: ActivationName | null;
  constructor(activation: ActivationSpec, opts: LayerOptions = {}) {
    super(opts);
    this.activationName = activationName(activation, 'Activation');
    this.activation = getActivation(activation, 'Activation');
    this.configArgs = [activation, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(_p: Params, x: Tensor): Tensor { return this.activation(x); }
  override preActivation(_p: Params, x: Tensor) { return this.activationName === null ? null : { z: x, activation: this.activationName }; }
  override cacheKey(): string | null { return this.activationName === null ? null : this.builtinKey(`Activation(${this.activationName})`); }
}
export class ReLU extends Activation { constructor(opts: LayerOptions = {}) { super('relu', opts); this.configArgs = [opts]; } }
export class Sigmoid extends Activation { constructor(opts: LayerOptions = {}) { super('sigmoid', opts); this.configArgs = [opts]; } }
export class Tanh extends Activation { constructor(opts: LayerOptions = {}) { super('tanh', opts); this.configArgs = [opts]; } }
export class GELU extends Activation { constructor(opts: LayerOptions = {}) { super('gelu', opts); this.configArgs = [opts]; } }
export class Softmax extends Activation { constructor(opts: LayerOptions = {}) { super('softmax', opts); this.configArgs = [opts]; } }
export class LogSoftmax extends Activation { constructor(opts: LayerOptions = {}) { super('logSoftmax', opts); this.configArgs = [opts]; } }

/** Flattens the feature axes: [batch, a, b, ...] -> [batch, a*b*...]. */
export class Flatten extends Layer {
  constructor(opts: LayerOptions = {}) { super(opts); this.configArgs = [opts]; if (this.inputShape) this.build(this.inputShape); }
  computeOutputShape(s: Shape): Shape { return [numel(s)]; }
  apply(_p: Params, x: Tensor): Tensor { return reshape(x, [x.shape[0]!, numel(x.shape.slice(1))]); }
  override cacheKey() { return this.builtinKey('Flatten'); }
}

/** Layer normalization over the last axis with a learned scale (gamma) and shift (beta). */
export class LayerNormalization extends Layer {
  constructor(readonly epsilon = 1e-3, opts: LayerOptions = {}) { super(opts); this.configArgs = [epsilon, opts]; if (this.inputShape) this.build(this.inputShape); }
  protected override createParams(s: Shape): void {
    const d = s[s.length - 1]!;
    this.params.gamma = getInitializer('ones')([d]);
    this.params.beta = getInitializer('zeros')([d]);
  }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(p: Params, x: Tensor): Tensor { return layerNorm(x, { eps: this.epsilon, gamma: p.gamma, beta: p.beta }); }
  override cacheKey() { return this.builtinKey(`LayerNormalization(${this.epsilon})`); }
}

/**
 * Dropout: in training, zeroes each input element with probability `rate` and scales the others
 * by 1 / (1 - rate) (inverted dropout, ops/random.ts); the identity at inference. Its masks come
 * from the context's seed (new each step of fit) and its stream (the layer's index in the model).
 */
export class Dropout extends Layer {
  constructor(readonly rate: number, opts: LayerOptions = {}) {
    super(opts);
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new TesseraError('Dropout', `rate must be a number in [0, 1), got ${rate}`, 'rate is the fraction of inputs to drop, e.g. 0.5');
    this.configArgs = [rate, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(_p: Params, x: Tensor, ctx?: ApplyContext): Tensor {
    if (!ctx?.training || this.rate === 0) return x;
    if (!ctx.seed) throw new TesseraError(this.name, 'is training but the step has no random seed', 'pass a seed to the train step: step(params, optState, x, y, seed) with seed a uint32 scalar tensor');
    return dropoutOp(x, this.rate, ctx.seed, { stream: ctx.stream ?? 0 });
  }
  override cacheKey() { return this.builtinKey(`Dropout(${this.rate})`); }
}

registerLayers([Dense, Linear, Activation, ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax, Flatten, LayerNormalization, Dropout], true);

// Factories (Keras-like lower-case forms): nn.dense(10, {activation: 'relu'}).
export const dense = (units: number, opts: DenseOptions = {}) => new Dense(units, opts);
export const linear = (inFeatures: number, outFeatures: number, opts: Omit<DenseOptions, 'inputShape'> & { bias?: boolean } = {}) => new Linear(inFeatures, outFeatures, opts);
export const activation = (a: ActivationSpec, opts: LayerOptions = {}) => new Activation(a, opts);
export const flattenLayer = (opts: LayerOptions = {}) => new Flatten(opts);
export const layerNormalization = (epsilon = 1e-3, opts: LayerOptions = {}) => new LayerNormalization(epsilon, opts);
/** The Dropout layer (the function on tensors is the top-level `dropout(x, rate, seed)`). */
export const dropout = (rate: number, opts: LayerOptions = {}) => new Dropout(rate, opts);
