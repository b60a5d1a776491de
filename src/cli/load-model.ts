/** Builds a model from a checkpoint file: its spec and optimizer come from the checkpoint's header. */
import { readFileSync } from 'node:fs';
import { decodeCheckpoint, restoreCheckpoint } from '../engine/checkpoint.ts';
import { Model } from '../engine/model.ts';
import type { Gpu } from '../gpu/device.ts';
import type { KernelVariant } from '../kernels/variant.ts';

export async function modelFromCheckpoint(gpu: Gpu, path: string, batchSize: number, variant?: KernelVariant): Promise<Model> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(`could not read the checkpoint ${path}: ${error instanceof Error ? error.message : String(error)}; train one with: lenet-gpu train --out DIR`);
  }
  const { header } = decodeCheckpoint(bytes, path);
  const model = await Model.create(gpu, header.spec, { batchSize, optimizer: header.optimizer, seed: header.seed, variant });
  try {
    restoreCheckpoint(model, bytes, path);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
