/**
 * The browser half of `npm run bench`: runs one stage (bench/protocol.ts) in
 * this page, with the same src/bench code as Node for our engine and
 * TF.js 4.22 for the comparison, and publishes the answer on
 * window.__benchResult. Progress goes to the console, which the runner
 * prints. MNIST is fetched from the runner's dev server (/bench-mnist/).
 */
import { loadMnistFromUrls, type MnistSplits } from '../../src/data/mnist-browser.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { benchKernels, matmulCeiling } from '../../src/bench/kernels.ts';
import { benchTrainStep } from '../../src/bench/train-step.ts';
import { formatSpread } from '../../src/bench/stats.ts';
import type { AdapterStageResult, KernelsStageResult, OursStageResult, PageAnswer, Stage, StageResult, TfjsStageResult } from '../protocol.ts';
import { benchTfjsStep, useBackend } from './tfjs-lenet.ts';

declare global {
  interface Window {
    __bench?: { start(stage: Stage): void };
    __benchResult?: PageAnswer;
  }
}

/** Served by bench/browser.ts (MNIST_ROUTE). */
const MNIST_URL = '/bench-mnist/';
const log = (line: string): void => {
  console.log(`[bench] ${line}`);
  document.getElementById('out')!.textContent += `\n${line}`;
};

let mnist: Promise<MnistSplits> | undefined;
const train = async () => (await (mnist ??= loadMnistFromUrls(MNIST_URL))).train;

async function adapterStage(): Promise<AdapterStageResult> {
  const gpu = await requestGpu();
  try {
    return { userAgent: navigator.userAgent, report: gpu.report, adapterFeatures: [...gpu.adapter.features].sort() };
  } finally {
    gpu.destroy();
  }
}

async function oursStage(stage: Extract<Stage, { kind: 'ours' }>): Promise<OursStageResult> {
  const data = await train();
  const gpu = await requestGpu();
  try {
    const steps = [];
    for (const batch of stage.batches) {
      const r = await benchTrainStep(gpu, data, { ...stage.step, batch, spec: lenet5 });
      log(`ours browser B=${batch}: ${formatSpread(r.samplesPerSecond)} samples/s (${r.repeats} x ${r.stepsPerRepeat} steps)`);
      steps.push(r);
    }
    const result: OursStageResult = { steps };
    if (stage.ceiling) {
      result.ceiling = await matmulCeiling(gpu, {
        sizes: stage.ceiling.sizes,
        timing: stage.ceiling.timing,
        onResult: (r) => log(`matmul ${r.m}x${r.k}x${r.n} [${r.variant}]: ${formatSpread(r.gflops)} GFLOP/s`),
      });
    }
    return result;
  } finally {
    gpu.destroy();
  }
}

async function kernelsStage(stage: Extract<Stage, { kind: 'kernels' }>): Promise<KernelsStageResult> {
  const gpu = await requestGpu();
  try {
    const results = await benchKernels(gpu, { batch: stage.batch, timing: stage.timing, onResult: (r) => log(`${r.name} [${r.variant}]: ${formatSpread(r.ms, 3)} ms`) });
    return { batch: stage.batch, results };
  } finally {
    gpu.destroy();
  }
}

async function tfjsStage(stage: Extract<Stage, { kind: 'tfjs' }>): Promise<TfjsStageResult> {
  const data = await train();
  const init = await useBackend(stage.backend);
  if (!init.ok) return { backend: stage.backend, initError: init.error, batches: [] };
  const out: TfjsStageResult = { backend: stage.backend, info: init.info, batches: [] };
  for (const batch of stage.batches) {
    try {
      const r = await benchTfjsStep(lenet5, data, { ...stage.step, batch });
      log(`tfjs ${stage.backend} B=${batch}: ${formatSpread(r.samplesPerSecond)} samples/s (${r.repeats} x ${r.stepsPerRepeat} steps, first step ${r.firstStepSeconds.toFixed(1)} s)`);
      out.batches.push({ batch, result: r });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`tfjs ${stage.backend} B=${batch}: cannot train this model: ${message}`);
      if (error instanceof Error && error.stack) log(error.stack);
      out.batches.push({ batch, error: message });
      // The same missing kernel fails every batch: one error says it all.
      if (/not registered|not (yet )?implemented/i.test(message)) {
        for (const b of stage.batches.filter((b) => b > batch)) out.batches.push({ batch: b, error: message });
        break;
      }
    }
  }
  return out;
}

async function runStage(stage: Stage): Promise<StageResult> {
  switch (stage.kind) {
    case 'adapter':
      return adapterStage();
    case 'ours':
      return oursStage(stage);
    case 'kernels':
      return kernelsStage(stage);
    case 'tfjs':
      return tfjsStage(stage);
  }
}

window.__bench = {
  start(stage: Stage) {
    window.__benchResult = undefined;
    runStage(stage).then(
      (result) => {
        window.__benchResult = { ok: true, result };
      },
      (error: unknown) => {
        window.__benchResult = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) };
      },
    );
  },
};
document.getElementById('out')!.textContent = 'ready';
