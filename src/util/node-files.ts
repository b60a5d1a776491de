/**
 * Node file helpers: atomic writes. The data goes to a temporary file in the
 * same folder, is flushed to disk (fsync), then renamed over the target, and
 * the folder is flushed so the rename itself survives a power cut. A crash at
 * any point leaves either the old file or the new one, never half of one; a
 * stale temporary file left by a crash is named `<file>.tmp-<pid>-<time>` and
 * removeStaleTemporaries clears it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Called once half the data is in the temporary file (fault-injection tests kill the process there). */
  midWrite?: () => void;
}

function fsyncFolder(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot open or flush a folder; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fd = openSync(temp, 'w');
    try {
      const half = bytes.length >> 1;
      for (let at = 0; at < half; ) at += writeSync(fd, bytes, at, half - at);
      options.midWrite?.();
      for (let at = half; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    fsyncFolder(folder);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Deletes temporary files that interrupted atomic writes of `names` left in `folder`; returns their names. */
export function removeStaleTemporaries(folder: string, names: string[]): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  const stale = entries.filter((entry) => names.some((name) => entry.startsWith(`${basename(name)}.tmp-`)));
  for (const entry of stale) rmSync(join(folder, entry), { force: true });
  return stale;
}
