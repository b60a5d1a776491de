/**
 * `lenet-gpu train`: trains a preset or spec on MNIST on the GPU, then
 * evaluates on the test set. Writes to --out: model.ckpt (weights and
 * optimizer state), history.csv, history.json, curves.svg, evaluation.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subset } from '../data/dataset.ts';
import { loadMnistNode } from '../data/mnist-node.ts';
import { formatAdapterReport } from '../gpu/device.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { captureCheckpoint, restoreCheckpoint } from '../engine/checkpoint.ts';
import { evaluate } from '../engine/evaluate.ts';
import { fit, type History } from '../engine/fit.ts';
import { Model } from '../engine/model.ts';
import { defaultRecipe, recipes } from '../engine/recipes.ts';
import type { MonitoredMetric } from '../engine/early-stopping.ts';
import { inferShapes } from '../graph/infer.ts';
import { formatSummary } from '../graph/summary.ts';
import { formatConfusion } from '../metrics/classification.ts';
import { writeFileAtomic } from '../node/files.ts';
import { curvesSvg, historyCsv } from '../report/curves-svg.ts';
import { loadSpec, numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';
import { Progress } from './progress.ts';

export const TRAIN_USAGE = `usage: lenet-gpu train [options]

model:
  --preset NAME            lenet5 (default) or lenet5-variant
  --spec FILE              a model spec as JSON instead of a preset
training (defaults from the preset's recipe):
  --epochs N               --batch-size N            --lr X
  --optimizer adam|sgd     --momentum X              --validation-split X
  --seed N                 --monitor loss|accuracy|valLoss|valAccuracy
  --patience N             --min-delta X             --restore-best
  --no-early-stopping      --resume FILE (a checkpoint to continue from)
data and run:
  --train-limit N          use the first N training images
  --test-limit N           evaluate on the first N test images
  --max-steps-per-epoch N  cap steps per epoch
  --steps-per-submit N     steps recorded per GPU command buffer (default 8)
  --variant blocked|tiled  kernel variant (default: chosen by adapter)
  --augment                random rotations (15°), scalings (15%) and shifts (2 px) on the GPU
  --out DIR                output folder (default runs/<preset>)
`;

const FLAGS = {
  preset: { type: 'string' },
  spec: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  'validation-split': { type: 'string' },
  seed: { type: 'string' },
  monitor: { type: 'string' },
  patience: { type: 'string' },
  'min-delta': { type: 'string' },
  'restore-best': { type: 'boolean' },
  'no-early-stopping': { type: 'boolean' },
  resume: { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  'max-steps-per-epoch': { type: 'string' },
  'steps-per-submit': { type: 'string' },
  variant: { type: 'string' },
  augment: { type: 'boolean' },
  out: { type: 'string' },
} as const;

export async function runTrainCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(args, FLAGS, TRAIN_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${TRAIN_USAGE}`);
  const spec = loadSpec(f.preset, f.spec);
  const recipe = recipes[spec.name ?? ''] ?? defaultRecipe;
  const batchSize = numberFlag('batch-size', f['batch-size'], positiveInt, 'a positive integer') ?? recipe.batchSize;
  const epochs = numberFlag('epochs', f.epochs, positiveInt, 'a positive integer') ?? recipe.epochs;
  const seed = numberFlag('seed', f.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number') ?? 1;
  const validationSplit = numberFlag('validation-split', f['validation-split'], (n) => n >= 0 && n < 1, 'in [0, 1)') ?? recipe.validationSplit;
  const kind = f.optimizer ?? recipe.optimizer.kind;
  if (kind !== 'adam' && kind !== 'sgd') throw new UsageError(`--optimizer must be adam or sgd, got "${kind}"`);
  const learningRate = numberFlag('lr', f.lr, (n) => n > 0 && n < 10, 'a positive number below 10') ?? (kind === recipe.optimizer.kind ? recipe.optimizer.learningRate : undefined);
  const momentum = numberFlag('momentum', f.momentum, (n) => n >= 0 && n < 1, 'in [0, 1)');
  const optimizer = kind === 'sgd' ? { kind, learningRate, momentum } as const : { kind, learningRate } as const;
  const monitor = f.monitor as MonitoredMetric | undefined;
  if (monitor && !['loss', 'accuracy', 'valLoss', 'valAccuracy'].includes(monitor)) throw new UsageError(`--monitor must be loss, accuracy, valLoss or valAccuracy, got "${monitor}"`);
  const earlyStopping = f['no-early-stopping']
    ? undefined
    : {
        ...recipe.earlyStopping,
        ...(monitor ? { monitor } : {}),
        ...(f.patience ? { patience: numberFlag('patience', f.patience, (n) => Number.isInteger(n) && n >= 0, 'a whole number') } : {}),
        ...(f['min-delta'] ? { minDelta: numberFlag('min-delta', f['min-delta'], (n) => n >= 0, 'a number >= 0') } : {}),
        ...(f['restore-best'] ? { restoreBestWeights: true } : {}),
      };
  const variant = f.variant as 'blocked' | 'tiled' | undefined;
  if (variant && variant !== 'blocked' && variant !== 'tiled') throw new UsageError(`--variant must be blocked or tiled, got "${variant}"`);
  const trainLimit = numberFlag('train-limit', f['train-limit'], positiveInt, 'a positive integer');
  const testLimit = numberFlag('test-limit', f['test-limit'], positiveInt, 'a positive integer');
  const maxStepsPerEpoch = numberFlag('max-steps-per-epoch', f['max-steps-per-epoch'], positiveInt, 'a positive integer');
  const stepsPerSubmit = numberFlag('steps-per-submit', f['steps-per-submit'], positiveInt, 'a positive integer');
  const out = f.out ?? join('runs', spec.name ?? 'model');

  // Shape inference before any data or GPU work: an impossible spec fails here.
  const plan = inferShapes(spec, batchSize);
  process.stdout.write(`${formatSummary(plan)}\n`);

  const mnist = await loadMnistNode();
  const train = trainLimit ? subset(mnist.train, { start: 0, end: Math.min(trainLimit, mnist.train.count) }) : mnist.train;
  const test = testLimit ? subset(mnist.test, { start: 0, end: Math.min(testLimit, mnist.test.count) }) : mnist.test;

  const gpu = await requestGpu();
  process.stdout.write(`${formatAdapterReport(gpu.report)}\n`);
  const model = await Model.create(gpu, spec, { seed, batchSize, optimizer, variant });
  try {
    let initialEpoch = 0;
    let shuffleSeed = seed;
    if (f.resume) {
      const header = restoreCheckpoint(model, new Uint8Array(readFileSync(f.resume)), f.resume);
      initialEpoch = header.epoch;
      // The checkpoint's seed keeps the epoch shuffles those of the interrupted run.
      shuffleSeed = header.seed;
      process.stdout.write(`resumed from ${f.resume} after epoch ${initialEpoch}\n`);
    }
    process.stdout.write(
      `training ${spec.name ?? 'model'} on ${train.count} images (${Math.round(train.count * (1 - validationSplit))} train / ${Math.round(train.count * validationSplit)} validation), ` +
        `batch ${batchSize}, ${model.optimizer.config.kind} lr ${model.optimizer.config.learningRate}, up to ${epochs} epochs, kernels '${model.variant}'\n`,
    );
    const progress = new Progress();
    const started = performance.now();
    const history: History = await fit(model, train, {
      epochs,
      initialEpoch,
      validationSplit,
      earlyStopping,
      maxStepsPerEpoch,
      stepsPerSubmit,
      shuffleSeed,
      augment: f.augment ? { maxRotationDegrees: 15, maxScale: 0.15, maxShift: 2 } : undefined,
      onStep: (e) => progress.step(e),
      onEpochEnd: (e) => {
        progress.endLine();
        const val = e.valLoss === undefined ? '' : `  val_loss ${e.valLoss.toFixed(4)}  val_acc ${e.valAccuracy!.toFixed(4)}`;
        process.stdout.write(`epoch ${e.epoch}/${epochs}  loss ${e.loss.toFixed(4)}  acc ${e.accuracy.toFixed(4)}${val}  ${e.seconds.toFixed(1)}s  ${e.samplesPerSecond.toFixed(0)} samples/s\n`);
      },
    });
    const trainSeconds = (performance.now() - started) / 1000;
    for (const note of history.notes) process.stdout.write(`${note}\n`);
    const lastEpoch = history.epochs.at(-1)?.epoch ?? initialEpoch;

    const evaluation = await evaluate(model, test);
    const r = evaluation.report;
    process.stdout.write(
      `\ntest (${test.count} images): loss ${evaluation.loss.toFixed(4)}  accuracy ${(evaluation.accuracy * 100).toFixed(2)}%  macro AUC ${r.macroAuc.toFixed(5)}\n` +
        `confusion matrix:\n${formatConfusion(r.confusion)}\n` +
        `per class precision: ${r.precision.map((p) => p.toFixed(3)).join(' ')}\nper class recall:    ${r.recall.map((p) => p.toFixed(3)).join(' ')}\n`,
    );
    const runCard = {
      spec,
      seed,
      batchSize,
      optimizer: model.optimizer.config,
      validationSplit,
      earlyStopping,
      trainImages: train.count,
      adapter: gpu.report,
      epochs: lastEpoch,
      trainSeconds,
      test: { loss: evaluation.loss, accuracy: evaluation.accuracy, macroAuc: r.macroAuc },
      date: new Date().toISOString(),
    };
    writeFileAtomic(join(out, 'model.ckpt'), await captureCheckpoint(model, lastEpoch, runCard));
    writeFileAtomic(join(out, 'history.csv'), historyCsv(history.epochs));
    writeFileAtomic(join(out, 'history.json'), `${JSON.stringify(history, null, 2)}\n`);
    writeFileAtomic(join(out, 'curves.svg'), curvesSvg(history.epochs, spec.name ?? 'model'));
    writeFileAtomic(join(out, 'evaluation.json'), `${JSON.stringify({ ...runCard, report: { ...r } }, null, 2)}\n`);
    process.stdout.write(`trained in ${trainSeconds.toFixed(1)}s; wrote ${join(out, 'model.ckpt')}, history.csv, history.json, curves.svg, evaluation.json\n`);
    return 0;
  } finally {
    model.dispose();
    gpu.destroy();
  }
}
