/**
 * A trainable model on one GPU device: the network graph, the optimizer
 * state and the metric totals, with the Keras-style workflow on top
 * (fit / evaluate / predict live in their own files and use this class).
 *
 * Everything the step touches is allocated here or at the start of a fit;
 * the step itself is a recorded list of dispatches replayed step after step.
 */
import type { Gpu } from '../gpu/device.ts';
import { readF32, STORAGE } from '../gpu/buffers.ts';
import { inferShapes, type ModelPlan } from '../model/infer.ts';
import { checkPlanFitsAdapter } from '../graph/limits.ts';
import { NetworkGraph } from '../graph/network-graph.ts';
import { initParameters } from '../model/params.ts';
import { alignParams, packedSize, packParams } from '../graph/param-packing.ts';
import type { ModelSpec } from '../model/spec.ts';
import { formatSummary } from '../model/summary.ts';
import { KernelCache, disposeDispatch, type Dispatch } from '../kernels/kernel.ts';
import { metricsReset } from '../kernels/metrics.ts';
import { formatKernelPlan } from '../kernels/plan.ts';
import { defaultVariant, type KernelVariant } from '../kernels/variant.ts';
import { ModelDisposedError, TurnLock } from './model-turns.ts';
import { OptimizerState, resolveOptimizer, type OptimizerConfig } from './optimizer-state.ts';

export interface ModelOptions {
  /** Seeds the initial weights (and, by default, the shuffle). Default 1. */
  seed?: number;
  /** The batch the graph is built for. Default 64. */
  batchSize?: number;
  optimizer?: OptimizerConfig;
  /** Kernel variant; default by adapter (variant.ts). */
  variant?: KernelVariant;
}

export class Model {
  readonly cache: KernelCache;
  /** Training and evaluation metric totals (loss sum, correct, samples, steps). */
  readonly trainTotals: GPUBuffer;
  readonly evalTotals: GPUBuffer;
  readonly resetTrainTotals: Dispatch[] = [];
  readonly resetEvalTotals: Dispatch[] = [];
  /** Serialises fit's submits with evaluate, predict and checkpoint capture (model-turns.ts). */
  readonly turns = new TurnLock();
  /** Set while fit runs on this model: a second fit is refused. */
  fitting = false;
  private disposed = false;

  private constructor(
    readonly gpu: Gpu,
    readonly spec: ModelSpec,
    readonly plan: ModelPlan,
    readonly seed: number,
    readonly variant: KernelVariant,
    cache: KernelCache,
    readonly graph: NetworkGraph,
    readonly optimizer: OptimizerState,
  ) {
    this.cache = cache;
    const totals = (label: string): GPUBuffer => gpu.device.createBuffer({ size: 16, usage: STORAGE(), label });
    this.trainTotals = totals('train totals');
    this.evalTotals = totals('eval totals');
  }

  /** Shape inference runs first, so an impossible spec fails before any GPU work. */
  static async create(gpu: Gpu, spec: ModelSpec, options: ModelOptions = {}): Promise<Model> {
    const batch = options.batchSize ?? 64;
    const plan = inferShapes(spec, batch);
    const optimizerConfig = resolveOptimizer(options.optimizer);
    const seed = options.seed ?? 1;
    const variant = options.variant ?? defaultVariant(gpu.report);
    checkPlanFitsAdapter(plan, gpu.device.limits);
    gpu.assertAlive();
    const cache = KernelCache.shared(gpu.device);
    // Forward kernels only: predict and evaluate need no more; trainingPass() compiles the rest when training starts.
    const graph = await NetworkGraph.build(cache, plan, { variant });
    const optimizer = OptimizerState.create(cache, optimizerConfig, graph.params, graph.grads, graph.layout.total);
    const model = new Model(gpu, spec, plan, seed, variant, cache, graph, optimizer);
    model.resetTrainTotals.push(...(await metricsReset(cache, { totals: model.trainTotals })));
    model.resetEvalTotals.push(...(await metricsReset(cache, { totals: model.evalTotals })));
    model.setWeights(initParameters(plan, seed));
    return model;
  }

  /**
   * The backward pass and the optimizer update, recorded (and their pipelines
   * compiled, concurrently) the first time training asks for them.
   */
  async trainingPass(): Promise<{ backward: Dispatch[]; update: Dispatch[] }> {
    const [backward, update] = await Promise.all([this.graph.recordBackward(), this.optimizer.recordUpdate()]);
    return { backward, update };
  }

  get batchSize(): number {
    return this.plan.batch;
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  summary(): string {
    return `${formatSummary(this.plan)}\n${this.kernelPlan()}`;
  }

  /** Which kernels run for each layer in each pass, and what they fuse (kernels/plan.ts). */
  kernelPlan(): string {
    const o = this.optimizer.config;
    return formatKernelPlan(this.graph.kernelPlan, o.kind === 'adam' ? 'adam_update' : 'sgd_update');
  }

  /** Writes packed weights (parameterLayout(plan) without alignment, as initParameters gives). */
  setWeights(packed: Float32Array): void {
    const total = packedSize(this.graph.layout);
    if (packed.length !== total) throw new Error(`weights hold ${packed.length} values but ${this.plan.name} has ${total} parameters`);
    this.device.queue.writeBuffer(this.graph.params, 0, alignParams(this.graph.layout, packed));
  }

  /** Reads the weights back, packed (no alignment gaps). */
  async getWeights(): Promise<Float32Array> {
    return packParams(this.graph.layout, await readF32(this.device, this.graph.params, this.graph.layout.total));
  }

  /** Reads the last step's gradients back, packed. */
  async getGradients(): Promise<Float32Array> {
    return packParams(this.graph.layout, await readF32(this.device, this.graph.grads, this.graph.layout.total));
  }

  /**
   * After a numerical failure: the first layer, in forward order, whose
   * parameters or last outputs hold a NaN or an infinity; if none do, the
   * last layer, whose logits overflowed the loss.
   */
  async firstNonFiniteLayer(): Promise<string> {
    const { graph, plan, device } = this;
    const params = await readF32(device, graph.params, graph.layout.total);
    const bad = (values: Float32Array): boolean => values.some((v) => !Number.isFinite(v));
    for (const [i, layer] of plan.layers.entries()) {
      for (const t of graph.layout.tensors.filter((t) => t.layer === i)) {
        if (bad(params.subarray(t.offset, t.offset + t.size))) return `layer ${i} '${layer.name}' (its ${t.name} holds non-finite values)`;
      }
      if (bad(await readF32(device, graph.acts[i]))) return `layer ${i} '${layer.name}' (its outputs hold non-finite values)`;
    }
    // Everything finite: the loss overflowed on huge logits.
    const last = plan.layers.length - 1;
    const logits = await readF32(device, graph.logits);
    const largest = logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    return `layer ${last} '${plan.layers[last].name}' (its logits reach ${largest.toExponential(2)}, overflowing the loss)`;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws ModelDisposedError naming `operation` once dispose() has run. */
  assertUsable(operation: string): void {
    if (this.disposed) {
      throw new ModelDisposedError(`${operation}: this ${this.plan.name} model was disposed, which released its GPU buffers; create a new Model (or load a checkpoint into one) to go on`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.graph.dispose();
    this.optimizer.dispose();
    [...this.resetTrainTotals, ...this.resetEvalTotals].forEach(disposeDispatch);
    this.trainTotals.destroy();
    this.evalTotals.destroy();
  }
}
