/**
 * Runs an async job for the latest request only: while a run is in flight,
 * further requests collapse into one more run after it. Drawing fires dozens
 * of pointer events a second; the GPU sees at most one prediction queued
 * behind the one it is working on, and the last stroke is always predicted.
 */
export class LatestOnly {
  private running = false;
  private pending = false;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    /** Told when work starts (true) and when nothing is left to run (false). */
    private readonly onBusy: (busy: boolean) => void = () => undefined,
  ) {}

  request(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = true;
    this.onBusy(true);
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.pending = false;
        try {
          await this.job();
        } catch (error) {
          this.onError(error);
        }
      } while (this.pending);
    } finally {
      this.running = false;
      this.onBusy(false);
    }
  }
}
