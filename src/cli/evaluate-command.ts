/** `lenet-gpu evaluate`: test-set metrics of a saved model. */
import { subset } from '../data/dataset.ts';
import { loadMnistNode } from '../data/mnist-node.ts';
import { evaluate } from '../engine/evaluate.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { formatConfusion } from '../metrics/classification.ts';
import { modelFromCheckpoint } from './load-model.ts';
import { numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';

export const EVALUATE_USAGE = `usage: lenet-gpu evaluate --checkpoint FILE [--test-limit N] [--batch-size N] [--json]

Evaluates a saved model on the MNIST test set: loss, accuracy, one-vs-rest macro AUC,
confusion matrix, per-class precision and recall.
`;

export async function runEvaluateCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(
    args,
    { checkpoint: { type: 'string' }, 'test-limit': { type: 'string' }, 'batch-size': { type: 'string' }, json: { type: 'boolean' } } as const,
    EVALUATE_USAGE,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${EVALUATE_USAGE}`);
  if (!f.checkpoint) throw new UsageError(`--checkpoint is required\n\n${EVALUATE_USAGE}`);
  const limit = numberFlag('test-limit', f['test-limit'], positiveInt, 'a positive integer');
  const batchSize = numberFlag('batch-size', f['batch-size'], positiveInt, 'a positive integer') ?? 256;
  const { test: full } = await loadMnistNode();
  const test = limit ? subset(full, { start: 0, end: Math.min(limit, full.count) }) : full;
  const gpu = await requestGpu();
  const model = await modelFromCheckpoint(gpu, f.checkpoint, batchSize);
  try {
    const e = await evaluate(model, test);
    const r = e.report;
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ count: r.count, loss: e.loss, accuracy: e.accuracy, macroAuc: r.macroAuc, auc: r.auc, precision: r.precision, recall: r.recall, confusion: r.confusion })}\n`);
    } else {
      process.stdout.write(
        `test (${r.count} images): loss ${e.loss.toFixed(4)}  accuracy ${(e.accuracy * 100).toFixed(2)}%  macro AUC ${r.macroAuc.toFixed(5)}  (${e.seconds.toFixed(1)}s)\n` +
          `confusion matrix:\n${formatConfusion(r.confusion)}\n` +
          `class      ${r.precision.map((_, k) => String(k).padStart(6)).join('')}\n` +
          `precision  ${r.precision.map((p) => p.toFixed(3).padStart(6)).join('')}\n` +
          `recall     ${r.recall.map((p) => p.toFixed(3).padStart(6)).join('')}\n` +
          `AUC        ${r.auc.map((p) => p.toFixed(3).padStart(6)).join('')}\n`,
      );
    }
    return 0;
  } finally {
    model.dispose();
    gpu.destroy();
  }
}
