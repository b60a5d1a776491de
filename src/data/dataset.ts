/**
 * An in-memory image classification dataset and the ways training cuts it:
 * subsets, seeded shuffles and a train/validation split.
 *
 * Layout: `pixels` holds count images of rows x cols single-channel bytes,
 * image-major then row-major (NCHW with C = 1), exactly as IDX stores them.
 * Pixels stay u8 here: normalisation to [0, 1] happens on the GPU, so uploads
 * are a quarter of the size of f32 and the CPU never makes a float copy.
 *
 * Subsets by a contiguous range are zero-copy views; subsets by an index list
 * gather into new arrays.
 */
import { createRng } from '../util/random.ts';
import { parseIdxImages, parseIdxLabels } from './idx.ts';

export interface ImageDataset {
  count: number;
  channels: 1;
  rows: number;
  cols: number;
  /** (count, 1, rows, cols) bytes 0..255, not normalised. */
  pixels: Uint8Array;
  /** (count) class indices. */
  labels: Uint8Array;
}

/** A dataset-level mistake (mismatched files, bad split, bad indices). */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface IdxFileNames {
  /** Path or URL of the images file, used in error messages. */
  imagesName: string;
  /** Path or URL of the labels file, used in error messages. */
  labelsName: string;
  /** Labels must be below this; default 10 (MNIST digits). */
  classCount?: number;
}

/** Builds a dataset from an IDX images file and its IDX labels file. */
export function datasetFromIdx(imageBytes: Uint8Array, labelBytes: Uint8Array, names: IdxFileNames): ImageDataset {
  const images = parseIdxImages(imageBytes, names.imagesName);
  const { count: labelCount, labels } = parseIdxLabels(labelBytes, names.labelsName, names.classCount ?? 10);
  if (images.count !== labelCount) {
    throw new DatasetError(
      `image/label count mismatch: "${names.imagesName}" holds ${images.count} images but "${names.labelsName}" holds ` +
        `${labelCount} labels. Pair files of the same split (train images with train labels, t10k with t10k) and re-download any truncated one.`,
    );
  }
  return { count: images.count, channels: 1, rows: images.rows, cols: images.cols, pixels: images.pixels, labels };
}

export interface IndexRange {
  /** First sample, inclusive. */
  start: number;
  /** Last sample, exclusive. */
  end: number;
}

/**
 * The samples at `selection`: a range gives zero-copy views, an index list
 * gathers copies in the list's order (repeats allowed).
 */
export function subset(dataset: ImageDataset, selection: ArrayLike<number> | IndexRange): ImageDataset {
  const imageSize = dataset.rows * dataset.cols;
  if (isRange(selection)) {
    const { start, end } = selection;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > dataset.count) {
      throw new DatasetError(`subset range {start: ${start}, end: ${end}} must be integers with 0 <= start <= end <= ${dataset.count} (the dataset size)`);
    }
    return {
      ...dataset,
      count: end - start,
      pixels: dataset.pixels.subarray(start * imageSize, end * imageSize),
      labels: dataset.labels.subarray(start, end),
    };
  }
  const count = selection.length;
  const pixels = new Uint8Array(count * imageSize);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const source = selection[i];
    if (!Number.isInteger(source) || source < 0 || source >= dataset.count) {
      throw new DatasetError(`subset index list entry ${i} is ${source}, outside 0..${dataset.count - 1} (the dataset size is ${dataset.count})`);
    }
    pixels.set(dataset.pixels.subarray(source * imageSize, (source + 1) * imageSize), i * imageSize);
    labels[i] = dataset.labels[source];
  }
  return { ...dataset, count, pixels, labels };
}

function isRange(selection: ArrayLike<number> | IndexRange): selection is IndexRange {
  return typeof (selection as IndexRange).start === 'number' && typeof (selection as IndexRange).end === 'number';
}

/**
 * A permutation of 0..count-1 by Fisher-Yates driven by the shared seeded
 * generator, so the CPU reference and the GPU engine see the same order.
 */
export function shuffledIndices(count: number, seed: number): Uint32Array {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
    throw new DatasetError(`shuffledIndices: count must be an integer in 0..2^32-1, got ${count}`);
  }
  const rng = createRng(seed);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const held = order[i];
    order[i] = order[j];
    order[j] = held;
  }
  return order;
}

export interface SplitOptions {
  /** Shuffle with this seed before splitting; without it the split is Keras-style. */
  seed?: number;
}

export interface TrainValidationSplit {
  train: ImageDataset;
  validation: ImageDataset;
}

/**
 * Holds out round(count * fraction) samples for validation.
 *
 * Without a seed it behaves like Keras's `validation_split`: validation is the
 * LAST samples in file order, taken before any shuffling, and both parts are
 * zero-copy views. With a seed the samples are permuted by shuffledIndices
 * first; validation is the last part of that permutation, and both parts keep
 * the permuted order (copies).
 */
export function splitValidation(dataset: ImageDataset, fraction: number, options: SplitOptions = {}): TrainValidationSplit {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction >= 1) {
    throw new DatasetError(`validation fraction must be in [0, 1) (e.g. 0.2 holds out 20%), got ${fraction}`);
  }
  const validationCount = Math.round(dataset.count * fraction);
  const trainCount = dataset.count - validationCount;
  if (trainCount === 0 && dataset.count > 0) {
    throw new DatasetError(
      `validation fraction ${fraction} of ${dataset.count} samples leaves no training samples; use a smaller fraction or more samples`,
    );
  }
  if (options.seed === undefined) {
    return {
      train: subset(dataset, { start: 0, end: trainCount }),
      validation: subset(dataset, { start: trainCount, end: dataset.count }),
    };
  }
  const order = shuffledIndices(dataset.count, options.seed);
  return {
    train: subset(dataset, order.subarray(0, trainCount)),
    validation: subset(dataset, order.subarray(trainCount)),
  };
}
