/**
 * The output folder, checked before any data is loaded or GPU work starts:
 * a folder that cannot be written, or has too little room for the run's
 * checkpoints, is refused at once with the fix, not after the training.
 * Writability is tested by writing (root ignores permission bits, a
 * read-only mount does not); free space comes from statfs.
 */
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class OutputFolderError extends Error {
  override name = 'OutputFolderError';
}

/** What statfs reports: free blocks for unprivileged users, and the block size. */
export type FreeSpace = (folder: string) => { bavail: number; bsize: number };

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Creates `folder` if needed, proves it writable, and checks that `needBytes` fit. */
export function checkOutputFolder(folder: string, needBytes: number, freeSpace: FreeSpace = statfsSync): void {
  const probe = join(folder, `.lenet-gpu-write-test-${process.pid}`);
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(probe, 'lenet-gpu');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new OutputFolderError(
      `the output folder ${folder} cannot be written (${code}: ${(cause as Error).message}); nothing was trained. ` +
        'Choose another folder with --out, or give this user write access to it.',
    );
  } finally {
    rmSync(probe, { force: true });
  }
  const { bavail, bsize } = freeSpace(folder);
  const free = bavail * bsize;
  if (free < needBytes) {
    throw new OutputFolderError(
      `the output folder ${folder} has ${mib(free)} free, and this run's checkpoints and logs need about ${mib(needBytes)}; nothing was trained. ` +
        'Free some space there or choose another folder with --out.',
    );
  }
}

/**
 * Room for a run's files: each checkpoint holds the weights, the optimizer's
 * slots and the best weights so far (4 bytes each per parameter) plus a
 * header; last.ckpt, best.ckpt, model.ckpt and one temporary copy may exist
 * at once, and the logs and curves are small.
 */
export function runFilesBytes(parameters: number, optimizerSlots: number): number {
  const checkpoint = parameters * 4 * (2 + optimizerSlots) + 256 * 1024;
  return 4 * checkpoint + 4 * 2 ** 20;
}
