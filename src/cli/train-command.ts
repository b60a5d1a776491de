/**
 * `lenet-gpu train`: trains a preset or spec on MNIST on the GPU, then
 * evaluates on the test set. Nothing is lost to an interruption: after every
 * epoch the output folder holds last.ckpt (and best.ckpt, the history and the
 * curves, run-files.ts); Ctrl-C or SIGTERM stops at the next submit and saves
 * the exact point reached; a lost device is recovered from
 * (fitWithRecovery); `--resume` (or `--resume auto`) continues any of these
 * exactly where it stopped, to the same weights as an uninterrupted run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { subset, type ImageDataset } from '../data/dataset.ts';
import { loadMnistNode } from '../data/mnist-node.ts';
import { formatAdapterReport } from '../gpu/device.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { captureCheckpoint, decodeCheckpoint, type CheckpointHeader } from '../engine/checkpoint.ts';
import { evaluate } from '../engine/evaluate.ts';
import { fitStateFromCheckpoint, type FitState } from '../engine/fit-state.ts';
import type { TrainingControl } from '../engine/fit.ts';
import { fitWithRecovery, type ResilientResult } from '../engine/resilient-fit.ts';
import { inferShapes } from '../model/infer.ts';
import { formatSummary } from '../model/summary.ts';
import { formatConfusion } from '../metrics/classification.ts';
import { faultsFrom } from './faults.ts';
import { INTERRUPTED_EXIT_CODE, stopOnInterrupt } from './interrupt.ts';
import { loadSpec, parseFlags, UsageError } from './options.ts';
import { checkOutputFolder, runFilesBytes } from './output-folder.ts';
import { Progress } from './progress.ts';
import { RunFiles } from './run-files.ts';
import { explicitSettings, mergeSettings, recipeSettings, settingsOfRunCard, TRAIN_FLAGS } from './train-settings.ts';

export const TRAIN_USAGE = `usage: lenet-gpu train [options]

model:
  --preset NAME            lenet5 (default) or lenet5-variant
  --spec FILE              a model spec as JSON instead of a preset
training (defaults from the preset's recipe):
  --epochs N               --batch-size N            --lr X
  --optimizer adam|sgd     --momentum X              --validation-split X
  --seed N                 --monitor loss|accuracy|valLoss|valAccuracy
  --patience N             --min-delta X             --restore-best
  --no-early-stopping
  --resume FILE|auto       continue the run of a checkpoint exactly (its settings, unless
                           flags override them); auto: --out's last.ckpt, if there is one
data and run:
  --train-limit N          use the first N training images
  --test-limit N           evaluate on the first N test images
  --max-steps-per-epoch N  cap steps per epoch
  --steps-per-submit N     steps recorded per GPU command buffer (default 8)
  --variant blocked|tiled|compact  kernel variant (default: chosen by adapter; compact compiles fastest)
  --augment                random rotations (15°), scalings (15%) and shifts (2 px) on the GPU
  --out DIR                output folder (default runs/<preset>): last.ckpt and, with a
                           monitored metric, best.ckpt after every epoch; model.ckpt at the end

Ctrl-C (or SIGTERM) stops at the next submit, saves last.ckpt where the run stands and prints
the command that continues it; a second Ctrl-C exits at once, keeping the last complete files.
`;

/** The command that continues a run from `checkpoint`, as this process was started (npm run train, or node on the CLI). */
function resumeCommand(checkpoint: string): string {
  const quoted = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  if (process.env.npm_lifecycle_event === 'train') return `npm run train -- --resume ${quoted(checkpoint)}`;
  const script = relative(process.cwd(), process.argv[1] ?? 'lenet-gpu');
  return [process.argv0 === 'node' ? 'node' : process.execPath, script.startsWith('..') ? process.argv[1] : script, 'train', '--resume', checkpoint].map(quoted).join(' ');
}

interface Resumed {
  path: string;
  bytes: Uint8Array;
  header: CheckpointHeader;
  state: FitState | undefined;
}

