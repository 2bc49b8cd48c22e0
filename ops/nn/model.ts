/**
 * Keras-style models: `compile`, `fit`, `evaluate`, `predict`, `summary`, `saveWeights` /
 * `loadWeights`. Model holds the training loop; Sequential (sequential.ts, a stack of layers) and
 * Functional (functional-model.ts, a graph of layers with residuals, several inputs and outputs,
 * shared layers) are its two kinds. Saving whole models is serialize.ts.
 *
 * The parameters are a pytree (one object of tensors per layer), so training is the pure step of
 * training.ts, jitted once per batch shape: forward, backward and optimizer update are one
 * submit. fit passes the step fresh handles on the layers' parameter nodes (the step donates its
 * inputs) and afterwards points the layers' own tensors at the results, so users holding
 * `layer.kernel` see the new values. Nothing is read back during an epoch: the loss and metrics
 * are summed on the device and read once at its end (with the validation sums, one submit), or,
 * when nothing would show them (verbose 0, no callbacks), once for all epochs at the end of fit.
 *
 * Dropout: fit runs the forward pass in training mode and gives every step its own seed, a
 * uint32 scalar argument of the jitted step (base + step number, the base drawn from fit's seed,
 * so `seed` reproduces masks as well as shuffles); Sequential gives each layer its index as its
 * random stream. predict, evaluate and call run in inference mode (Dropout is the identity).
 *
 * Layer state (BatchNormalization's moving mean and variance) is a second tree beside the
 * parameters: the train step reads it and returns it updated (inside the one jitted program), fit
 * points the layers' state tensors at the new values like the parameters; evaluate and predict
 * read it.
 *
 * Bad input fails at the call, before any step: x and y of different lengths, features that do
 * not match the model, labels the loss cannot read. A step that throws changes nothing (its
 * inputs are donated only after it ran).
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { shapesEqual, type Shape } from '../../ir/shape.ts';
import { realize } from '../../runtime/engine.ts';
import { unbindStorage } from '../../runtime/storage.ts';
import { nextSeed, prng } from '../creation.ts';
import { castTo } from '../elementwise.ts';
import { fromHost, Tensor } from '../tensor.ts';
import type { Callback } from './callbacks.ts';
import { checkBatched, batchBounds, gather, permutation, rows, split, toHost, type Data, type HostData } from './data.ts';
import { assignTensor, type Layer, type Params } from './layers.ts';
import { getLoss, type Loss, type LossSpec } from './losses.ts';
import { getMetric, type MetricSpec } from './metrics.ts';
import { getOptimizer, type Optimizer, type OptimizerSpec, type OptState } from './optimizers.ts';
import { withPlots, type HistoryData, type HistoryPlots } from './history.ts';
import { Progress, type Logs, type Verbosity } from './progress.ts';
import { decodeSafetensors, readBytes, saveSafetensors, type Metadata, type RawTensor } from './safetensors.ts';
import { summaryTable, type SummaryRow } from './summary.ts';
import { evalFn, metricNames, predictFn, trainFn, trainStep, type EvalFn, type Forward, type ModelContext, type OutputMetric, type PredictFn, type StepKeys,
  type StepResult, type StepSpec, type TrainFn, type TrainState } from './training.ts';

export interface CompileArgs {
  /** 'adam', 'sgd', 'adamw', 'rmsprop' or an Optimizer (default 'rmsprop', as Keras). */
  optimizer?: OptimizerSpec;
  /** One loss for every output, or one per output (models with several outputs). */
  loss: LossSpec | readonly LossSpec[];
  /** Weights of the outputs' losses in the total (default 1 each). */
  lossWeights?: readonly number[];
  /** Metrics of every output (named `<output>_<metric>` when there are several outputs). */
  metrics?: readonly (MetricSpec | string)[];
}

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the samples, taken from the end before shuffling, held out for validation. */
  validationSplit?: number;
  validationData?: readonly [Data | readonly Data[], Data | readonly Data[]];
  shuffle?: boolean;
  /** 0 silent, 1 progress bar (one line per epoch when not a terminal), 2 one line per epoch. */
  verbose?: Verbosity;
  /** Draw a live loss chart under the progress bar (on a terminal only; default true). */
  plot?: boolean;
  callbacks?: Callback | readonly Callback[];
  initialEpoch?: number;
  /** Seed of the shuffling order and of the dropout masks (default: the next seed of the global sequence, see seed()). */
  seed?: number;
}

