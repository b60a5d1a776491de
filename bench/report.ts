/**
 * The benchmark's results: one JSON document (BenchReport, written under
 * bench/results/) and its markdown rendering (printed). Every timed figure
 * is a Spread (median, min, max, raw values over the repeats); tables show
 * "median ±h%" where h is half the relative spread (max - min) / median.
 *
 * Comparisons: ours / theirs in samples/s at equal batch size, per TF.js
 * backend, for ours in the browser (same browser, same adapter, same page
 * set-up as TF.js) and ours in Node. "Best TF.js" is, per batch size, the
 * backend with the most samples/s.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatSubgroups, type AdapterReport } from '../src/gpu/device.ts';
import type { ModelFlops } from '../src/model/flops.ts';
import type { KernelCaseResult, MatmulCeiling } from '../src/bench/kernels.ts';
import type { KernelTime } from '../src/bench/kernel-profile.ts';
import { formatSpread, type Spread } from '../src/bench/stats.ts';
import type { StepBenchResult } from '../src/bench/train-step.ts';
import type { NodeSection } from './node-bench.ts';
import type { AdapterStageResult, TfjsStageResult } from './protocol.ts';
import type { TfjsBackend } from './pages/tfjs-lenet.ts';

export const SCHEMA = 'lenet-gpu-bench/1';
export const TFJS_BACKENDS: readonly TfjsBackend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BrowserSection {
  version?: string;
  flags?: string[];
  adapter?: AdapterStageResult;
  steps?: StepBenchResult[];
  ceiling?: MatmulCeiling;
  kernels?: { batch: number; results: KernelCaseResult[] };
  tfjs: TfjsStageResult[];
  errors: string[];
}

export interface ComparisonRow {
  batch: number;
  oursNode?: number;
  oursBrowser?: number;
  /** samples/s (median), or the error text of a backend that could not train. */
  tfjs: Partial<Record<TfjsBackend, number | string>>;
  bestTfjs?: { backend: TfjsBackend; samplesPerSecond: number };
  /** ours / theirs per backend. */
  ratioBrowser: Partial<Record<TfjsBackend, number>>;
  ratioNode: Partial<Record<TfjsBackend, number>>;
  browserVsBest?: number;
  nodeVsBest?: number;
}

export interface BenchReport {
  schema: typeof SCHEMA;
  date: string;
  durationSeconds: number;
  git: { commit: string | null };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; arch: string; loadAverage: { start: number[]; end: number[] } };
  versions: Record<string, string | undefined>;
  model: { name: string; paramCount: number; flops: ModelFlops };
  config: Record<string, unknown>;
  node?: NodeSection;
  browser?: BrowserSection;
  errors: string[];
  comparison: ComparisonRow[];
  verdicts: string[];
  notes: string[];
}

/**
 * Dispatch lists that differ between Node and the browser at one batch size:
 * the two runtimes ran different kernels (the Node bundle is built at the
 * start of the run, the dev server serves the tree live, so an edit during
 * the run splits them). Labels name the kernel, variant and geometry.
 */
export function kernelMismatches(node: NodeSection | undefined, browser: BrowserSection | undefined): string[] {
  const out: string[] = [];
  for (const n of node?.steps ?? []) {
    const b = browser?.steps?.find((s) => s.batch === n.batch);
    if (!b || !('perDispatch' in n.kernels) || !('perDispatch' in b.kernels)) continue;
    const labels = (k: { perDispatch: KernelTime[] }): Set<string> => new Set(k.perDispatch.map((d) => d.label));
    const nl = labels(n.kernels);
    const bl = labels(b.kernels);
    const onlyNode = [...nl].filter((l) => !bl.has(l));
    const onlyBrowser = [...bl].filter((l) => !nl.has(l));
    if (onlyNode.length || onlyBrowser.length) {
      out.push(`batch ${n.batch}: Node and the browser ran different kernels (only Node: ${onlyNode.slice(0, 3).join('; ') || 'none'}; only browser: ${onlyBrowser.slice(0, 3).join('; ') || 'none'}): their figures are not comparable`);
    }
  }
  return out;
}

export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

function packageVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

export interface ReportInput {
  started: Date;
  /** os.loadavg() when the run started. */
  loadStart: number[];
  model: BenchReport['model'];
  config: Record<string, unknown>;
  batches: readonly number[];
  node?: NodeSection;
  browser?: BrowserSection;
  errors?: string[];
  notes?: string[];
}

