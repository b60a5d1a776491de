/**
 * The training-step benchmark: the engine's recorded train pass (gather ->
 * forward -> softmax-xent -> metrics -> backward -> Adam -> cursor, exactly
 * what fit replays) timed on a GPU-resident slice of MNIST. Browser-safe: the
 * Node CLI and the bench page run this same code.
 *
 * Timing: the queue is drained first; the clock starts before the first
 * command buffer is encoded and stops when `queue.onSubmittedWorkDone()`
 * resolves after the last submit, so encoding, submission and every
 * dispatch are inside the measured time and nothing is left running. Steps
 * are submitted as fit submits them: `stepsPerSubmit` replays per command
 * buffer, at most `maxSubmitsInFlight` buffers ahead of the GPU.
 *
 * Counts: `warmupSteps` untimed steps, then (unless `steps` fixes it) a
 * calibration that picks the steps per repeat so one repeat takes about
 * `repeatBudgetMs`, within [minSteps, maxSteps]; then `repeats` timed
 * repeats. Every figure is reported as median and spread over the repeats.
 *
 * Per-kernel times come from timestamp queries (kernel-profile.ts) where the
 * adapter has 'timestamp-query'; the reason is recorded where it has not.
 */
import type { ImageDataset } from '../data/dataset.ts';
import { shuffledIndices, subset } from '../data/dataset.ts';
import type { Gpu } from '../gpu/device.ts';
import { readBytes } from '../gpu/buffers.ts';
import { Model } from '../engine/model.ts';
import { recordTrainPass, type RecordedPass } from '../engine/passes.ts';
import { BatchCursor, batchOrder, ResidentDataset } from '../engine/resident-dataset.ts';
import { defaultSubmitWait, SubmitPacer } from '../engine/submit-pacer.ts';
import { lenet5, type ModelSpec } from '../model/spec.ts';
import { inferShapes } from '../model/infer.ts';
import { decodeTotals } from '../kernels/metrics.ts';
import type { KernelVariant } from '../kernels/variant.ts';
import { countFlops } from '../model/flops.ts';
import { groupKernelTimes, kernelFamily, kernelName, profileDispatches, profileDispatchSpan, type KernelTime } from './kernel-profile.ts';
import { mapSpread, now, summarize, type Spread } from './stats.ts';
import { gpuIdle } from '../gpu/gpu-wait.ts';

export interface StepBenchOptions {
  batch: number;
  spec?: ModelSpec;
  variant?: KernelVariant;
  warmupSteps?: number;
  /** Fixed steps per repeat; otherwise calibrated to repeatBudgetMs. */
  steps?: number;
  repeatBudgetMs?: number;
  minSteps?: number;
  maxSteps?: number;
  repeats?: number;
  stepsPerSubmit?: number;
  maxSubmitsInFlight?: number;
  /** Replays of the step under timestamp queries; 0 skips the profile. */
  profileRepeats?: number;
  /**
   * 'fit' (default): submit and wait as fit does (SubmitPacer: timer pacing
   * in Node, promises in browsers). 'promise': await one onSubmittedWorkDone
   * per submit to stay at most maxSubmitsInFlight ahead, in either runtime
   * (fit's wait before timer pacing). 'sleep': submit every step of a repeat
   * at once, sleep on a timer for 90% of the time the repeat is expected to
   * take, then await onSubmittedWorkDone. Dawn's Node binding polls
   * continuously while a WebGPU promise is pending, which keeps a CPU core
   * busy; 'sleep' shows what the step costs without that.
   */
  wait?: StepWait;
  /** Training samples made resident (a slice of `data`); default 16 batches. */
  residentSamples?: number;
  seed?: number;
}

export type StepWait = 'fit' | 'promise' | 'sleep';

