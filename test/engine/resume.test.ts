/**
 * A fit stopped anywhere (mid-epoch, at an epoch end, twice in one run) and
 * resumed from a checkpoint holding its state ends exactly as the same fit
 * run without a stop: the same weights, the same epoch logs (every number but
 * the timings), the same early-stopping outcome. Two recipes: Adam with
 * validation and early stopping that restores the best weights, and SGD with
 * momentum and on-GPU augmentation (its transforms follow the global step).
 * And the refusals: a checkpoint of another optimizer, and a fit state taken
 * with other settings; a version-1 checkpoint (no sections) still loads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { captureCheckpoint, CheckpointError, decodeCheckpoint, restoreCheckpoint } from '../../src/engine/checkpoint.ts';
import { fitStateFromCheckpoint } from '../../src/engine/fit-state.ts';
import { fit, type EpochLog, type FitOptions, type History } from '../../src/engine/fit.ts';
import { Model, type ModelOptions } from '../../src/engine/model.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { crc32 } from '../../src/util/crc32.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

interface Recipe {
  name: string;
  model: ModelOptions;
  fit: FitOptions;
}

const RECIPES: Recipe[] = [
  {
    name: 'Adam, validation, early stopping restoring the best weights',
    model: { seed: 5, batchSize: 32 },
    // minDelta makes early stopping end the run within its 6 epochs, so the finish is covered too.
    fit: { epochs: 6, validationSplit: 0.25, stepsPerSubmit: 2, earlyStopping: { monitor: 'valLoss', patience: 1, minDelta: 0.03, restoreBestWeights: true } },
  },
  {
    name: 'SGD with momentum, augmentation, no validation',
    model: { seed: 6, batchSize: 32, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 } },
    fit: { epochs: 3, validationSplit: 0, stepsPerSubmit: 3, augment: { maxRotationDegrees: 12, maxScale: 0.1, maxShift: 2 } },
  },
];

/** Everything an epoch log holds that does not depend on time. */
const exact = (epochs: EpochLog[]): unknown[] => epochs.map(({ epoch, loss, accuracy, valLoss, valAccuracy, steps }) => ({ epoch, loss, accuracy, valLoss, valAccuracy, steps }));

