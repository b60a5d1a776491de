/**
 * The network as recorded GPU work: a ModelPlan becomes buffers (cut once,
 * up front) and fixed lists of dispatches for the forward pass, the fused
 * softmax + cross-entropy, and the backward pass (the forward list walked in
 * reverse). Pipelines compile when a pass first needs them: `build` records
 * the forward pass, the loss and the softmax (all that predict and evaluate
 * run), `recordBackward` the backward pass on the first training pass; the
 * kernels of one pass compile concurrently. Nothing allocates, builds a
 * pipeline or a bind group after that; a step only re-records these lists.
 *
 * Buffers (B = plan.batch, all f32 unless noted):
 *   input (B, C*H*W)            the gathered, normalised batch
 *   acts[i] (B, ...out_i)       layer i's output after its activation; the
 *                               softmax of a last layer is NOT applied here:
 *                               acts[last] holds the logits
 *   dacts[i]                    dL/d acts[i]; the last one is dlogits. For a
 *                               conv/dense layer with a non-linear activation
 *                               whose output feeds a conv, dense or pooling
 *                               layer (directly or through a flatten), it holds
 *                               dL/d pre-activation instead: that consumer's
 *                               backward kernel fuses the activation's
 *                               derivative into its input gradient
 *   dpre[i]                     dL/d pre-activation of any other conv/dense layer
 *                               whose activation is not linear (an
 *                               activation_backward dispatch writes it, the
 *                               layer's backward reads it)
 *   params, grads (P)           flat, layout of model/params.ts aligned to 64
 *                               floats so each tensor binds at a legal offset
 *   labels (B, u32), probs (B, K), sampleLoss (B), sampleCorrect (B)
 * A flatten (and a trailing softmax activation layer) owns no buffers: its
 * acts/dacts are its input's, since NCHW flatten is a reshape.
 *
 * Which kernel runs for each layer in each pass, and what is fused into a
 * neighbour's kernel (a following average pooling, an activation's
 * derivative), is the kernel plan's (kernels/plan.ts): this file records it.
 */
import { STORAGE } from '../gpu/buffers.ts';
import { activationBackward, activationForward } from '../kernels/activation.ts';
import { conv2dBackward, conv2dBackwardThroughAvgPool, conv2dForward } from '../kernels/conv2d.ts';
import { denseBackward, denseForward } from '../kernels/dense.ts';
import { disposeDispatch, type BufferResource, type Dispatch, type KernelCache } from '../kernels/kernel.ts';
import { aliasesInput, planKernels, type KernelPlan } from '../kernels/plan.ts';
import { poolBackward, poolForward } from '../kernels/pool.ts';
import { softmaxCrossEntropy, softmaxForward } from '../kernels/softmax-xent.ts';
import type { KernelVariant } from '../kernels/variant.ts';
import type { ActivationKind } from '../reference/activation.ts';
import type { ModelPlan } from '../model/infer.ts';
import { layerTensors, parameterLayout, type ParameterLayout } from '../model/params.ts';

/** 64 floats = 256 bytes, WebGPU's minStorageBufferOffsetAlignment. */
export const PARAM_ALIGN = 64;

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Promise.all that waits for every promise before it rejects: a pass whose
 * kernels compile concurrently must not be disposed while some are still
 * being made (they would leak). Dispatches of the fulfilled ones are freed.
 */
async function settleAll<T extends Dispatch[]>(parts: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const r of settled) if (r.status === 'fulfilled') r.value.forEach(disposeDispatch);
    throw failed.reason;
  }
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export interface NetworkGraphOptions {
  variant: KernelVariant;
}

export class NetworkGraph {
  readonly layout: ParameterLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly input: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly probs: GPUBuffer;
  readonly sampleLoss: GPUBuffer;
  readonly sampleCorrect: GPUBuffer;
  readonly acts: GPUBuffer[] = [];
  readonly dacts: GPUBuffer[] = [];
  /** input -> logits (acts[last]). */
  readonly forward: Dispatch[] = [];
  /** logits + labels -> probs, dlogits, per-sample loss and correctness. */
  readonly loss: Dispatch[] = [];
  /** logits -> probs only, for prediction. */
  readonly softmax: Dispatch[] = [];
  /** dlogits -> grads, every layer in reverse; empty until recordBackward() resolves. */
  readonly backward: Dispatch[] = [];
  private readonly owned: GPUBuffer[] = [];
  /** What runs for each layer in each pass (kernels/plan.ts); set by build. */
  kernelPlan!: KernelPlan;
  private backwardRecorded: Promise<Dispatch[]> | undefined;
  private cache: KernelCache | undefined;

