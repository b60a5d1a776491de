/**
 * The words of the training status lines: progress with samples/s and ETA,
 * the epoch summary, and where early stopping stands.
 */
import type { EarlyStoppingDecision } from './early-stopping-view.ts';
import type { EpochLog, StepEvent } from '../../src/index.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** ETA for the whole run: the rest of this epoch plus the epochs still to come, at the current speed. */
export function runEtaSeconds(e: StepEvent, totalEpochs: number, batch: number): number {
  const stepsLeft = e.stepsPerEpoch - e.step + (totalEpochs - e.epoch) * e.stepsPerEpoch;
  return (stepsLeft * batch) / Math.max(e.samplesPerSecond, 1e-9);
}

export function stepLine(e: StepEvent, totalEpochs: number, batch: number): string {
  return (
    `epoch ${e.epoch}/${totalEpochs} · step ${e.step}/${e.stepsPerEpoch} · loss ${e.loss.toFixed(4)} · accuracy ${(e.accuracy * 100).toFixed(2)}% · ` +
    `${e.samplesPerSecond.toFixed(0)} samples/s · ETA ${formatDuration(e.etaSeconds)} (epoch), ${formatDuration(runEtaSeconds(e, totalEpochs, batch))} (run)`
  );
}

export function epochLine(log: EpochLog, totalEpochs: number): string {
  const val = log.valLoss === undefined ? '' : ` · val loss ${log.valLoss.toFixed(4)} · val accuracy ${((log.valAccuracy ?? 0) * 100).toFixed(2)}%`;
  return `epoch ${log.epoch}/${totalEpochs} done in ${formatDuration(log.seconds)} · loss ${log.loss.toFixed(4)} · accuracy ${(log.accuracy * 100).toFixed(2)}%${val} · ${log.samplesPerSecond.toFixed(0)} samples/s`;
}

export function earlyStoppingLine(monitor: string, patience: number, d: EarlyStoppingDecision | undefined): string {
  if (!d) return `Early stopping: watching ${monitor}, patience ${patience}.`;
  const verdict = d.stop ? 'stopping' : d.improved ? 'improved' : `no improvement for ${d.epochsWithoutImprovement} of ${patience} epoch(s)`;
  return `Early stopping on ${monitor}: ${verdict}; best ${d.bestValue.toFixed(4)} at epoch ${d.bestEpoch}.`;
}
