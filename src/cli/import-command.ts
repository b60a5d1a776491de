/**
 * `lenet-gpu import`: weights from a TensorFlow.js Layers model or a
 * safetensors file into a checkpoint of this engine (fresh optimizer state),
 * evaluated on the MNIST test set on the way so the import is checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subset } from '../data/dataset.ts';
import { loadMnistNode } from '../data/mnist-node.ts';
import { captureCheckpoint } from '../engine/checkpoint.ts';
import { evaluate } from '../engine/evaluate.ts';
import { Model } from '../engine/model.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { inferShapes } from '../model/infer.ts';
import type { ModelSpec } from '../model/spec.ts';
import { InteropError } from '../interop/errors.ts';
import { formatOfPath, readTfjsModel } from '../interop/files.ts';
import { decodeSafetensors, importSafetensors, safetensorsSpec } from '../interop/safetensors.ts';
import { importTfjsLayers } from '../interop/tfjs-layers.ts';
import { writeFileAtomic } from '../util/node-files.ts';
import { buildRunCard, isRunCard, type RunCard } from '../engine/run-card.ts';
import { loadSpec, numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';

export const IMPORT_USAGE = `usage: lenet-gpu import --from PATH [options]

Imports weights into a lenet-gpu checkpoint (Adam state starts fresh), evaluating them on the
MNIST test set on the way.

  --from PATH             a TF.js Layers model.json (or its folder, shards beside it)
                          or a .safetensors file
  --format tfjs|safetensors   default: by the extension of --from
  --preset NAME | --spec FILE the architecture to expect. Default: TF.js, the model's own
                          topology; safetensors, the spec in its __metadata__
  --out FILE              checkpoint to write (default runs/imported/model.ckpt)
  --test-limit N          evaluate on the first N test images (default all)
  --no-evaluate           skip the evaluation
`;

export async function runImportCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(
    args,
    {
      from: { type: 'string' },
      format: { type: 'string' },
      preset: { type: 'string' },
      spec: { type: 'string' },
      out: { type: 'string' },
      'test-limit': { type: 'string' },
      'no-evaluate': { type: 'boolean' },
    } as const,
    IMPORT_USAGE,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${IMPORT_USAGE}`);
  if (!f.from) throw new UsageError(`--from is required\n\n${IMPORT_USAGE}`);
  const format = f.format ?? formatOfPath(f.from);
  if (format !== 'tfjs' && format !== 'safetensors') {
    throw new UsageError(`cannot import ${f.format ? `--format "${f.format}"` : `"${f.from}"`}: give a TF.js model.json or a .safetensors file (or --format tfjs|safetensors)`);
  }
  const expected: ModelSpec | undefined = f.preset || f.spec ? loadSpec(f.preset, f.spec) : undefined;
  const testLimit = numberFlag('test-limit', f['test-limit'], positiveInt, 'a positive integer');
  const out = f.out ?? join('runs', 'imported', 'model.ckpt');

  // Everything is read and checked on the CPU before any GPU work.
  let spec: ModelSpec;
  let weights: Float32Array;
  let carried: unknown;
  if (format === 'tfjs') {
    const { modelJson, weightData, source } = readTfjsModel(f.from);
    const imported = importTfjsLayers(modelJson, weightData, { expected, source });
    spec = expected ?? imported.spec;
    weights = imported.weights;
    carried = imported.runCard;
  } else {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(f.from));
    } catch (error) {
      throw new InteropError(`could not read ${f.from}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const fileSpec = safetensorsSpec(decodeSafetensors(bytes, f.from), f.from);
    const chosen = expected ?? fileSpec;
    if (!chosen) throw new UsageError(`${f.from} carries no spec in its __metadata__; say which architecture it is with --preset or --spec`);
    const imported = importSafetensors(chosen, bytes, f.from);
    spec = chosen;
    weights = imported.weights;
    carried = imported.runCard;
  }
  const plan = inferShapes(spec, 1);
  process.stdout.write(`read ${plan.paramCount.toLocaleString('en-US')} parameters of ${plan.name} from ${f.from} (${format})\n`);

  const gpu = await requestGpu();
  const model = await Model.create(gpu, spec, { batchSize: 256 });
  try {
    model.setWeights(weights);
    const note = `imported from ${f.from} (${format}) on ${new Date().toISOString()}`;
    let runCard: RunCard;
    if (isRunCard(carried)) {
      runCard = { ...carried, notes: [...(carried.notes ?? []), note] };
    } else {
      runCard = buildRunCard({ spec, seed: model.seed, batchSize: 0, optimizer: model.optimizer.config, trainImages: 0, adapter: gpu.report, notes: [note, 'trained elsewhere: seed, hyper-parameters and data split unknown'] });
    }
    if (!f['no-evaluate']) {
      const { test: full } = await loadMnistNode();
      const test = testLimit ? subset(full, { start: 0, end: Math.min(testLimit, full.count) }) : full;
      const e = await evaluate(model, test);
      process.stdout.write(`test (${test.count} images): loss ${e.loss.toFixed(4)}  accuracy ${(e.accuracy * 100).toFixed(2)}%  macro AUC ${e.report.macroAuc.toFixed(5)}\n`);
      runCard.notes = [...(runCard.notes ?? []), `after import: test accuracy ${(e.accuracy * 100).toFixed(2)}% on ${test.count} images`];
      if (!runCard.metrics.test) runCard.metrics = { ...runCard.metrics, test: { count: test.count, loss: e.loss, accuracy: e.accuracy, macroAuc: e.report.macroAuc } };
    }
    writeFileAtomic(out, await captureCheckpoint(model, 0, runCard as unknown as Record<string, unknown>));
    process.stdout.write(`wrote ${out}\n`);
    return 0;
  } finally {
    model.dispose();
    gpu.destroy();
  }
}
