/** The CLI the tests run: the build test/global-setup.ts made once for this test run. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export function cliScript(): string {
  const script = process.env.LENET_GPU_TEST_CLI;
  if (!script) throw new Error('LENET_GPU_TEST_CLI is not set: test/global-setup.ts builds the CLI, and vitest runs it first (vite.config.ts, test.globalSetup)');
  return script;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliScript(), ...args], { encoding: 'utf8', env, timeout: 600_000 });
}
