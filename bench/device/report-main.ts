/**
 * The device run's one results file: reads what each step of run.sh left in
 * its work folder (step exit codes and times, the adapter report, the smoke
 * log, parity.json, bench.json, the CLI run's history.json/evaluation.json,
 * torch.json, the kit's manifest) and writes `<date>-<gpu>.json` and the
 * same stem `.md` into --out. A step that failed or never ran is recorded as
 * such; the report itself never fails on a missing piece.
 *
 *   node report.js --work DIR --out DIR --kit DIR --mode device|dry-run --command "..."
 *
 * Prints the JSON's path on its last line.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { EpochLog } from '../../src/engine/fit.ts';
import type { AdapterReport } from '../../src/gpu/device.ts';
import type { ParitySummary } from './parity-main.ts';
import type { KernelTime } from '../../src/bench/kernel-profile.ts';
import type { StepBenchResult } from '../../src/bench/train-step.ts';
import type { DeviceBenchFile } from './bench-main.ts';

interface StepRecord {
  name: string;
  exitCode: number | null;
  seconds: number;
  limitSeconds: number;
  /** timeout(1) ended it (exit 124 or 137). */
  timedOut: boolean;
  /** Not run: the budget had no time left for it. */
  skipped: boolean;
  log: string;
}

type ParityFile = ParitySummary;

interface TorchFile {
  skipped?: string;
  error?: string;
  device?: string;
  torch?: string;
  cuda?: string;
  settings?: Record<string, unknown>;
  rows?: { batch: number; mode: string; samplesPerSecond: number; msPerStep: number; stepsPerRepeat: number; repeats: number; values?: number[]; error?: string }[];
}


function readJson<T>(path: string): T | undefined {
  try {
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
  } catch {
    return undefined;
  }
}

function readText(path: string, maxChars = 4000): string | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  return text.length > maxChars ? `...${text.slice(-maxChars)}` : text;
}

function readSteps(path: string): StepRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, code, seconds, limit, log] = line.split('\t');
      const skipped = code === 'skip';
      const exitCode = skipped || code === '' || code === undefined ? null : Number(code);
      return { name, exitCode, skipped, seconds: Number(seconds), limitSeconds: Number(limit), timedOut: exitCode === 124 || exitCode === 137, log };
    });
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'unknown';

function uniquePath(dir: string, stem: string): string {
  let s = stem;
  for (let i = 2; existsSync(join(dir, `${s}.json`)) || existsSync(join(dir, `${s}.md`)); i++) s = `${stem}-${i}`;
  return join(dir, s);
}

/** One bench row, flattened: the figures the issue asks for, the raw result beside them. */
function benchRow(r: StepBenchResult) {
  const k = 'gpuMsPerStep' in r.kernels ? r.kernels : undefined;
  const wall = r.msPerStep.median;
  return {
    batch: r.batch,
    variant: r.variant,
    samplesPerSecond: r.samplesPerSecond.median,
    samplesPerSecondSpread: r.samplesPerSecond.relSpread,
    msPerStep: wall,
    epochSeconds60k: 60000 / r.samplesPerSecond.median,
    dispatchesPerStep: r.dispatchesPerStep,
    submitsPerStep: r.submitsPerStep ?? 1 / r.stepsPerSubmit,
    gpuMsPerStep: k?.gpuMsPerStep,
    spanMsPerStep: k?.spanMsPerStep,
    gapMsPerStep: k?.gapMsPerStep,
    /** Wall time per step not covered by kernel time: gaps, submit and wait overhead (can be < 0 where per-pass profiling inflates kernels). */
    wallMinusGpuMsPerStep: k ? wall - k.gpuMsPerStep : undefined,
    gpuBusyShare: k ? k.gpuMsPerStep / wall : undefined,
    topKernels: k ? k.perKernel.slice(0, 8) : undefined,
    kernelsUnavailable: k ? undefined : (r.kernels as { unavailable: string }).unavailable,
    meanLoss: r.meanLoss,
    meanAccuracy: r.meanAccuracy,
    raw: r,
  };
}

