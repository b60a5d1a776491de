/**
 * `lenet-gpu report`: the parameter-efficiency report of a preset, a spec or
 * a checkpoint: parameters and forward FLOPs per layer and in total, beside
 * the test accuracy when one is known (the checkpoint's run card, an
 * evaluation.json, or --evaluate on the GPU).
 */
import { readFileSync } from 'node:fs';
import { subset } from '../data/dataset.ts';
import { loadMnistNode } from '../data/mnist-node.ts';
import { decodeCheckpoint } from '../engine/checkpoint.ts';
import { evaluate } from '../engine/evaluate.ts';
import { requestGpu } from '../gpu/device-node.ts';
import type { ModelSpec } from '../model/spec.ts';
import { efficiencyCsv, efficiencyReport, formatEfficiency, type EfficiencyResult } from '../research/efficiency.ts';
import { runCardFromCheckpoint } from '../engine/run-card.ts';
import { modelFromCheckpoint } from './load-model.ts';
import { loadSpec, numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';

export const REPORT_USAGE = `usage: lenet-gpu report [--preset NAME | --spec FILE | --checkpoint FILE] [options]

Parameters and forward FLOPs (conv2d and dense multiply-adds x2) per layer and in total,
beside the test accuracy when one is known. No GPU needed unless --evaluate.

  --checkpoint FILE    the spec and (from its run card) the test accuracy of a trained model
  --evaluation FILE    an evaluation.json written by train (its test accuracy and AUC)
  --evaluate           evaluate the checkpoint on the MNIST test set now (GPU)
  --test-limit N       with --evaluate: the first N test images
  --csv                CSV instead of markdown
`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Test metrics of an evaluation.json: train writes { test: { accuracy, macroAuc }, report: { count } }; evaluate --json writes { accuracy, macroAuc, count }. */
function resultFromEvaluationFile(path: string): EfficiencyResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`could not read the evaluation ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const o = isObject(json) ? json : {};
  const t = isObject(o.test) ? o.test : o;
  if (typeof t.accuracy !== 'number') throw new UsageError(`${path} holds no test accuracy (expected test.accuracy or accuracy)`);
  const count = isObject(o.report) && typeof o.report.count === 'number' ? o.report.count : typeof o.count === 'number' ? o.count : undefined;
  return { accuracy: t.accuracy, macroAuc: typeof t.macroAuc === 'number' ? t.macroAuc : undefined, count, source: path };
}

export async function runReportCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(
    args,
    {
      preset: { type: 'string' },
      spec: { type: 'string' },
      checkpoint: { type: 'string' },
      evaluation: { type: 'string' },
      evaluate: { type: 'boolean' },
      'test-limit': { type: 'string' },
      csv: { type: 'boolean' },
    } as const,
    REPORT_USAGE,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${REPORT_USAGE}`);
  if (f.checkpoint && (f.preset || f.spec)) throw new UsageError('give one of --preset, --spec or --checkpoint');
  if (f.evaluate && !f.checkpoint) throw new UsageError('--evaluate needs --checkpoint');
  const testLimit = numberFlag('test-limit', f['test-limit'], positiveInt, 'a positive integer');

  let spec: ModelSpec;
  let result: EfficiencyResult | undefined;
  if (f.checkpoint) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(f.checkpoint));
    } catch (error) {
      throw new Error(`could not read the checkpoint ${f.checkpoint}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { header } = decodeCheckpoint(bytes, f.checkpoint);
    spec = header.spec;
    const test = runCardFromCheckpoint(header).metrics.test;
    if (test) result = { accuracy: test.accuracy, macroAuc: test.macroAuc, count: test.count || undefined, source: `run card of ${f.checkpoint}` };
  } else {
    spec = loadSpec(f.preset, f.spec);
  }
  if (f.evaluation) result = resultFromEvaluationFile(f.evaluation);
  if (f.evaluate && f.checkpoint) {
    const { test: full } = await loadMnistNode();
    const test = testLimit ? subset(full, { start: 0, end: Math.min(testLimit, full.count) }) : full;
    const gpu = await requestGpu();
    const model = await modelFromCheckpoint(gpu, f.checkpoint, 256);
    try {
      const e = await evaluate(model, test);
      result = { accuracy: e.accuracy, macroAuc: e.report.macroAuc, count: test.count, source: `evaluated now from ${f.checkpoint}` };
    } finally {
      model.dispose();
      gpu.destroy();
    }
  }
  const report = efficiencyReport(spec, result);
  process.stdout.write(f.csv ? efficiencyCsv(report) : formatEfficiency(report));
  return 0;
}