/** What fit returns: per-epoch logs, and `toSVG()` to draw them (history.ts). */
export interface History extends HistoryData, HistoryPlots {}

interface Compiled { optimizer: Optimizer; losses: Loss[]; lossWeights: number[]; metrics: OutputMetric[] }

/**
 * Reads several realized tensors with one submit. The engine hands back a second handle on each
 * buffer; it is let go at once, so the buffer is freed when its tensor is (not at the next GC).
 */
export async function readAll(ts: readonly Tensor[]): Promise<Float32Array[]> {
  if (!ts.length) return [];
  const src = ts.map((t) => t.use('read'));
  const { nodes, data } = await realize(src, true);
  nodes.forEach((n, i) => { if (src[i]!.op === 'input' && n !== src[i]) unbindStorage(n); });
  return data as Float32Array[];
}

const posInt = (op: string, what: string, v: number) => {
  if (!Number.isInteger(v) || v <= 0) throw new TesseraError(op, `${what} must be a positive integer, got ${v}`);
  return v;
};

/** Fresh handles on a tree of tensors (the jitted step donates its inputs; the live tensors keep their nodes). */
const handlesOf = (ps: readonly Params[]) => ps.map((p) => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, new Tensor(t.use('fit'))])) as Params);
const disposeAll = (ps: readonly Params[]) => { for (const h of ps) for (const t of Object.values(h)) t.dispose(); };
const assignAll = (live: readonly Params[], next: readonly Params[]) => live.forEach((p, i) => { for (const k of Object.keys(p)) assignTensor(p[k]!, next[i]![k]!); });
const f32 = (t: Tensor) => (t.dtype === 'float32' ? t : castTo(t, 'float32'));

/**
 * A model: layers, a forward pass over a parameter tree, and the Keras training API. `Out` is
 * what predict and call return: a Tensor, or a Tensor[] for a model with several outputs.
 */
export abstract class Model<Out extends Tensor | Tensor[] = Tensor> {
  readonly name: string;
  /** Set to true (e.g. from a callback) to end fit after the current epoch. */
  stopTraining = false;
  protected compiled: Compiled | null = null;
  private optState: OptState | null = null;
  private stepCache: { compiled: Compiled; sig: string; fns: { train: TrainFn; evaluate: EvalFn } } | null = null;
  private predictCache: { sig: string; fn: PredictFn } | null = null;

  constructor(name: string) { this.name = name; }

  abstract get layers(): readonly Layer[];
  /** The inputs' feature shapes once built, else null. */
  abstract get inputShapes(): Shape[] | null;
  /** The outputs' names (the layers that produce them), for per-output logs. */
  abstract get outputNames(): string[];
  /** Builds every layer for inputs of these feature shapes. */
  abstract buildInputs(shapes: readonly Shape[]): void;
  /** The pure forward pass over a parameter tree; inference unless `ctx` says training. */
  abstract forward(params: Params[], xs: Tensor[], ctx?: ModelContext): Forward;
  /** The outputs' feature shapes for the inputs' feature shapes (no computation). */
  abstract outputShapes(inputShapes: readonly Shape[]): Shape[];
  /** Describes the architecture for sharing compiled steps (null when some layer is a user class). */
  protected abstract architectureKey(): string | null;

