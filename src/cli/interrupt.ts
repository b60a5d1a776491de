/**
 * Ctrl-C (SIGINT) and SIGTERM while a run trains. The first asks fit to stop
 * at the next submit boundary; the command then saves where it is and exits
 * 130. A second one exits at once: files are only ever replaced by rename, so
 * the last complete checkpoint stays intact.
 */
import type { TrainingControl } from '../engine/fit.ts';

export const INTERRUPTED_EXIT_CODE = 130;

/** Installs the handlers; returns a function that removes them. */
export function stopOnInterrupt(control: TrainingControl, say: (message: string) => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    if (control.stopRequested) {
      say(`\n${signal} again: exiting now; the last complete checkpoint is kept\n`);
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    control.stopRequested = true;
    control.paused = false;
    say(`\n${signal}: stopping at the next submit, then saving where the run is (${signal} again to exit at once)\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
