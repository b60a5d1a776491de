/**
 * Sweeps: train a grid of model variants on the GPU one after another, on
 * the same data with the same seed, and compare them in one table (markdown
 * and CSV) and one chart of their validation accuracy curves (SVG).
 *
 * A variant is derived from a base spec (a preset or any spec) by replacing
 * its hidden activations (every conv2d/dense/activation layer's activation,
 * except the output softmax) and/or its pooling type (every avgPool2d or
 * maxPool2d), and is trained with one optimizer, learning rate and batch
 * size. The grid is the product of the axes given; an axis left out keeps the
 * base's value (or the preset's recipe), and only the axes given appear in
 * the variants' names.
 *
 * Each row: test accuracy and macro AUC (evaluate on the test set), the
 * parameter count and forward FLOPs per sample (efficiency.ts), the epochs
 * trained (fewer than asked when early stopping fired), the training time and
 * training throughput (samples/s over the epochs' step time), and the run
 * card. Browser-safe: the caller brings the GPU and the data.
 */
import type { ImageDataset } from '../data/dataset.ts';
import type { EarlyStoppingOptions } from '../engine/early-stopping.ts';
import { evaluate } from '../engine/evaluate.ts';
import { fit, type EpochLog, type History } from '../engine/fit.ts';
import { Model } from '../engine/model.ts';
import type { OptimizerConfig } from '../engine/optimizer-state.ts';
import { defaultRecipe, recipes } from '../engine/recipes.ts';
import type { Gpu } from '../gpu/device.ts';
import { inferShapes } from '../model/infer.ts';
import { presets, type Activation, type LayerSpec, type ModelSpec } from '../model/spec.ts';
import { efficiencyReport } from './efficiency.ts';
import { buildRunCard, type RunCard } from '../engine/run-card.ts';

export type PoolKind = 'avg' | 'max';
export type HiddenActivation = Exclude<Activation, 'softmax'>;

/** The base spec with its hidden activations and/or pooling type replaced. */
export function deriveSpec(base: ModelSpec, change: { activation?: HiddenActivation; pool?: PoolKind; name?: string }): ModelSpec {
  const last = base.layers.length - 1;
  const layers = base.layers.map((layer, i): LayerSpec => {
    const keepOutput = i === last && 'activation' in layer && layer.activation === 'softmax';
    if (change.activation && !keepOutput && (layer.type === 'conv2d' || layer.type === 'dense' || layer.type === 'activation')) {
      return { ...layer, activation: change.activation };
    }
    if (change.pool && (layer.type === 'avgPool2d' || layer.type === 'maxPool2d')) {
      return { ...layer, type: change.pool === 'avg' ? 'avgPool2d' : 'maxPool2d' };
    }
    return { ...layer };
  });
  return { ...base, name: change.name ?? base.name, layers };
}

export interface SweepVariant {
  name: string;
  /** The base it was derived from (a preset name or the base spec's name). */
  base: string;
  spec: ModelSpec;
  optimizer: OptimizerConfig;
  batchSize: number;
  /** What the variant changed (undefined: the base's own). */
  activation?: HiddenActivation;
  pool?: PoolKind;
}

export interface SweepGrid {
  /** Presets to derive from (default: ['lenet5'] unless `base` is given). */
  presets?: string[];
  /** A base spec instead of (or besides) presets. */
  base?: ModelSpec;
  activations?: HiddenActivation[];
  pools?: PoolKind[];
  optimizers?: ('adam' | 'sgd')[];
  learningRates?: number[];
  batchSizes?: number[];
  /** SGD momentum for the sgd variants (default 0.9). */
  momentum?: number;
}

