/**
 * What `lenet-gpu train` runs with: the flags given, over the defaults of the
 * preset's recipe, or, when a run is resumed, over the settings that run
 * started with (kept in its checkpoints' run card). So `train --resume
 * runs/lenet5/last.ckpt` alone continues the very run; a flag given then
 * overrides it, and one that changes what the continuation computes is
 * named in a warning.
 */
import type { EarlyStoppingOptions, MonitoredMetric } from '../engine/early-stopping.ts';
import type { OptimizerConfig } from '../engine/optimizer-state.ts';
import { defaultRecipe, recipes } from '../engine/recipes.ts';
import type { ModelSpec } from '../model/spec.ts';
import { KERNEL_VARIANTS, type KernelVariant } from '../kernels/variant.ts';
import { loadSpec, numberFlag, positiveInt, UsageError } from './options.ts';

export interface TrainSettings {
  spec: ModelSpec;
  epochs: number;
  batchSize: number;
  seed: number;
  validationSplit: number;
  optimizer: OptimizerConfig;
  /** null: off. */
  earlyStopping: EarlyStoppingOptions | null;
  trainLimit: number | null;
  testLimit: number | null;
  maxStepsPerEpoch: number | null;
  stepsPerSubmit: number | null;
  /** null: chosen by the adapter. */
  variant: KernelVariant | null;
  augment: boolean;
  out: string;
}

/** The flags train reads (node:util parseArgs options). */
export const TRAIN_FLAGS = {
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

export type TrainFlags = { [K in keyof typeof TRAIN_FLAGS]?: (typeof TRAIN_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** Settings that change neither the weights nor the history when they differ on resume. */
const FREE_ON_RESUME: readonly (keyof TrainSettings)[] = ['epochs', 'out', 'stepsPerSubmit', 'testLimit'];

/** The recipe defaults for a spec (no flags given). */
export function recipeSettings(spec: ModelSpec): TrainSettings {
  const recipe = recipes[spec.name ?? ''] ?? defaultRecipe;
  return {
    spec,
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    seed: 1,
    validationSplit: recipe.validationSplit,
    optimizer: recipe.optimizer,
    earlyStopping: recipe.earlyStopping ?? null,
    trainLimit: null,
    testLimit: null,
    maxStepsPerEpoch: null,
    stepsPerSubmit: null,
    variant: null,
    augment: false,
    out: `runs/${spec.name ?? 'model'}`,
  };
}

/** The settings the flags give explicitly, checked (a bad value is a UsageError naming the flag). */
export function explicitSettings(f: TrainFlags, base: TrainSettings): Partial<TrainSettings> {
  const out: Partial<TrainSettings> = {};
  if (f.preset || f.spec) out.spec = loadSpec(f.preset, f.spec);
  const set = <K extends keyof TrainSettings>(key: K, value: TrainSettings[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set('epochs', numberFlag('epochs', f.epochs, positiveInt, 'a positive integer'));
  set('batchSize', numberFlag('batch-size', f['batch-size'], positiveInt, 'a positive integer'));
  set('seed', numberFlag('seed', f.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number'));
  set('validationSplit', numberFlag('validation-split', f['validation-split'], (n) => n >= 0 && n < 1, 'in [0, 1)'));
  set('trainLimit', numberFlag('train-limit', f['train-limit'], positiveInt, 'a positive integer'));
  set('testLimit', numberFlag('test-limit', f['test-limit'], positiveInt, 'a positive integer'));
  set('maxStepsPerEpoch', numberFlag('max-steps-per-epoch', f['max-steps-per-epoch'], positiveInt, 'a positive integer'));
  set('stepsPerSubmit', numberFlag('steps-per-submit', f['steps-per-submit'], positiveInt, 'a positive integer'));
  if (f.augment) out.augment = true;
  if (f.out) out.out = f.out;
  if (f.variant !== undefined) {
    if (!(KERNEL_VARIANTS as readonly string[]).includes(f.variant)) throw new UsageError(`--variant must be one of ${KERNEL_VARIANTS.join(', ')}, got "${f.variant}"`);
    out.variant = f.variant as KernelVariant;
  }
  if (f.optimizer !== undefined || f.lr !== undefined || f.momentum !== undefined) {
    const kind = f.optimizer ?? base.optimizer.kind;
    if (kind !== 'adam' && kind !== 'sgd') throw new UsageError(`--optimizer must be adam or sgd, got "${kind}"`);
    const learningRate = numberFlag('lr', f.lr, (n) => n > 0 && n < 10, 'a positive number below 10') ?? (kind === base.optimizer.kind ? base.optimizer.learningRate : undefined);
    const momentum = numberFlag('momentum', f.momentum, (n) => n >= 0 && n < 1, 'in [0, 1)');
    out.optimizer = kind === 'sgd' ? { kind, learningRate, momentum } : { kind, learningRate };
  }
  const monitor = f.monitor as MonitoredMetric | undefined;
  if (monitor && !['loss', 'accuracy', 'valLoss', 'valAccuracy'].includes(monitor)) throw new UsageError(`--monitor must be loss, accuracy, valLoss or valAccuracy, got "${monitor}"`);
  if (f['no-early-stopping']) out.earlyStopping = null;
  else if (monitor || f.patience || f['min-delta'] || f['restore-best']) {
    out.earlyStopping = {
      ...(base.earlyStopping ?? {}),
      ...(monitor ? { monitor } : {}),
      ...(f.patience ? { patience: numberFlag('patience', f.patience, (n) => Number.isInteger(n) && n >= 0, 'a whole number') } : {}),
      ...(f['min-delta'] ? { minDelta: numberFlag('min-delta', f['min-delta'], (n) => n >= 0, 'a number >= 0') } : {}),
      ...(f['restore-best'] ? { restoreBestWeights: true } : {}),
    };
  }
  return out;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Explicit flags over `base`. On resume, the optimizer is the checkpoint's
 * (its learning rate and step count live in the restored state), so
 * optimizer flags are refused; other differences that change the
 * continuation are returned as warnings.
 */
export function mergeSettings(base: TrainSettings, explicit: Partial<TrainSettings>, resuming: boolean): { settings: TrainSettings; warnings: string[] } {
  const warnings: string[] = [];
  if (resuming && explicit.optimizer && !same(explicit.optimizer, base.optimizer)) {
    throw new UsageError(
      `--optimizer, --lr and --momentum cannot change a resumed run: its optimizer (${JSON.stringify(base.optimizer)}), learning rate and step count come from the checkpoint. Start a new run to train with another optimizer.`,
    );
  }
  if (resuming) {
    for (const [key, value] of Object.entries(explicit) as [keyof TrainSettings, unknown][]) {
      if (!FREE_ON_RESUME.includes(key) && !same(value, base[key])) {
        warnings.push(`--${key} ${JSON.stringify(value)} differs from the interrupted run's ${JSON.stringify(base[key])}: the result will not be that of an uninterrupted run`);
      }
    }
  }
  return { settings: { ...base, ...explicit }, warnings };
}

/** A run card's settings, if it has them (checkpoints this command wrote). */
export function settingsOfRunCard(runCard: Record<string, unknown> | undefined): TrainSettings | undefined {
  const settings = runCard?.settings as TrainSettings | undefined;
  return settings && typeof settings === 'object' && settings.spec && typeof settings.batchSize === 'number' ? settings : undefined;
}
