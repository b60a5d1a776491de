/**
 * `npm run bench`: LeNet-5 training-step throughput of this engine in Node
 * (Dawn) and in headless Chromium, against TensorFlow.js 4.22 (webgpu,
 * webgl, wasm, cpu) on the same model in the same browser, with the matmul
 * ceiling of the adapter, per-kernel shares from timestamp queries, and
 * optionally the kernel micro-benchmarks and the time to a test accuracy.
 * Prints markdown, writes JSON under bench/results/. See bench/README.md.
 *
 * Built like the CLI (`vite build --ssr bench/run.ts --outDir dist/bench`)
 * so WGSL `?raw` imports are inlined; run from the repository root.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg, setPriority } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countFlops } from '../src/model/flops.ts';
import { formatSpread } from '../src/bench/stats.ts';
import { adapterKind } from '../src/gpu/adapter-choice.ts';
import { formatSubgroups } from '../src/gpu/device.ts';
import { inferShapes } from '../src/model/infer.ts';
import { lenet5 } from '../src/model/spec.ts';
import { startBenchBrowser, TIMESTAMP_FLAGS, type BenchBrowser } from './browser.ts';
import { NodeBench } from './node-bench.ts';
import type { TfjsBackend, TfjsMode } from './pages/tfjs-lenet.ts';
import type { AdapterStageResult, KernelsStageResult, OursStageResult, Stage, StepPlan, TfjsStageResult } from './protocol.ts';
import { buildReport, formatMarkdown, TFJS_BACKENDS, type BrowserSection } from './report.ts';

/** Chromium's GPU process priority where it may raise it (see matchChromiumPriority). */
const CHROMIUM_GPU_NICE = -8;

const USAGE = `usage: npm run bench -- [options]

what runs (default: training step in Node and in the browser, TF.js in the browser, matmul ceiling):
  --batches 32,64,128,256   batch sizes
  --no-node                 skip the Node (Dawn) runs
  --no-browser              skip everything in Chromium (ours and TF.js)
  --no-tfjs                 skip TF.js
  --tfjs-backends LIST      default webgpu,webgl,wasm,cpu
  --tfjs-mode MODE          minimize (default: one readback per repeat) or trainOnBatch (one per step)
  --kernels                 only the kernel micro-benchmarks (Node and browser), every variant
  --kernels-batch N         their batch (default 64)
  --to-accuracy X           also train (fit, Node) until the test accuracy reaches X, e.g. 0.98
  --to-accuracy-batch N     batch of that run (default 64); --max-epochs N (default 15)
counts (ours):
  --repeats N               timed repeats per configuration (default 5)
  --repeat-seconds S        each repeat runs about S seconds of steps (default 2.5)
  --steps N                 fixed steps per repeat instead
  --warmup N                untimed steps first (default 3)
  --min-steps N / --max-steps N   bounds of the calibrated steps per repeat (default 3 / 500)
  --variant blocked|tiled   kernel variant (default: chosen per adapter)
  --wait fit|promise|sleep  fit: submit and wait as fit does (default: timer pacing in Node, promises in the
                            browser); promise: one onSubmittedWorkDone per submit in both runtimes (Dawn's Node
                            binding keeps a core busy while a promise is pending); sleep: submit a repeat at once,
                            sleep on a timer, then wait
counts (TF.js):
  --tfjs-repeats N          default 3; --tfjs-repeat-seconds S (default 3); --tfjs-steps N
  --tfjs-max-seconds S      fewer repeats (at least 2) where they would take longer than S (default 30)
ceiling:
  --ceiling-sizes LIST      square matmul sizes (default 256,512); --no-ceiling
output:
  --out DIR                 results folder (default bench/results); --no-write
  --no-match-priority       keep Node at its own priority (default: nice ${CHROMIUM_GPU_NICE}, Chromium's GPU process's, when allowed)
  --timestamp-flags         launch Chromium with ${TIMESTAMP_FLAGS.join(' ')} (not needed for Chromium 156)
`;

