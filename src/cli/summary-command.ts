/** `lenet-gpu summary`: the Keras-style summary of a preset or spec file; no GPU needed. */
import { inferShapes } from '../model/infer.ts';
import { formatSummary } from '../model/summary.ts';
import { formatKernelPlan, planKernels } from '../kernels/plan.ts';
import { KERNEL_VARIANTS, type KernelVariant } from '../kernels/variant.ts';
import { loadSpec, numberFlag, parseFlags, positiveInt, UsageError } from './options.ts';

export const SUMMARY_USAGE = `usage: lenet-gpu summary [--preset NAME | --spec FILE] [--batch-size N] [--kernels] [--variant blocked|tiled|compact]

  --kernels   also print the kernel plan: the entry point each layer runs in each pass and what it
              fuses, for --variant (default: both; a GPU adapter runs tiled, a CPU adapter blocked)
`;

export function runSummaryCommand(args: string[]): number {
  const { values: f, positionals } = parseFlags(
    args,
    { preset: { type: 'string' }, spec: { type: 'string' }, 'batch-size': { type: 'string' }, kernels: { type: 'boolean' }, variant: { type: 'string' } } as const,
    SUMMARY_USAGE,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${SUMMARY_USAGE}`);
  if (f.variant !== undefined && !(KERNEL_VARIANTS as readonly string[]).includes(f.variant)) throw new UsageError(`--variant must be one of ${KERNEL_VARIANTS.join(', ')}, got "${f.variant}"`);
  if (f.variant !== undefined && !f.kernels) throw new UsageError('--variant applies to the kernel plan: add --kernels');
  const batch = numberFlag('batch-size', f['batch-size'], positiveInt, 'a positive integer') ?? 1;
  const plan = inferShapes(loadSpec(f.preset, f.spec), batch);
  const parts = [formatSummary(plan)];
  if (f.kernels) {
    const variants: KernelVariant[] = f.variant ? [f.variant as KernelVariant] : ['blocked', 'tiled'];
    for (const variant of variants) parts.push(formatKernelPlan(planKernels(plan, variant)));
  }
  process.stdout.write(`${parts.join('\n\n')}\n`);
  return 0;
}
