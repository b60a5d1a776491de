/**
 * Early stopping with Keras's semantics (keras.callbacks.EarlyStopping):
 * watch one metric of the epoch history; an epoch "improves" when it beats the
 * best so far by more than minDelta in the metric's direction (loss: lower,
 * accuracy: higher); stop after `patience` epochs without improvement; with
 * restoreBestWeights the engine puts back the weights of the best epoch.
 * Pure logic, so it is tested on scripted histories.
 */
export type MonitoredMetric = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';

export interface EarlyStoppingOptions {
  /** Default 'valLoss' (Keras); the classic write-up monitors 'accuracy'. */
  monitor?: MonitoredMetric;
  minDelta?: number;
  patience?: number;
  restoreBestWeights?: boolean;
}

export interface EarlyStoppingDecision {
  improved: boolean;
  stop: boolean;
  bestEpoch: number;
  bestValue: number;
  epochsWithoutImprovement: number;
}

/** The counters that carry early stopping from one epoch to the next (saved in checkpoints). */
export interface EarlyStoppingState {
  /** Best value so far; null before the first epoch (JSON has no NaN). */
  best: number | null;
  bestEpoch: number;
  wait: number;
}

export class EarlyStopping {
  readonly monitor: MonitoredMetric;
  readonly minDelta: number;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  private best = Number.NaN;
  private bestEpoch = -1;
  private wait = 0;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'valLoss';
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.patience = options.patience ?? 0;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`early stopping patience must be a whole number >= 0, got ${options.patience}`);
  }

  get state(): EarlyStoppingState {
    return { best: this.bestEpoch < 0 ? null : this.best, bestEpoch: this.bestEpoch, wait: this.wait };
  }

  /** Continues from saved counters (a resumed run). */
  restore(state: EarlyStoppingState): void {
    this.best = state.best ?? Number.NaN;
    this.bestEpoch = state.bestEpoch;
    this.wait = state.wait;
  }

  get higherIsBetter(): boolean {
    return this.monitor === 'accuracy' || this.monitor === 'valAccuracy';
  }

  /** Feed one epoch's value of the monitored metric. */
  update(epoch: number, value: number | undefined): EarlyStoppingDecision {
    if (value === undefined || Number.isNaN(value)) {
      throw new Error(`early stopping monitors "${this.monitor}" but epoch ${epoch} has no value for it; use validationSplit > 0 for val metrics, or monitor "loss"/"accuracy"`);
    }
    const improved =
      this.bestEpoch < 0 || (this.higherIsBetter ? value - this.minDelta > this.best : value + this.minDelta < this.best);
    if (improved) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
    } else {
      this.wait++;
    }
    return { improved, stop: !improved && this.wait >= this.patience, bestEpoch: this.bestEpoch, bestValue: this.best, epochsWithoutImprovement: this.wait };
  }
}
