#!/usr/bin/env node
/**
 * The lenet-gpu command line. Subcommands live in their own files; this one
 * only dispatches and turns errors into a message and an exit code: 2 for
 * usage errors (with usage), 1 for everything else.
 */
import { EVALUATE_USAGE, runEvaluateCommand } from './evaluate-command.ts';
import { EXPORT_USAGE, runExportCommand } from './export-command.ts';
import { IMPORT_USAGE, runImportCommand } from './import-command.ts';
import { UsageError } from './options.ts';
import { PREDICT_USAGE, runPredictCommand } from './predict-command.ts';
import { REPORT_USAGE, runReportCommand } from './report-command.ts';
import { runSmokeCommand } from './smoke-command.ts';
import { runSummaryCommand, SUMMARY_USAGE } from './summary-command.ts';
import { runSweepCommand, SWEEP_USAGE } from './sweep-command.ts';
import { runTrainCommand, TRAIN_USAGE } from './train-command.ts';

const USAGE = `usage: lenet-gpu <command> [options]

commands:
  train       train a model (default: classic LeNet-5) on MNIST on the GPU, then evaluate
  evaluate    test-set metrics of a saved checkpoint
  predict     class probabilities for test images or an image file
  summary     layers, output shapes and parameter counts of a preset or spec
  export      a checkpoint as a TF.js Layers model, ONNX or safetensors (with its run card)
  import      weights from a TF.js Layers model or safetensors into a checkpoint
  sweep       train a grid of variants and compare them (table, CSV, chart)
  report      parameters and FLOPs per layer of a preset, spec or checkpoint, beside its accuracy
  smoke       get a WebGPU device, print what it is, run a tiny compute check

Run lenet-gpu <command> --help for a command's options.
`;

const commands: Record<string, { run: (args: string[]) => number | Promise<number>; usage: string }> = {
  train: { run: runTrainCommand, usage: TRAIN_USAGE },
  evaluate: { run: runEvaluateCommand, usage: EVALUATE_USAGE },
  predict: { run: runPredictCommand, usage: PREDICT_USAGE },
  summary: { run: runSummaryCommand, usage: SUMMARY_USAGE },
  export: { run: runExportCommand, usage: EXPORT_USAGE },
  import: { run: runImportCommand, usage: IMPORT_USAGE },
  sweep: { run: runSweepCommand, usage: SWEEP_USAGE },
  report: { run: runReportCommand, usage: REPORT_USAGE },
  smoke: { run: runSmokeCommand, usage: 'usage: lenet-gpu smoke\n' },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