/** The checkpoint --resume names (`auto`: the output folder's last.ckpt, when there is one). */
function readResume(resume: string | undefined, out: string): Resumed | undefined {
  if (!resume) return undefined;
  const path = resume === 'auto' ? join(out, 'last.ckpt') : resume;
  if (resume === 'auto' && !existsSync(path)) {
    process.stdout.write(`--resume auto: no checkpoint at ${path}; starting a new run\n`);
    return undefined;
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new UsageError(`--resume ${resume}: cannot read ${path} (${(cause as Error).message}); give a checkpoint file, or --resume auto with the run's --out`);
  }
  const checkpoint = decodeCheckpoint(bytes, path);
  return { path, bytes, header: checkpoint.header, state: fitStateFromCheckpoint(checkpoint, path) };
}

export async function runTrainCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(args, TRAIN_FLAGS, TRAIN_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${TRAIN_USAGE}`);
  const faults = faultsFrom(process.env.LENET_GPU_FAULT);
  // The preset or spec named, else lenet5; its recipe is a new run's defaults.
  const defaults = recipeSettings(loadSpec(f.preset, f.spec));
  // Where --resume auto looks: --out, or the default folder of that spec.
  const resumed = readResume(f.resume, f.out ?? defaults.out);
  // A resumed run starts from its own settings, writing beside the checkpoint it came from; a new one from its recipe's.
  // The flags go over either.
  const base = resumed
    ? {
        ...(settingsOfRunCard(resumed.header.runCard) ?? { ...recipeSettings(resumed.header.spec), seed: resumed.header.seed, optimizer: resumed.header.optimizer }),
        out: dirname(resumed.path),
      }
    : defaults;
  const { settings, warnings } = mergeSettings(base, explicitSettings(f, base), resumed !== undefined);
  const { spec, batchSize, out } = settings;
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);

  // Before any data or GPU work: an impossible spec, or an output folder that cannot take the run's files, fails here.
  const plan = inferShapes(spec, batchSize);
  process.stdout.write(`${formatSummary(plan)}\n`);
  checkOutputFolder(out, runFilesBytes(plan.paramCount, settings.optimizer.kind === 'sgd' ? 1 : 2));
  const files = new RunFiles(out, spec.name ?? 'model', faults);
  const stale = files.clearStale();
  if (stale.length > 0) process.stdout.write(`removed ${stale.length} temporary file(s) an interrupted write left in ${out}\n`);

  const mnist = await loadMnistNode();
  const limit = (data: ImageDataset, n: number | null): ImageDataset => (n ? subset(data, { start: 0, end: Math.min(n, data.count) }) : data);
  const train = limit(mnist.train, settings.trainLimit);
  const test = limit(mnist.test, settings.testLimit);

  let gpu = await requestGpu();
  process.stdout.write(`${formatAdapterReport(gpu.report)}\n`);
  const initialEpoch = resumed?.header.epoch ?? 0;
  if (resumed) {
    const where = resumed.state?.step ? `at step ${resumed.state.step} of epoch ${resumed.state.epoch + 1}` : `after epoch ${resumed.header.epoch}`;
    process.stdout.write(`resuming from ${resumed.path} ${where}${resumed.state ? '' : ' (a checkpoint without a fit state: training goes on with the next epoch, early stopping starts afresh)'}\n`);
  }
  const { validationSplit, epochs } = settings;
  process.stdout.write(
    `training ${spec.name ?? 'model'} on ${train.count} images (${Math.round(train.count * (1 - validationSplit))} train / ${Math.round(train.count * validationSplit)} validation), ` +
      `batch ${batchSize}, ${settings.optimizer.kind} lr ${settings.optimizer.learningRate ?? 'default'}, up to ${epochs} epochs\n`,
  );
  const runCard = { settings, trainImages: train.count };
  const control: TrainingControl = { stopRequested: false, paused: false };
  const progress = new Progress();
  const started = performance.now();
  const removeHandlers = stopOnInterrupt(control, (message) => process.stderr.write(message));
  let result: ResilientResult;
  try {
    result = await fitWithRecovery(
      gpu,
      spec,
      { seed: settings.seed, batchSize, optimizer: settings.optimizer, variant: settings.variant ?? undefined },
      train,
      {
        epochs,
        validationSplit,
        earlyStopping: settings.earlyStopping ?? undefined,
        maxStepsPerEpoch: settings.maxStepsPerEpoch ?? undefined,
        stepsPerSubmit: settings.stepsPerSubmit ?? undefined,
        shuffleSeed: resumed?.header.seed ?? settings.seed,
        augment: settings.augment ? { maxRotationDegrees: 15, maxScale: 0.15, maxShift: 2 } : undefined,
        control,
        onStep: (e) => {
          progress.step(e);
          faults.onStep(e.epoch, e.step, () => gpu.device);
        },
        onEpochEnd: (e) => {
          progress.endLine();
          const val = e.valLoss === undefined ? '' : `  val_loss ${e.valLoss.toFixed(4)}  val_acc ${e.valAccuracy!.toFixed(4)}`;
          process.stdout.write(`epoch ${e.epoch}/${epochs}  loss ${e.loss.toFixed(4)}  acc ${e.accuracy.toFixed(4)}${val}  ${e.seconds.toFixed(1)}s  ${e.samplesPerSecond.toFixed(0)} samples/s\n`);
        },
      },
      {
        requestGpu: async () => (gpu = await requestGpu()),
        initialCheckpoint: resumed?.bytes,
        runCard,
        onCheckpoint: (bytes, _epoch, state) => files.epochEnd(bytes, state),
        onDeviceLost: (lost) => {
          progress.endLine();
          process.stderr.write(`the GPU device was lost (${lost.reason}) in epoch ${lost.lostAfter.epoch}; requesting a new one and continuing from the last checkpoint\n`);
        },
      },
    );
  } finally {
    removeHandlers();
  }
  const { model, history } = result;
  gpu = result.gpu;
  try {
    const trainSeconds = (performance.now() - started) / 1000;
    const end = history.endState;
    if (history.stopReason === 'stopped' && end) {
      files.write('last.ckpt', await captureCheckpoint(model, end.epoch, runCard, end));
      files.writeHistory(end.history);
      const where = end.step > 0 ? `at step ${end.step} of epoch ${end.epoch + 1}` : `after epoch ${end.epoch}`;
      process.stdout.write(`\ninterrupted ${where}; saved ${files.path('last.ckpt')}. To continue exactly where it stopped:\n  ${resumeCommand(files.path('last.ckpt'))}\n`);
      return INTERRUPTED_EXIT_CODE;
    }
    for (const note of history.notes) process.stdout.write(`${note}\n`);
    const lastEpoch = history.epochs.at(-1)?.epoch ?? initialEpoch;
    const evaluation = await evaluate(model, test);
    const r = evaluation.report;
    process.stdout.write(
      `\ntest (${test.count} images): loss ${evaluation.loss.toFixed(4)}  accuracy ${(evaluation.accuracy * 100).toFixed(2)}%  macro AUC ${r.macroAuc.toFixed(5)}\n` +
        `confusion matrix:\n${formatConfusion(r.confusion)}\n` +
        `per class precision: ${r.precision.map((p) => p.toFixed(3)).join(' ')}\nper class recall:    ${r.recall.map((p) => p.toFixed(3)).join(' ')}\n`,
    );
    const recoveries = history.recoveries ?? [];
    const finalCard = {
      ...runCard,
      spec,
      seed: settings.seed,
      batchSize,
      optimizer: model.optimizer.config,
      validationSplit,
      earlyStopping: settings.earlyStopping,
      adapter: gpu.report,
      epochs: lastEpoch,
      trainSeconds,
      recoveries: recoveries.length,
      stepsRedone: recoveries.reduce((sum, x) => sum + x.stepsRedone, 0),
      test: { loss: evaluation.loss, accuracy: evaluation.accuracy, macroAuc: r.macroAuc },
      date: new Date().toISOString(),
    };
    const { endState: _end, ...finalHistory } = history;
    files.write('model.ckpt', await captureCheckpoint(model, lastEpoch, finalCard));
    files.writeHistory(finalHistory);
    files.write('evaluation.json', `${JSON.stringify({ ...finalCard, report: { ...r } }, null, 2)}\n`);
    if (recoveries.length > 0) process.stdout.write(`survived ${recoveries.length} lost device(s); ${finalCard.stepsRedone} step(s) trained again\n`);
    process.stdout.write(`trained in ${trainSeconds.toFixed(1)}s; wrote ${files.path('model.ckpt')}, last.ckpt, history.csv, history.json, curves.svg, evaluation.json\n`);
    return 0;
  } finally {
    model.dispose();
    gpu.destroy();
  }
}
