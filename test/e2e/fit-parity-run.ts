/**
 * The run both halves of the Node-vs-browser training comparison execute,
 * imported by the Node test and by the browser page alike: LeNet-5, batch 16,
 * fixed seed, no shuffle, no validation, 5 steps through the engine's fit,
 * one step per submit so that every step's running loss is captured.
 */
import { fit } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import { lenet5 } from '../../src/model/spec.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { subset, type ImageDataset } from '../../src/data/dataset.ts';

export const PARITY = { batch: 16, steps: 5, seed: 7 } as const;

export interface ParityRun {
  /** Running mean loss after each step (fit's onStep), step 1..N. */
  runningLoss: number[];
  /** The epoch's mean loss from fit's end-of-epoch read. */
  epochLoss: number;
  epochAccuracy: number;
  /** The packed weights after the last step. */
  weights: number[];
  variant: string;
}

export async function runParity(gpu: Gpu, train: ImageDataset): Promise<ParityRun> {
  const data = subset(train, { start: 0, end: PARITY.batch * PARITY.steps });
  const model = await Model.create(gpu, lenet5, { batchSize: PARITY.batch, seed: PARITY.seed, optimizer: { kind: 'adam', learningRate: 0.001 } });
  try {
    const runningLoss: number[] = [];
    const history = await fit(model, data, {
      epochs: 1,
      validationSplit: 0,
      shuffle: false,
      maxStepsPerEpoch: PARITY.steps,
      stepsPerSubmit: 1,
      maxSubmitsInFlight: 0,
      onStep: (e) => {
        runningLoss[e.step - 1] = e.loss;
      },
    });
    const weights = Array.from(await model.getWeights());
    const epoch = history.epochs[0];
    return { runningLoss, epochLoss: epoch.loss, epochAccuracy: epoch.accuracy, weights, variant: model.variant };
  } finally {
    model.dispose();
  }
}
