/**
 * Callbacks for `fit` (Keras's `keras.callbacks`): the Callback interface, and the callbacks
 * Tessera ships. `fit` hands each callback its model through `setModel` before training begins.
 *   EarlyStopping   stops when a monitored quantity stops improving; optionally restores the best weights.
 */
import { TesseraError } from '../../ir/error.ts';
import { tensor } from '../creation.ts';
import type { Logs } from './progress.ts';
import type { Tensor } from '../tensor.ts';

/** What a callback sees of the model it trains (handed over by fit through setModel). */
export interface TrainingModel {
  getWeights(): Tensor[];
  setWeights(weights: readonly Tensor[]): void;
  /** Set to true to end fit after the current epoch. */
  stopTraining: boolean;
}

export interface Callback {
  /** Called by fit before onTrainBegin with the model being trained (Keras's set_model). */
  setModel?(model: TrainingModel): void;
  onTrainBegin?(logs: Logs): unknown;
  onTrainEnd?(logs: Logs): unknown;
  onEpochBegin?(epoch: number, logs: Logs): unknown;
  /** logs: loss, metrics and val_ values of the epoch. */
  onEpochEnd?(epoch: number, logs: Logs): unknown;
  onBatchBegin?(batch: number, logs: Logs): unknown;
  /** logs: running averages over the epoch so far (costs a readback per batch when defined). */
  onBatchEnd?(batch: number, logs: Logs): unknown;
}

export interface EarlyStoppingOptions {
  /** The log to watch (default 'val_loss'; 'loss' or a metric name such as 'val_accuracy'). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement after which training stops (default 0: the first one). */
  patience?: number;
  /** 'min' (losses), 'max' (accuracies) or 'auto' (default: 'max' when the name holds 'acc' or 'auc', else 'min'). */
  mode?: 'min' | 'max' | 'auto';
  /** A value the monitored quantity must improve on before the run counts as improving (default none). */
  baseline?: number;
  /** Restore the weights of the best epoch when training ends (default false, as in Keras). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all (warm-up; default 0). */
  startFromEpoch?: number;
}

/**
 * Stops `fit` when `monitor` has not improved by `minDelta` for `patience` epochs (Keras's
 * EarlyStopping). With `restoreBestWeights`, the weights of the best epoch are kept on the host
 * (one readback per improvement) and put back when training ends, also when it ran all its epochs.
 */
export class EarlyStopping implements Callback {
  readonly monitor: string; readonly minDelta: number; readonly patience: number; readonly mode: 'min' | 'max';
  readonly baseline: number | undefined; readonly restoreBestWeights: boolean; readonly startFromEpoch: number;
  /** The best value seen, its epoch (-1: none yet), and the epoch training was stopped at (-1: not stopped). */
  best = NaN; bestEpoch = -1; stoppedEpoch = -1;
  private wait = 0;
  private model: TrainingModel | null = null;
  private bestWeights: Tensor[] | null = null;

  constructor(o: EarlyStoppingOptions = {}) {
    this.monitor = o.monitor ?? 'val_loss';
    this.minDelta = Math.abs(o.minDelta ?? 0);
    this.patience = o.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new TesseraError('EarlyStopping', `patience must be a non-negative integer, got ${o.patience}`);
    const auto = /acc|auc/i.test(this.monitor) ? 'max' : 'min';
    this.mode = !o.mode || o.mode === 'auto' ? auto : o.mode;
    if (this.mode !== 'min' && this.mode !== 'max') throw new TesseraError('EarlyStopping', `mode must be 'min', 'max' or 'auto', got '${String(o.mode)}'`);
    this.baseline = o.baseline;
    this.restoreBestWeights = o.restoreBestWeights ?? false;
    this.startFromEpoch = o.startFromEpoch ?? 0;
  }

  setModel(model: TrainingModel): void { this.model = model; }

  onTrainBegin(): void {
    this.wait = 0; this.stoppedEpoch = -1; this.bestEpoch = -1; this.bestWeights = null;
    this.best = this.baseline ?? (this.mode === 'min' ? Infinity : -Infinity);
  }

  private improves(v: number, ref: number): boolean {
    return this.mode === 'min' ? v < ref - this.minDelta : v > ref + this.minDelta;
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (epoch < this.startFromEpoch) return;
    const v = logs[this.monitor];
    if (v === undefined) {
      throw new TesseraError('EarlyStopping', `monitor '${this.monitor}' is not in the epoch's logs (${Object.keys(logs).join(', ')})`,
        `monitor one of those; 'val_' values need fit's validationData or validationSplit`);
    }
    this.wait++;
    if (this.improves(v, this.best)) {
      this.best = v; this.bestEpoch = epoch; this.wait = 0;
      if (this.restoreBestWeights && this.model) {
        // Host copies: the optimizer's next steps may reuse the weights' buffers.
        const ws = this.model.getWeights();
        const data = await Promise.all(ws.map(async (w) => (await w.data()).slice()));
        for (const w of this.bestWeights ?? []) w.dispose();
        this.bestWeights = ws.map((w, i) => tensor(data[i]!, { shape: w.shape, dtype: w.dtype }));
      }
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      if (this.model) this.model.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.model && this.bestWeights) {
      this.model.setWeights(this.bestWeights);
      this.bestWeights = null;
    }
  }
}
