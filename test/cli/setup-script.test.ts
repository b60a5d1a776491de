/**
 * scripts/setup.sh checks Node.js before anything else: a machine with
 * Debian 12's own nodejs (18), or any version Vite 8 refuses, gets the
 * version found and how to get a suitable one, before apt or npm run.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/browser.ts';

const fakeBin = mkdtempSync(join(tmpdir(), 'lenet-gpu-fake-node-'));
// The script's PATH is this folder alone: the fakes below, and the one real tool it uses before its check.
symlinkSync(spawnSync('bash', ['-c', 'command -v dirname'], { encoding: 'utf8' }).stdout.trim(), join(fakeBin, 'dirname'));
afterAll(() => rmSync(fakeBin, { recursive: true, force: true }));

/** Runs setup.sh with a `node` on PATH that reports `version`, and an npm and apt-get that must not be reached. */
function setupWithNode(version: string | undefined): ReturnType<typeof spawnSync> {
  rmSync(join(fakeBin, 'node'), { force: true });
  if (version) writeFileSync(join(fakeBin, 'node'), `#!/bin/sh\necho ${version}\n`);
  for (const tool of ['npm', 'apt-get']) writeFileSync(join(fakeBin, tool), `#!/bin/sh\necho "${tool} must not run" >&2\nexit 99\n`);
  for (const tool of ['node', 'npm', 'apt-get']) if (tool !== 'node' || version) chmodSync(join(fakeBin, tool), 0o755);
  const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
  return spawnSync(bash, [join(REPO_ROOT, 'scripts', 'setup.sh')], { encoding: 'utf8', env: { PATH: fakeBin, HOME: process.env.HOME ?? '/root' } });
}

describe('scripts/setup.sh on a machine with an unsuitable Node.js', () => {
  it.each(['v18.19.0', 'v20.18.1', 'v21.7.0', 'v22.11.0'])('refuses %s with the version and the fix, before apt or npm', (version) => {
    const run = setupWithNode(version);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`Node.js is ${version}`);
    expect(run.stderr).toContain('needs 20.19+ or 22.12+');
    expect(run.stderr).toContain('https://nodejs.org');
    expect(run.stderr).not.toContain('must not run');
  });

  it('says so when there is no Node.js at all', () => {
    const run = setupWithNode(undefined);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Node.js is not installed');
    expect(run.stderr).not.toContain('must not run');
  });
});