/** The JSON document of a run: environment, versions, every section, the comparison and the verdicts. */
export function buildReport(input: ReportInput): BenchReport {
  const loadEnd = loadavg();
  const comparison = compare(input.node, input.browser, input.batches);
  const mismatches = kernelMismatches(input.node, input.browser);
  const notes = [...(input.notes ?? []), ...mismatches];
  const split = new Set(mismatches.map((m) => Number(/^batch (\d+)/.exec(m)?.[1])));
  const judged = verdicts(comparison).map((v) => {
    const m = /^batch (\d+): Node /.exec(v);
    return m && split.has(Number(m[1])) ? `${v} [NOT COMPARABLE: different kernels ran]` : v;
  });
  const cores = cpus().length;
  if (Math.max(input.loadStart[0], loadEnd[0]) > cores / 2) {
    notes.push(`the machine was shared (load average ${input.loadStart[0].toFixed(2)} at start, ${loadEnd[0].toFixed(2)} at end, on ${cores} cores): figures carry that noise; see the spreads.`);
  }
  let lenetGpu: string | undefined;
  try {
    lenetGpu = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  } catch {
    lenetGpu = undefined;
  }
  return {
    schema: SCHEMA,
    date: input.started.toISOString(),
    durationSeconds: (Date.now() - input.started.getTime()) / 1000,
    git: { commit: gitCommit() },
    machine: {
      cpus: cores,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      platform: process.platform,
      arch: process.arch,
      loadAverage: { start: input.loadStart, end: loadEnd },
    },
    versions: {
      node: process.version,
      chromium: input.browser?.version,
      tfjs: packageVersion('@tensorflow/tfjs'),
      webgpu: packageVersion('webgpu'),
      puppeteer: packageVersion('puppeteer'),
      lenetGpu,
    },
    model: input.model,
    config: input.config,
    node: input.node,
    browser: input.browser,
    errors: input.errors ?? [],
    comparison,
    verdicts: judged,
    notes,
  };
}

const med = (s: Spread | undefined): number | undefined => s?.median;

export function compare(node: NodeSection | undefined, browser: BrowserSection | undefined, batches: readonly number[]): ComparisonRow[] {
  return batches.map((batch) => {
    const row: ComparisonRow = {
      batch,
      oursNode: med(node?.steps.find((s) => s.batch === batch)?.samplesPerSecond),
      oursBrowser: med(browser?.steps?.find((s) => s.batch === batch)?.samplesPerSecond),
      tfjs: {},
      ratioBrowser: {},
      ratioNode: {},
    };
    for (const stage of browser?.tfjs ?? []) {
      const b = stage.batches.find((x) => x.batch === batch);
      const value = stage.initError ?? b?.error ?? med(b?.result?.samplesPerSecond);
      if (value === undefined) continue;
      row.tfjs[stage.backend] = value;
      if (typeof value === 'number') {
        if (row.oursBrowser !== undefined) row.ratioBrowser[stage.backend] = row.oursBrowser / value;
        if (row.oursNode !== undefined) row.ratioNode[stage.backend] = row.oursNode / value;
        if (!row.bestTfjs || value > row.bestTfjs.samplesPerSecond) row.bestTfjs = { backend: stage.backend, samplesPerSecond: value };
      }
    }
    if (row.bestTfjs) {
      if (row.oursBrowser !== undefined) row.browserVsBest = row.oursBrowser / row.bestTfjs.samplesPerSecond;
      if (row.oursNode !== undefined) row.nodeVsBest = row.oursNode / row.bestTfjs.samplesPerSecond;
    }
    return row;
  });
}

/** The issue's targets: >= 5x TF.js's best at batch 64 and 256 (stretch 10x); Node >= browser. */
export function verdicts(rows: readonly ComparisonRow[]): string[] {
  const out: string[] = [];
  for (const batch of [64, 256]) {
    const row = rows.find((r) => r.batch === batch);
    if (!row?.bestTfjs) continue;
    for (const [who, ratio] of [['browser', row.browserVsBest], ['Node', row.nodeVsBest]] as const) {
      if (ratio === undefined) continue;
      const grade = ratio >= 10 ? 'MEETS the stretch target (>= 10x)' : ratio >= 5 ? 'MEETS the target (>= 5x)' : 'MISSES the target (>= 5x)';
      out.push(`batch ${batch}: ours (${who}) is ${ratio.toFixed(2)}x TF.js's best (${row.bestTfjs.backend}, ${row.bestTfjs.samplesPerSecond.toFixed(1)} samples/s): ${grade}`);
    }
  }
  for (const row of rows) {
    if (row.oursNode === undefined || row.oursBrowser === undefined) continue;
    const ok = row.oursNode >= row.oursBrowser;
    out.push(`batch ${row.batch}: Node ${row.oursNode.toFixed(1)} vs browser ${row.oursBrowser.toFixed(1)} samples/s: Node ${ok ? '>=' : '<'} browser (${(row.oursNode / row.oursBrowser).toFixed(2)}x)`);
  }
  return out;
}