/** The variants of a grid, in a stable order (base, activation, pool, optimizer, learning rate, batch). */
export function sweepVariants(grid: SweepGrid): SweepVariant[] {
  const bases: { name: string; spec: ModelSpec }[] = [];
  for (const p of grid.presets ?? (grid.base ? [] : ['lenet5'])) {
    const spec = presets[p];
    if (!spec) throw new RangeError(`unknown preset "${p}"; presets: ${Object.keys(presets).join(', ')}`);
    bases.push({ name: p, spec });
  }
  if (grid.base) bases.push({ name: grid.base.name ?? 'spec', spec: grid.base });
  const axis = <T>(values: T[] | undefined): (T | undefined)[] => (values && values.length > 0 ? values : [undefined]);
  const variants: SweepVariant[] = [];
  for (const base of bases) {
    const recipe = recipes[base.name] ?? defaultRecipe;
    for (const activation of axis(grid.activations))
      for (const pool of axis(grid.pools))
        for (const kind of axis(grid.optimizers))
          for (const lr of axis(grid.learningRates))
            for (const batch of axis(grid.batchSizes)) {
              const optimizerKind = kind ?? recipe.optimizer.kind;
              const learningRate = lr ?? (optimizerKind === recipe.optimizer.kind ? recipe.optimizer.learningRate : undefined);
              const optimizer: OptimizerConfig =
                optimizerKind === 'sgd' ? { kind: 'sgd', learningRate, momentum: grid.momentum ?? 0.9 } : { kind: 'adam', learningRate };
              const parts = [
                bases.length > 1 || (!activation && !pool && !kind && !lr && !batch) ? base.name : '',
                activation ?? '',
                pool ? `${pool}-pool` : '',
                kind || lr ? `${optimizerKind}${lr !== undefined ? ` lr ${lr}` : ''}` : '',
                batch ? `batch ${batch}` : '',
              ].filter(Boolean);
              const name = parts.join(' ');
              variants.push({ name, base: base.name, spec: deriveSpec(base.spec, { activation, pool, name: `${base.spec.name ?? base.name}:${name}` }), optimizer, batchSize: batch ?? recipe.batchSize, activation, pool });
            }
  }
  const names = new Set(variants.map((v) => v.name));
  if (names.size !== variants.length) throw new RangeError('the grid repeats a variant (a value appears twice on one axis)');
  return variants;
}

export interface SweepOptions {
  epochs: number;
  /** Default 0.2. */
  validationSplit?: number;
  /** Default none. */
  earlyStopping?: EarlyStoppingOptions;
  maxStepsPerEpoch?: number;
  /** Seeds every variant's weights and shuffles (the same for all). Default 1. */
  seed?: number;
  stepsPerSubmit?: number;
  onVariantStart?: (variant: SweepVariant, index: number, total: number) => void;
  onEpochEnd?: (variant: SweepVariant, log: EpochLog) => void;
  onVariantEnd?: (row: SweepRow) => void;
}

export interface SweepRow {
  variant: string;
  base: string;
  activation: string;
  pool: string;
  optimizer: string;
  learningRate: number;
  batchSize: number;
  parameters: number;
  flopsPerSample: number;
  testAccuracy: number;
  testLoss: number;
  macroAuc: number;
  /** Epochs trained (fewer than asked if early stopping fired). */
  epochs: number;
  stopReason: History['stopReason'];
  bestValAccuracy?: number;
  /** Wall time of fit (training and validation). */
  trainSeconds: number;
  /** Training samples per second over the epochs' step time. */
  samplesPerSecond: number;
  history: EpochLog[];
  runCard: RunCard;
}

export interface SweepResult {
  rows: SweepRow[];
  settings: SweepSettings;
}

export interface SweepSettings {
  trainImages: number;
  testImages: number;
  epochs: number;
  validationSplit: number;
  earlyStopping?: EarlyStoppingOptions;
  maxStepsPerEpoch?: number;
  seed: number;
  adapter: string;
}

/** Hidden activations of a spec in words: 'tanh', or 'sigmoid+tanh' when mixed. */
function activationsOf(spec: ModelSpec): string {
  const plan = inferShapes(spec, 1);
  const seen = [...new Set(plan.layers.filter((l, i) => (l.type === 'conv2d' || l.type === 'dense' || l.type === 'activation') && !(i === plan.layers.length - 1 && l.activation === 'softmax')).map((l) => l.activation))];
  return seen.join('+') || 'linear';
}

function poolsOf(spec: ModelSpec): string {
  const seen = [...new Set(spec.layers.filter((l) => l.type === 'avgPool2d' || l.type === 'maxPool2d').map((l) => (l.type === 'avgPool2d' ? 'avg' : 'max')))];
  return seen.join('+') || 'none';
}

