/**
 * Errors of the training workflow, in a module of their own with no imports,
 * so that code that only needs to recognise them (the worker client, which
 * rebuilds errors by class) carries nothing else. Re-exported where they are
 * thrown (checkpoint.ts, fit.ts).
 */

/** A checkpoint that is damaged, truncated, foreign or made for another model or optimizer. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** The training loss became NaN or infinite; the message names the step and the first bad layer. */
export class NumericalError extends Error {
  override name = 'NumericalError';
}
