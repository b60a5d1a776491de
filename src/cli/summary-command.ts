/** `lenet-gpu summary`: the Keras-style summary of a preset or spec file; no GPU needed. */
import { inferShapes } from '../graph/infer.ts';
import { formatSummary } from '../graph/summary.ts';
import { loadSpec, numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';

export const SUMMARY_USAGE = `usage: lenet-gpu summary [--preset NAME | --spec FILE] [--batch-size N]
`;

export function runSummaryCommand(args: string[]): number {
  const { values: f, positionals } = parseFlags(args, { preset: { type: 'string' }, spec: { type: 'string' }, 'batch-size': { type: 'string' } } as const, SUMMARY_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${SUMMARY_USAGE}`);
  const batch = numberFlag('batch-size', f['batch-size'], positiveInt, 'a positive integer') ?? 1;
  process.stdout.write(`${formatSummary(inferShapes(loadSpec(f.preset, f.spec), batch))}\n`);
  return 0;
}
