/** Real MNIST for tests, loaded once per test-file process. */
import type { ImageDataset } from '../../src/data/dataset.ts';
import { subset } from '../../src/data/dataset.ts';
import { loadMnistNode } from '../../src/data/mnist-node.ts';
import type { MnistSplits } from '../../src/data/mnist-browser.ts';

let mnist: Promise<MnistSplits> | undefined;

export function realMnist(): Promise<MnistSplits> {
  mnist ??= loadMnistNode();
  return mnist;
}

export async function mnistSlice(which: 'train' | 'test', start: number, end: number): Promise<ImageDataset> {
  return subset((await realMnist())[which], { start, end });
}

/** Pixels of samples [start, start+batch) normalised to [0,1], as the gather kernel produces them. */
export function normalisedBatch(ds: ImageDataset, start: number, batch: number): Float32Array {
  const size = ds.channels * ds.rows * ds.cols;
  const out = new Float32Array(batch * size);
  for (let i = 0; i < batch * size; i++) out[i] = ds.pixels[start * size + i] / 255;
  return out;
}