export interface KernelProfile {
  /** Sum of the per-dispatch GPU times of one step (each dispatch in its own pass). */
  gpuMsPerStep: number;
  /** First dispatch's start to last dispatch's end of one step (one submit): GPU busy plus the gaps between dispatches. */
  spanMsPerStep: number;
  /** spanMsPerStep - gpuMsPerStep: GPU idle between the dispatches of a step (barriers, launches), clamped at 0. */
  gapMsPerStep: number;
  perDispatch: KernelTime[];
  perKernel: KernelTime[];
  perFamily: KernelTime[];
}

export interface StepBenchResult {
  batch: number;
  variant: KernelVariant;
  warmupSteps: number;
  stepsPerRepeat: number;
  repeats: number;
  stepsPerSubmit: number;
  maxSubmitsInFlight: number;
  wait: StepWait;
  /** Dispatches per recorded step. */
  dispatchesPerStep: number;
  /** Queue submits per step: one command buffer (one compute pass) holds stepsPerSubmit steps. */
  submitsPerStep: number;
  msPerStep: Spread;
  samplesPerSecond: Spread;
  /** Against trainFlopsPerSample (flops.ts). */
  gflops: Spread;
  trainFlopsPerSample: number;
  /** Mean training loss and accuracy over the timed steps: proof that real training ran. */
  meanLoss: number;
  meanAccuracy: number;
  kernels: KernelProfile | { unavailable: string };
}

/**
 * Replays `steps` train steps and returns the wall time to their completion:
 * submitted as fit submits them, paced by `pacer`, or, with `sleepMs`, all at
 * once and then a timer sleep of sleepMs before the final wait (see StepWait).
 */
export async function timeTrainSteps(device: GPUDevice, pass: RecordedPass, steps: number, stepsPerSubmit: number, pacer: SubmitPacer, sleepMs?: number): Promise<number> {
  await gpuIdle(device);
  const t0 = now();
  for (let done = 0; done < steps; ) {
    const n = Math.min(stepsPerSubmit, steps - done);
    const encoder = device.createCommandEncoder({ label: `bench steps ${done}+${n}` });
    pass.encode(encoder, n);
    device.queue.submit([encoder.finish()]);
    done += n;
    if (sleepMs === undefined) await pacer.submitted(n);
  }
  if (sleepMs !== undefined && sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, sleepMs));
  await pacer.drain();
  await gpuIdle(device);
  return now() - t0;
}

/** Steps for one repeat of about budgetMs, from a measured ms/step. */
export function stepsForBudget(msPerStep: number, budgetMs: number, minSteps: number, maxSteps: number): number {
  return Math.max(minSteps, Math.min(maxSteps, Math.round(budgetMs / Math.max(msPerStep, 1e-3))));
}