  private constructor(
    readonly device: GPUDevice,
    readonly plan: ModelPlan,
  ) {
    if (!plan.softmaxOutput) throw new Error(`model ${plan.name}: the last layer must have a softmax activation (trained with softmax cross-entropy)`);
    const B = plan.batch;
    this.layout = parameterLayout(plan, PARAM_ALIGN);
    this.params = this.buffer(this.layout.total, 'params');
    this.grads = this.buffer(this.layout.total, 'grads');
    this.input = this.buffer(B * product(plan.inputShape), 'input');
    this.labels = this.buffer(B, 'labels');
    this.probs = this.buffer(B * plan.outputClasses, 'probs');
    this.sampleLoss = this.buffer(B, 'sampleLoss');
    this.sampleCorrect = this.buffer(B, 'sampleCorrect');
    const last = plan.layers.length - 1;
    plan.layers.forEach((layer, i) => {
      if (aliasesInput(layer)) {
        this.acts.push(i === 0 ? this.input : this.acts[i - 1]);
        this.dacts.push(i === 0 ? this.buffer(B * product(plan.inputShape), 'dinput') : this.dacts[i - 1]);
      } else {
        const size = B * product(layer.outputShape);
        this.acts.push(this.buffer(size, `${layer.name} out`));
        this.dacts.push(this.buffer(size, i === last ? 'dlogits' : `${layer.name} dout`));
      }
    });
  }

  /** Cuts the buffers and records the forward pass, the loss and the softmax (their pipelines compile here, once). */
  static async build(cache: KernelCache, plan: ModelPlan, options: NetworkGraphOptions): Promise<NetworkGraph> {
    const graph = new NetworkGraph(cache.device, plan);
    graph.cache = cache;
    graph.kernelPlan = planKernels(plan, options.variant);
    try {
      await graph.recordForward(cache);
    } catch (error) {
      graph.dispose();
      throw error;
    }
    return graph;
  }

  /**
   * Records the backward pass the first time training needs it (its pipelines
   * compile then, once) and returns it; later calls return the same list.
   */
  recordBackward(): Promise<Dispatch[]> {
    this.backwardRecorded ??= (async () => {
      await this.recordBackwardPass(this.cache!);
      return this.backward;
    })();
    return this.backwardRecorded;
  }

  get logits(): GPUBuffer {
    return this.acts[this.acts.length - 1];
  }

  get dlogits(): GPUBuffer {
    return this.dacts[this.dacts.length - 1];
  }

  private buffer(elements: number, label: string): GPUBuffer {
    const b = this.device.createBuffer({ size: Math.max(4, elements * 4), usage: STORAGE(), label });
    this.owned.push(b);
    return b;
  }

  private tensor(layer: number, name: 'kernel' | 'bias', of: GPUBuffer): BufferResource {
    const t = layerTensors(this.layout, layer)![name];
    return { buffer: of, offset: t.offset * 4, size: t.size * 4 };
  }

  private inputOf(i: number): GPUBuffer {
    return i === 0 ? this.input : this.acts[i - 1];
  }

