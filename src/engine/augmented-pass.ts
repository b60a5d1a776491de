/**
 * The training pass with on-GPU augmentation, ready for fit to use behind a
 * FitOptions flag (see the report for the lines passes.ts and fit.ts need):
 *
 *   gather -> augment -> forward -> softmax-xent -> metrics -> backward
 *          -> optimizer -> advance cursor -> advance augment counter
 *
 * The gather writes the batch into a scratch buffer (`AugmentedInput.raw`)
 * instead of the network's input; augment_batch resamples it into the input.
 * The counter the transforms are drawn from is the global step: fit sets it to
 * epoch * stepsPerEpoch at each epoch start (one 4-byte write, beside the
 * cursor reset), so the transforms are a function of (seed, step) alone, and a
 * resumed, recovered or rolled-back run draws exactly the transforms an
 * uninterrupted one would. Evaluation and validation passes never augment.
 */
import { RecordedPass } from './passes.ts';
import type { Model } from './model.ts';
import type { BatchCursor, ResidentDataset } from './resident-dataset.ts';
import { STORAGE } from '../gpu/buffers.ts';
import { augmentAdvance, augmentBatch, createAugmentCounter } from '../kernels/augment.ts';
import { advanceCursor, gatherBatch } from '../kernels/gather.ts';
import { metricsAccumulate } from '../kernels/metrics.ts';
import { augmentUniforms, type AugmentOptions } from '../reference/augment.ts';

/** The buffers augmentation adds to a fit: the raw gathered batch and the step counter. */
export class AugmentedInput {
  readonly raw: GPUBuffer;
  readonly counter: GPUBuffer;

  constructor(
    private readonly device: GPUDevice,
    readonly options: AugmentOptions,
    batch: number,
    imageSize: number,
  ) {
    augmentUniforms(options); // refuses bad options before anything is allocated
    this.raw = device.createBuffer({ size: batch * imageSize * 4, usage: STORAGE(), label: 'gathered batch before augmentation' });
    this.counter = createAugmentCounter(device);
  }

  /** Sets the counter to the global step about to run (epoch * stepsPerEpoch at an epoch start). */
  setStep(step: number): void {
    this.device.queue.writeBuffer(this.counter, 0, Uint32Array.of(step >>> 0));
  }

  dispose(): void {
    this.raw.destroy();
    this.counter.destroy();
  }
}

export async function recordAugmentedTrainPass(model: Model, data: ResidentDataset, cursor: BatchCursor, augment: AugmentedInput): Promise<RecordedPass> {
  const { graph, cache } = model;
  const training = await model.trainingPass();
  const [channels, height, width] = graph.plan.inputShape;
  if (data.imageSize !== channels * height * width) {
    throw new Error(`the data's images hold ${data.imageSize} values but the model's input is ${graph.plan.inputShape.join('x')}`);
  }
  const B = model.batchSize;
  const gather = await gatherBatch(
    cache,
    { batch: B, imageSize: data.imageSize, datasetCount: data.count, indexCount: cursor.capacity },
    { pixels: data.pixels, labels: data.labels, indices: cursor.indices, cursor: cursor.cursor, images: augment.raw, batchLabels: graph.labels },
  );
  const augmentation = await augmentBatch(cache, { batch: B, channels, height, width }, augment.options, { images: augment.raw, counter: augment.counter, augmented: graph.input });
  const metrics = await metricsAccumulate(cache, B, { sampleLoss: graph.sampleLoss, sampleCorrect: graph.sampleCorrect, totals: model.trainTotals });
  const advance = await advanceCursor(cache, { cursor: cursor.cursor });
  const advanceCounter = await augmentAdvance(cache, { counter: augment.counter });
  const own = [...gather, ...augmentation, ...metrics, ...advance, ...advanceCounter];
  return new RecordedPass(
    [...gather, ...augmentation, ...graph.forward, ...graph.loss, ...metrics, ...training.backward, ...training.update, ...advance, ...advanceCounter],
    own,
  );
}