const FLAGS = {
  batches: { type: 'string' },
  'no-node': { type: 'boolean' },
  'no-browser': { type: 'boolean' },
  'no-tfjs': { type: 'boolean' },
  'tfjs-backends': { type: 'string' },
  'tfjs-mode': { type: 'string' },
  kernels: { type: 'boolean' },
  'kernels-batch': { type: 'string' },
  'to-accuracy': { type: 'string' },
  'to-accuracy-batch': { type: 'string' },
  'max-epochs': { type: 'string' },
  repeats: { type: 'string' },
  'repeat-seconds': { type: 'string' },
  steps: { type: 'string' },
  warmup: { type: 'string' },
  'min-steps': { type: 'string' },
  'max-steps': { type: 'string' },
  variant: { type: 'string' },
  'tfjs-repeats': { type: 'string' },
  'tfjs-repeat-seconds': { type: 'string' },
  'tfjs-steps': { type: 'string' },
  'tfjs-max-seconds': { type: 'string' },
  'ceiling-sizes': { type: 'string' },
  'no-ceiling': { type: 'boolean' },
  out: { type: 'string' },
  'no-write': { type: 'boolean' },
  'timestamp-flags': { type: 'boolean' },
  wait: { type: 'string' },
  'no-match-priority': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {
  override name = 'UsageError';
}

function num(name: string, value: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${expected}, got "${value}"`);
  return n;
}
const posInt = (n: number): boolean => Number.isInteger(n) && n >= 1;
const list = (name: string, value: string): number[] => value.split(',').map((v) => num(name, v, posInt, 'a comma-separated list of positive integers')!);

function resultPath(dir: string, date: Date, adapter: string): string {
  const day = date.toISOString().slice(0, 10);
  const slug = adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'unknown';
  let path = join(dir, `${day}-${slug}.json`);
  for (let i = 2; existsSync(path); i++) path = join(dir, `${day}-${slug}-${i}.json`);
  return path;
}

const log = (line: string): void => console.log(line);

/** A hash of src/ and shaders/: the Node bundle is built from the tree at the start, the browser page loads it live. */
function sourceFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        hash.update(path);
        hash.update(readFileSync(path));
      }
    }
  };
  walk('src');
  walk('shaders');
  return hash.digest('hex').slice(0, 16);
}

/**
 * Chromium raises its GPU process (where SwiftShader runs the browser's
 * WebGPU work) to nice -8 when it may (as root). On a shared CPU that alone
 * makes the browser faster than Node, whose Dawn runs SwiftShader in-process
 * at nice 0. So, unless told not to, the runner takes the same priority
 * before creating its GPU device (Linux nice is per thread; SwiftShader's
 * worker threads, created later, inherit it).
 */


function matchChromiumPriority(): string {
  try {
    setPriority(CHROMIUM_GPU_NICE);
    return `Node ran at nice ${getPriority()} (Chromium's GPU process runs at nice ${CHROMIUM_GPU_NICE} where allowed), so both get the same CPU share on a shared machine`;
  } catch (error) {
    return `Node could not take nice ${CHROMIUM_GPU_NICE} (${error instanceof Error ? error.message : String(error)}); it ran at nice ${getPriority()}, and Chromium's GPU process may run at a higher priority`;
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const f = parsed.values;
  if (f.help) {
    console.log(USAGE);
    return 0;
  }
  // One adapter for Node's runs and Chromium's (LENET_GPU_ADAPTER, adapter-choice.ts), pinned before either starts.
  process.env.LENET_GPU_ADAPTER = adapterKind();
  // Dawn rounds timestamps to 65.5 µs unless told not to: on a GPU that hides every LeNet-5 kernel.
  process.env.LENET_GPU_DAWN_FLAGS ??= 'disable-dawn-features=timestamp_quantization';
  const started = new Date();
  const loadStart = loadavg();
  const sourceAtStart = sourceFingerprint();
  const batches = f.batches ? list('batches', f.batches) : [32, 64, 128, 256];
  const variant = f.variant;
  if (variant !== undefined && variant !== 'blocked' && variant !== 'tiled') throw new UsageError(`--variant must be blocked or tiled, got "${variant}"`);
  const tfjsMode = (f['tfjs-mode'] ?? 'minimize') as TfjsMode;
  if (tfjsMode !== 'minimize' && tfjsMode !== 'trainOnBatch') throw new UsageError(`--tfjs-mode must be minimize or trainOnBatch, got "${tfjsMode}"`);
  const tfjsBackends = (f['tfjs-backends']?.split(',') ?? [...TFJS_BACKENDS]) as TfjsBackend[];
  for (const b of tfjsBackends) if (!TFJS_BACKENDS.includes(b)) throw new UsageError(`unknown TF.js backend "${b}" (use ${TFJS_BACKENDS.join(', ')})`);
  const toAccuracy = num('to-accuracy', f['to-accuracy'], (n) => n > 0 && n < 1, 'a fraction in (0, 1)');
  const wait = f.wait ?? 'fit';
  if (wait !== 'fit' && wait !== 'promise' && wait !== 'sleep') throw new UsageError(`--wait must be fit, promise or sleep, got "${wait}"`);
  const step: StepPlan = {
    variant,
    wait,
    warmupSteps: num('warmup', f.warmup, (n) => Number.isInteger(n) && n >= 0, 'a whole number') ?? 3,
    repeats: num('repeats', f.repeats, posInt, 'a positive integer') ?? 5,
    steps: num('steps', f.steps, posInt, 'a positive integer'),
    repeatBudgetMs: 1000 * (num('repeat-seconds', f['repeat-seconds'], (n) => n > 0, 'a positive number') ?? 2.5),
    minSteps: num('min-steps', f['min-steps'], posInt, 'a positive integer') ?? 3,
    maxSteps: num('max-steps', f['max-steps'], posInt, 'a positive integer') ?? 500,
    stepsPerSubmit: 8,
    maxSubmitsInFlight: 2,
    profileRepeats: 2,
  };
  const tfjsStep = {
    mode: tfjsMode,
    warmupSteps: 1,
    repeats: num('tfjs-repeats', f['tfjs-repeats'], posInt, 'a positive integer') ?? 3,
    steps: num('tfjs-steps', f['tfjs-steps'], posInt, 'a positive integer'),
    repeatBudgetMs: 1000 * (num('tfjs-repeat-seconds', f['tfjs-repeat-seconds'], (n) => n > 0, 'a positive number') ?? 3),
    minSteps: 1,
    maxSteps: 100,
    maxConfigMs: 1000 * (num('tfjs-max-seconds', f['tfjs-max-seconds'], (n) => n > 0, 'a positive number') ?? 30),
  };
  const ceilingSizes = (f['ceiling-sizes'] ? list('ceiling-sizes', f['ceiling-sizes']) : [256, 512]).map((n): [number, number, number] => [n, n, n]);
  const ceiling = f['no-ceiling'] || f.kernels ? undefined : { sizes: ceilingSizes, timing: { budgetMs: 1000, repeats: 3, maxReps: 50 } };
  const kernelsBatch = num('kernels-batch', f['kernels-batch'], posInt, 'a positive integer') ?? 64;
  const kernelTiming = { budgetMs: 300, repeats: 3, maxReps: 200 };
  const doNode = !f['no-node'];
  const doBrowser = !f['no-browser'];

  const plan = inferShapes(lenet5, 1);
  const flops = countFlops(plan);
  log(`lenet-gpu benchmark: ${f.kernels ? `kernel micro-benchmarks at batch ${kernelsBatch}` : `LeNet-5 training step (Adam) at batch ${batches.join(', ')}`}`);
  log(`  load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores${loadStart[0] > cpus().length / 2 ? ' (the machine is busy: expect spread)' : ''}`);
  if (!f.kernels) {
    log(`  ours: ${step.warmupSteps} warm-up steps, then ${step.repeats} repeats of ${step.steps ?? `about ${step.repeatBudgetMs! / 1000} s of steps (calibrated, ${step.minSteps}..${step.maxSteps})`} per configuration`);
    if (doBrowser && !f['no-tfjs']) log(`  TF.js ${tfjsBackends.join(', ')} (${tfjsMode}): 1 warm-up step, then ${tfjsStep.repeats} repeats of ${tfjsStep.steps ?? `about ${tfjsStep.repeatBudgetMs / 1000} s of steps (at least 1)`}, at most ${tfjsStep.maxConfigMs / 1000} s per configuration (at least 2 repeats)`);
    log(`  training FLOPs per sample: ${flops.trainFlops.toLocaleString('en-US')} (3x the forward multiply-adds x2; bench/README.md)`);
  }

  const errors: string[] = [];
  const notes: string[] = [];
  const toAccuracyRun = toAccuracy
    ? { target: toAccuracy, batch: num('to-accuracy-batch', f['to-accuracy-batch'], posInt, 'a positive integer') ?? 64, maxEpochs: num('max-epochs', f['max-epochs'], posInt, 'a positive integer') ?? 15 }
    : undefined;
  const browser: BrowserSection | undefined = doBrowser ? { tfjs: [], errors: [] } : undefined;
  const fail = (where: string, error: unknown): void => {
    const message = `${where}: ${error instanceof Error ? error.message : String(error)}`;
    errors.push(message);
    if (where.startsWith('browser')) browser?.errors.push(message);
    log(`  ${message.split('\n')[0]}`);
  };
  let nodeBench: NodeBench | undefined;
  let session: BenchBrowser | undefined;
  const stage = async <T,>(s: Stage, minutes: number): Promise<T | undefined> => {
    try {
      return (await session!.runStage(s, minutes * 60_000)) as T;
    } catch (error) {
      fail(`browser ${s.kind}${s.kind === 'tfjs' ? ` ${s.backend}` : ''}`, error);
      return undefined;
    }
  };
  const closeBrowser = async (): Promise<void> => {
    const s = session;
    session = undefined;
    await s?.close();
  };
  try {
    if (browser) {
      try {
        session = await startBenchBrowser({ timestampFlags: f['timestamp-flags'], onLog: log });
        browser.version = session.version;
        browser.flags = session.flags;
        log(`[browser] ${session.version}, flags: ${session.flags.join(' ')}`);
        browser.adapter = await stage<AdapterStageResult>({ kind: 'adapter' }, 2);
        if (browser.adapter) log(`[browser] adapter ${browser.adapter.report.vendor}/${browser.adapter.report.architecture}, timestamp-query: ${browser.adapter.report.timestampQuery ? 'yes' : 'no'}, subgroups: ${formatSubgroups(browser.adapter.report)}`);
      } catch (error) {
        fail('browser', error);
        await closeBrowser();
      }
    }
    // After Chromium is launched (its processes keep their own priorities), before Dawn starts SwiftShader's threads.
    if (doNode && !f['no-match-priority']) notes.push(matchChromiumPriority());
    else if (doNode) notes.push(`Node ran at nice ${getPriority()} (--no-match-priority); Chromium's GPU process runs at nice ${CHROMIUM_GPU_NICE} where allowed`);
    if (doNode) {
      try {
        nodeBench = await NodeBench.open({ needsData: !f.kernels, log });
        log(`[node] Dawn: ${nodeBench.section.adapter.vendor}/${nodeBench.section.adapter.architecture}, timestamp-query: ${nodeBench.section.adapter.timestampQuery ? 'yes' : 'no'}, subgroups: ${formatSubgroups(nodeBench.section.adapter)}`);
      } catch (error) {
        fail('node', error);
      }
    }
    if (f.kernels) {
      log('\n[kernel micro-benchmarks]');
      if (nodeBench) await nodeBench.kernels({ batch: kernelsBatch, timing: kernelTiming }).catch((e: unknown) => fail('node kernels', e));
      if (session && browser) browser.kernels = await stage<KernelsStageResult>({ kind: 'kernels', batch: kernelsBatch, timing: kernelTiming }, 20);
    } else {
      // Node and the browser back to back per batch size: on a shared machine both see about the same load.
      for (const batch of batches) {
        log(`\n[training step, batch ${batch}]`);
        if (nodeBench) await nodeBench.step(batch, step).catch((e: unknown) => fail(`node B=${batch}`, e));
        if (session && browser) {
          const ours = await stage<OursStageResult>({ kind: 'ours', batches: [batch], step }, 20);
          if (ours) (browser.steps ??= []).push(...ours.steps);
        }
      }
      if (ceiling) {
        log('\n[matmul ceiling]');
        if (nodeBench) await nodeBench.ceiling(ceiling).catch((e: unknown) => fail('node ceiling', e));
        if (session && browser) browser.ceiling = (await stage<OursStageResult>({ kind: 'ours', batches: [], step, ceiling }, 20))?.ceiling;
      }
      if (session && browser && !f['no-tfjs']) {
        log('\n[TF.js]');
        for (const backend of tfjsBackends) {
          const r = await stage<TfjsStageResult>({ kind: 'tfjs', backend, batches, step: tfjsStep }, 30);
          if (r) browser.tfjs.push(r);
          if (r?.initError) log(`  tfjs ${backend}: cannot initialise: ${r.initError}`);
        }
      }
      await closeBrowser();
      if (nodeBench && toAccuracyRun) {
        log('\n[time to accuracy]');
        await nodeBench.toAccuracy(toAccuracyRun).catch((e: unknown) => fail('node to-accuracy', e));
      }
    }
  } finally {
    await closeBrowser();
    nodeBench?.close();
  }
  const node = nodeBench?.section;
  if (node?.adapter.waiting) notes.push(`Node's waits: ${node.adapter.waiting}`);

  if (f.kernels) {
    notes.push('kernels: each case is replayed N times in one compute pass and one submit, timed from before encoding to queue.onSubmittedWorkDone(), divided by N (N calibrated to ~300 ms); "GPU" is the sum of per-dispatch timestamp-query times, each dispatch in its own pass.');
  } else notes.push(
    wait === 'fit'
      ? 'ours: clock from before the first command buffer is encoded to queue.onSubmittedWorkDone() after the last submit; steps submitted as fit does (8 per command buffer, at most 2 in flight; Node on a CPU adapter: queue 2, sleep on a timer for 90% of their learned time, then wait; otherwise: await the oldest onSubmittedWorkDone).'
      : wait === 'promise'
        ? 'ours (--wait promise): clock from before the first command buffer is encoded to queue.onSubmittedWorkDone() after the last submit; 8 steps per command buffer, at most 2 in flight, awaiting the oldest onSubmittedWorkDone in both runtimes.'
        : 'ours (--wait sleep): clock from before the first command buffer is encoded to queue.onSubmittedWorkDone() after the last submit; every step of a repeat submitted at once (8 per command buffer), then a timer sleep of 90% of the fastest repeat so far before the wait.',
    tfjsMode === 'minimize'
      ? 'TF.js: optimizer.minimize over the compiled model loss (tfjs-layers train-function body) on tensors already on the backend; the clock stops when `await loss.data()` of the last step resolves (one readback per repeat).'
      : 'TF.js: `await model.trainOnBatch(x, y)` per step (a loss readback every step).',
    'GFLOP/s use the FLOP count per sample above (3x the forward multiply-adds x2), the same for ours and TF.js.',
  );
  if (browser?.adapter) {
    notes.push(
      browser.flags?.some((x) => TIMESTAMP_FLAGS.includes(x))
        ? `Chromium ran with ${TIMESTAMP_FLAGS.join(' ')} added; its adapter ${browser.adapter.report.timestampQuery ? 'has' : 'has no'} 'timestamp-query'.`
        : `Chromium ran with the browser tests' flags only (${browser.flags?.join(' ')}); its adapter ${browser.adapter.report.timestampQuery ? "has 'timestamp-query' (no extra flag needed)" : "has no 'timestamp-query': try --timestamp-flags"}.`,
    );
  }
  const sourceAtEnd = sourceFingerprint();
  if (sourceAtEnd !== sourceAtStart) {
    notes.push(`src/ or shaders/ changed during the run (fingerprint ${sourceAtStart} -> ${sourceAtEnd}): the Node bundle holds the tree of the start, the browser pages loaded it live, so later stages may have run newer code`);
  }
  const report = buildReport({
    started,
    loadStart,
    model: { name: plan.name, paramCount: plan.paramCount, flops },
    config: { mode: f.kernels ? 'kernels' : 'step', sourceFingerprint: { start: sourceAtStart, end: sourceAtEnd }, batches, step, tfjs: { backends: tfjsBackends, ...tfjsStep }, ceiling, kernels: f.kernels ? { batch: kernelsBatch, timing: kernelTiming } : undefined, toAccuracy },
    batches: f.kernels ? [] : batches,
    node,
    browser,
    errors,
    notes,
  });
  const { comparison } = report;

  console.log(`\n${formatMarkdown(report)}`);
  if (!f['no-write']) {
    const dir = f.out ?? join('bench', 'results');
    mkdirSync(dir, { recursive: true });
    const adapter = node?.adapter.architecture || node?.adapter.vendor || browser?.adapter?.report.architecture || 'unknown';
    const path = resultPath(dir, started, `${adapter}${f.kernels ? '-kernels' : ''}`);
    writeFileSync(path, JSON.stringify(report, null, 1) + '\n');
    log(`results written to ${path}`);
  }
  for (const r of comparison) {
    if (r.browserVsBest !== undefined) log(`B=${r.batch}: ours browser ${formatSpread(browser?.steps?.find((s) => s.batch === r.batch)?.samplesPerSecond)} samples/s = ${r.browserVsBest.toFixed(2)}x TF.js best (${r.bestTfjs?.backend})`);
  }
  return errors.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