  /** The forward pass: the plan's layers in order. */
  private async recordForward(cache: KernelCache): Promise<void> {
    const { plan, kernelPlan } = this;
    const B = plan.batch;
    const opts = { variant: kernelPlan.variant };
    // Every pipeline of the pass is asked for before any is awaited: they compile concurrently.
    const parts: Promise<Dispatch[]>[] = [];
    for (const [i, step] of kernelPlan.layers.entries()) {
      const layer = step.layer;
      const io = { inp: this.inputOf(i), out: this.acts[i] };
      if (step.forward.entries.length === 0) continue; // fused into its neighbour, or no work
      if (layer.type === 'conv2d') {
        const p = { weight: this.tensor(i, 'kernel', this.params), bias: this.tensor(i, 'bias', this.params) };
        const pooled = step.writesPool ? { pooled: this.acts[i + 1] } : {};
        parts.push(conv2dForward(cache, layer.conv!, step.ownActivation, { ...io, ...p, ...pooled }, opts));
      } else if (layer.type === 'dense') {
        const p = { weight: this.tensor(i, 'kernel', this.params), bias: this.tensor(i, 'bias', this.params) };
        parts.push(denseForward(cache, { batch: B, ...layer.dense! }, step.ownActivation, { ...io, ...p }, opts));
      } else if (layer.type === 'avgPool2d' || layer.type === 'maxPool2d') {
        parts.push(poolForward(cache, layer.type === 'avgPool2d' ? 'avg' : 'max', layer.pool!, io));
      } else if (layer.type === 'activation') {
        parts.push(activationForward(cache, layer.activation as ActivationKind, B * product(layer.outputShape), io).then((d) => [d]));
      }
    }

    const dims = { batch: B, classes: plan.outputClasses };
    const loss = softmaxCrossEntropy(cache, dims, {
      logits: this.logits,
      labels: this.labels,
      probs: this.probs,
      dlogits: this.dlogits,
      sampleLoss: this.sampleLoss,
      sampleCorrect: this.sampleCorrect,
    });
    const softmax = softmaxForward(cache, dims, { logits: this.logits, probs: this.probs });
    const [forward, [lossList, softmaxList]] = await Promise.all([settleAll(parts), settleAll([loss, softmax])]);
    this.forward.push(...forward.flat());
    this.loss.push(...lossList);
    this.softmax.push(...softmaxList);
  }

  /** The backward pass: the same layers reversed. */
  private async recordBackwardPass(cache: KernelCache): Promise<void> {
    const { plan, kernelPlan } = this;
    const B = plan.batch;
    const variant = kernelPlan.variant;
    const parts: Promise<Dispatch[]>[] = [];
    for (let i = kernelPlan.layers.length - 1; i >= 0; i--) {
      const step = kernelPlan.layers[i];
      const layer = step.layer;
      if (step.backward.entries.length === 0) continue; // folded into a neighbour, a first layer's pooling, or no work
      const dinp = i === 0 ? undefined : this.dacts[i - 1];
      const count = B * product(layer.outputShape);
      if (step.weightGradThroughPool) {
        // The first convolution's weight gradient from the following pooling's output gradient (that pooling records nothing).
        const io = { dpool: this.dacts[1], out: this.acts[0], inp: this.input, dweight: this.tensor(0, 'kernel', this.grads), dbias: this.tensor(0, 'bias', this.grads) };
        parts.push(conv2dBackwardThroughAvgPool(cache, layer.conv!, step.ownActivation, io, { variant }));
        continue;
      }
      const bwdOpts = { variant, belowActivation: dinp ? step.belowActivation : 'linear' };
      if (layer.type === 'conv2d' || layer.type === 'dense') {
        // dL/d pre-activation: the layer's own activation derivative first, unless linear or applied by the layer above.
        let dout = this.dacts[i];
        if (step.ownActivation !== 'linear' && !step.derivativeFusedBelow) {
          dout = this.buffer(count, `${layer.name} dpre`);
          parts.push(activationBackward(cache, step.ownActivation, count, { dinp: dout, dout: this.dacts[i], out: this.acts[i] }).then((d) => [d]));
        }
        const io = {
          dinp,
          dout,
          inp: this.inputOf(i),
          weight: this.tensor(i, 'kernel', this.params),
          dweight: this.tensor(i, 'kernel', this.grads),
          dbias: this.tensor(i, 'bias', this.grads),
        };
        parts.push(layer.type === 'conv2d' ? conv2dBackward(cache, layer.conv!, io, bwdOpts) : denseBackward(cache, { batch: B, ...layer.dense! }, io, bwdOpts));
      } else if ((layer.type === 'avgPool2d' || layer.type === 'maxPool2d') && dinp) {
        const mode = layer.type === 'avgPool2d' ? 'avg' : 'max';
        parts.push(poolBackward(cache, mode, layer.pool!, { dinp, dout: this.dacts[i], inp: this.inputOf(i) }, bwdOpts));
      } else if (layer.type === 'activation' && dinp) {
        parts.push(activationBackward(cache, layer.activation as ActivationKind, count, { dinp, dout: this.dacts[i], out: this.acts[i] }).then((d) => [d]));
      }
    }
    this.backward.push(...(await settleAll(parts)).flat());
  }

  dispose(): void {
    for (const list of [this.forward, this.loss, this.softmax, this.backward]) list.forEach(disposeDispatch);
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}
