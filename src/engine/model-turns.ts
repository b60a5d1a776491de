/**
 * Whose turn it is on a model's GPU buffers. fit, evaluate, predict and
 * checkpoint capture all write the model's activation and metric buffers, and
 * a submit of one can land between two submits of another. Training is safe
 * to interleave at submit boundaries (each step recomputes everything from
 * the weights), but a validation or evaluation pass spans several submits and
 * a readback of shared totals. So each of them takes the model's turn: fit
 * one submit at a time, the others for their whole pass. A predict issued
 * during fit therefore runs between two training submits, on the weights of
 * that moment, and training goes on unchanged afterwards.
 */
export class TurnLock {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with the release function once every earlier holder has released. */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => mine);
    await previous;
    return release;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await job();
    } finally {
      release();
    }
  }
}

/** An operation that cannot share the model with one already running (a second fit, a restore during fit). */
export class ModelBusyError extends Error {
  override name = 'ModelBusyError';
}

/** The model's GPU buffers were released by dispose(). */
export class ModelDisposedError extends Error {
  override name = 'ModelDisposedError';
}