const cell = (v: number | string | undefined, digits = 1): string => (v === undefined ? '–' : typeof v === 'string' ? 'cannot train' : v.toFixed(digits));
const times = (v: number | undefined): string => (v === undefined ? '–' : `${v.toFixed(2)}x`);
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function stepTable(report: BenchReport): string {
  const runtimes: [string, StepBenchResult[] | undefined, MatmulCeiling | undefined][] = [
    ['Node (Dawn)', report.node?.steps, report.node?.ceiling],
    ['browser (Chromium)', report.browser?.steps, report.browser?.ceiling],
  ];
  const rows: string[][] = [];
  for (const [name, steps, ceiling] of runtimes) {
    for (const s of steps ?? []) {
      const share = ceiling ? pct(s.gflops.median / ceiling.best.gflops) : '–';
      rows.push([name, String(s.batch), formatSpread(s.samplesPerSecond), formatSpread(s.msPerStep, 2), formatSpread(s.gflops, 3), share, `${s.warmupSteps} + ${s.repeats} x ${s.stepsPerRepeat}`, s.meanLoss.toFixed(3)]);
    }
  }
  for (const stage of report.browser?.tfjs ?? []) {
    for (const b of stage.batches) {
      const r = b.result;
      if (!r) continue;
      rows.push([`TF.js ${stage.backend}`, String(b.batch), formatSpread(r.samplesPerSecond), formatSpread(r.msPerStep, 1), formatSpread(r.gflops, 3), '–', `${r.warmupSteps} + ${r.repeats} x ${r.stepsPerRepeat} (first ${r.firstStepSeconds.toFixed(1)} s)`, r.finalLoss.toFixed(3)]);
    }
  }
  return table(['runtime', 'batch', 'samples/s', 'ms/step', 'GFLOP/s', 'of matmul ceiling', 'warm-up + repeats x steps', 'loss'], rows);
}

function comparisonTable(report: BenchReport): string {
  const backends = TFJS_BACKENDS.filter((b) => report.comparison.some((r) => r.tfjs[b] !== undefined));
  const header = ['batch', 'ours Node', 'ours browser', ...backends.map((b) => `TF.js ${b}`), 'best TF.js', 'ours browser / best', 'ours Node / best'];
  const rows = report.comparison.map((r) => [
    String(r.batch),
    cell(r.oursNode),
    cell(r.oursBrowser),
    ...backends.map((b) => cell(r.tfjs[b])),
    r.bestTfjs ? `${r.bestTfjs.backend} ${r.bestTfjs.samplesPerSecond.toFixed(1)}` : '–',
    times(r.browserVsBest),
    times(r.nodeVsBest),
  ]);
  return table(header, rows);
}

function ratioTable(report: BenchReport): string {
  const backends = TFJS_BACKENDS.filter((b) => report.comparison.some((r) => r.tfjs[b] !== undefined));
  const rows = report.comparison.map((r) => [
    String(r.batch),
    ...backends.map((b) => (typeof r.tfjs[b] === 'string' ? 'cannot train' : `${times(r.ratioBrowser[b])} (Node ${times(r.ratioNode[b])})`)),
  ]);
  return table(['batch', ...backends.map((b) => `ours / TF.js ${b}`)], rows);
}

function familyTable(steps: readonly StepBenchResult[]): string {
  const profiled = steps.filter((s) => 'perFamily' in s.kernels);
  if (profiled.length === 0) return '';
  const families = new Map<string, number>();
  for (const s of profiled) for (const k of (s.kernels as { perFamily: KernelTime[] }).perFamily) families.set(k.label, (families.get(k.label) ?? 0) + k.share);
  const order = [...families.entries()].sort((a, b) => b[1] - a[1]).map(([f]) => f);
  const rows = order.map((family) => [
    family,
    ...profiled.map((s) => {
      const k = (s.kernels as { perFamily: KernelTime[] }).perFamily.find((x) => x.label === family);
      return k ? `${pct(k.share)} (${k.ms.toFixed(2)} ms)` : '–';
    }),
  ]);
  rows.push(['sum of kernel times / wall ms per step', ...profiled.map((s) => `${(s.kernels as { gpuMsPerStep: number }).gpuMsPerStep.toFixed(1)} / ${s.msPerStep.median.toFixed(1)} ms`)]);
  return table(['kernel family', ...profiled.map((s) => `B=${s.batch}`)], rows);
}

