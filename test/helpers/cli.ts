/**
 * Builds the package's JavaScript (the CLI among it, as `npm run build:cli`
 * does) once per test process, into a folder inside the project so that it
 * resolves node_modules, and runs the CLI from there.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

let built: string | undefined;

export function buildCli(): string {
  if (!built) {
    mkdirSync('test-output', { recursive: true });
    const outDir = mkdtempSync(join('test-output', 'cli-'));
    execFileSync('npx', ['vite', 'build', '--mode', 'lib', '--outDir', outDir, '--logLevel', 'error'], { stdio: 'pipe' });
    built = resolve(outDir, 'cli', 'main.js');
  }
  return built;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [buildCli(), ...args], { encoding: 'utf8', env, timeout: 600_000 });
}