/** Trains every variant in turn and evaluates it on `test`. */
export async function sweep(gpu: Gpu, train: ImageDataset, test: ImageDataset, variants: SweepVariant[], options: SweepOptions): Promise<SweepResult> {
  const seed = options.seed ?? 1;
  const validationSplit = options.validationSplit ?? 0.2;
  const rows: SweepRow[] = [];
  for (const [i, variant] of variants.entries()) {
    options.onVariantStart?.(variant, i, variants.length);
    const model = await Model.create(gpu, variant.spec, { seed, batchSize: variant.batchSize, optimizer: variant.optimizer });
    try {
      const started = performance.now();
      const history = await fit(model, train, {
        epochs: options.epochs,
        validationSplit,
        earlyStopping: options.earlyStopping,
        maxStepsPerEpoch: options.maxStepsPerEpoch,
        stepsPerSubmit: options.stepsPerSubmit,
        shuffleSeed: seed,
        onEpochEnd: (log) => options.onEpochEnd?.(variant, log),
      });
      const trainSeconds = (performance.now() - started) / 1000;
      const evaluation = await evaluate(model, test);
      const stepSeconds = history.epochs.reduce((s, e) => s + e.seconds, 0);
      const samples = history.epochs.reduce((s, e) => s + e.steps * variant.batchSize, 0);
      const valAccuracies = history.epochs.map((e) => e.valAccuracy).filter((v): v is number => v !== undefined);
      const efficiency = efficiencyReport(variant.spec);
      const runCard = buildRunCard({
        spec: variant.spec,
        seed,
        batchSize: variant.batchSize,
        optimizer: model.optimizer.config,
        epochs: options.epochs,
        validationSplit,
        earlyStopping: options.earlyStopping,
        maxStepsPerEpoch: options.maxStepsPerEpoch,
        trainImages: train.count,
        testImages: test.count,
        adapter: gpu.report,
        history,
        evaluation,
        trainSeconds,
        notes: [`sweep variant ${i + 1} of ${variants.length}: ${variant.name}`],
      });
      const row: SweepRow = {
        variant: variant.name,
        base: variant.base,
        activation: variant.activation ?? activationsOf(variant.spec),
        pool: variant.pool ?? poolsOf(variant.spec),
        optimizer: model.optimizer.config.kind,
        learningRate: model.optimizer.config.learningRate,
        batchSize: variant.batchSize,
        parameters: efficiency.parameters,
        flopsPerSample: efficiency.forwardFlops,
        testAccuracy: evaluation.accuracy,
        testLoss: evaluation.loss,
        macroAuc: evaluation.report.macroAuc,
        epochs: history.epochs.length,
        stopReason: history.stopReason,
        bestValAccuracy: valAccuracies.length > 0 ? Math.max(...valAccuracies) : undefined,
        trainSeconds,
        samplesPerSecond: samples / Math.max(stepSeconds, 1e-9),
        history: history.epochs,
        runCard,
      };
      rows.push(row);
      options.onVariantEnd?.(row);
    } finally {
      model.dispose();
    }
  }
  return {
    rows,
    settings: {
      trainImages: train.count,
      testImages: test.count,
      epochs: options.epochs,
      validationSplit,
      earlyStopping: options.earlyStopping,
      maxStepsPerEpoch: options.maxStepsPerEpoch,
      seed,
      adapter: gpu.report.description || `${gpu.report.vendor} ${gpu.report.architecture}`.trim(),
    },
  };
}

// ---------------------------------------------------------------- reports

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The settings in one sentence, for under the table. */
export function describeSettings(s: SweepSettings): string {
  const es = s.earlyStopping
    ? `early stopping on ${s.earlyStopping.monitor ?? 'valLoss'} (patience ${s.earlyStopping.patience ?? 0}${s.earlyStopping.restoreBestWeights ? ', best weights restored' : ''})`
    : 'no early stopping';
  const val = Math.round(s.trainImages * s.validationSplit);
  return (
    `${int(s.trainImages)} MNIST training images (${int(s.trainImages - val)} train / ${int(val)} validation, the last ${Math.round(100 * s.validationSplit)}%), ` +
    `up to ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}${s.maxStepsPerEpoch ? ` of at most ${s.maxStepsPerEpoch} steps` : ''}, ${es}, seed ${s.seed}; ` +
    `test on the first ${int(s.testImages)} MNIST test images; adapter: ${s.adapter}.`
  );
}

