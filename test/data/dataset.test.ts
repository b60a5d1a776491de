/**
 * Datasets built from IDX files, subsets, seeded shuffles and the
 * train/validation split. Synthetic samples carry their original index in
 * their pixels (taggedIdxFiles), so every cut can be traced sample by sample.
 */
import { describe, expect, it } from 'vitest';
import { DatasetError, datasetFromIdx, shuffledIndices, splitValidation, subset, type ImageDataset } from '../../src/data/dataset.ts';
import { IdxError } from '../../src/data/idx.ts';
import { encodeIdx, sampleTags, taggedIdxFiles } from './idx-builders.ts';

const NAMES = { imagesName: 'synthetic-images', labelsName: 'synthetic-labels' };

function taggedDataset(count: number): ImageDataset {
  const { images, labels } = taggedIdxFiles(count);
  return datasetFromIdx(images, labels, NAMES);
}

const range = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

describe('datasetFromIdx', () => {
  it('pairs images with labels', () => {
    const dataset = taggedDataset(25);
    expect(dataset).toMatchObject({ count: 25, channels: 1, rows: 1, cols: 4 });
    expect(dataset.pixels.length).toBe(25 * 4);
    expect(sampleTags(dataset)).toEqual(range(0, 25));
    expect(Array.from(dataset.labels)).toEqual(range(0, 25).map((i) => i % 10));
  });

  it('rejects an image/label count mismatch naming both files', () => {
    const { images } = taggedIdxFiles(12);
    const { labels } = taggedIdxFiles(11);
    expect(() => datasetFromIdx(images, labels, NAMES)).toThrow(DatasetError);
    expect(() => datasetFromIdx(images, labels, NAMES)).toThrow(
      /count mismatch: "synthetic-images" holds 12 images but "synthetic-labels" holds 11 labels/,
    );
  });

  it('reports a bad label file as an IdxError naming the labels file', () => {
    const { images } = taggedIdxFiles(3);
    const badLabels = encodeIdx([3], [1, 12, 2]);
    const attempt = (): ImageDataset => datasetFromIdx(images, badLabels, NAMES);
    expect(attempt).toThrow(IdxError);
    expect(attempt).toThrow(/"synthetic-labels": label at index 1 is 12/);
  });

  it('passes the class count through', () => {
    const { images } = taggedIdxFiles(3);
    const labels = encodeIdx([3], [0, 1, 2]);
    expect(() => datasetFromIdx(images, labels, { ...NAMES, classCount: 2 })).toThrow(/index 2 is 2, outside 0\.\.1/);
  });
});

