/**
 * Concurrent use of one model (issue 7): predict and evaluate issued while
 * fit runs take their turn between two training submits and leave training
 * bit-identical to an undisturbed run; a second fit, or a restore, during fit
 * is refused with ModelBusyError; dispose() during fit ends it with
 * ModelDisposedError and no GPU validation errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { captureCheckpoint, restoreCheckpoint } from '../../src/engine/checkpoint.ts';
import { evaluate, predict } from '../../src/engine/evaluate.ts';
import { fit, type FitOptions } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import { ModelBusyError, ModelDisposedError } from '../../src/engine/model-turns.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

const fitOptions: FitOptions = { epochs: 2, validationSplit: 0.25, stepsPerSubmit: 2 };
const makeModel = (gpu: Gpu): Promise<Model> => Model.create(gpu, lenet5, { seed: 5, batchSize: 32 });

/** Resolves at fit's first step event: training is under way. */
function firstStep(): { options: Pick<FitOptions, 'onStep'>; started: Promise<void> } {
  let started!: () => void;
  const promise = new Promise<void>((resolve) => (started = resolve));
  return { options: { onStep: () => started() }, started: promise };
}

describe('one model used concurrently', () => {
  let gpu: Gpu;
  let train: ImageDataset;
  let test: ImageDataset;
  beforeAll(async () => {
    gpu = await testGpu();
    train = await mnistSlice('train', 0, 640);
    test = await mnistSlice('test', 0, 200);
  });

  it('predict and evaluate during fit run between training submits and leave training bit-identical', async () => {
    const reference = await makeModel(gpu);
    const expected = await fit(reference, train, fitOptions);
    const expectedWeights = await reference.getWeights();
    reference.dispose();

    const model = await makeModel(gpu);
    try {
      const step = firstStep();
      let fitDone = false;
      const training = fit(model, train, { ...fitOptions, ...step.options }).finally(() => (fitDone = true));
      await step.started;
      let duringFit = 0;
      const images = test.pixels.subarray(0, 3 * 28 * 28);
      while (!fitDone) {
        const { probabilities, classes } = await predict(model, images, 3);
        for (let i = 0; i < 3; i++) {
          const row = probabilities.subarray(i * 10, i * 10 + 10);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
          expect(classes[i]).toBe(row.indexOf(Math.max(...row)));
        }
        // evaluate cross-checks the GPU's correct count against its probabilities: shared totals clobbered by fit would fail it.
        const evaluation = await evaluate(model, test);
        expect(evaluation.report.count).toBe(200);
        if (!fitDone) duringFit++;
      }
      const history = await training;
      expect(duringFit).toBeGreaterThanOrEqual(2);
      expect(history.epochs.map((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy])).toEqual(expected.epochs.map((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]));
      const weights = await model.getWeights();
      expect(Buffer.from(weights.buffer).equals(Buffer.from(expectedWeights.buffer))).toBe(true);
      expect(gpu.uncapturedErrors).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('a second fit, or a restore, during fit is refused; the first fit finishes and the model trains again afterwards', async () => {
    const model = await makeModel(gpu);
    try {
      const saved = await captureCheckpoint(model, 0);
      const step = firstStep();
      const first = fit(model, train, { ...fitOptions, epochs: 1, ...step.options });
      await step.started;
      const second = await fit(model, train, fitOptions).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(ModelBusyError);
      expect(String(second)).toMatch(/fit is already running on this lenet5 model.*second Model/);
      expect(() => restoreCheckpoint(model, saved)).toThrow(ModelBusyError);
      // A checkpoint captured during fit is one consistent snapshot (decodes, right sizes).
      const during = await captureCheckpoint(model, 0);
      expect(during.length).toBe(saved.length);
      const history = await first;
      expect(history.epochs).toHaveLength(1);
      expect(history.stopReason).toBe('completed');
      const again = await fit(model, train, { ...fitOptions, epochs: 1 });
      expect(again.epochs).toHaveLength(1);
      expect(() => restoreCheckpoint(model, saved)).not.toThrow();
    } finally {
      model.dispose();
    }
  });

  it('dispose() during fit ends it with ModelDisposedError, without GPU errors; later calls say the model is disposed', async () => {
    const before = gpu.uncapturedErrors.length;
    const model = await makeModel(gpu);
    const step = firstStep();
    const training = fit(model, train, { ...fitOptions, ...step.options }).catch((e: unknown) => e);
    await step.started;
    model.dispose();
    const error = await training;
    expect(error).toBeInstanceOf(ModelDisposedError);
    expect(String(error)).toMatch(/fit \(epoch 1, step \d+\): this lenet5 model was disposed.*create a new Model/);
    await gpu.device.queue.onSubmittedWorkDone();
    expect(gpu.uncapturedErrors.slice(before)).toEqual([]);
    await expect(predict(model, test.pixels.subarray(0, 784), 1)).rejects.toThrow(ModelDisposedError);
    await expect(fit(model, train, fitOptions)).rejects.toThrow(/^fit: this lenet5 model was disposed/);
  });
});