export function sweepMarkdown(result: SweepResult): string {
  const header = '| variant | activation | pool | optimizer | lr | batch | test acc | macro AUC | params | FLOPs/sample | epochs | time (s) | samples/s |';
  const rule = '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = result.rows.map(
    (r) =>
      `| ${r.variant} | ${r.activation} | ${r.pool} | ${r.optimizer} | ${r.learningRate} | ${r.batchSize} | ${(100 * r.testAccuracy).toFixed(2)}% | ${r.macroAuc.toFixed(4)} | ` +
      `${int(r.parameters)} | ${int(r.flopsPerSample)} | ${r.epochs}${r.stopReason === 'early-stopping' ? ' (early stop)' : ''} | ${r.trainSeconds.toFixed(1)} | ${int(r.samplesPerSecond)} |`,
  );
  return `${[header, rule, ...rows].join('\n')}\n\n${describeSettings(result.settings)}\n`;
}

const csvField = (v: string | number | undefined): string => {
  const s = v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function sweepCsv(result: SweepResult): string {
  const header = 'variant,base,activation,pool,optimizer,learning_rate,batch_size,test_accuracy,test_loss,macro_auc,parameters,flops_per_sample,epochs,stop_reason,best_val_accuracy,train_seconds,samples_per_second';
  const rows = result.rows.map((r) =>
    [r.variant, r.base, r.activation, r.pool, r.optimizer, r.learningRate, r.batchSize, r.testAccuracy, r.testLoss, r.macroAuc, r.parameters, r.flopsPerSample, r.epochs, r.stopReason, r.bestValAccuracy, r.trainSeconds.toFixed(3), r.samplesPerSecond.toFixed(1)]
      .map(csvField)
      .join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Validation accuracy per epoch of every variant, one line each, with a
 * legend; training accuracy (dashed) for variants trained without validation.
 */
export function sweepCurvesSvg(result: SweepResult, title = 'sweep: validation accuracy'): string {
  const W = 640;
  const legendRows = result.rows.length;
  const H = 300 + 16 * legendRows;
  const pad = { left: 56, right: 16, top: 32, bottom: 40 + 16 * legendRows };
  const series = result.rows.map((r, k) => {
    const val = r.history.map((e) => e.valAccuracy);
    const useVal = val.some((v) => v !== undefined);
    return { name: `${r.variant}${useVal ? '' : ' (train accuracy)'}`, values: useVal ? val : r.history.map((e) => e.accuracy), color: COLORS[k % COLORS.length], dashed: !useVal };
  });
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-6) [lo, hi] = [Math.max(0, lo - 0.05), Math.min(1, hi + 0.05)];
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const w = W - pad.left - pad.right;
  const h = H - pad.top - pad.bottom;
  const px = (i: number): number => pad.left + (n === 1 ? w / 2 : (i / (n - 1)) * w);
  const py = (v: number): number => pad.top + (1 - (v - lo) / (hi - lo)) * h;
  const parts = [
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${pad.left}" y="${pad.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    parts.push(`<text x="${pad.left - 4}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${(100 * v).toFixed(1)}%</text>`);
  }
  for (let i = 0; i < n; i++) parts.push(`<text x="${px(i).toFixed(1)}" y="${pad.top + h + 14}" text-anchor="middle" font-size="10">${i + 1}</text>`);
  parts.push(`<text x="${pad.left + w / 2}" y="${pad.top + h + 28}" text-anchor="middle" font-size="10">epoch</text>`);
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => (v === undefined || !Number.isFinite(v) ? '' : `${px(i).toFixed(1)},${py(v).toFixed(1)}`)).filter(Boolean);
    if (points.length > 1) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${points.join(' ')}"/>`);
    }
    for (const p of points) {
      const [x, y] = p.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${s.color}"/>`);
    }
    const ly = pad.top + h + 46 + 16 * k;
    parts.push(`<line x1="${pad.left}" y1="${ly - 4}" x2="${pad.left + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`);
    parts.push(`<text x="${pad.left + 30}" y="${ly}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
