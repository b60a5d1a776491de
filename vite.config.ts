/// <reference types="vitest/config" />
/**
 * One config for the page (`vite`, `vite build`), the Node CLI
 * (`vite build --ssr src/cli/main.ts --outDir dist/node`) and the tests.
 * WGSL is imported with `?raw`, so every build carries its shaders inline.
 */
import { defineConfig } from 'vite';

export default defineConfig(({ isSsrBuild }) => ({
  root: '.',
  build: isSsrBuild
    ? { outDir: 'dist/node', target: 'node20', emptyOutDir: true, sourcemap: true, rollupOptions: { output: { entryFileNames: '[name].js' } } }
    : { outDir: 'dist/web', target: 'es2022', emptyOutDir: true },
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn reads VK_ICD_FILENAMES from the process environment; a worker thread's
    // process.env never reaches it, so each test file runs in a forked process.
    pool: 'forks',
    // SwiftShader runs every shader on the CPU: GPU tests are slow by nature.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
}));