describe('subset', () => {
  const dataset = taggedDataset(50);

  it('by range gives zero-copy views of the right samples', () => {
    const part = subset(dataset, { start: 10, end: 17 });
    expect(part.count).toBe(7);
    expect(sampleTags(part)).toEqual(range(10, 17));
    expect(Array.from(part.labels)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(part.pixels.buffer).toBe(dataset.pixels.buffer);
    expect(subset(dataset, { start: 50, end: 50 }).count).toBe(0);
  });

  it('by index list gathers copies in list order', () => {
    const part = subset(dataset, [49, 0, 7, 7]);
    expect(sampleTags(part)).toEqual([49, 0, 7, 7]);
    expect(Array.from(part.labels)).toEqual([9, 0, 7, 7]);
    expect(part.pixels.buffer).not.toBe(dataset.pixels.buffer);
  });

  it('rejects out-of-range selections', () => {
    expect(() => subset(dataset, { start: 5, end: 51 })).toThrow(/0 <= start <= end <= 50/);
    expect(() => subset(dataset, { start: 6, end: 5 })).toThrow(DatasetError);
    expect(() => subset(dataset, [1, 50])).toThrow(/entry 1 is 50, outside 0\.\.49/);
    expect(() => subset(dataset, [1.5])).toThrow(DatasetError);
  });
});

describe('shuffledIndices', () => {
  const isPermutation = (order: Uint32Array): boolean => {
    const seen = new Uint8Array(order.length);
    for (const index of order) {
      if (index >= order.length || seen[index]) return false;
      seen[index] = 1;
    }
    return true;
  };

  it('is a permutation: each index exactly once', () => {
    for (const count of [0, 1, 2, 10, 1000, 60000]) {
      const order = shuffledIndices(count, 42);
      expect(order).toBeInstanceOf(Uint32Array);
      expect(order.length).toBe(count);
      expect(isPermutation(order)).toBe(true);
    }
  });

  it('gives the same permutation for the same seed', () => {
    expect(Array.from(shuffledIndices(1000, 7))).toEqual(Array.from(shuffledIndices(1000, 7)));
  });

  it('gives different permutations for different seeds, and actually shuffles', () => {
    const a = shuffledIndices(1000, 1);
    const b = shuffledIndices(1000, 2);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const fixedPoints = a.filter((value, i) => value === i).length;
    // A random permutation has about one fixed point; the identity has 1000.
    expect(fixedPoints).toBeLessThan(10);
  });

  it('rejects a bad count', () => {
    expect(() => shuffledIndices(-1, 0)).toThrow(DatasetError);
    expect(() => shuffledIndices(2.5, 0)).toThrow(/count must be an integer/);
  });
});

describe('splitValidation', () => {
  const dataset = taggedDataset(60000);

  const expectDisjointCover = (train: ImageDataset, validation: ImageDataset, count: number): void => {
    const all = [...sampleTags(train), ...sampleTags(validation)];
    expect(all.length).toBe(count);
    expect(new Set(all).size).toBe(count);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(count - 1);
  };

  it('holds out 20% of 60,000 as 48,000 / 12,000 and 10% as 54,000 / 6,000', () => {
    const twenty = splitValidation(dataset, 0.2);
    expect([twenty.train.count, twenty.validation.count]).toEqual([48000, 12000]);
    const ten = splitValidation(dataset, 0.1);
    expect([ten.train.count, ten.validation.count]).toEqual([54000, 6000]);
    const seeded = splitValidation(dataset, 0.1, { seed: 3 });
    expect([seeded.train.count, seeded.validation.count]).toEqual([54000, 6000]);
  });

  it('without a seed takes the LAST samples for validation, like Keras validation_split', () => {
    const { train, validation } = splitValidation(dataset, 0.2);
    expect(sampleTags(train)).toEqual(range(0, 48000));
    expect(sampleTags(validation)).toEqual(range(48000, 60000));
    expect(validation.pixels.length).toBe(12000 * 4);
    expect(validation.labels[0]).toBe(48000 % 10);
    expectDisjointCover(train, validation, 60000);
  });

  it('rounds the validation count', () => {
    const small = taggedDataset(7);
    expect(splitValidation(small, 0.2).validation.count).toBe(1); // 1.4 -> 1
    expect(splitValidation(small, 0.5).validation.count).toBe(4); // 3.5 -> 4
    expect(sampleTags(splitValidation(small, 0.5).validation)).toEqual([3, 4, 5, 6]);
  });

  it('with a seed shuffles first, reproducibly', () => {
    const first = splitValidation(dataset, 0.2, { seed: 11 });
    const again = splitValidation(dataset, 0.2, { seed: 11 });
    const other = splitValidation(dataset, 0.2, { seed: 12 });
    const validationTags = sampleTags(first.validation);
    expect(validationTags).toEqual(sampleTags(again.validation));
    expect(validationTags).not.toEqual(sampleTags(other.validation));
    // Shuffled: validation draws from the whole file, not just the tail.
    const fromFirstPart = validationTags.filter((tag) => tag < 48000).length;
    expect(fromFirstPart).toBeGreaterThan(0.7 * 12000);
    expect(validationTags.slice(0, 100)).not.toEqual(range(48000, 48100));
    // Labels still travel with their images.
    expect(Array.from(first.validation.labels)).toEqual(validationTags.map((tag) => tag % 10));
    expectDisjointCover(first.train, first.validation, 60000);
  });

  it('fraction 0 keeps everything for training', () => {
    const { train, validation } = splitValidation(dataset, 0);
    expect(train.count).toBe(60000);
    expect(validation.count).toBe(0);
  });

  it('rejects fractions outside [0, 1) and splits that leave nothing to train on', () => {
    for (const fraction of [1, 1.5, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => splitValidation(dataset, fraction)).toThrow(/validation fraction must be in \[0, 1\)/);
    }
    expect(() => splitValidation(taggedDataset(1), 0.6)).toThrow(/leaves no training samples/);
  });
});
