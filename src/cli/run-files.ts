/**
 * The files a training run keeps in its output folder, each replaced
 * atomically (util/node-files.ts), so a run killed at any moment leaves complete
 * files of the last epoch it finished:
 *   last.ckpt     after every epoch, and where an interrupted run stopped:
 *                 weights, optimizer state and the fit's state (continues the
 *                 run exactly: train --resume)
 *   best.ckpt     when the monitored metric improved (Keras's ModelCheckpoint
 *                 with save_best_only)
 *   history.csv, history.json, curves.svg   the epochs so far
 *   model.ckpt, evaluation.json             when the run ends, after the test
 */
import { join } from 'node:path';
import type { EpochLog, History } from '../engine/fit.ts';
import type { FitState } from '../engine/fit-state.ts';
import { removeStaleTemporaries, writeFileAtomic } from '../util/node-files.ts';
import { curvesSvg, historyCsv } from '../report/curves-svg.ts';
import type { Faults } from './faults.ts';

export const RUN_FILES = ['last.ckpt', 'best.ckpt', 'model.ckpt', 'history.csv', 'history.json', 'curves.svg', 'evaluation.json'] as const;
export type RunFile = (typeof RUN_FILES)[number];

export class RunFiles {
  private lastWrites = 0;

  constructor(
    readonly folder: string,
    private readonly title: string,
    private readonly faults: Faults,
  ) {}

  path(name: RunFile): string {
    return join(this.folder, name);
  }

  /** Temporary files that a killed run's interrupted writes left; removed, and their names returned. */
  clearStale(): string[] {
    return removeStaleTemporaries(this.folder, [...RUN_FILES]);
  }

  write(name: RunFile, data: Uint8Array | string): void {
    const midWrite = name === 'last.ckpt' ? this.faults.duringCheckpoint(++this.lastWrites) : undefined;
    writeFileAtomic(this.path(name), data, { midWrite });
  }

  /** After an epoch: where the run stands, and its best so far. */
  epochEnd(checkpoint: Uint8Array, state: FitState): void {
    this.write('last.ckpt', checkpoint);
    this.writeHistory(state.history);
    if (state.earlyStopping && state.earlyStopping.bestEpoch === state.epoch) this.write('best.ckpt', checkpoint);
  }

  writeHistory(history: Omit<History, 'endState'>): void {
    this.write('history.csv', historyCsv(history.epochs));
    this.write('history.json', `${JSON.stringify(history, null, 2)}\n`);
    this.write('curves.svg', curvesSvg(history.epochs as EpochLog[], this.title));
  }
}
