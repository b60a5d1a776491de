/**
 * A model built from checkpoint bytes alone: the header carries the spec, the
 * optimizer and the seed, and a run card written by this package carries the
 * batch size; restoreCheckpoint then checks everything and writes the weights
 * and optimizer state. A damaged or foreign file fails with a CheckpointError
 * before any model is kept. The checkpoint's fit state, if it has one, comes
 * back too: fit's `resume` continues that run exactly.
 */
import type { Gpu } from '../gpu/device.ts';
import { decodeCheckpoint, restoreCheckpoint, type CheckpointHeader } from './checkpoint.ts';
import { fitStateFromCheckpoint, type FitState } from './fit-state.ts';
import { Model, type ModelOptions } from './model.ts';

/** The batch size a checkpoint's model was trained with, if its run card says. */
export function checkpointBatch(header: CheckpointHeader, fallback: number): number {
  const batch = header.runCard?.batchSize;
  return typeof batch === 'number' && Number.isInteger(batch) && batch >= 1 ? batch : fallback;
}

export interface CheckpointModelOptions extends Pick<ModelOptions, 'variant'> {
  /** Used when the checkpoint's run card names no batch size. Default 64. */
  batchSize?: number;
  /** Names the checkpoint in errors (a path or file name). */
  source?: string;
}

export async function modelFromCheckpoint(
  gpu: Gpu,
  bytes: Uint8Array,
  options: CheckpointModelOptions = {},
): Promise<{ model: Model; header: CheckpointHeader; state: FitState | undefined }> {
  const source = options.source ?? 'checkpoint';
  const checkpoint = decodeCheckpoint(bytes, source);
  const { header } = checkpoint;
  const state = fitStateFromCheckpoint(checkpoint, source);
  const model = await Model.create(gpu, header.spec, {
    batchSize: checkpointBatch(header, options.batchSize ?? 64),
    optimizer: header.optimizer,
    seed: header.seed,
    variant: options.variant,
  });
  try {
    restoreCheckpoint(model, bytes, source);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, header, state };
}
