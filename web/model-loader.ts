/**
 * Builds a model from checkpoint bytes alone: the header carries the spec,
 * the optimizer and the seed, and the run card written by this page carries
 * the batch size; restoreCheckpoint then checks everything and writes the
 * weights and optimizer state. A damaged or foreign file fails here with a
 * CheckpointError before any model is kept.
 */
import { decodeCheckpoint, Model, restoreCheckpoint, type CheckpointHeader, type Gpu } from '../src/index.ts';

export interface LoadedModel {
  model: Model;
  header: CheckpointHeader;
}

/** The batch size a checkpoint's model was trained with, if its run card says. */
export function checkpointBatch(header: CheckpointHeader, fallback: number): number {
  const batch = header.runCard?.batchSize;
  return typeof batch === 'number' && Number.isInteger(batch) && batch >= 1 ? batch : fallback;
}

export async function modelFromCheckpoint(gpu: Gpu, bytes: Uint8Array, source: string, fallbackBatch = 64): Promise<LoadedModel> {
  const { header } = decodeCheckpoint(bytes, source);
  const model = await Model.create(gpu, header.spec, { batchSize: checkpointBatch(header, fallbackBatch), optimizer: header.optimizer, seed: header.seed });
  try {
    restoreCheckpoint(model, bytes, source);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, header };
}
