/**
 * Keras-style models: `compile`, `fit`, `evaluate`, `predict`, `summary`, `saveWeights` /
 * `loadWeights`. Model holds the training loop; Sequential (a stack of layers) is the model.
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
import { activations } from './activations.ts';
import { checkBatched, batchBounds, gather, permutation, rows, split, toHost, type Data, type HostData } from './data.ts';
import { assignTensor, uniqueName, type ApplyContext, type Layer, type Params } from './layers.ts';
import { getLoss, type Loss, type LossSpec } from './losses.ts';
import { getMetric, type Metric, type MetricSpec } from './metrics.ts';
import { getOptimizer, type Optimizer, type OptimizerSpec, type OptState } from './optimizers.ts';
import { withPlots, type HistoryData, type HistoryPlots } from './history.ts';
import { Progress, type Logs, type Verbosity } from './progress.ts';
import { decodeSafetensors, readBytes, saveSafetensors, type Metadata } from './safetensors.ts';
import { summaryTable } from './summary.ts';
import { evalFn, predictFn, trainFn, trainStep, type EvalFn, type Forward, type PredictFn, type StepKeys, type StepResult, type TrainFn, type TrainState } from './training.ts';

export interface CompileArgs {
  /** 'adam', 'sgd', 'adamw', 'rmsprop' or an Optimizer (default 'rmsprop', as Keras). */
  optimizer?: OptimizerSpec;
  loss: LossSpec;
  metrics?: readonly (MetricSpec | string)[];
}

export interface Callback {
  onTrainBegin?(logs: Logs): unknown;
  onTrainEnd?(logs: Logs): unknown;
  onEpochBegin?(epoch: number, logs: Logs): unknown;
  /** logs: loss, metrics and val_ values of the epoch. */
  onEpochEnd?(epoch: number, logs: Logs): unknown;
  onBatchBegin?(batch: number, logs: Logs): unknown;
  /** logs: running averages over the epoch so far (costs a readback per batch when defined). */
  onBatchEnd?(batch: number, logs: Logs): unknown;
}

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the samples, taken from the end before shuffling, held out for validation. */
  validationSplit?: number;
  validationData?: readonly [Data, Data];
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

interface Compiled { optimizer: Optimizer; loss: Loss; metrics: Metric[] }

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

export abstract class Model {
  readonly name: string;
  /** Set to true (e.g. from a callback) to end fit after the current epoch. */
  stopTraining = false;
  protected compiled: Compiled | null = null;
  private optState: OptState | null = null;
  private stepCache: { compiled: Compiled; sig: string; fns: { train: TrainFn; evaluate: EvalFn } } | null = null;
  private predictCache: { sig: string; fn: PredictFn } | null = null;

  constructor(name: string) { this.name = name; }

  abstract get layers(): readonly Layer[];
  /** The input's feature shape once built, else null. */
  abstract get inputShape(): Shape | null;
  /** Builds every layer for inputs of feature shape `inputShape`. */
  abstract build(inputShape: Shape): void;
  /** The pure forward pass over a parameter tree; inference unless `ctx` says training. */
  abstract forward(params: Params[], x: Tensor, ctx?: ApplyContext): Forward;
  /** The output feature shape for an input feature shape (no computation). */
  abstract computeOutputShape(inputShape: Shape): Shape;

  get built(): boolean { return this.inputShape !== null; }
  /** The parameters: one object of tensors per layer (the live tensors training updates). */
  get params(): Params[] { return this.layers.map((l) => l.params); }
  get optimizer(): Optimizer | null { return this.compiled?.optimizer ?? null; }
  get loss(): Loss | null { return this.compiled?.loss ?? null; }
  get metricsNames(): string[] { return this.compiled ? ['loss', ...this.compiled.metrics.map((m) => m.name)] : []; }
  countParams(): number { return this.layers.reduce((s, l) => s + l.countParams(), 0); }
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

  /** Applies the model to `x` with the current weights (lazy); inference unless `ctx` says training. */
  call(x: Tensor, ctx?: ApplyContext): Tensor {
    if (!(x instanceof Tensor)) throw new TesseraError(this.name, `expected a Tensor, got ${typeof x}`, 'wrap arrays with tensor(...), or use predict()');
    this.ensureBuilt('call', x.shape);
    return this.forward(this.params, x, ctx).out;
  }

