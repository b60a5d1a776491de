/**
 * Training recipes of the two source write-ups: what `train --preset X` uses
 * unless a flag says otherwise.
 *  - lenet5 (classic): Adam (Keras defaults), sparse categorical
 *    cross-entropy, 20% validation split, early stopping on training accuracy.
 *  - lenet5-variant: 90/10 split, reported with one-vs-rest AUC.
 */
import type { EarlyStoppingOptions } from './early-stopping.ts';
import type { OptimizerConfig } from './optimizer-state.ts';

export interface Recipe {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  validationSplit: number;
  earlyStopping?: EarlyStoppingOptions;
}

export const recipes: Record<string, Recipe> = {
  lenet5: {
    epochs: 15,
    batchSize: 64,
    optimizer: { kind: 'adam', learningRate: 0.001 },
    validationSplit: 0.2,
    earlyStopping: { monitor: 'accuracy', minDelta: 0.0005, patience: 2 },
  },
  'lenet5-variant': {
    epochs: 15,
    batchSize: 64,
    optimizer: { kind: 'adam', learningRate: 0.001 },
    validationSplit: 0.1,
    earlyStopping: { monitor: 'valLoss', patience: 3, restoreBestWeights: true },
  },
};

export const defaultRecipe: Recipe = { epochs: 10, batchSize: 64, optimizer: { kind: 'adam' }, validationSplit: 0.2 };