  get built(): boolean { return this.inputShapes !== null; }
  /** The parameters: one object of tensors per layer (the live tensors training updates). */
  get params(): Params[] { return this.layers.map((l) => l.params); }
  /** The non-trainable state: one object of tensors per layer (BatchNormalization's moving statistics). */
  get states(): Params[] { return this.layers.map((l) => l.state); }
  get optimizer(): Optimizer | null { return this.compiled?.optimizer ?? null; }
  /** The loss (the first output's, for a model with several). */
  get loss(): Loss | null { return this.compiled?.losses[0] ?? null; }
  get metricsNames(): string[] { return this.compiled ? ['loss', ...metricNames(this.spec(this.compiled))] : []; }
  /** Trainable parameters (Keras's count_params counts the state too: see countState). */
  countParams(): number { return this.layers.reduce((s, l) => s + l.countParams(), 0); }
  countState(): number { return this.layers.reduce((s, l) => s + l.countState(), 0); }
  getWeights(): Tensor[] { return this.layers.flatMap((l) => l.getWeights()); }
  setWeights(weights: readonly Tensor[]): void {
    const n = this.getWeights().length;
    if (weights.length !== n) throw new TesseraError('setWeights', `got ${weights.length} tensors for ${n} weights`, 'pass the list getWeights() returns, in that order');
    this.getWeights().forEach((w, i) => {
      if (!shapesEqual(w.shape, weights[i]!.shape)) throw new TesseraError('setWeights', `weight ${i} has shape ${fmtShape(w.shape)}, got ${fmtShape(weights[i]!.shape)}`);
    }); // all checked before anything changes
    let i = 0;
    for (const l of this.layers) { const k = l.getWeights().length; l.setWeights(weights.slice(i, i + k)); i += k; }
  }

  private get nInputs(): number { return this.inputShapes?.length ?? 1; }
  private get nOutputs(): number { return this.outputNames.length; }
  private wrapOut(outs: Tensor[]): Out { return (this.nOutputs === 1 ? outs[0]! : outs) as Out; }

  /** Applies the model to `x` (one tensor per input) with the current weights (lazy); inference unless `ctx` says training. */
  call(x: Tensor | readonly Tensor[], ctx?: { training?: boolean; seed?: Tensor }): Out {
    const xs = Array.isArray(x) ? [...x] : [x as Tensor];
    for (const t of xs) if (!(t instanceof Tensor)) throw new TesseraError(this.name, `expected a Tensor, got ${typeof t}`, 'wrap arrays with tensor(...), or use predict()');
    this.ensureBuilt('call', xs.map((t) => t.shape));
    return this.wrapOut(this.forward(this.params, xs, { ...ctx, state: this.states }).outs);
  }

  compile(args: CompileArgs): void {
    if (!args || args.loss === undefined) throw new TesseraError('compile', 'a loss is required', "e.g. model.compile({optimizer: 'adam', loss: 'binaryCrossentropy'})");
    const nOut = this.nOutputs;
    const specs = Array.isArray(args.loss) ? args.loss : new Array<LossSpec>(nOut).fill(args.loss as LossSpec);
    if (specs.length !== nOut) throw new TesseraError('compile', `${specs.length} losses for a model with ${nOut} output${nOut === 1 ? '' : 's'} (${this.outputNames.join(', ')})`, 'give one loss, or one per output');
    const losses = specs.map((l) => getLoss(l));
    const lossWeights = [...(args.lossWeights ?? new Array<number>(nOut).fill(1))];
    if (lossWeights.length !== nOut || lossWeights.some((w) => !Number.isFinite(w)))
      throw new TesseraError('compile', `lossWeights ${JSON.stringify(args.lossWeights)} must be ${nOut} finite number${nOut === 1 ? '' : 's'}`);
    const metrics: OutputMetric[] = [];
    for (let o = 0; o < nOut; o++)
      for (const spec of args.metrics ?? []) {
        const m = getMetric(spec, losses[o]!);
        metrics.push({ ...m, name: nOut === 1 ? m.name : `${this.outputNames[o]}_${m.name}`, output: o });
      }
    const names = new Set<string>(['loss', ...(nOut > 1 ? this.outputNames.map((o) => `${o}_loss`) : [])]);
    for (const m of metrics) {
      if (names.has(m.name)) throw new TesseraError('compile', `metric name '${m.name}' is used twice`);
      names.add(m.name);
    }
    this.compiled = { optimizer: getOptimizer(args.optimizer), losses, lossWeights, metrics };
    this.optState = null;
  }

