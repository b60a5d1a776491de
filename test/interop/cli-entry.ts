#!/usr/bin/env node
/**
 * A stand-in for src/cli/main.ts with the interop and research commands
 * registered the way main.ts should register them (see the lead's report),
 * so their CLI test runs a real bundle before main.ts carries them. Same
 * error handling as main.ts: usage errors exit 2, others 1.
 */
import { EXPORT_USAGE, runExportCommand } from '../../src/cli/export-command.ts';
import { IMPORT_USAGE, runImportCommand } from '../../src/cli/import-command.ts';
import { UsageError } from '../../src/cli/options.ts';
import { REPORT_USAGE, runReportCommand } from '../../src/cli/report-command.ts';
import { runSweepCommand, SWEEP_USAGE } from '../../src/cli/sweep-command.ts';

const commands: Record<string, { run: (args: string[]) => number | Promise<number>; usage: string }> = {
  export: { run: runExportCommand, usage: EXPORT_USAGE },
  import: { run: runImportCommand, usage: IMPORT_USAGE },
  sweep: { run: runSweepCommand, usage: SWEEP_USAGE },
  report: { run: runReportCommand, usage: REPORT_USAGE },
};

async function main([name, ...rest]: string[]): Promise<number> {
  const command = commands[name ?? ''];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n`);
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