function topDispatches(step: StepBenchResult, n = 8): string {
  if (!('perDispatch' in step.kernels)) return '';
  const rows = step.kernels.perDispatch.slice(0, n).map((k) => [k.label, `${k.ms.toFixed(2)} ms`, pct(k.share)]);
  return table([`dispatch (B=${step.batch})`, 'GPU time per step', 'share'], rows);
}

function ceilingTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const [name, c] of [['Node', report.node?.ceiling], ['browser', report.browser?.ceiling]] as const) {
    for (const r of c?.results ?? []) rows.push([name, `${r.m}x${r.k}x${r.n}`, r.variant, formatSpread(r.gflops, 2), formatSpread(r.ms, 1), String(r.reps)]);
  }
  return rows.length ? table(['runtime', 'M x K x N', 'variant', 'GFLOP/s', 'ms per product', 'reps per repeat'], rows) : '';
}

export function kernelsTable(results: readonly KernelCaseResult[]): string {
  const variants = [...new Set(results.map((r) => r.variant))].filter((v) => v !== 'single');
  const names = [...new Set(results.map((r) => `${r.family}\u0000${r.name}`))];
  const rows = names.map((key) => {
    const [family, name] = key.split('\u0000');
    const of = (variant: string): KernelCaseResult | undefined => results.find((r) => r.name === name && r.variant === variant);
    const single = of('single');
    const cols = single
      ? [`${formatSpread(single.ms, 3)}${single.gpuMs !== undefined ? ` (GPU ${single.gpuMs.toFixed(3)})` : ''}`, ...variants.slice(1).map(() => '')]
      : variants.map((v) => {
          const r = of(v);
          if (!r) return '–';
          return `${formatSpread(r.ms, 3)}${r.gflops ? `, ${r.gflops.median.toFixed(2)} GFLOP/s` : ''}`;
        });
    return [family, name, ...cols];
  });
  return table(['family', 'case', ...variants.map((v) => `${v}: ms (GFLOP/s)`)], rows);
}

function flopsTable(f: ModelFlops): string {
  const rows = f.layers.map((l) => [l.name, l.forwardMacs.toLocaleString('en-US'), l.forwardFlops.toLocaleString('en-US'), (2 * l.forwardFlops).toLocaleString('en-US')]);
  rows.push(['total', f.forwardMacs.toLocaleString('en-US'), f.forwardFlops.toLocaleString('en-US'), (2 * f.forwardFlops).toLocaleString('en-US')]);
  return `${table(['layer', 'forward MACs / sample', 'forward FLOPs', 'backward FLOPs (2x)'], rows)}\n\nTraining FLOPs per sample (forward + backward = 3x forward): **${f.trainFlops.toLocaleString('en-US')}** (exact, without the first layer's input gradient: ${f.exactTrainFlops.toLocaleString('en-US')}).`;
}

