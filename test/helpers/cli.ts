/** Builds the CLI bundle once per test process (inside the project, so it resolves node_modules) and runs it. */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

let built: string | undefined;

export function buildCli(): string {
  if (!built) {
    mkdirSync('test-output', { recursive: true });
    const outDir = mkdtempSync(join('test-output', 'cli-'));
    execFileSync('npx', ['vite', 'build', '--ssr', 'src/cli/main.ts', '--outDir', outDir, '--logLevel', 'error'], { stdio: 'pipe' });
    built = resolve(outDir, 'main.js');
  }
  return built;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [buildCli(), ...args], { encoding: 'utf8', env, timeout: 600_000 });
}
