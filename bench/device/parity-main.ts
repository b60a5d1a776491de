/**
 * The device kit's parity check: the kernel parity files (test/kernels) and
 * the whole-step parity files (test/engine/*parity*.test.ts, so new ones are
 * picked up) bundled into one Node script, run by the vitest shim
 * (vitest-shim.ts) on whatever adapter requestGpu finds. Prints one line per
 * test and vitest's closing "N passed, N failed, N skipped"; with --json,
 * rewrites a JSON summary after every file, so a run cut short by its time
 * box still leaves what it finished.
 *
 *   node parity.js [--files /test/kernels/,gradient] [--grep REGEX] [--limit N]
 *                  [--json FILE] [--test-timeout MS] [--hook-timeout MS] [--list]
 *
 * --files: substrings of the paths whose tests run (every file is still loaded
 * and collected); --limit: at most N tests in all (the dry run's sample).
 * Exit 0 only when every selected test passed, no hook or file failed, and at
 * least one test ran (--allow-empty: or none).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AdapterReport } from '../../src/gpu/device.ts';
import { testGpu } from '../../test/helpers/gpu.ts';
import { runFile, type FileOutcome } from './vitest-shim.ts';

const FILES: Record<string, () => Promise<unknown>> = import.meta.glob(['/test/kernels/*.test.ts', '/test/engine/*parity*.test.ts', '!/test/kernels/wgsl-*.test.ts']);
// (test/kernels/wgsl-*.test.ts check the shaders' source text: generated sections, conventions. Nothing a GPU changes.)

/** What parity.js writes (report-main.ts reads it). */
export interface ParitySummary {
  ok: boolean;
  passed: number;
  failed: number;
  skipped: number;
  /** Tests left out by --files/--grep (not counted as skipped). */
  filtered: number;
  errors: string[];
  seconds: number;
  adapter?: AdapterReport;
  files: { file: string; passed: number; failed: number; skipped: number; filtered: number; seconds: number; errors: string[]; tests: { name: string; state: string; ms: number; error?: string }[] }[];
  selection: { files?: string; grep?: string; limit?: number };
}

// Tests that run the CLI (test/helpers/cli.ts) find it where vitest's global setup would put it: here,
// the kit's cli.js beside this bundle.
const kitCli = join(dirname(fileURLToPath(import.meta.url)), 'cli.js');
if (!process.env.LENET_GPU_TEST_CLI && existsSync(kitCli)) process.env.LENET_GPU_TEST_CLI = kitCli;

async function main(): Promise<number> {
  const { values: f } = parseArgs({
    options: {
      files: { type: 'string' },
      grep: { type: 'string' },
      json: { type: 'string' },
      'test-timeout': { type: 'string' },
      'hook-timeout': { type: 'string' },
      list: { type: 'boolean' },
      limit: { type: 'string' },
      'allow-empty': { type: 'boolean' },
    },
    strict: true,
  });
  const wanted = f.files?.split(',').filter(Boolean);
  const all = Object.keys(FILES).sort();
  const chosen = new Set(all.filter((p) => !wanted || wanted.some((w) => p.includes(w))));
  if (f.list) {
    for (const p of all) console.log(`${chosen.has(p) ? '*' : ' '} ${p}`);
    return 0;
  }
  const grep = f.grep ? new RegExp(f.grep) : undefined;
  // Files outside --files are still loaded and collected (cheap: no test body runs), so every file's
  // bundling and registration is checked; their tests count as not selected.
  const started = performance.now();
  const summary: ParitySummary = { ok: false, passed: 0, failed: 0, skipped: 0, filtered: 0, errors: [], seconds: 0, files: [], selection: { files: f.files, grep: f.grep, limit: f.limit === undefined ? undefined : Number(f.limit) } };
  const limit = f.limit === undefined ? undefined : { left: Number(f.limit) };
  const write = (): void => {
    summary.seconds = (performance.now() - started) / 1000;
    if (f.json) writeFileSync(f.json, `${JSON.stringify(summary, null, 1)}\n`);
  };
  // vitest fails a run on an error no test caught; so does this.
  const stray = (kind: string) => (error: unknown) => {
    summary.errors.push(`${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    console.error(`✗ ${kind}: ${String(error)}`);
  };
  process.on('unhandledRejection', stray('unhandled rejection'));
  process.on('uncaughtException', stray('uncaught exception'));
  console.log(`parity: tests of ${chosen.size} of ${all.length} files${grep ? ` matching /${f.grep}/` : ''}`);
  write();

  // The kernel files first (quick on a GPU), the whole-step files after: a time box that cuts the run
  // short still leaves every kernel's verdict. The JSON is rewritten after every test.
  const order = [...all.filter((p) => p.startsWith('/test/kernels/')), ...all.filter((p) => !p.startsWith('/test/kernels/'))];
  for (const path of order) {
    const fileStart = performance.now();
    const file: ParitySummary['files'][number] = { file: path, passed: 0, failed: 0, skipped: 0, filtered: 0, seconds: 0, errors: [], tests: [] };
    summary.files.push(file);
    const outcome: FileOutcome = await runFile(path, FILES[path], {
      testTimeoutMs: Number(f['test-timeout'] ?? 120_000),
      hookTimeoutMs: Number(f['hook-timeout'] ?? 120_000),
      filter: (name) => chosen.has(path) && (!grep || grep.test(name)),
      limit,
      onResult: (r) => {
        const mark = r.state === 'pass' ? '✓' : r.state === 'fail' ? '✗' : '↓';
        console.log(`${mark} ${r.file} > ${r.name} (${r.ms.toFixed(0)} ms)`);
        if (r.error) console.log(r.error.replace(/^/gm, '    '));
        const key = r.state === 'pass' ? 'passed' : r.state === 'fail' ? 'failed' : 'skipped';
        file[key]++;
        summary[key]++;
        file.tests.push({ name: r.name, state: r.state, ms: r.ms, error: r.error });
        file.seconds = (performance.now() - fileStart) / 1000;
        write();
      },
    });
    for (const e of outcome.errors) console.log(`✗ ${e}`);
    file.filtered = outcome.filtered;
    file.errors = outcome.errors;
    file.seconds = (performance.now() - fileStart) / 1000;
    summary.filtered += file.filtered;
    summary.errors.push(...outcome.errors);
    write();
  }
  summary.adapter = await testGpu().then(
    (gpu) => gpu.report,
    () => undefined,
  );
  summary.ok = summary.failed === 0 && summary.errors.length === 0 && (summary.passed > 0 || f['allow-empty'] === true);
  write();
  // vitest's own closing line, so a log reader sees the same counts.
  console.log(`\n${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  if (summary.passed === 0 && !f['allow-empty']) console.log('no test ran: that proves nothing, so the check fails');
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
