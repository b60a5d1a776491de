/**
 * Mirrors fit's early stopping for display: fit keeps its EarlyStopping
 * private, so the page feeds the same epoch logs to its own instance with the
 * same options (the class is deterministic) and shows each decision.
 */
import { EarlyStopping, type EarlyStoppingOptions, type EpochLog } from '../../src/index.ts';

export type EarlyStoppingDecision = ReturnType<EarlyStopping['update']>;

export class EarlyStoppingView {
  private readonly stopper: EarlyStopping | undefined;
  last: EarlyStoppingDecision | undefined;

  constructor(options: EarlyStoppingOptions | undefined) {
    this.stopper = options ? new EarlyStopping(options) : undefined;
  }

  get active(): boolean {
    return this.stopper !== undefined;
  }

  get monitor(): string {
    return this.stopper?.monitor ?? 'off';
  }

  get patience(): number {
    return this.stopper?.patience ?? 0;
  }

  update(log: EpochLog): EarlyStoppingDecision | undefined {
    if (!this.stopper) return undefined;
    const value = log[this.stopper.monitor];
    if (value === undefined) return this.last;
    this.last = this.stopper.update(log.epoch, value);
    return this.last;
  }
}
