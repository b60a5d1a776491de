/** The one error type of every export and import: it names the file or tensor, the problem, and the fix. */
export class InteropError extends Error {
  override name = 'InteropError';
}