const fmt = (n: number | undefined, digits = 1): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function main(): void {
  const { values: f } = parseArgs({
    options: { work: { type: 'string' }, out: { type: 'string' }, kit: { type: 'string' }, mode: { type: 'string' }, command: { type: 'string' }, started: { type: 'string' } },
    strict: true,
  });
  const work = f.work!;
  const mode = f.mode === 'dry-run' ? 'dry-run' : 'device';
  const steps = readSteps(join(work, 'steps.tsv'));
  const step = (name: string) => steps.find((s) => s.name === name);
  const errors: string[] = [];

  const adapterFile = readJson<DeviceBenchFile>(join(work, 'adapter.json'));
  const benchFile = readJson<DeviceBenchFile>(join(work, 'bench.json'));
  // Two parity steps (kernels, whole steps), one section.
  const parityParts = ['parity-kernels', 'parity-steps'].map((name) => ({ name, file: readJson<ParityFile>(join(work, `${name}.json`)), step: step(name) })).filter((p) => p.step || p.file);
  const parityFiles = parityParts.flatMap((p) => (p.file ? [p.file] : []));
  const paritySum = (key: 'passed' | 'failed' | 'skipped' | 'filtered'): number => parityFiles.reduce((n, p) => n + p[key], 0);
  const torch = readJson<TorchFile>(join(work, 'torch.json'));
  const history = readJson<{ epochs: EpochLog[]; stopReason: string; notes?: string[] }>(join(work, 'train', 'history.json'));
  const evaluation = readJson<{ test?: { loss: number; accuracy: number; macroAuc: number }; trainSeconds?: number; epochs?: number; batchSize?: number; adapter?: AdapterReport }>(join(work, 'train', 'evaluation.json'));
  const manifest = readJson<Record<string, unknown>>(join(f.kit ?? work, 'manifest.json'));
  // run.sh's settings: whether the kit's node is this machine's, whose Vulkan loader, the adapter setting.
  const runInfo = Object.fromEntries((readText(join(work, 'run-info.tsv')) ?? '').split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
  const adapter = adapterFile?.adapter ?? benchFile?.adapter ?? parityFiles.find((p) => p.adapter)?.adapter;
  if (mode === 'device' && adapter && (adapter.isFallback || /swiftshader|llvmpipe|lavapipe/i.test(`${adapter.vendor} ${adapter.architecture}`))) {
    errors.push(`a hardware adapter was asked for (LENET_GPU_ADAPTER=hardware) and the run got a CPU one (${adapter.vendor} ${adapter.architecture}): its figures are not GPU figures`);
  }

  const smokeLog = readText(join(work, 'smoke.log'));
  const smoke = { ok: step('smoke')?.exitCode === 0 && /smoke check passed/.test(smokeLog ?? ''), step: step('smoke'), output: smokeLog };

  const benchRows = (benchFile?.rows ?? []).map(benchRow);
  const bench = {
    ok: step('bench')?.exitCode === 0 && benchRows.length > 0,
    step: step('bench'),
    plan: benchFile?.plan,
    method:
      'samples/s and ms/step: medians over timed repeats of the recorded train step (src/bench/train-step.ts: clock from before encoding to onSubmittedWorkDone after the last submit, 8 steps per command buffer and compute pass, at most 2 command buffers in flight, after warm-up). ' +
      'Per-kernel GPU time: timestamp queries, each dispatch of one step in its own compute pass, all in one submit (kernel-profile.ts). ' +
      'GPU idle between dispatches: gapMsPerStep = (last dispatch end - first dispatch start) - sum of dispatch times in that profiled submit; wallMinusGpuMsPerStep = wall ms/step - summed kernel time, which adds submit/wait overhead. ' +
      'Submits per step = 1/steps per command buffer.',
    vulkanLoader: benchFile?.vulkanLoader ?? adapterFile?.vulkanLoader,
    env: benchFile?.env ?? adapterFile?.env,
    rows: benchRows,
    errors: benchFile?.errors ?? [],
  };

  const train = {
    ok: step('train')?.exitCode === 0 && evaluation?.test !== undefined,
    step: step('train'),
    stopReason: history?.stopReason,
    epochs: (history?.epochs ?? []).map((e) => ({ epoch: e.epoch, seconds: e.seconds, samplesPerSecond: e.samplesPerSecond, loss: e.loss, accuracy: e.accuracy, valLoss: e.valLoss, valAccuracy: e.valAccuracy, steps: e.steps })),
    testAccuracy: evaluation?.test?.accuracy,
    testLoss: evaluation?.test?.loss,
    macroAuc: evaluation?.test?.macroAuc,
    trainSeconds: evaluation?.trainSeconds,
    batchSize: evaluation?.batchSize,
    notes: history?.notes,
  };

  const pythonLog = readText(join(work, 'torch.log'), 2000);
  const torchSection = torch ?? { skipped: `no torch.json (${step('torch') ? `step exit ${step('torch')!.exitCode}` : 'step did not run'})${pythonLog ? `: ${pythonLog.trim().split('\n').at(-1)}` : ''}` };

  for (const s of steps) {
    if (s.skipped) errors.push(`step ${s.name} did not run: no time was left in the budget`);
    else if (s.exitCode !== 0) errors.push(`step ${s.name} ${s.timedOut ? `hit its ${s.limitSeconds}s time box` : `exited ${s.exitCode}`} (log: ${s.log})`);
  }

  const report = {
    schema: 'lenet-gpu-device-run/1',
    mode,
    date: new Date().toISOString(),
    started: f.started,
    command: f.command,
    kit: manifest,
    run: runInfo,
    host: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, kernel: release(), node: process.version, nodePath: process.execPath, nvidiaSmi: readText(join(work, 'nvidia-smi.txt'), 3000), devNodes: readText(join(work, 'dev-nodes.txt'), 2000) },
    adapter,
    steps,
    smoke,
    parity: {
      ok: parityParts.length > 0 && parityParts.every((p) => p.file?.ok === true && p.step?.exitCode === 0),
      passed: paritySum('passed'),
      failed: paritySum('failed'),
      skipped: paritySum('skipped'),
      /** Tests in the parity files (each step loads and collects them all, whichever it runs). */
      collected: Math.max(0, ...parityFiles.map((p) => p.passed + p.failed + p.skipped + p.filtered)),
      /** Collected but run by no step (the dry run's selection, or a step cut short). */
      notRun: Math.max(0, ...parityFiles.map((p) => p.passed + p.failed + p.skipped + p.filtered)) - paritySum('passed') - paritySum('failed') - paritySum('skipped'),
      /** Test files each parity step loaded and collected (all of them, whichever ran). */
      filesLoaded: Math.max(0, ...parityFiles.map((p) => p.files.length)),
      adapter: parityFiles.find((p) => p.adapter)?.adapter?.description,
      parts: parityParts.map((p) => ({ name: p.name, ok: p.file?.ok === true && p.step?.exitCode === 0, passed: p.file?.passed ?? 0, failed: p.file?.failed ?? 0, seconds: p.file?.seconds, selection: p.file?.selection, step: p.step })),
      files: parityFiles.flatMap((p) =>
        p.files
          .filter((x) => x.passed + x.failed + x.skipped > 0 || x.errors.length > 0)
          .map(({ tests, ...rest }) => ({ ...rest, failures: tests.filter((t) => t.state === 'fail').map((t) => ({ name: t.name, error: t.error?.slice(0, 2000) })) })),
      ),
      errors: parityFiles.flatMap((p) => p.errors),
    },
    bench,
    train,
    torch: torchSection,
    errors,
  };

  const outDir = f.out!;
  mkdirSync(outDir, { recursive: true });
  const day = new Date().toISOString().slice(0, 10);
  // nvidia-smi's name ("NVIDIA H100 80GB HBM3") where there is one, also when no adapter came up; else Dawn's.
  const smiName = readText(join(work, 'gpu-name.txt'))?.trim().split('\n')[0];
  const gpuName = mode === 'dry-run' ? `dry-run-${adapter?.architecture || adapter?.vendor || 'unknown'}` : smiName || adapter?.device || adapter?.description || adapter?.vendor || 'unknown-gpu';
  const stem = uniquePath(outDir, `${day}-${slug(gpuName)}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(`${stem}.md`, markdown(report));
  console.log(`results: ${stem}.json`);
}

type Report = {
  mode: string;
  date: string;
  command?: string;
  kit?: Record<string, unknown>;
  adapter?: AdapterReport;
  steps: StepRecord[];
  smoke: { ok: boolean };
  parity: { ok: boolean; passed: number; failed: number; skipped: number; notRun?: number; parts?: { name: string; ok: boolean; passed: number; failed: number; step?: StepRecord }[]; files?: { file: string; passed: number; failed: number; skipped: number; seconds: number; failures: { name: string }[] }[] };
  bench: { rows: ReturnType<typeof benchRow>[]; errors: { batch: number; variant: string; error: string }[]; method: string; vulkanLoader?: string };
  train: { stopReason?: string; epochs: { epoch: number; seconds: number; samplesPerSecond: number; accuracy: number; valAccuracy?: number }[]; testAccuracy?: number; trainSeconds?: number };
  torch: TorchFile;
  errors: string[];
};

function markdown(r: Report): string {
  const a = r.adapter;
  const lines: string[] = [];
  lines.push(`# LeNet-5 device run (${r.mode}), ${r.date.slice(0, 10)}`, '');
  lines.push(`- adapter: ${a ? `${a.vendor} / ${a.architecture} / ${a.device} (${a.description})${a.isFallback ? ' [CPU fallback]' : ''}, ${a.runtime}` : 'none'}`);
  lines.push(`- kit: commit ${String(r.kit?.commit ?? '?')}${r.kit?.dirty ? ' (with uncommitted changes)' : ''}, packed ${String(r.kit?.packedAt ?? '?')}; Vulkan loader: ${r.bench.vulkanLoader ?? '?'}`);
  lines.push(`- command: \`${r.command ?? '?'}\``, '');
  lines.push(table(['step', 'exit', 'seconds', 'time box'], r.steps.map((s) => [s.name, s.skipped ? 'not run' : s.timedOut ? `${s.exitCode} (timed out)` : String(s.exitCode), fmt(s.seconds), `${s.limitSeconds} s`])), '');
  lines.push(`Smoke: ${r.smoke.ok ? 'passed' : 'FAILED'}. Parity: ${r.parity.ok ? 'passed' : 'FAILED'}, ${r.parity.passed} passed, ${r.parity.failed} failed, ${r.parity.skipped} skipped${r.parity.notRun ? `, ${r.parity.notRun} not run` : ''}.`, '');
  for (const p of r.parity.parts ?? []) {
    const how = !p.step ? 'no step record' : p.step.skipped ? 'not run (no time left)' : p.step.timedOut ? `cut by its ${p.step.limitSeconds} s time box` : `exit ${p.step.exitCode}`;
    lines.push(`- ${p.name}: ${p.ok ? 'ok' : 'NOT OK'}, ${p.passed} passed, ${p.failed} failed (${how})`);
  }
  lines.push('');
  const ran = (r.parity.files ?? []).filter((x) => x.passed + x.failed + x.skipped > 0);
  if (ran.length > 0) {
    lines.push(table(['parity file', 'passed', 'failed', 'skipped', 'seconds'], ran.map((x) => [x.file, String(x.passed), String(x.failed), String(x.skipped), fmt(x.seconds)])), '');
  }
  for (const file of r.parity.files ?? []) for (const t of file.failures) lines.push(`- parity failure: ${file.file} > ${t.name}`);
  if (r.bench.rows.length > 0) {
    lines.push('', '## Training step', '');
    const torchAt = (batch: number, mode: string) => r.torch.rows?.find((t) => t.batch === batch && t.mode === mode && !t.error)?.samplesPerSecond;
    lines.push(
      table(
        ['batch', 'variant', 'samples/s', 'ms/step', '60k epoch s', 'dispatches/step', 'submits/step', 'GPU ms/step', 'idle between dispatches ms/step', 'wall − GPU ms/step', 'vs torch eager', 'vs torch graphs'],
        r.bench.rows.map((b) => {
          const eager = torchAt(b.batch, 'eager');
          const graph = torchAt(b.batch, 'cuda-graph');
          return [
            String(b.batch),
            b.variant,
            fmt(b.samplesPerSecond, 0),
            fmt(b.msPerStep, 3),
            fmt(b.epochSeconds60k, 3),
            String(b.dispatchesPerStep),
            fmt(b.submitsPerStep, 3),
            fmt(b.gpuMsPerStep, 3),
            fmt(b.gapMsPerStep, 3),
            fmt(b.wallMinusGpuMsPerStep, 3),
            eager ? `${(b.samplesPerSecond / eager).toFixed(2)}x` : '–',
            graph ? `${(b.samplesPerSecond / graph).toFixed(2)}x` : '–',
          ];
        }),
      ),
    );
    for (const e of r.bench.errors) lines.push(`- bench B=${e.batch} ${e.variant} failed: ${e.error}`);
    const top = r.bench.rows.find((b) => b.batch === 256 && b.variant === 'tiled') ?? r.bench.rows[0];
    if (top.topKernels) {
      lines.push('', `Kernels, batch ${top.batch}, ${top.variant} (GPU time per step, timestamp queries):`, '');
      lines.push(table(['kernel', 'ms/step', 'share'], top.topKernels.map((k: KernelTime) => [k.label, fmt(k.ms, 4), `${(k.share * 100).toFixed(1)}%`])));
    }
    lines.push('', r.bench.method);
  }
  lines.push('', '## Classic run (CLI `train`, the lenet5 recipe: 15 epochs at most)', '');
  if (r.train.epochs.length > 0) {
    lines.push(table(['epoch', 'seconds', 'samples/s', 'train acc', 'val acc'], r.train.epochs.map((e) => [String(e.epoch), fmt(e.seconds, 2), fmt(e.samplesPerSecond, 0), fmt(e.accuracy, 4), fmt(e.valAccuracy, 4)])));
    lines.push('', `Stop reason: ${r.train.stopReason ?? '?'}; test accuracy: ${r.train.testAccuracy === undefined ? 'none (the run did not finish)' : fmt(r.train.testAccuracy, 4)}; training time ${fmt(r.train.trainSeconds, 1)} s.`);
  } else lines.push('No epoch finished.');
  lines.push('', '## PyTorch, same LeNet-5', '');
  if (r.torch.rows?.length) {
    lines.push(`${r.torch.device ?? ''}, torch ${r.torch.torch ?? '?'}, CUDA ${r.torch.cuda ?? '?'}`, '');
    lines.push(table(['batch', 'mode', 'samples/s', 'ms/step'], r.torch.rows.map((t) => [String(t.batch), t.mode, t.error ? `failed: ${t.error}` : fmt(t.samplesPerSecond, 0), fmt(t.msPerStep, 3)])));
  } else lines.push(r.torch.skipped ? `skipped: ${r.torch.skipped}` : `failed: ${r.torch.error ?? 'no rows'}`);
  if (r.errors.length > 0) lines.push('', '## Problems', '', ...r.errors.map((e) => `- ${e}`));
  return `${lines.join('\n')}\n`;
}

main();
