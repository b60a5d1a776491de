/**
 * Running training metrics: CPU reference of the GPU `totals` buffer.
 *
 * Per step the loss kernel leaves sampleLoss (B) (-log softmax[label]) and
 * sampleCorrect (B) (1 when argmax == label, else 0). metricsAccumulate adds
 * the batch into the totals; metricsReset zeroes them (at the start of an
 * epoch, or of an evaluation pass). The mean loss and the accuracy are
 * lossSum / samples and correct / samples.
 *
 * The reference sums in float64; the GPU sums in float32 in a fixed order
 * (serially, sample 0 first), so the two agree to float32 rounding and the
 * GPU result is the same on every run.
 */
import type { Vec } from '../util/vec.ts';

export interface MetricTotals {
  /** Sum of the per-sample losses since the last reset. */
  lossSum: number;
  /** Samples classified correctly since the last reset. */
  correct: number;
  /** Samples accumulated since the last reset. */
  samples: number;
  /** Batches (steps) accumulated since the last reset. */
  steps: number;
}

export function metricsReset(totals: MetricTotals): void {
  totals.lossSum = 0;
  totals.correct = 0;
  totals.samples = 0;
  totals.steps = 0;
}

export function metricsAccumulate(
  totals: MetricTotals,
  sampleLoss: Vec, // (B)
  sampleCorrect: ArrayLike<number>, // (B) 0 or 1
  batch: number,
): void {
  let lossSum = 0;
  let correct = 0;
  for (let b = 0; b < batch; b++) {
    lossSum += sampleLoss[b];
    correct += sampleCorrect[b];
  }
  totals.lossSum += lossSum;
  totals.correct += correct;
  totals.samples += batch;
  totals.steps += 1;
}

/** Mean loss and accuracy of the totals (NaN before any sample). */
export function metricsSummary(totals: MetricTotals): { loss: number; accuracy: number } {
  return { loss: totals.lossSum / totals.samples, accuracy: totals.correct / totals.samples };
}