export async function benchTrainStep(gpu: Gpu, data: ImageDataset, options: StepBenchOptions): Promise<StepBenchResult> {
  const B = options.batch;
  const spec = options.spec ?? lenet5;
  const warmupSteps = options.warmupSteps ?? 3;
  const repeats = options.repeats ?? 3;
  const stepsPerSubmit = options.stepsPerSubmit ?? 8;
  const maxInFlight = options.maxSubmitsInFlight ?? 2;
  const profileRepeats = options.profileRepeats ?? 3;
  const wait = options.wait ?? 'fit';
  const pacer = new SubmitPacer(gpu.device, wait === 'promise' ? 'promise' : defaultSubmitWait(gpu.report), maxInFlight);
  const flops = countFlops(inferShapes(spec, B));
  const { device } = gpu;

  const count = Math.min(data.count, options.residentSamples ?? Math.max(16 * B, 1024));
  const slice = subset(data, { start: 0, end: count });
  const model = await Model.create(gpu, spec, { batchSize: B, variant: options.variant, seed: options.seed ?? 1, optimizer: { kind: 'adam', learningRate: 0.001 } });
  const resident = new ResidentDataset(device, slice, 'bench data');
  const cursor = new BatchCursor(device, Math.ceil(count / B) * B, 'bench');
  let pass: RecordedPass | undefined;
  try {
    cursor.load(batchOrder(shuffledIndices(count, options.seed ?? 1), B, 'wrap'));
    pass = await recordTrainPass(model, resident, cursor);

    await timeTrainSteps(device, pass, warmupSteps, stepsPerSubmit, pacer);
    let stepsPerRepeat = options.steps;
    if (stepsPerRepeat === undefined) {
      const calibration = 2;
      const ms = (await timeTrainSteps(device, pass, calibration, stepsPerSubmit, pacer)) / calibration;
      stepsPerRepeat = stepsForBudget(ms, options.repeatBudgetMs ?? 4000, options.minSteps ?? 5, options.maxSteps ?? 500);
    }

    const reset = device.createCommandEncoder({ label: 'bench reset totals' });
    const resetPass = reset.beginComputePass();
    for (const d of model.resetTrainTotals) {
      resetPass.setPipeline(d.kernel.pipeline);
      resetPass.setBindGroup(0, d.bindGroup);
      resetPass.dispatchWorkgroups(...d.workgroups);
    }
    resetPass.end();
    device.queue.submit([reset.finish()]);

    let fastestMs = Infinity;
    if (wait === 'sleep') fastestMs = (await timeTrainSteps(device, pass, stepsPerRepeat, stepsPerSubmit, pacer)) / stepsPerRepeat;
    const msPerStepValues: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const sleepMs = wait === 'sleep' ? 0.9 * fastestMs * stepsPerRepeat : undefined;
      const ms = (await timeTrainSteps(device, pass, stepsPerRepeat, stepsPerSubmit, pacer, sleepMs)) / stepsPerRepeat;
      fastestMs = Math.min(fastestMs, ms);
      msPerStepValues.push(ms);
    }
    gpu.assertAlive();
    const totals = decodeTotals(await readBytes(device, model.trainTotals, 0, 16));

    let kernels: StepBenchResult['kernels'];
    if (profileRepeats <= 0) kernels = { unavailable: 'profile skipped' };
    else if (!device.features.has('timestamp-query')) kernels = { unavailable: "the adapter/device has no 'timestamp-query' feature" };
    else {
      await profileDispatches(device, pass.dispatches, 1);
      const profiled = await profileDispatchSpan(device, pass.dispatches, profileRepeats);
      const perDispatch = profiled?.times ?? [];
      const gpuMsPerStep = perDispatch.reduce((s, k) => s + k.ms, 0);
      const spanMsPerStep = profiled?.spanMs ?? gpuMsPerStep;
      kernels = {
        gpuMsPerStep,
        spanMsPerStep,
        gapMsPerStep: Math.max(0, spanMsPerStep - gpuMsPerStep),
        perDispatch: [...perDispatch].sort((a, b) => b.ms - a.ms),
        perKernel: groupKernelTimes(perDispatch, kernelName),
        perFamily: groupKernelTimes(perDispatch, kernelFamily),
      };
    }

    const msPerStep = summarize(msPerStepValues);
    return {
      batch: B,
      variant: model.variant,
      warmupSteps,
      stepsPerRepeat,
      repeats,
      stepsPerSubmit,
      maxSubmitsInFlight: maxInFlight,
      wait,
      dispatchesPerStep: pass.dispatches.length,
      submitsPerStep: 1 / stepsPerSubmit,
      msPerStep,
      samplesPerSecond: mapSpread(msPerStep, (ms) => (B * 1000) / ms),
      gflops: mapSpread(msPerStep, (ms) => (flops.trainFlops * B) / (ms * 1e6)),
      trainFlopsPerSample: flops.trainFlops,
      meanLoss: totals.lossSum / Math.max(1, totals.samples),
      meanAccuracy: totals.correct / Math.max(1, totals.samples),
      kernels,
    };
  } finally {
    pass?.dispose();
    cursor.dispose();
    resident.dispose();
    model.dispose();
  }
}
