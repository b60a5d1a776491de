/**
 * The recorded passes over a resident data set:
 *   train step:  gather -> forward -> softmax-xent -> metrics -> backward -> optimizer -> advance cursor
 *   eval step:   gather -> forward -> softmax-xent -> metrics -> advance cursor
 * Built once per fit/evaluate (they bind that data set's buffers), then
 * replayed: the cursor on the GPU moves the batch along, so replaying the same
 * list needs no upload.
 */
import { advanceCursor, gatherBatch } from '../kernels/gather.ts';
import { disposeDispatch, encodeDispatches, type Dispatch } from '../kernels/kernel.ts';
import { metricsAccumulate } from '../kernels/metrics.ts';
import type { Model } from './model.ts';
import type { BatchCursor, ResidentDataset } from './resident-dataset.ts';

export class RecordedPass {
  /** `own`: the dispatches this pass created (the rest belong to the graph and optimizer). */
  constructor(
    readonly dispatches: Dispatch[],
    private readonly own: Dispatch[],
  ) {}

  /** Records `steps` replays of the pass into one compute pass. */
  encode(encoder: GPUCommandEncoder, steps: number, prefix: readonly Dispatch[] = []): void {
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, prefix);
    for (let s = 0; s < steps; s++) encodeDispatches(pass, this.dispatches);
    pass.end();
  }

  dispose(): void {
    this.own.forEach(disposeDispatch);
  }
}

async function gatherInto(model: Model, data: ResidentDataset, cursor: BatchCursor): Promise<Dispatch[]> {
  const { graph } = model;
  if (data.imageSize !== graph.plan.inputShape.reduce((a, b) => a * b, 1)) {
    throw new Error(`the data's images hold ${data.imageSize} values but the model's input is ${graph.plan.inputShape.join('x')}`);
  }
  return gatherBatch(
    model.cache,
    { batch: model.batchSize, imageSize: data.imageSize, datasetCount: data.count, indexCount: cursor.capacity },
    { pixels: data.pixels, labels: data.labels, indices: cursor.indices, cursor: cursor.cursor, images: graph.input, batchLabels: graph.labels },
  );
}

export async function recordTrainPass(model: Model, data: ResidentDataset, cursor: BatchCursor): Promise<RecordedPass> {
  const { graph, cache } = model;
  const training = await model.trainingPass();
  const gather = await gatherInto(model, data, cursor);
  const metrics = await metricsAccumulate(cache, model.batchSize, { sampleLoss: graph.sampleLoss, sampleCorrect: graph.sampleCorrect, totals: model.trainTotals });
  const advance = await advanceCursor(cache, { cursor: cursor.cursor });
  return new RecordedPass(
    [...gather, ...graph.forward, ...graph.loss, ...metrics, ...training.backward, ...training.update, ...advance],
    [...gather, ...metrics, ...advance],
  );
}

export async function recordEvalPass(model: Model, data: ResidentDataset, cursor: BatchCursor): Promise<RecordedPass> {
  const { graph, cache } = model;
  const gather = await gatherInto(model, data, cursor);
  const metrics = await metricsAccumulate(cache, model.batchSize, { sampleLoss: graph.sampleLoss, sampleCorrect: graph.sampleCorrect, totals: model.evalTotals });
  const advance = await advanceCursor(cache, { cursor: cursor.cursor });
  return new RecordedPass([...gather, ...graph.forward, ...graph.loss, ...metrics, ...advance], [...gather, ...metrics, ...advance]);
}
