/**
 * The output-folder check train runs before anything else: a folder with too
 * little room for the run's checkpoints is refused with the sizes and the fix
 * (statfs is given a full disk here; the read-only case runs the real CLI in
 * interruptions.test.ts), and room is counted for every file a run keeps.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputFolder, OutputFolderError, runFilesBytes } from '../../src/cli/output-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'lenet-gpu-out-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('checkOutputFolder', () => {
  it('refuses a full disk with what is free, what the run needs and the fix, and leaves nothing behind', () => {
    const folder = join(root, 'full');
    const need = runFilesBytes(61_706, 2);
    const fullDisk = () => ({ bavail: 10, bsize: 4096 });
    expect(() => checkOutputFolder(folder, need, fullDisk)).toThrow(OutputFolderError);
    expect(() => checkOutputFolder(folder, need, fullDisk)).toThrow(/has 0\.0 MiB free, and this run's checkpoints and logs need about 8\.8 MiB; nothing was trained\. Free some space there or choose another folder with --out/);
    expect(readdirSync(folder)).toEqual([]); // the write probe is gone
  });

  it('passes a writable folder with room, creating it', () => {
    const folder = join(root, 'a', 'b');
    expect(() => checkOutputFolder(folder, 1024)).not.toThrow();
    expect(readdirSync(folder)).toEqual([]);
  });

  it('counts four checkpoints of weights, optimizer slots and best weights, plus room for logs', () => {
    expect(runFilesBytes(1000, 2)).toBe(4 * (1000 * 4 * 4 + 256 * 1024) + 4 * 2 ** 20);
    expect(runFilesBytes(1000, 1)).toBeLessThan(runFilesBytes(1000, 2));
  });
});
