/**
 * Time to accuracy: a full training run with fit (the classic LeNet-5
 * recipe: Adam lr 0.001, batch 64 unless asked otherwise, Keras's 20%
 * validation split, shuffled each epoch), one epoch per fit call, with the
 * test set evaluated after every epoch; it stops at the first epoch whose
 * test accuracy reaches the target (or after maxEpochs).
 *
 * The clock: wall time of every fit and evaluate call from the first epoch
 * to the one that reached the target, including each epoch's data upload
 * and validation pass; model creation (pipeline compilation) is excluded
 * and reported apart. Train and evaluation seconds are also given apart.
 */
import type { ImageDataset } from '../data/dataset.ts';
import type { Gpu } from '../gpu/device.ts';
import { evaluate } from '../engine/evaluate.ts';
import { fit } from '../engine/fit.ts';
import { Model } from '../engine/model.ts';
import { lenet5, type ModelSpec } from '../model/spec.ts';
import type { KernelVariant } from '../kernels/variant.ts';
import { now } from './stats.ts';

export interface ToAccuracyOptions {
  target: number;
  batch?: number;
  maxEpochs?: number;
  validationSplit?: number;
  seed?: number;
  spec?: ModelSpec;
  variant?: KernelVariant;
  onEpoch?: (e: ToAccuracyEpoch) => void;
}

export interface ToAccuracyEpoch {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valAccuracy?: number;
  testAccuracy: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Wall seconds since the start of the first epoch. */
  elapsedSeconds: number;
}

export interface ToAccuracyResult {
  target: number;
  reached: boolean;
  batch: number;
  validationSplit: number;
  epochs: ToAccuracyEpoch[];
  /** Wall seconds until the target was reached (or the run ended). */
  seconds: number;
  trainSeconds: number;
  evalSeconds: number;
  createSeconds: number;
  trainSamplesPerSecond: number;
  finalTestAccuracy: number;
}

export async function timeToAccuracy(gpu: Gpu, train: ImageDataset, test: ImageDataset, options: ToAccuracyOptions): Promise<ToAccuracyResult> {
  const batch = options.batch ?? 64;
  const maxEpochs = options.maxEpochs ?? 15;
  const validationSplit = options.validationSplit ?? 0.2;
  const created = now();
  const model = await Model.create(gpu, options.spec ?? lenet5, { batchSize: batch, seed: options.seed ?? 1, variant: options.variant, optimizer: { kind: 'adam', learningRate: 0.001 } });
  const createSeconds = (now() - created) / 1000;
  const epochs: ToAccuracyEpoch[] = [];
  let trainSeconds = 0;
  let evalSeconds = 0;
  let trainSamples = 0;
  const started = now();
  try {
    for (let epoch = 0; epoch < maxEpochs; epoch++) {
      const t0 = now();
      const history = await fit(model, train, { epochs: epoch + 1, initialEpoch: epoch, validationSplit });
      const t1 = now();
      const evaluation = await evaluate(model, test);
      const t2 = now();
      const log = history.epochs[history.epochs.length - 1];
      trainSeconds += (t1 - t0) / 1000;
      evalSeconds += (t2 - t1) / 1000;
      trainSamples += log.steps * batch;
      const e: ToAccuracyEpoch = {
        epoch: epoch + 1,
        trainLoss: log.loss,
        trainAccuracy: log.accuracy,
        valAccuracy: log.valAccuracy,
        testAccuracy: evaluation.accuracy,
        trainSeconds: (t1 - t0) / 1000,
        evalSeconds: (t2 - t1) / 1000,
        elapsedSeconds: (t2 - started) / 1000,
      };
      epochs.push(e);
      options.onEpoch?.(e);
      if (evaluation.accuracy >= options.target) break;
    }
  } finally {
    model.dispose();
  }
  const last = epochs[epochs.length - 1];
  return {
    target: options.target,
    reached: last !== undefined && last.testAccuracy >= options.target,
    batch,
    validationSplit,
    epochs,
    seconds: last?.elapsedSeconds ?? 0,
    trainSeconds,
    evalSeconds,
    createSeconds,
    trainSamplesPerSecond: trainSamples / Math.max(trainSeconds, 1e-9),
    finalTestAccuracy: last?.testAccuracy ?? 0,
  };
}
