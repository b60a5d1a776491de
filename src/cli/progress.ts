/** A one-line progress bar for a TTY (redrawn in place) or a plain log line per update elsewhere. */
import type { StepEvent } from '../engine/fit.ts';

const formatEta = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

export function progressLine(e: StepEvent, width = 24): string {
  const filled = Math.round((e.step / e.stepsPerEpoch) * width);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${'.'.repeat(width - filled)}`;
  return `epoch ${e.epoch} [${bar}] ${e.step}/${e.stepsPerEpoch}  loss ${e.loss.toFixed(4)}  acc ${e.accuracy.toFixed(4)}  ${e.samplesPerSecond.toFixed(0)} samples/s  ETA ${formatEta(e.etaSeconds)}`;
}

export class Progress {
  private lastPlain = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  step(e: StepEvent): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${progressLine(e)}\x1b[K`);
    } else if (performance.now() - this.lastPlain > 5000) {
      this.lastPlain = performance.now();
      this.stream.write(`${progressLine(e)}\n`);
    }
  }

  endLine(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
  }
}