  compile(args: CompileArgs): void {
    if (!args || args.loss === undefined) throw new TesseraError('compile', 'a loss is required', "e.g. model.compile({optimizer: 'adam', loss: 'binaryCrossentropy'})");
    const loss = getLoss(args.loss);
    const metrics = (args.metrics ?? []).map((m) => getMetric(m, loss));
    const names = new Set<string>(['loss']);
    for (const m of metrics) {
      if (names.has(m.name)) throw new TesseraError('compile', `metric name '${m.name}' is used twice`);
      names.add(m.name);
    }
    this.compiled = { optimizer: getOptimizer(args.optimizer), loss, metrics };
    this.optState = null;
  }

  /** The pure train step `(params, optState, x, y, seed?) => {params, optState, loss, metrics}` (for custom loops and tests; `seed` for Dropout). */
  makeTrainStep(): (params: Params[], optState: OptState, x: Tensor, y: Tensor, seed?: Tensor) => StepResult {
    const c = this.requireCompiled('makeTrainStep');
    return trainStep({ forward: (p, x, ctx) => this.forward(p, x, ctx), loss: c.loss, metrics: c.metrics, optimizer: c.optimizer });
  }
  /** Fresh optimizer state for the current parameters. */
  initOptimizerState(): OptState { return this.requireCompiled('initOptimizerState').optimizer.init(this.params); }

