/**
 * The Node (Dawn) half of `npm run bench`: one GPU device from requestGpu()
 * for the training step at each batch size, the matmul ceiling, and
 * optionally the kernel micro-benchmarks and the time to a test accuracy.
 * The runner interleaves NodeBench.step with the browser's run of the same
 * batch size, so both see the same load on a shared machine; runNodeBench
 * does everything in one go (the smoke test uses it).
 */
import { loadMnistNode } from '../src/data/mnist-node.ts';
import type { MnistSplits } from '../src/data/mnist-browser.ts';
import type { AdapterReport, Gpu } from '../src/gpu/device.ts';
import { requestGpu } from '../src/gpu/device-node.ts';
import { lenet5 } from '../src/model/spec.ts';
import { benchKernels, matmulCeiling, type KernelCaseResult, type MatmulCeiling, type TimingOptions } from '../src/bench/kernels.ts';
import { formatSpread } from '../src/bench/stats.ts';
import { timeToAccuracy, type ToAccuracyResult } from '../src/bench/to-accuracy.ts';
import { benchTrainStep, type StepBenchResult } from '../src/bench/train-step.ts';
import type { StepPlan } from './protocol.ts';

export interface NodeSection {
  adapter: AdapterReport;
  steps: StepBenchResult[];
  ceiling?: MatmulCeiling;
  kernels?: { batch: number; results: KernelCaseResult[] };
  toAccuracy?: ToAccuracyResult;
}

export class NodeBench {
  readonly section: NodeSection;

  private constructor(
    private readonly gpu: Gpu,
    private readonly data: MnistSplits | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.section = { adapter: gpu.report, steps: [] };
  }

  /** `data`: MNIST if the caller has it; loaded here when needed and not given. */
  static async open(options: { data?: MnistSplits; needsData?: boolean; log?: (line: string) => void } = {}): Promise<NodeBench> {
    const data = options.data ?? (options.needsData === false ? undefined : await loadMnistNode());
    return new NodeBench(await requestGpu(), data, options.log ?? (() => undefined));
  }

  private mnist(): MnistSplits {
    if (!this.data) throw new Error('NodeBench was opened without MNIST');
    return this.data;
  }

  async step(batch: number, plan: StepPlan): Promise<StepBenchResult> {
    const r = await benchTrainStep(this.gpu, this.mnist().train, { ...plan, batch, spec: lenet5 });
    this.log(`  node B=${batch}: ${formatSpread(r.samplesPerSecond)} samples/s, ${formatSpread(r.msPerStep)} ms/step (${r.repeats} repeats x ${r.stepsPerRepeat} steps after ${r.warmupSteps} warm-up)`);
    this.section.steps.push(r);
    return r;
  }

  async ceiling(options: { sizes: [number, number, number][]; timing?: TimingOptions }): Promise<MatmulCeiling> {
    this.section.ceiling = await matmulCeiling(this.gpu, {
      sizes: options.sizes,
      timing: options.timing,
      onResult: (r) => this.log(`  node matmul ${r.m}x${r.k}x${r.n} [${r.variant}]: ${formatSpread(r.gflops, 2)} GFLOP/s`),
    });
    return this.section.ceiling;
  }

  async kernels(options: { batch: number; timing?: TimingOptions }): Promise<KernelCaseResult[]> {
    const results = await benchKernels(this.gpu, { batch: options.batch, timing: options.timing, onResult: (r) => this.log(`  node ${r.name} [${r.variant}]: ${formatSpread(r.ms, 3)} ms`) });
    this.section.kernels = { batch: options.batch, results };
    return results;
  }

  async toAccuracy(options: { target: number; batch: number; maxEpochs: number }): Promise<ToAccuracyResult> {
    this.log(`  node: training to ${options.target} test accuracy (batch ${options.batch}, at most ${options.maxEpochs} epochs)`);
    const data = this.mnist();
    this.section.toAccuracy = await timeToAccuracy(this.gpu, data.train, data.test, {
      ...options,
      onEpoch: (e) => this.log(`  node epoch ${e.epoch}: test accuracy ${e.testAccuracy.toFixed(4)}, ${e.elapsedSeconds.toFixed(1)} s so far`),
    });
    return this.section.toAccuracy;
  }

  close(): void {
    this.gpu.destroy();
  }
}

export interface NodeBenchOptions {
  batches: number[];
  step: StepPlan;
  ceiling?: { sizes: [number, number, number][]; timing?: TimingOptions };
  kernels?: { batch: number; timing?: TimingOptions };
  toAccuracy?: { target: number; batch: number; maxEpochs: number };
  data?: MnistSplits;
  log?: (line: string) => void;
}

/** Every Node stage in order on one device. */
export async function runNodeBench(options: NodeBenchOptions): Promise<NodeSection> {
  const bench = await NodeBench.open({ data: options.data, needsData: options.batches.length > 0 || options.toAccuracy !== undefined, log: options.log });
  try {
    for (const batch of options.batches) await bench.step(batch, options.step);
    if (options.ceiling) await bench.ceiling(options.ceiling);
    if (options.kernels) await bench.kernels(options.kernels);
    if (options.toAccuracy) await bench.toAccuracy(options.toAccuracy);
    return bench.section;
  } finally {
    bench.close();
  }
}
