/**
 * Once per test run, before any test file starts: the adapter is chosen for
 * every process, and the package's JavaScript (the CLI among it) is built into
 * test-output/lib, and the CLI tests of every file run that one build
 * (test/helpers/cli.ts) instead of building their own.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { adapterKind } from '../src/gpu/adapter-choice.ts';

export default function setup(): void {
  // One adapter for the whole run, Node and Chromium alike (adapter-choice.ts): pinned here, so every
  // test file's process and every browser it launches inherit the same choice.
  process.env.LENET_GPU_ADAPTER = adapterKind();
  if (process.env.LENET_GPU_TEST_CLI) return; // built already (each test project runs this)
  const outDir = resolve('test-output', 'lib');
  mkdirSync('test-output', { recursive: true });
  execFileSync(process.execPath, [resolve('node_modules', 'vite', 'bin', 'vite.js'), 'build', '--mode', 'lib', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { stdio: 'pipe' });
  process.env.LENET_GPU_TEST_CLI = resolve(outDir, 'cli', 'main.js');
}
