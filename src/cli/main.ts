#!/usr/bin/env node
/**
 * The lenet-gpu command line. Subcommands live in their own files; this one
 * only dispatches and turns errors into a message and a non-zero exit.
 */
import { UsageError } from './options.ts';
import { runSmokeCommand } from './smoke-command.ts';
import { runTrainCommand } from './train-command.ts';

const USAGE = `usage: lenet-gpu <command> [options]

commands:
  train       train a model (default: classic LeNet-5) on MNIST on the GPU, then evaluate
  smoke       get a WebGPU device, print what it is, run a tiny compute check

Run lenet-gpu <command> --help for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'smoke':
      return runSmokeCommand(rest);
    case 'train':
      return runTrainCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
