/**
 * Checkpoint files on the user's disk: download the bytes as a .ckpt file,
 * read an uploaded one back. The format is the CLI's (`model.ckpt`), so a
 * model trained here loads in `lenet-gpu train --resume` and vice versa.
 */
export function downloadBytes(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function readFileBytes(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}
