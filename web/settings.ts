/**
 * Training settings: one flat record that lives in three places with the same
 * names: the URL query (?epochs=2&batch=32&trainLimit=2000, handy for links
 * and tests), the form fields (input name = query key) and the fit/evaluate
 * options built from it. Defaults come from the preset's recipe
 * (src/engine/recipes.ts), as for the CLI.
 */
import { recipes, type EarlyStoppingOptions, type FitOptions, type MonitoredMetric, type OptimizerConfig, type Recipe } from '../src/index.ts';

export type Monitor = MonitoredMetric | 'off';

export interface TrainSettings {
  epochs: number;
  batch: number;
  optimizer: 'adam' | 'sgd';
  lr: number;
  momentum: number;
  valSplit: number;
  monitor: Monitor;
  patience: number;
  trainLimit: number;
  testLimit: number;
  seed: number;
}

export type SettingKey = keyof TrainSettings;

const MONITORS: readonly Monitor[] = ['off', 'loss', 'accuracy', 'valLoss', 'valAccuracy'];
const INTEGER: readonly SettingKey[] = ['epochs', 'batch', 'patience', 'trainLimit', 'testLimit', 'seed'];
export const SETTING_KEYS: readonly SettingKey[] = ['epochs', 'batch', 'optimizer', 'lr', 'momentum', 'valSplit', 'monitor', 'patience', 'trainLimit', 'testLimit', 'seed'];

export const MNIST_TRAIN_COUNT = 60_000;
export const MNIST_TEST_COUNT = 10_000;

/** The hyper-parameters a preset's recipe prescribes (data limits and seed stay). */
export function recipeSettings(preset: string): Pick<TrainSettings, 'epochs' | 'batch' | 'optimizer' | 'lr' | 'momentum' | 'valSplit' | 'monitor' | 'patience'> {
  const r: Recipe = recipes[preset] ?? recipes.lenet5;
  return {
    epochs: r.epochs,
    batch: r.batchSize,
    optimizer: r.optimizer.kind,
    lr: r.optimizer.learningRate ?? (r.optimizer.kind === 'sgd' ? 0.01 : 0.001),
    momentum: r.optimizer.kind === 'sgd' ? (r.optimizer.momentum ?? 0.9) : 0.9,
    valSplit: r.validationSplit,
    monitor: r.earlyStopping?.monitor ?? 'off',
    patience: r.earlyStopping?.patience ?? 2,
  };
}

export function defaultSettings(preset: string): TrainSettings {
  return { ...recipeSettings(preset), trainLimit: MNIST_TRAIN_COUNT, testLimit: MNIST_TEST_COUNT, seed: 1 };
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Parses one raw value, saying what is wrong in the field's words. */
function parseValue(key: SettingKey, raw: string): TrainSettings[SettingKey] {
  if (key === 'optimizer') {
    if (raw !== 'adam' && raw !== 'sgd') throw new SettingsError(`optimizer must be "adam" or "sgd", got "${raw}"`);
    return raw;
  }
  if (key === 'monitor') {
    if (!MONITORS.includes(raw as Monitor)) throw new SettingsError(`early stopping monitor must be one of ${MONITORS.join(', ')}, got "${raw}"`);
    return raw as Monitor;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new SettingsError(`${key} must be a number, got "${raw}"`);
  if (INTEGER.includes(key) && !Number.isInteger(value)) throw new SettingsError(`${key} must be a whole number, got ${raw}`);
  return value;
}

/** Checks ranges across fields; returns the settings unchanged when they are usable. */
export function validateSettings(s: TrainSettings): TrainSettings {
  const fail = (message: string): never => {
    throw new SettingsError(message);
  };
  if (s.epochs < 1) fail(`epochs must be at least 1, got ${s.epochs}`);
  if (s.batch < 1 || s.batch > 1024) fail(`batch size must be in 1..1024, got ${s.batch}`);
  if (!(s.lr > 0)) fail(`learning rate must be positive, got ${s.lr}`);
  if (!(s.momentum >= 0 && s.momentum < 1)) fail(`momentum must be in [0, 1), got ${s.momentum}`);
  if (!(s.valSplit >= 0 && s.valSplit < 1)) fail(`validation split must be in [0, 1), got ${s.valSplit}`);
  if (s.patience < 0) fail(`patience must be 0 or more, got ${s.patience}`);
  if (s.trainLimit < 1 || s.trainLimit > MNIST_TRAIN_COUNT) fail(`training samples must be in 1..${MNIST_TRAIN_COUNT}, got ${s.trainLimit}`);
  if (s.testLimit < 1 || s.testLimit > MNIST_TEST_COUNT) fail(`test samples must be in 1..${MNIST_TEST_COUNT}, got ${s.testLimit}`);
  if (s.trainLimit - Math.round(s.trainLimit * s.valSplit) < 1) fail(`a validation split of ${s.valSplit} leaves no training samples out of ${s.trainLimit}`);
  if ((s.monitor === 'valLoss' || s.monitor === 'valAccuracy') && s.valSplit === 0) {
    fail(`early stopping on ${s.monitor} needs a validation split above 0 (or monitor loss/accuracy)`);
  }
  return s;
}

/** Settings given in the query string override `base`; unknown keys are ignored. */
export function settingsFromQuery(query: URLSearchParams, base: TrainSettings): TrainSettings {
  const out: TrainSettings = { ...base };
  for (const key of SETTING_KEYS) {
    const raw = query.get(key);
    if (raw !== null) Object.assign(out, { [key]: parseValue(key, raw) });
  }
  return out;
}

type Field = HTMLInputElement | HTMLSelectElement;

function field(form: HTMLFormElement, key: SettingKey): Field {
  const element = form.elements.namedItem(key);
  if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement)) throw new Error(`page markup: the form has no field "${key}"`);
  return element;
}

export function writeSettingsToForm(form: HTMLFormElement, s: Partial<TrainSettings>): void {
  for (const key of SETTING_KEYS) {
    const value = s[key];
    if (value !== undefined) field(form, key).value = String(value);
  }
}

/** Reads and validates the form; throws SettingsError naming the bad field. */
export function readSettingsFromForm(form: HTMLFormElement): TrainSettings {
  const out = {} as Record<SettingKey, TrainSettings[SettingKey]>;
  for (const key of SETTING_KEYS) out[key] = parseValue(key, field(form, key).value);
  return validateSettings(out as unknown as TrainSettings);
}

export function optimizerConfig(s: TrainSettings): OptimizerConfig {
  return s.optimizer === 'sgd' ? { kind: 'sgd', learningRate: s.lr, momentum: s.momentum } : { kind: 'adam', learningRate: s.lr };
}

export function earlyStoppingOptions(s: TrainSettings): EarlyStoppingOptions | undefined {
  // Validation metrics get the best weights back, as the variant write-up does.
  return s.monitor === 'off' ? undefined : { monitor: s.monitor, patience: s.patience, minDelta: 0.0005, restoreBestWeights: s.monitor.startsWith('val') };
}

export function fitOptions(s: TrainSettings): FitOptions {
  return { epochs: s.epochs, validationSplit: s.valSplit, earlyStopping: earlyStoppingOptions(s), shuffleSeed: s.seed };
}
