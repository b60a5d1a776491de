/** A WGSL module or pipeline that the device refused (the message holds its compilation log); no imports, as engine/errors.ts. */
export class KernelCompileError extends Error {
  override name = 'KernelCompileError';
}
