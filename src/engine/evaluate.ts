/**
 * evaluate and predict: replay the eval pass over a data set resident on the
 * GPU, copying each batch's probabilities into one buffer that is read back
 * once at the end (one readback per call, not per batch). The last partial
 * batch is padded with PAD_INDEX slots, which the gather leaves as zero images
 * with an invalid label; their loss and correctness are zero, and their
 * probabilities are not copied, so every sample counts exactly once.
 */
import type { ImageDataset } from '../data/dataset.ts';
import { readF32, STORAGE } from '../gpu/buffers.ts';
import { argmax, classificationReport, type ClassificationReport } from '../metrics/classification.ts';
import type { Model } from './model.ts';
import { recordEvalPass } from './passes.ts';
import { BatchCursor, batchOrder, ResidentDataset } from './resident-dataset.ts';
import { pacerFor } from './submit-pacer.ts';
import { TotalsRing } from './totals-ring.ts';

export interface Evaluation {
  loss: number;
  accuracy: number;
  report: ClassificationReport;
  probabilities: Float32Array;
  seconds: number;
}

/** Steps recorded per command buffer during evaluation. */
const EVAL_STEPS_PER_SUBMIT = 16;

interface EvalRun {
  probabilities: Float32Array;
  lossSum: number;
  correct: number;
  seconds: number;
}

/** The whole pass in one turn on the model: during a fit it runs between two training submits. */
function runEval(model: Model, data: ImageDataset, operation: string): Promise<EvalRun> {
  return model.turns.run(async () => {
    model.assertUsable(operation);
    return runEvalNow(model, data);
  });
}

async function runEvalNow(model: Model, data: ImageDataset): Promise<EvalRun> {
  const { device } = model;
  const B = model.batchSize;
  const K = model.plan.outputClasses;
  model.gpu.assertAlive();
  const started = performance.now();
  const resident = new ResidentDataset(device, data, 'evaluation data');
  const cursor = new BatchCursor(device, Math.ceil(data.count / B) * B, 'evaluation');
  const ring = new TotalsRing(device, model.evalTotals, 1);
  const allProbs = device.createBuffer({ size: Math.max(4, data.count * K * 4), usage: STORAGE(), label: 'all probabilities' });
  const pass = await recordEvalPass(model, resident, cursor).catch((e: unknown) => {
    resident.dispose();
    throw e;
  });
  const pacer = pacerFor(model, 'eval', 2);
  try {
    cursor.load(batchOrder(Uint32Array.from({ length: data.count }, (_, i) => i), B, 'padding'));
    const steps = cursor.capacity / B;
    for (let first = 0; first < steps; first += EVAL_STEPS_PER_SUBMIT) {
      const encoder = device.createCommandEncoder({ label: `evaluate ${first}` });
      for (let s = first; s < Math.min(steps, first + EVAL_STEPS_PER_SUBMIT); s++) {
        pass.encode(encoder, 1, s === 0 ? model.resetEvalTotals : []);
        const valid = Math.min(B, data.count - s * B);
        encoder.copyBufferToBuffer(model.graph.probs, 0, allProbs, s * B * K * 4, valid * K * 4);
      }
      device.queue.submit([encoder.finish()]);
      await pacer.submitted(Math.min(steps, first + EVAL_STEPS_PER_SUBMIT) - first);
    }
    await pacer.drain();
    const totals = await ring.readNow();
    const probabilities = await readF32(device, allProbs, data.count * K);
    return { probabilities, lossSum: totals.lossSum, correct: totals.correct, seconds: (performance.now() - started) / 1000 };
  } finally {
    pacer.discard();
    pass.dispose();
    resident.dispose();
    cursor.dispose();
    ring.dispose();
    allProbs.destroy();
  }
}

export async function evaluate(model: Model, data: ImageDataset): Promise<Evaluation> {
  const { probabilities, lossSum, correct, seconds } = await runEval(model, data, 'evaluate');
  const report = classificationReport(probabilities, data.labels, model.plan.outputClasses);
  // The GPU's count and the report's are computed independently; they must agree.
  if (correct !== Math.round(report.accuracy * data.count)) {
    throw new Error(`internal: GPU counted ${correct} correct predictions, the probabilities give ${Math.round(report.accuracy * data.count)}`);
  }
  return { loss: lossSum / data.count, accuracy: report.accuracy, report, probabilities, seconds };
}

export interface Prediction {
  probabilities: Float32Array;
  classes: Uint8Array;
}

/** Class probabilities for `count` images given as u8 pixels (count x C x H x W). */
export async function predict(model: Model, pixels: Uint8Array, count: number): Promise<Prediction> {
  const [channels, rows, cols] = model.plan.inputShape;
  if (pixels.length !== count * channels * rows * cols) {
    throw new Error(`predict got ${pixels.length} pixel bytes for ${count} images of ${channels}x${rows}x${cols}`);
  }
  const data: ImageDataset = { count, channels: 1, rows, cols, pixels, labels: new Uint8Array(count) };
  const { probabilities } = await runEval(model, data, 'predict');
  const K = model.plan.outputClasses;
  const classes = new Uint8Array(count);
  for (let i = 0; i < count; i++) classes[i] = argmax(probabilities, i * K, K);
  return { probabilities, classes };
}