describe('fit stopped and resumed from a checkpoint', () => {
  let gpu: Gpu;
  let train: ImageDataset;
  beforeAll(async () => {
    gpu = await testGpu();
    train = await mnistSlice('train', 0, 640);
  });

  for (const recipe of RECIPES) {
    it(`ends exactly as an undisturbed run: ${recipe.name}`, async () => {
      const reference = await Model.create(gpu, lenet5, recipe.model);
      const expected = await fit(reference, train, recipe.fit);
      const expectedWeights = await reference.getWeights();
      reference.dispose();
      expect(expected.endState?.finished).toBe(expected.stopReason === 'early-stopping');

      // Stop in epoch 2 (mid-epoch), at the end of epoch 3 and in epoch 6 (after the best epoch, 5, whose weights early stopping
      // then restores from the checkpoint), then let it finish; a new model each time, from the checkpoint alone.
      const mid = (epoch: number) => (e: number, s: number | 'end'): boolean => e === epoch && s !== 'end' && s >= 5;
      const stops: ((epoch: number, step: number | 'end') => boolean)[] = [mid(2), (e, s) => e === 3 && s === 'end', mid(6)];
      let bytes: Uint8Array | undefined;
      let history: History | undefined;
      let finalWeights: Float32Array | undefined;
      const checkpointed: number[] = [];
      for (let leg = 0; leg <= stops.length && !finalWeights; leg++) {
        const model = await Model.create(gpu, lenet5, recipe.model);
        try {
          const state = bytes ? fitStateFromCheckpoint(decodeCheckpoint(bytes)) : undefined;
          if (bytes) restoreCheckpoint(model, bytes);
          const control = { stopRequested: false };
          const stop = stops[leg];
          history = await fit(model, train, {
            ...recipe.fit,
            resume: state,
            control,
            onStep: (e) => {
              if (stop?.(e.epoch, e.step)) control.stopRequested = true;
            },
            afterEpoch: (log) => {
              if (stop?.(log.epoch, 'end')) control.stopRequested = true;
            },
          });
          if (history.stopReason === 'stopped') {
            checkpointed.push(history.endState!.step);
            bytes = await captureCheckpoint(model, history.endState!.epoch, { leg }, history.endState);
          } else {
            finalWeights = await model.getWeights();
          }
        } finally {
          model.dispose();
        }
      }
      console.log(`${recipe.name}: stopped at steps ${checkpointed.join(', ')} (0: an epoch end); ${history!.epochs.length} epochs, ${history!.stopReason}${history!.bestEpoch ? `, best epoch ${history!.bestEpoch}` : ''}`);
      expect(checkpointed[0]).toBeGreaterThanOrEqual(5); // a mid-epoch state
      if (expected.epochs.length > 3) expect(checkpointed[1]).toBe(0); // an epoch-end state
      if (expected.bestEpoch) expect(checkpointed).toHaveLength(3); // the last stop came after the best epoch
      expect(exact(history!.epochs)).toEqual(exact(expected.epochs));
      expect(history!.stopReason).toBe(expected.stopReason);
      expect(history!.bestEpoch).toBe(expected.bestEpoch);
      expect(history!.endState).toMatchObject({ epoch: expected.epochs.length, step: 0, finished: expected.stopReason === 'early-stopping' });
      expect(finalWeights).toEqual(expectedWeights);
    });
  }

  it('a completed run resumed with more epochs trains on, as the longer run would have', async () => {
    const options: ModelOptions = { seed: 9, batchSize: 32 };
    const fitOptions: FitOptions = { validationSplit: 0.25, stepsPerSubmit: 4 };
    const longer = await Model.create(gpu, lenet5, options);
    const expected = await fit(longer, train, { ...fitOptions, epochs: 3 });
    const expectedWeights = await longer.getWeights();
    longer.dispose();
    const first = await Model.create(gpu, lenet5, options);
    const short = await fit(first, train, { ...fitOptions, epochs: 2 });
    expect(short.endState).toMatchObject({ epoch: 2, step: 0, finished: false });
    const bytes = await captureCheckpoint(first, 2, undefined, short.endState);
    first.dispose();
    const second = await Model.create(gpu, lenet5, options);
    try {
      restoreCheckpoint(second, bytes);
      const state = fitStateFromCheckpoint(decodeCheckpoint(bytes))!;
      // Nothing left at the same length; one more epoch at a longer one.
      expect((await fit(second, train, { ...fitOptions, epochs: 2, resume: state })).epochs).toHaveLength(2);
      const extended = await fit(second, train, { ...fitOptions, epochs: 3, resume: state });
      expect(exact(extended.epochs)).toEqual(exact(expected.epochs));
      expect(await second.getWeights()).toEqual(expectedWeights);
    } finally {
      second.dispose();
    }
  });

  it('a checkpoint of another optimizer is refused, and one with a fit state taken under other settings cannot resume', async () => {
    const adam = await Model.create(gpu, lenet5, { seed: 1, batchSize: 32 });
    const sgd = await Model.create(gpu, lenet5, { seed: 1, batchSize: 32, optimizer: { kind: 'sgd', learningRate: 0.01, momentum: 0.9 } });
    try {
      const control = { stopRequested: false };
      const history = await fit(adam, train, { epochs: 2, validationSplit: 0, stepsPerSubmit: 1, control, onStep: (e) => void (e.step >= 3 && (control.stopRequested = true)) });
      const bytes = await captureCheckpoint(adam, 0, undefined, history.endState);
      const before = await sgd.getWeights();
      expect(() => restoreCheckpoint(sgd, bytes, 'adam.ckpt')).toThrow(CheckpointError);
      expect(() => restoreCheckpoint(sgd, bytes, 'adam.ckpt')).toThrow(/adam.ckpt holds adam state but the model uses sgd; create the model with the checkpoint's optimizer/);
      expect(await sgd.getWeights()).toEqual(before); // refused whole
      // Another validation split changes the steps per epoch: resuming would not continue the same run.
      restoreCheckpoint(adam, bytes);
      const state = fitStateFromCheckpoint(decodeCheckpoint(bytes))!;
      expect(state.step).toBeGreaterThanOrEqual(3);
      await expect(fit(adam, train, { epochs: 2, validationSplit: 0.5, resume: state })).rejects.toThrow(/ran 20 steps per epoch, this one would run 10/);
    } finally {
      adam.dispose();
      sgd.dispose();
    }
  });

  it('reads version-1 checkpoints (no sections, no fit state)', async () => {
    const model = await Model.create(gpu, lenet5, { seed: 2, batchSize: 16 });
    try {
      const v2 = await captureCheckpoint(model, 0);
      const c = decodeCheckpoint(v2);
      expect(c.header.sections).toEqual([]);
      // The same bytes as version 1 wrote them: version field 1, header without `sections`, fresh CRC.
      const headerLength = new DataView(v2.buffer).getUint32(12, true);
      const { sections: _dropped, ...header } = c.header;
      let text = JSON.stringify(header);
      text += ' '.repeat(headerLength - new TextEncoder().encode(text).length);
      const v1 = v2.slice();
      v1.set(new TextEncoder().encode(text), 16);
      new DataView(v1.buffer).setUint32(8, 1, true);
      new DataView(v1.buffer).setUint32(v1.length - 4, crc32(v1.subarray(0, v1.length - 4)), true);
      const old = decodeCheckpoint(v1, 'v1.ckpt');
      expect(old.header.sections).toBeUndefined();
      expect(old.params).toEqual(c.params);
      expect(fitStateFromCheckpoint(old)).toBeUndefined();
      expect(restoreCheckpoint(model, v1, 'v1.ckpt').epoch).toBe(0);
    } finally {
      model.dispose();
    }
  });
});