  private spec(c: Compiled): StepSpec {
    return { forward: (p, xs, ctx) => this.forward(p, xs, ctx), losses: c.losses, lossWeights: c.lossWeights, metrics: c.metrics, outputNames: this.outputNames, optimizer: c.optimizer };
  }

  /**
   * The pure train step `(params, optState, x, y, seed?, state?) => {params, optState, loss, metrics, state}` (for custom loops and
   * tests; `seed` for Dropout, `state` the layers' non-trainable state, default theirs).
   */
  makeTrainStep(): (params: Params[], optState: OptState, x: Tensor | Tensor[], y: Tensor | Tensor[], seed?: Tensor, state?: Params[]) => StepResult {
    return trainStep(this.spec(this.requireCompiled('makeTrainStep')), () => this.states);
  }
  /** Fresh optimizer state for the current parameters. */
  initOptimizerState(): OptState { return this.requireCompiled('initOptimizerState').optimizer.init(this.params); }

  /** Describes the computation (null where a user function makes it unique). */
  private keys(): StepKeys {
    const forward = this.architectureKey();
    const c = this.compiled;
    const ev = c && forward !== null && c.losses.every((l) => l.key !== null) && c.metrics.every((m) => m.key !== null)
      ? `${forward}|${c.losses.map((l) => l.key).join(',')}|${c.lossWeights}|${c.metrics.map((m) => `${m.name}=${m.key}@${m.output}`).join(',')}` : null;
    return { forward, evaluate: ev, train: ev !== null ? `${ev}|${c!.optimizer.key()}` : null };
  }
  /** The jitted steps: shared process-wide when the computation has a key, else kept per model (until recompiled). */
  private steps() {
    const c = this.requireCompiled('fit');
    const keys = this.keys(), sig = JSON.stringify(keys);
    if (this.stepCache?.compiled === c && this.stepCache.sig === sig) return this.stepCache.fns;
    const spec = this.spec(c);
    const fns = { train: trainFn(keys.train, spec), evaluate: evalFn(keys.evaluate, spec) };
    this.stepCache = { compiled: c, sig, fns };
    return fns;
  }
  private predictStep(): PredictFn {
    const key = this.keys().forward, sig = key ?? `custom:${this.layers.length}`;
    if (this.predictCache?.sig !== sig) this.predictCache = { sig, fn: predictFn(key, (p, xs, ctx) => this.forward(p, xs, ctx)) };
    return this.predictCache.fn;
  }
  /** The number of times the train step was traced (once per batch shape). */
  get trainTraceCount(): number { return this.compiled ? this.steps().train.traceCount : 0; }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled) throw new TesseraError(op, 'the model is not compiled', "call model.compile({optimizer: 'adam', loss: ..., metrics: ['accuracy']}) first");
    return this.compiled;
  }
  private ensureBuilt(op: string, shapes: readonly Shape[]): void {
    const n = this.nInputs;
    if (this.built && shapes.length !== n) throw new TesseraError(op, `got ${shapes.length} input arrays for a model with ${n} input${n === 1 ? '' : 's'}`, `pass ${n === 1 ? 'one array' : `an array of ${n} arrays, one per input`}`);
    for (const shape of shapes)
      if (shape.length < 1) throw new TesseraError(op, `inputs of shape ${fmtShape(shape)} have no batch axis`, 'pass arrays of shape [samples, ...features]');
    const feats = shapes.map((s) => s.slice(1));
    if (!this.built) { this.buildInputs(feats); return; }
    feats.forEach((f, i) => {
      const want = this.inputShapes![i]!;
      if (!shapesEqual(want, f))
        throw new TesseraError(op, `inputs of shape ${fmtShape(shapes[i]!)} do not match the model's input${n > 1 ? ` ${i}` : ''} shape ${fmtShape(['None' as never, ...want])}`,
          `pass samples with ${fmtShape(want)} features`);
    });
  }
  /** x (or y) as one host array per input (output): a model with several takes an array of them. */
  private async hostList(d: Data | readonly Data[], count: number, op: string, what: string): Promise<HostData[]> {
    if (count === 1) return [await toHost(d as Data, op, what)];
    if (!Array.isArray(d) || d.length !== count)
      throw new TesseraError(op, `the model has ${count} ${what === 'x' ? 'inputs' : 'outputs'}: ${what} must be an array of ${count} arrays or tensors`, `pass [${Array.from({ length: count }, (_, i) => `${what}${i}`).join(', ')}]`);
    return Promise.all(d.map((e, i) => toHost(e as Data, op, `${what}[${i}]`)));
  }
  /** Checks x and y for fit/evaluate: equal lengths, features, labels the loss can read. */
  private checkData(op: string, X: HostData[], Y: HostData[], names = ['x', 'y']): void {
    [...X, ...Y].forEach((d, i) => checkBatched(op, i < X.length ? names[0]! : names[1]!, d));
    const n = X[0]!.shape[0]!;
    for (const [d, nm] of [...X.map((d) => [d, names[0]] as const), ...Y.map((d) => [d, names[1]] as const)])
      if (d.shape[0] !== n)
        throw new TesseraError(op, `${names[0]} has ${n} samples (shape ${fmtShape(X[0]!.shape)}) but ${nm} has ${d.shape[0]} (shape ${fmtShape(d.shape)})`,
          `pass one label per sample: ${names[0]} and ${names[1]} must have the same length`);
    this.ensureBuilt(op, X.map((d) => d.shape));
    const c = this.requireCompiled(op), outs = this.outputShapes(this.inputShapes!);
    c.losses.forEach((l, i) => { l.check(Y[i]!.shape, [n, ...outs[i]!]); l.checkValues(Y[i]!.data, Y[i]!.shape, [n, ...outs[i]!]); });
  }

  /** One jitted train step on a batch: the state's parameter handles are donated; the layers' tensors then point at the results. */
  private async trainBatch(fn: TrainFn, acc: Tensor, xs: Tensor[], ys: Tensor[], seed: Tensor): Promise<Tensor> {
    const live = this.params, liveState = this.states;
    const handles = handlesOf(live), stateHandles = handlesOf(liveState);
    let next: TrainState;
    try { next = await fn({ params: handles, optState: this.optState!, state: stateHandles, acc }, xs, ys, seed); } catch (e) {
      disposeAll(handles); disposeAll(stateHandles); // live tensors still hold the nodes
      throw e;
    }
    assignAll(live, next.params);
    assignAll(liveState, next.state);
    this.optState = next.optState;
    return next.acc;
  }

  async fit(x: Data | readonly Data[], y: Data | readonly Data[], args: FitArgs = {}): Promise<History> {
    const c = this.requireCompiled('fit');
    const epochs = args.epochs ?? 1, initialEpoch = args.initialEpoch ?? 0;
    if (!Number.isInteger(epochs) || epochs < 0) throw new TesseraError('fit', `epochs must be a non-negative integer, got ${epochs}`);
    const batchSize = posInt('fit', 'batchSize', args.batchSize ?? 32);
    let X = await this.hostList(x, this.nInputs, 'fit', 'x'), Y = await this.hostList(y, this.nOutputs, 'fit', 'y');
    this.checkData('fit', X, Y);
    let val: [HostData[], HostData[]] | null = null;
    if (args.validationData) {
      const [vx, vy] = args.validationData;
      val = [await this.hostList(vx, this.nInputs, 'fit', 'validationData x'), await this.hostList(vy, this.nOutputs, 'fit', 'validationData y')];
      this.checkData('fit', val[0], val[1], ['validationData x', 'validationData y']);
    } else if (args.validationSplit) {
      const vs = args.validationSplit, total = X[0]!.shape[0]!;
      if (!(vs > 0 && vs < 1)) throw new TesseraError('fit', `validationSplit must be in (0, 1), got ${vs}`);
      const nTrain = Math.floor(total * (1 - vs));
      if (nTrain < 1 || nTrain >= total)
        throw new TesseraError('fit', `validationSplit ${vs} of ${total} samples leaves ${nTrain} for training and ${total - nTrain} for validation`, 'use more samples or another split');
      const xs = X.map((d) => split(d, nTrain)), ys = Y.map((d) => split(d, nTrain));
      X = xs.map((p) => p[0]); Y = ys.map((p) => p[0]); val = [xs.map((p) => p[1]), ys.map((p) => p[1])];
    }
    const n = X[0]!.shape[0]!, bounds = batchBounds(n, batchSize);
    const fns = this.steps();
    this.optState ??= c.optimizer.init(this.params);
    const runSeed = args.seed ?? nextSeed(), shuffle = args.shuffle ?? true, next = prng(runSeed);
    // Step t's random seed is base + t: distinct for every step of the run.
    const seedBase = Math.floor(prng((runSeed ^ 0x9e3779b9) >>> 0)() * 2 ** 32);
    let step = 0;
    const cut = (ds: HostData[], a: number, b: number) => ds.map((d) => rows(d, a, b));
    // A fixed batch order (no shuffling, or one batch: order inside a batch does not matter) uploads once.
    const fixed = !shuffle || bounds.length === 1 ? bounds.map(([a, b]) => [cut(X, a, b), cut(Y, a, b)] as const) : null;
    const valBatches = val ? batchBounds(val[0][0]!.shape[0]!, batchSize).map(([a, b]) => [cut(val![0], a, b), cut(val![1], a, b)] as const) : [];
    const cbs = args.callbacks ? (Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks as Callback]) : [];
    const names = this.metricsNames, k = names.length;
    const toLogs = (sums: ArrayLike<number>, count: number, prefix = ''): Logs => Object.fromEntries(names.map((nm, i) => [prefix + nm, sums[i]! / count]));
    const progress = new Progress(args.verbose ?? 'auto', epochs, bounds.length, undefined, args.plot);
    const history: Record<string, number[]> = {};
    const epochList: number[] = [];
    const deferred = progress.quiet && !cbs.length;
    const pending: [number, Tensor, Tensor | null][] = [];
    const finish = (epoch: number, tr: Float32Array, va?: Float32Array): Logs => {
      const logs: Logs = { ...toLogs(tr, n), ...(va ? toLogs(va, val![0][0]!.shape[0]!, 'val_') : {}) };
      for (const [key, v] of Object.entries(logs)) (history[key] ??= []).push(v);
      epochList.push(epoch);
      return logs;
    };
    // Silent and no callbacks: nobody looks at an epoch's numbers before the end, so read them in bulk.
    const flush = async () => {
      if (!pending.length) return;
      const vals = await readAll(pending.flatMap(([, a, v]) => (v ? [a, v] : [a])));
      let i = 0;
      for (const [epoch, a, v] of pending) { a.dispose(); v?.dispose(); finish(epoch, vals[i++]!, v ? vals[i++] : undefined); }
      pending.length = 0;
    };
    const disposeBatch = (ts: readonly Tensor[]) => { for (const t of ts) t.dispose(); };
    this.stopTraining = false;
    try {
      for (const cb of cbs) cb.setModel?.(this);
      for (const cb of cbs) await cb.onTrainBegin?.({});
      for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        progress.epochBegin(epoch);
        for (const cb of cbs) await cb.onEpochBegin?.(epoch, {});
        const order = fixed ? null : permutation(n, next);
        let acc = fromHost(new Float32Array(k), 'float32', [k], 'acc');
        let seen = 0;
        for (let s = 0; s < bounds.length; s++) {
          const [a, b] = bounds[s]!;
          for (const cb of cbs) await cb.onBatchBegin?.(s, { batch: s, size: b - a });
          const [xb, yb] = fixed ? fixed[s]! : [X.map((d) => gather(d, order!, a, b)), Y.map((d) => gather(d, order!, a, b))];
          const seed = fromHost(Uint32Array.of((seedBase + step++) >>> 0), 'uint32', [], 'seed');
          try { acc = await this.trainBatch(fns.train, acc, xb, yb, seed); } finally { seed.dispose(); if (!fixed) { disposeBatch(xb); disposeBatch(yb); } }
          seen += b - a;
          progress.batchEnd(s);
          if (cbs.some((cb) => cb.onBatchEnd)) {
            const [sums] = await readAll([acc]);
            for (const cb of cbs) await cb.onBatchEnd?.(s, { batch: s, size: b - a, ...toLogs(sums!, seen) });
          }
        }
        let vacc: Tensor | null = null;
        if (val) {
          vacc = fromHost(new Float32Array(k), 'float32', [k], 'acc');
          for (const [vx, vy] of valBatches) vacc = await fns.evaluate(this.params, this.states, vacc, vx, vy);
        }
        if (deferred) { pending.push([epoch, acc, vacc]); if (pending.length >= 64) await flush(); continue; }
        const [tr, va] = await readAll(vacc ? [acc, vacc] : [acc]);
        acc.dispose(); vacc?.dispose();
        const logs = finish(epoch, tr!, va);
        progress.epochEnd(epoch, logs);
        for (const cb of cbs) await cb.onEpochEnd?.(epoch, logs);
      }
      await flush();
      for (const cb of cbs) await cb.onTrainEnd?.({});
    } finally {
      for (const [, a, v] of pending) { a.dispose(); v?.dispose(); }
      for (const [bx, by] of [...(fixed ?? []), ...valBatches]) { disposeBatch(bx); disposeBatch(by); }
    }
    return withPlots({ history, epoch: epochList, params: { epochs, steps: bounds.length, batchSize, samples: n } });
  }

  /**
   * Loss and metrics on (x, y), in batches, with one readback, in inference mode (BatchNormalization
   * uses its moving statistics). Returns the loss alone when there are no metrics, else [loss, ...metrics] (Keras), or an object with `returnDict: true`.
   */
  async evaluate(x: Data | readonly Data[], y: Data | readonly Data[], args: { batchSize?: number; verbose?: Verbosity; returnDict?: boolean } = {}): Promise<number | number[] | Logs> {
    this.requireCompiled('evaluate');
    const X = await this.hostList(x, this.nInputs, 'evaluate', 'x'), Y = await this.hostList(y, this.nOutputs, 'evaluate', 'y');
    this.checkData('evaluate', X, Y);
    const batchSize = posInt('evaluate', 'batchSize', args.batchSize ?? 32);
    const fn = this.steps().evaluate;
    const names = this.metricsNames, k = names.length, t0 = performance.now(), n = X[0]!.shape[0]!;
    const bounds = batchBounds(n, batchSize);
    let acc = fromHost(new Float32Array(k), 'float32', [k], 'acc');
    for (const [a, b] of bounds) {
      const xb = X.map((d) => rows(d, a, b)), yb = Y.map((d) => rows(d, a, b));
      try { acc = await fn(this.params, this.states, acc, xb, yb); } finally { for (const t of [...xb, ...yb]) t.dispose(); }
    }
    const [sums] = await readAll([acc]);
    acc.dispose();
    const logs = Object.fromEntries(names.map((nm, i) => [nm, sums![i]! / n]));
    new Progress(args.verbose ?? 0, 1, bounds.length).done(logs, performance.now() - t0);
    if (args.returnDict) return logs;
    return k === 1 ? logs.loss! : names.map((nm) => logs[nm]!);
  }

  /** The model's outputs for x (realized tensors), computed in batches of `batchSize` (default 32), in inference mode. */
  async predict(x: Data | readonly Data[], args: { batchSize?: number } = {}): Promise<Out> {
    const batchSize = posInt('predict', 'batchSize', args.batchSize ?? 32);
    const fn = this.predictStep();
    const direct = this.nInputs === 1 ? [x] : x;
    if (Array.isArray(direct) && direct.every((t) => t instanceof Tensor && t.rank >= 1 && t.shape[0]! <= batchSize)) {
      const xs = direct as Tensor[];
      this.ensureBuilt('predict', xs.map((t) => t.shape));
      return this.wrapOut(await fn(this.params, this.states, xs.map(f32)));
    }
    const X = await this.hostList(x, this.nInputs, 'predict', 'x');
    X.forEach((d) => checkBatched('predict', 'x', d));
    this.ensureBuilt('predict', X.map((d) => d.shape));
    const bounds = batchBounds(X[0]!.shape[0]!, batchSize);
    const outs: Tensor[][] = [];
    for (const [a, b] of bounds) {
      const xb = X.map((d) => rows(d, a, b));
      try { outs.push(await fn(this.params, this.states, xb)); } finally { for (const t of xb) t.dispose(); }
    }
    if (outs.length === 1) return this.wrapOut(outs[0]!);
    const parts = await readAll(outs.flat());
    for (const o of outs.flat()) o.dispose();
    const m = this.nOutputs;
    return this.wrapOut(Array.from({ length: m }, (_, j) => {
      const mine = parts.filter((_, i) => i % m === j);
      const total = new Float32Array(mine.reduce((s, p) => s + p.length, 0));
      let off = 0;
      for (const p of mine) { total.set(p, off); off += p.length; }
      return fromHost(total, 'float32', [X[0]!.shape[0]!, ...outs[0]![j]!.shape.slice(1)], 'predictions');
    }));
  }

  /** The rows of the summary table (a model with several inputs lists what each layer is connected to). */
  protected abstract summaryRows(): SummaryRow[];
  /** The layer table (printed with console.log unless `printFn` is given); returns it. */
  summary(opts: { printFn?: (line: string) => void } = {}): string {
    const text = summaryTable(this.name, this.summaryRows(), this.countParams(), this.countState());
    (opts.printFn ?? console.log)(text);
    return text;
  }

  /** Weight names in files: `<layer index>.<param>`, e.g. '0.kernel', '0.bias', '1.movingMean'. */
  private namedWeights(op: string): Record<string, Tensor> {
    if (!this.built) throw new TesseraError(op, 'the model is not built, so it has no weights yet', 'give the first layer an inputShape, or call build([features]), fit or predict first');
    const out: Record<string, Tensor> = {};
    this.layers.forEach((l, i) => { for (const [k, t] of Object.entries(l.namedWeights())) out[`${i}.${k}`] = t; });
    return out;
  }

  /** Saves the weights in the safetensors format: to `path` in Node, and returns the bytes. */
  async saveWeights(path?: string, extra: Metadata = {}): Promise<Uint8Array> {
    const meta: Metadata = { format: 'tessera', model: this.name, layers: JSON.stringify(this.layers.map((l) => [l.name, l.className])), ...extra };
    return saveSafetensors(this.namedWeights('saveWeights'), path, meta);
  }

  /** Loads weights saved by saveWeights (a path in Node, or bytes). All-or-nothing: nothing changes unless every weight matches. */
  async loadWeights(src: string | Uint8Array | ArrayBuffer): Promise<void> {
    this.assignWeights(decodeSafetensors(await readBytes(src)).tensors);
  }
  /** @internal sets every weight from decoded safetensors (checked first: all or nothing). */
  assignWeights(tensors: Record<string, RawTensor>): void {
    const mine = this.namedWeights('loadWeights');
    const missing = Object.keys(mine).filter((k) => !(k in tensors)), extra = Object.keys(tensors).filter((k) => !(k in mine));
    if (missing.length || extra.length)
      throw new TesseraError('loadWeights', `the file's weights do not match the model${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; unexpected: ${extra.join(', ')}` : ''}`,
        'load weights saved from a model with the same layers');
    for (const [k, t] of Object.entries(mine))
      if (!shapesEqual(t.shape, tensors[k]!.shape)) throw new TesseraError('loadWeights', `weight ${k} has shape ${fmtShape(t.shape)} in the model but ${fmtShape(tensors[k]!.shape)} in the file`, 'load weights saved from a model with the same layer sizes');
    for (const [k, t] of Object.entries(mine)) {
      const r = tensors[k]!;
      assignTensor(t, f32(fromHost(r.data, r.dtype, r.shape, k)));
    }
  }
}
