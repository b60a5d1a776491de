/**
 * `lenet-gpu sweep`: trains a grid of variants (activations, pooling,
 * optimizer, learning rate, batch size, presets) one after another on the
 * GPU and writes the comparison: sweep.md, sweep.csv, sweep-curves.svg and
 * sweep.json (rows, histories and run cards) to --out.
 */
import { join } from 'node:path';
import { subset } from '../data/dataset.ts';
import { loadMnistNode } from '../data/mnist-node.ts';
import type { MonitoredMetric } from '../engine/early-stopping.ts';
import { formatAdapterReport } from '../gpu/device.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { writeFileAtomic } from '../util/node-files.ts';
import { sweep, sweepCsv, sweepCurvesSvg, sweepMarkdown, sweepVariants, type HiddenActivation, type PoolKind, type SweepGrid } from '../research/sweep.ts';
import { loadSpec, numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';

export const SWEEP_USAGE = `usage: lenet-gpu sweep [options]

Trains every variant of a grid on the GPU, one after another, with the same data and seed,
and writes a comparison table (markdown and CSV) and a chart of the validation accuracy curves.

grid (comma-separated lists; an axis left out keeps the base's value or its recipe's):
  --presets LIST         bases: lenet5, lenet5-variant (default lenet5)
  --spec FILE            a base spec (JSON) instead of presets
  --activations LIST     hidden activations: tanh, sigmoid, relu, linear
  --pools LIST           pooling: avg, max
  --optimizers LIST      adam, sgd          --momentum X   SGD momentum (default 0.9)
  --lrs LIST             learning rates     --batch-sizes LIST
training (the same for every variant):
  --epochs N             default 5          --validation-split X   default 0.2
  --patience N           early stopping after N epochs without improvement (best weights restored)
  --monitor M            what early stopping watches: valAccuracy (default), valLoss, accuracy, loss
  --max-steps-per-epoch N                   --seed N (default 1)
  --train-limit N        use the first N training images   --test-limit N   the first N test images
output:
  --out DIR              default runs/sweep: sweep.md, sweep.csv, sweep-curves.svg, sweep.json
`;

const FLAGS = {
  presets: { type: 'string' },
  spec: { type: 'string' },
  activations: { type: 'string' },
  pools: { type: 'string' },
  optimizers: { type: 'string' },
  momentum: { type: 'string' },
  lrs: { type: 'string' },
  'batch-sizes': { type: 'string' },
  epochs: { type: 'string' },
  'validation-split': { type: 'string' },
  patience: { type: 'string' },
  monitor: { type: 'string' },
  'max-steps-per-epoch': { type: 'string' },
  seed: { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  out: { type: 'string' },
} as const;

function list<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new UsageError(`--${flag}: "${item}" is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function numbers(flag: string, value: string | undefined, check: (n: number) => boolean, expected: string): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((s) => numberFlag(flag, s, check, expected)!);
}

export async function runSweepCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(args, FLAGS, SWEEP_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${SWEEP_USAGE}`);
  if (f.spec && f.presets) throw new UsageError('give either --presets or --spec, not both');
  const grid: SweepGrid = {
    presets: f.presets?.split(',').map((s) => s.trim()).filter(Boolean),
    base: f.spec ? loadSpec(undefined, f.spec) : undefined,
    activations: list<HiddenActivation>('activations', f.activations, ['tanh', 'sigmoid', 'relu', 'linear']),
    pools: list<PoolKind>('pools', f.pools, ['avg', 'max']),
    optimizers: list('optimizers', f.optimizers, ['adam', 'sgd'] as const),
    learningRates: numbers('lrs', f.lrs, (n) => n > 0 && n < 10, 'positive numbers below 10'),
    batchSizes: numbers('batch-sizes', f['batch-sizes'], positiveInt, 'positive integers'),
    momentum: numberFlag('momentum', f.momentum, (n) => n >= 0 && n < 1, 'in [0, 1)'),
  };
  let variants;
  try {
    variants = sweepVariants(grid);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const epochs = numberFlag('epochs', f.epochs, positiveInt, 'a positive integer') ?? 5;
  const validationSplit = numberFlag('validation-split', f['validation-split'], (n) => n >= 0 && n < 1, 'in [0, 1)') ?? 0.2;
  const patience = numberFlag('patience', f.patience, (n) => Number.isInteger(n) && n >= 0, 'a whole number');
  const monitor = (f.monitor ?? 'valAccuracy') as MonitoredMetric;
  if (!['loss', 'accuracy', 'valLoss', 'valAccuracy'].includes(monitor)) throw new UsageError(`--monitor must be loss, accuracy, valLoss or valAccuracy, got "${monitor}"`);
  if (f.monitor && patience === undefined) throw new UsageError('--monitor needs --patience (which turns early stopping on)');
  const earlyStopping = patience === undefined ? undefined : { monitor, patience, restoreBestWeights: true };
  const maxStepsPerEpoch = numberFlag('max-steps-per-epoch', f['max-steps-per-epoch'], positiveInt, 'a positive integer');
  const seed = numberFlag('seed', f.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number') ?? 1;
  const trainLimit = numberFlag('train-limit', f['train-limit'], positiveInt, 'a positive integer');
  const testLimit = numberFlag('test-limit', f['test-limit'], positiveInt, 'a positive integer');
  const out = f.out ?? join('runs', 'sweep');

  const mnist = await loadMnistNode();
  const train = trainLimit ? subset(mnist.train, { start: 0, end: Math.min(trainLimit, mnist.train.count) }) : mnist.train;
  const test = testLimit ? subset(mnist.test, { start: 0, end: Math.min(testLimit, mnist.test.count) }) : mnist.test;
  const gpu = await requestGpu();
  try {
    process.stdout.write(`${formatAdapterReport(gpu.report)}\nsweep of ${variants.length} variants: ${variants.map((v) => v.name).join('; ')}\n`);
    const result = await sweep(gpu, train, test, variants, {
      epochs,
      validationSplit,
      earlyStopping,
      maxStepsPerEpoch,
      seed,
      onVariantStart: (v, i, n) => process.stdout.write(`\n[${i + 1}/${n}] ${v.name}: ${v.optimizer.kind} lr ${v.optimizer.learningRate ?? 'default'}, batch ${v.batchSize}\n`),
      onEpochEnd: (_v, e) => {
        const val = e.valAccuracy === undefined ? '' : `  val_acc ${e.valAccuracy.toFixed(4)}`;
        process.stdout.write(`  epoch ${e.epoch}/${epochs}  loss ${e.loss.toFixed(4)}  acc ${e.accuracy.toFixed(4)}${val}  ${e.seconds.toFixed(1)}s\n`);
      },
      onVariantEnd: (r) => process.stdout.write(`  test accuracy ${(100 * r.testAccuracy).toFixed(2)}%  macro AUC ${r.macroAuc.toFixed(4)}  (${r.trainSeconds.toFixed(1)}s)\n`),
    });
    const md = sweepMarkdown(result);
    writeFileAtomic(join(out, 'sweep.md'), md);
    writeFileAtomic(join(out, 'sweep.csv'), sweepCsv(result));
    writeFileAtomic(join(out, 'sweep-curves.svg'), sweepCurvesSvg(result));
    writeFileAtomic(join(out, 'sweep.json'), `${JSON.stringify(result, null, 1)}\n`);
    process.stdout.write(`\n${md}\nwrote ${join(out, 'sweep.md')}, sweep.csv, sweep-curves.svg, sweep.json\n`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