export function formatMarkdown(report: BenchReport): string {
  const out: string[] = [];
  // 4-4: SwiftShader's SIMD groups, whose lanes the blocked kernels let share loads (src/kernels/sources.ts).
  const subgroups = (a: AdapterReport | undefined): string => (a ? formatSubgroups(a) : 'n/a');
  const adapter = (a: AdapterReport | undefined): string => (a ? `${a.vendor}/${a.architecture} (${a.description})${a.isFallback ? ' [CPU fallback]' : ''}` : 'n/a');
  out.push(`# lenet-gpu benchmark, ${report.date}`);
  out.push(
    [
      `- commit ${report.git.commit ?? 'unknown'}`,
      `- machine: ${report.machine.cpus}-core ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, ${report.machine.platform}/${report.machine.arch}; load average at start ${report.machine.loadAverage.start.map((x) => x.toFixed(2)).join(' ')}, at end ${report.machine.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`,
      `- Node ${report.versions.node}, webgpu (Dawn) ${report.versions.webgpu}; adapter ${adapter(report.node?.adapter)}; timestamp-query ${report.node ? (report.node.adapter.timestampQuery ? 'yes' : 'no') : 'n/a'}; subgroups ${subgroups(report.node?.adapter)}`,
      `- browser ${report.browser?.version ?? 'not run'}; adapter ${adapter(report.browser?.adapter?.report)}; timestamp-query ${report.browser?.adapter ? (report.browser.adapter.report.timestampQuery ? 'yes' : 'no') : 'n/a'}; subgroups ${subgroups(report.browser?.adapter?.report)}`,
      `- TF.js ${report.versions.tfjs}; model ${report.model.name}, ${report.model.paramCount.toLocaleString('en-US')} parameters; run took ${report.durationSeconds.toFixed(0)} s`,
    ].join('\n'),
  );
  out.push(`## Training step (Adam), samples/s\n\n${comparisonTable(report)}`);
  if (report.comparison.some((r) => Object.keys(r.tfjs).length > 0)) out.push(`## ours / TF.js per backend (ours in the browser, Node in brackets)\n\n${ratioTable(report)}`);
  if (report.verdicts.length) out.push(`## Targets\n\n${report.verdicts.map((v) => `- ${v}`).join('\n')}`);
  out.push(`## Every configuration (median ±half-spread over repeats)\n\n${stepTable(report)}`);
  const ceilings = ceilingTable(report);
  if (ceilings) out.push(`## Matmul ceiling (our dense kernels, C = A B)\n\n${ceilings}\n\nBest: Node ${report.node?.ceiling ? `${report.node.ceiling.best.gflops.toFixed(2)} GFLOP/s (${report.node.ceiling.best.variant})` : 'n/a'}, browser ${report.browser?.ceiling ? `${report.browser.ceiling.best.gflops.toFixed(2)} GFLOP/s (${report.browser.ceiling.best.variant})` : 'n/a'}.`);
  for (const [name, steps] of [['Node', report.node?.steps], ['browser', report.browser?.steps]] as const) {
    if (!steps?.length) continue;
    const families = familyTable(steps);
    if (families) {
      const largest = steps.reduce((a, b) => (b.batch > a.batch ? b : a));
      const b64 = steps.find((s) => s.batch === 64);
      const tops = [b64, largest].filter((s, i, all): s is StepBenchResult => s !== undefined && all.indexOf(s) === i).map((s) => topDispatches(s));
      out.push(`## Per-kernel GPU time, ${name} (timestamp queries; each dispatch in its own pass)\n\n${families}\n\n${tops.join('\n\n')}`);
    } else {
      const why = steps.map((s) => ('unavailable' in s.kernels ? s.kernels.unavailable : '')).find(Boolean);
      out.push(`## Per-kernel GPU time, ${name}\n\nnot measured: ${why}`);
    }
  }
  for (const [name, k] of [['Node', report.node?.kernels], ['browser', report.browser?.kernels]] as const) {
    if (k) out.push(`## Kernel micro-benchmarks, ${name}, LeNet-5 shapes at batch ${k.batch} (wall ms per replay)\n\n${kernelsTable(k.results)}`);
  }
  const t = report.node?.toAccuracy;
  if (t) {
    const rows = t.epochs.map((e) => [String(e.epoch), e.trainAccuracy.toFixed(4), e.testAccuracy.toFixed(4), e.trainSeconds.toFixed(1), e.evalSeconds.toFixed(1), e.elapsedSeconds.toFixed(1)]);
    out.push(
      `## Time to ${t.target} test accuracy (Node, batch ${t.batch}, ${t.validationSplit * 100}% validation split)\n\n${t.reached ? `reached ${t.finalTestAccuracy.toFixed(4)} after ${t.epochs.length} epoch(s) in **${t.seconds.toFixed(1)} s**` : `NOT reached (best ${Math.max(...t.epochs.map((e) => e.testAccuracy)).toFixed(4)} after ${t.epochs.length} epochs, ${t.seconds.toFixed(1)} s)`}; training ${t.trainSeconds.toFixed(1)} s (${t.trainSamplesPerSecond.toFixed(0)} samples/s), evaluation ${t.evalSeconds.toFixed(1)} s, model creation ${t.createSeconds.toFixed(1)} s apart.\n\n${table(['epoch', 'train acc', 'test acc', 'train s', 'eval s', 'elapsed s'], rows)}`,
    );
  }
  out.push(`## FLOPs per sample (${report.model.name})\n\n${flopsTable(report.model.flops)}`);
  for (const stage of report.browser?.tfjs ?? []) {
    const errors = [stage.initError, ...stage.batches.map((b) => b.error)].filter((e): e is string => Boolean(e));
    if (errors.length) out.push(`TF.js ${stage.backend}: cannot train this model: ${errors[0].split('\n')[0]}`);
  }
  if (report.errors.length) out.push(`## Errors\n\n${report.errors.map((e) => `- ${e.split('\n')[0]}`).join('\n')}`);
  if (report.notes.length) out.push(`## Notes\n\n${report.notes.map((n) => `- ${n}`).join('\n')}`);
  return out.join('\n\n') + '\n';
}