  /** Describes the computation (null where a user function makes it unique). */
  private keys(): StepKeys {
    const ls = this.layers.map((l) => l.cacheKey());
    const forward = ls.every((k) => k !== null) ? JSON.stringify(ls) : null;
    const c = this.compiled;
    const ev = c && forward !== null && c.loss.key !== null && c.metrics.every((m) => m.key !== null)
      ? `${forward}|${c.loss.key}|${c.metrics.map((m) => `${m.name}=${m.key}`).join(',')}` : null;
    return { forward, evaluate: ev, train: ev !== null ? `${ev}|${c!.optimizer.key()}` : null };
  }
  /** The jitted steps: shared process-wide when the computation has a key, else kept per model (until recompiled). */
  private steps() {
    const c = this.requireCompiled('fit');
    const keys = this.keys(), sig = JSON.stringify(keys);
    if (this.stepCache?.compiled === c && this.stepCache.sig === sig) return this.stepCache.fns;
    const spec = { forward: (p: Params[], x: Tensor, ctx?: ApplyContext) => this.forward(p, x, ctx), loss: c.loss, metrics: c.metrics, optimizer: c.optimizer };
    const fns = { train: trainFn(keys.train, spec), evaluate: evalFn(keys.evaluate, spec) };
    this.stepCache = { compiled: c, sig, fns };
    return fns;
  }
  private predictStep(): PredictFn {
    const key = this.keys().forward, sig = key ?? `custom:${this.layers.length}`;
    if (this.predictCache?.sig !== sig) this.predictCache = { sig, fn: predictFn(key, (p, xx) => this.forward(p, xx)) };
    return this.predictCache.fn;
  }
  /** The number of times the train step was traced (once per batch shape). */
  get trainTraceCount(): number { return this.compiled ? this.steps().train.traceCount : 0; }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled) throw new TesseraError(op, 'the model is not compiled', "call model.compile({optimizer: 'adam', loss: ..., metrics: ['accuracy']}) first");
    return this.compiled;
  }
  private ensureBuilt(op: string, shape: Shape): void {
    if (shape.length < 1) throw new TesseraError(op, `inputs of shape ${fmtShape(shape)} have no batch axis`, 'pass arrays of shape [samples, ...features]');
    const feat = shape.slice(1);
    if (!this.built) this.build(feat);
    else if (!shapesEqual(this.inputShape!, feat))
      throw new TesseraError(op, `inputs of shape ${fmtShape(shape)} do not match the model's input shape ${fmtShape(['None' as never, ...this.inputShape!])}`,
        `pass samples with ${fmtShape(this.inputShape!)} features`);
  }
  /** Checks x and y for fit/evaluate: equal lengths, features, labels the loss can read. */
  private checkData(op: string, X: HostData, Y: HostData, names = ['x', 'y']): void {
    checkBatched(op, names[0]!, X);
    checkBatched(op, names[1]!, Y);
    if (X.shape[0] !== Y.shape[0])
      throw new TesseraError(op, `${names[0]} has ${X.shape[0]} samples (shape ${fmtShape(X.shape)}) but ${names[1]} has ${Y.shape[0]} (shape ${fmtShape(Y.shape)})`,
        `pass one label per sample: ${names[0]} and ${names[1]} must have the same length`);
    this.ensureBuilt(op, X.shape);
    this.requireCompiled(op).loss.check(Y.shape, [Y.shape[0]!, ...this.computeOutputShape(this.inputShape!)]);
  }

  /** One jitted train step on a batch: the state's parameter handles are donated; the layers' tensors then point at the results. */
  private async trainBatch(fn: TrainFn, acc: Tensor, x: Tensor, y: Tensor, seed: Tensor): Promise<Tensor> {
    const live = this.params;
    const handles = live.map((p) => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, new Tensor(t.use('fit'))])) as Params);
    let next: TrainState;
    try { next = await fn({ params: handles, optState: this.optState!, acc }, x, y, seed); } catch (e) {
      for (const h of handles) for (const t of Object.values(h)) t.dispose(); // live tensors still hold the nodes
      throw e;
    }
    live.forEach((p, i) => { for (const k of Object.keys(p)) assignTensor(p[k]!, next.params[i]![k]!); });
    this.optState = next.optState;
    return next.acc;
  }

  async fit(x: Data, y: Data, args: FitArgs = {}): Promise<History> {
    const c = this.requireCompiled('fit');
    const epochs = args.epochs ?? 1, initialEpoch = args.initialEpoch ?? 0;
    if (!Number.isInteger(epochs) || epochs < 0) throw new TesseraError('fit', `epochs must be a non-negative integer, got ${epochs}`);
    const batchSize = posInt('fit', 'batchSize', args.batchSize ?? 32);
    let X = await toHost(x, 'fit', 'x'), Y = await toHost(y, 'fit', 'y');
    this.checkData('fit', X, Y);
    let val: [HostData, HostData] | null = null;
    if (args.validationData) {
      const [vx, vy] = args.validationData;
      val = [await toHost(vx, 'fit', 'validationData x'), await toHost(vy, 'fit', 'validationData y')];
      this.checkData('fit', val[0], val[1], ['validationData x', 'validationData y']);
    } else if (args.validationSplit) {
      const vs = args.validationSplit;
      if (!(vs > 0 && vs < 1)) throw new TesseraError('fit', `validationSplit must be in (0, 1), got ${vs}`);
      const nTrain = Math.floor(X.shape[0]! * (1 - vs));
      if (nTrain < 1 || nTrain >= X.shape[0]!)
        throw new TesseraError('fit', `validationSplit ${vs} of ${X.shape[0]} samples leaves ${nTrain} for training and ${X.shape[0]! - nTrain} for validation`, 'use more samples or another split');
      const [xt, xv] = split(X, nTrain), [yt, yv] = split(Y, nTrain);
      X = xt; Y = yt; val = [xv, yv];
    }
    const n = X.shape[0]!, bounds = batchBounds(n, batchSize);
    const fns = this.steps();
    this.optState ??= c.optimizer.init(this.params);
    const runSeed = args.seed ?? nextSeed(), shuffle = args.shuffle ?? true, next = prng(runSeed);
    // Step t's random seed is base + t: distinct for every step of the run.
    const seedBase = Math.floor(prng((runSeed ^ 0x9e3779b9) >>> 0)() * 2 ** 32);
    let step = 0;
    // A fixed batch order (no shuffling, or one batch: order inside a batch does not matter) uploads once.
    const fixed = !shuffle || bounds.length === 1 ? bounds.map(([a, b]) => [rows(X, a, b), rows(Y, a, b)] as const) : null;
    const valBatches = val ? batchBounds(val[0].shape[0]!, batchSize).map(([a, b]) => [rows(val![0], a, b), rows(val![1], a, b)] as const) : [];
    const cbs = args.callbacks ? (Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks as Callback]) : [];
    const k = 1 + c.metrics.length;
    const names = ['loss', ...c.metrics.map((m) => m.name)];
    const toLogs = (sums: ArrayLike<number>, count: number, prefix = ''): Logs => Object.fromEntries(names.map((nm, i) => [prefix + nm, sums[i]! / count]));
    const progress = new Progress(args.verbose ?? 'auto', epochs, bounds.length, undefined, args.plot);
    const history: Record<string, number[]> = {};
    const epochList: number[] = [];
    const deferred = progress.quiet && !cbs.length;
    const pending: [number, Tensor, Tensor | null][] = [];
    const finish = (epoch: number, tr: Float32Array, va?: Float32Array): Logs => {
      const logs: Logs = { ...toLogs(tr, n), ...(va ? toLogs(va, val![0].shape[0]!, 'val_') : {}) };
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
    this.stopTraining = false;
    try {
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
          const [xb, yb] = fixed ? fixed[s]! : [gather(X, order!, a, b), gather(Y, order!, a, b)];
          const seed = fromHost(Uint32Array.of((seedBase + step++) >>> 0), 'uint32', [], 'seed');
          try { acc = await this.trainBatch(fns.train, acc, xb, yb, seed); } finally { seed.dispose(); if (!fixed) { xb.dispose(); yb.dispose(); } }
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
          for (const [vx, vy] of valBatches) vacc = await fns.evaluate(this.params, vacc, vx, vy);
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
      for (const [bx, by] of [...(fixed ?? []), ...valBatches]) { bx.dispose(); by.dispose(); }
    }
    return withPlots({ history, epoch: epochList, params: { epochs, steps: bounds.length, batchSize, samples: n } });
  }

  /**
   * Loss and metrics on (x, y), in batches, with one readback. Returns the loss alone when there
   * are no metrics, else [loss, ...metrics] (Keras), or an object with `returnDict: true`.
   */
  async evaluate(x: Data, y: Data, args: { batchSize?: number; verbose?: Verbosity; returnDict?: boolean } = {}): Promise<number | number[] | Logs> {
    const c = this.requireCompiled('evaluate');
    const X = await toHost(x, 'evaluate', 'x'), Y = await toHost(y, 'evaluate', 'y');
    this.checkData('evaluate', X, Y);
    const batchSize = posInt('evaluate', 'batchSize', args.batchSize ?? 32);
    const fn = this.steps().evaluate;
    const k = 1 + c.metrics.length, t0 = performance.now();
    const bounds = batchBounds(X.shape[0]!, batchSize);
    let acc = fromHost(new Float32Array(k), 'float32', [k], 'acc');
    for (const [a, b] of bounds) {
      const xb = rows(X, a, b), yb = rows(Y, a, b);
      try { acc = await fn(this.params, acc, xb, yb); } finally { xb.dispose(); yb.dispose(); }
    }
    const [sums] = await readAll([acc]);
    acc.dispose();
    const names = ['loss', ...c.metrics.map((m) => m.name)];
    const logs = Object.fromEntries(names.map((nm, i) => [nm, sums![i]! / X.shape[0]!]));
    new Progress(args.verbose ?? 0, 1, bounds.length).done(logs, performance.now() - t0);
    if (args.returnDict) return logs;
    return k === 1 ? logs.loss! : names.map((nm) => logs[nm]!);
  }

  /** The model's outputs for x (a realized tensor), computed in batches of `batchSize` (default 32). */
  async predict(x: Data, args: { batchSize?: number } = {}): Promise<Tensor> {
    const batchSize = posInt('predict', 'batchSize', args.batchSize ?? 32);
    const fn = this.predictStep();
    if (x instanceof Tensor && x.rank >= 1 && x.shape[0]! <= batchSize) {
      this.ensureBuilt('predict', x.shape);
      return fn(this.params, x.dtype === 'float32' ? x : castTo(x, 'float32'));
    }
    const X = await toHost(x, 'predict', 'x');
    checkBatched('predict', 'x', X);
    this.ensureBuilt('predict', X.shape);
    const bounds = batchBounds(X.shape[0]!, batchSize);
    const outs: Tensor[] = [];
    for (const [a, b] of bounds) {
      const xb = rows(X, a, b);
      try { outs.push(await fn(this.params, xb)); } finally { xb.dispose(); }
    }
    if (outs.length === 1) return outs[0]!;
    const parts = await readAll(outs);
    for (const o of outs) o.dispose();
    const total = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) { total.set(p, off); off += p.length; }
    return fromHost(total, 'float32', [X.shape[0]!, ...outs[0]!.shape.slice(1)], 'predictions');
  }

  /** The layer table (printed with console.log unless `printFn` is given); returns it. */
  summary(opts: { printFn?: (line: string) => void } = {}): string {
    let shape: Shape | null = this.inputShape;
    const rowsOut = this.layers.map((l) => {
      shape = shape && l.built ? l.computeOutputShape(shape) : null;
      return { name: l.name, type: l.className, outputShape: shape, params: l.countParams() };
    });
    const text = summaryTable(this.name, rowsOut, this.countParams());
    (opts.printFn ?? console.log)(text);
    return text;
  }

  /** Weight names in files: `<layer index>.<param>`, e.g. '0.kernel', '0.bias', '1.kernel'. */
  private namedWeights(op: string): Record<string, Tensor> {
    if (!this.built) throw new TesseraError(op, 'the model is not built, so it has no weights yet', 'give the first layer an inputShape, or call build([features]), fit or predict first');
    const out: Record<string, Tensor> = {};
    this.layers.forEach((l, i) => { for (const [k, t] of Object.entries(l.params)) out[`${i}.${k}`] = t; });
    return out;
  }

  /** Saves the weights in the safetensors format: to `path` in Node, and returns the bytes. */
  async saveWeights(path?: string): Promise<Uint8Array> {
    const meta: Metadata = { format: 'tessera', model: this.name, layers: JSON.stringify(this.layers.map((l) => [l.name, l.className])) };
    return saveSafetensors(this.namedWeights('saveWeights'), path, meta);
  }

  /** Loads weights saved by saveWeights (a path in Node, or bytes). All-or-nothing: nothing changes unless every weight matches. */
  async loadWeights(src: string | Uint8Array | ArrayBuffer): Promise<void> {
    const mine = this.namedWeights('loadWeights');
    const { tensors } = decodeSafetensors(await readBytes(src));
    const missing = Object.keys(mine).filter((k) => !(k in tensors)), extra = Object.keys(tensors).filter((k) => !(k in mine));
    if (missing.length || extra.length)
      throw new TesseraError('loadWeights', `the file's weights do not match the model${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; unexpected: ${extra.join(', ')}` : ''}`,
        'load weights saved from a model with the same layers');
    for (const [k, t] of Object.entries(mine))
      if (!shapesEqual(t.shape, tensors[k]!.shape)) throw new TesseraError('loadWeights', `weight ${k} has shape ${fmtShape(t.shape)} in the model but ${fmtShape(tensors[k]!.shape)} in the file`, 'load weights saved from a model with the same layer sizes');
    for (const [k, t] of Object.entries(mine)) {
      const r = tensors[k]!;
      const v = fromHost(r.data, r.dtype, r.shape, k);
      assignTensor(t, v.dtype === 'float32' ? v : castTo(v, 'float32'));
    }
  }
}

// ---------------------------------------------------------------------------------------------
/** A linear stack of layers: `new Sequential([new Dense(10, {activation: 'relu', inputShape: [3]}), new Dense(1)])`. */
export class Sequential extends Model {
  private readonly stack: Layer[] = [];
  private builtShape: Shape | null = null;

  constructor(layers: readonly Layer[] = [], opts: { name?: string } = {}) {
    super(opts.name ?? uniqueName('sequential'));
    for (const l of layers) this.add(l);
  }
  get layers(): readonly Layer[] { return this.stack; }
  get inputShape(): Shape | null { return this.builtShape; }

  add(layer: Layer): this {
    if (!layer || typeof (layer as Layer).apply !== 'function') throw new TesseraError('Sequential', `expected a layer, got ${typeof layer}`);
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
  private buildLayers(layers: readonly Layer[], shape: Shape): void {
    let s = shape;
    for (const l of layers) { l.build(s); s = l.computeOutputShape(s); }
  }

  computeOutputShape(inputShape: Shape, upTo = this.stack.length): Shape {
    let s = inputShape;
    for (const l of this.stack.slice(0, upTo)) s = l.computeOutputShape(s);
    return s;
  }

  forward(params: Params[], x: Tensor, ctx: ApplyContext = {}): Forward {
    const L = this.stack;
    if (!L.length) throw new TesseraError(this.name, 'has no layers', 'add layers first');
    // Each layer draws from its own random stream: its index.
    const at = (i: number): ApplyContext => ({ ...ctx, stream: i });
    let h = x;
    for (let i = 0; i < L.length - 1; i++) h = L[i]!.apply(params[i]!, h, at(i));
    const last = L.length - 1;
    const pre = L[last]!.preActivation(params[last]!, h, at(last));
    const out = pre ? activations[pre.activation](pre.z) : L[last]!.apply(params[last]!, h, at(last));
    return { out, pre };
  }
}

/** Keras-like factory: `nn.sequential([nn.dense(10, {activation: 'relu', inputShape: [3]}), nn.dense(1)])`. */
export const sequential = (layers: readonly Layer[] = [], opts: { name?: string } = {}) => new Sequential(layers, opts);
