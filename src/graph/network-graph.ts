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
 *   params, grads (P)           flat, layout of graph/params.ts aligned to 64
 *                               floats so each tensor binds at a legal offset
 *   labels (B, u32), probs (B, K), sampleLoss (B), sampleCorrect (B)
 * A flatten (and a trailing softmax activation layer) owns no buffers: its
 * acts/dacts are its input's, since NCHW flatten is a reshape.
 *
 * Fusions (fewer dispatches, same buffers): a conv2d followed by a 2x2
 * stride-2 average pooling that its kernel can also write
 * (conv2dFusesAvgPool) records no pooling forward dispatch, the convolution
 * writes both acts; a non-linear activation's derivative is applied by the
 * backward kernel of the layer reading its output (see dacts above); and a
 * first-layer conv2d followed by such a pooling computes its weight gradient
 * from the pooling's output gradient (conv2dBackwardThroughAvgPool), so the
 * pooling records no backward dispatch and dacts[0] is never written.
 */
import { STORAGE } from '../gpu/buffers.ts';
import { activationBackward, activationForward } from '../kernels/activation.ts';
import { conv2dBackward, conv2dBackwardThroughAvgPool, conv2dForward, conv2dFusesAvgPool, conv2dFusesAvgPoolBackward } from '../kernels/conv2d.ts';
import { denseBackward, denseForward } from '../kernels/dense.ts';
import { disposeDispatch, type BufferResource, type Dispatch, type KernelCache } from '../kernels/kernel.ts';
import { poolBackward, poolForward } from '../kernels/pool.ts';
import { softmaxCrossEntropy, softmaxForward } from '../kernels/softmax-xent.ts';
import type { KernelVariant } from '../kernels/variant.ts';
import type { ActivationKind } from '../reference/activation.ts';
import type { LayerPlan, ModelPlan } from './infer.ts';
import { layerTensors, parameterLayout, type ParameterLayout } from './params.ts';

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
  private backwardRecorded: Promise<Dispatch[]> | undefined;
  private cache: KernelCache | undefined;
  private variant: KernelVariant = 'blocked';

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
      const aliasesInput = layer.type === 'flatten' || (layer.type === 'activation' && (layer.activation === 'softmax' || layer.activation === 'linear'));
      if (aliasesInput) {
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
    graph.variant = options.variant;
    try {
      await graph.recordForward(cache, options.variant);
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
      await this.recordBackwardPass(this.cache!, this.variant);
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

  /** The activation a layer's own kernel fuses; a final softmax is left to the loss. */
  private fusedActivation(layer: LayerPlan): ActivationKind {
    return layer.activation === 'softmax' ? 'linear' : layer.activation;
  }

  /**
   * For each layer, the activation whose derivative its backward kernel fuses
   * into its input gradient: that of the conv/dense layer whose output it
   * reads (through flattens), when it is a conv, dense or pooling layer and
   * that activation is not linear. The producer's dacts then hold dL/d its
   * pre-activation, and it needs no activation_backward dispatch.
   */
  private belowActivations(): ActivationKind[] {
    const layers = this.plan.layers;
    const aliases = (l: LayerPlan): boolean => l.type === 'flatten' || (l.type === 'activation' && (l.activation === 'softmax' || l.activation === 'linear'));
    const fuses = (l: LayerPlan): boolean => l.type === 'conv2d' || l.type === 'dense' || l.type === 'avgPool2d' || l.type === 'maxPool2d';
    return layers.map((layer, j) => {
      let i = j - 1;
      while (i >= 0 && aliases(layers[i])) i--;
      if (i < 0 || !fuses(layer)) return 'linear';
      const producer = layers[i];
      return producer.type === 'conv2d' || producer.type === 'dense' ? this.fusedActivation(producer) : 'linear';
    });
  }

  private inputOf(i: number): GPUBuffer {
    return i === 0 ? this.input : this.acts[i - 1];
  }

  private async recordForward(cache: KernelCache, variant: KernelVariant): Promise<void> {
    const { plan } = this;
    const B = plan.batch;
    const opts = { variant };
    const inputOf = (i: number): GPUBuffer => this.inputOf(i);
    // Every pipeline of the pass is asked for before any is awaited: they compile concurrently.
    const parts: Promise<Dispatch[]>[] = [];

    // Average-pooling layers whose forward pass the preceding convolution's kernel does (conv2dFusesAvgPool).
    const pooledByConv = new Set<number>();
    for (const [i, layer] of plan.layers.entries()) {
      const io = { inp: inputOf(i), out: this.acts[i] };
      if (pooledByConv.has(i)) continue;
      if (layer.type === 'conv2d') {
        const p = { weight: this.tensor(i, 'kernel', this.params), bias: this.tensor(i, 'bias', this.params) };
        const next = plan.layers[i + 1];
        const fusePool = next?.type === 'avgPool2d' && conv2dFusesAvgPool(layer.conv!, next.pool!, variant);
        if (fusePool) pooledByConv.add(i + 1);
        const pooled = fusePool ? { pooled: this.acts[i + 1] } : {};
        parts.push(conv2dForward(cache, layer.conv!, this.fusedActivation(layer), { ...io, ...p, ...pooled }, opts));
      } else if (layer.type === 'dense') {
        const p = { weight: this.tensor(i, 'kernel', this.params), bias: this.tensor(i, 'bias', this.params) };
        const dims = { batch: B, ...layer.dense! };
        parts.push(denseForward(cache, dims, this.fusedActivation(layer), { ...io, ...p }, opts));
      } else if (layer.type === 'avgPool2d' || layer.type === 'maxPool2d') {
        parts.push(poolForward(cache, layer.type === 'avgPool2d' ? 'avg' : 'max', layer.pool!, io));
      } else if (layer.type === 'activation' && io.inp !== io.out) {
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

  private async recordBackwardPass(cache: KernelCache, variant: KernelVariant): Promise<void> {
    const { plan } = this;
    const B = plan.batch;
    const opts = { variant };
    const inputOf = (i: number): GPUBuffer => this.inputOf(i);
    const parts: Promise<Dispatch[]>[] = [];

    const below = this.belowActivations();
    // Layers whose activation derivative a consumer fuses: their dacts already hold dL/d pre-activation.
    const derivativeFused = new Set<LayerPlan>();
    below.forEach((activation, j) => {
      if (activation === 'linear') return;
      let i = j - 1;
      while (plan.layers[i].type !== 'conv2d' && plan.layers[i].type !== 'dense') i--;
      derivativeFused.add(plan.layers[i]);
    });

    // A first-layer convolution followed by a 2x2 average pooling takes the
    // pooling's output gradient directly (conv2dBackwardThroughAvgPool): the
    // pooling records no backward dispatch.
    const first = plan.layers[0];
    const throughPool =
      first.type === 'conv2d' && plan.layers[1]?.type === 'avgPool2d' && conv2dFusesAvgPoolBackward(first.conv!, plan.layers[1].pool!, variant);

    for (let i = plan.layers.length - 1; i >= 0; i--) {
      const layer = plan.layers[i];
      const dinp = i === 0 ? undefined : this.dacts[i - 1];
      const fused = this.fusedActivation(layer);
      if (throughPool && i === 1) continue;
      if (throughPool && i === 0) {
        const io = {
          dpool: this.dacts[1],
          out: this.acts[0],
          inp: this.input,
          dweight: this.tensor(0, 'kernel', this.grads),
          dbias: this.tensor(0, 'bias', this.grads),
        };
        parts.push(conv2dBackwardThroughAvgPool(cache, layer.conv!, fused, io, opts));
        continue;
      }
      const bwdOpts = { variant, belowActivation: dinp ? below[i] : 'linear' };
      // dL/d pre-activation: the activation's derivative applied first, unless linear or fused below.
      const preGrad = (): GPUBuffer => {
        if (fused === 'linear' || derivativeFused.has(layer)) return this.dacts[i];
        const dpre = this.buffer(B * product(layer.outputShape), `${layer.name} dpre`);
        parts.push(activationBackward(cache, fused, B * product(layer.outputShape), { dinp: dpre, dout: this.dacts[i], out: this.acts[i] }).then((d) => [d]));
        return dpre;
      };
      if (layer.type === 'conv2d' || layer.type === 'dense') {
        const dout = preGrad();
        const io = {
          dinp,
          dout,
          inp: inputOf(i),
          weight: this.tensor(i, 'kernel', this.params),
          dweight: this.tensor(i, 'kernel', this.grads),
          dbias: this.tensor(i, 'bias', this.grads),
        };
        parts.push(layer.type === 'conv2d' ? conv2dBackward(cache, layer.conv!, io, bwdOpts) : denseBackward(cache, { batch: B, ...layer.dense! }, io, bwdOpts));
      } else if ((layer.type === 'avgPool2d' || layer.type === 'maxPool2d') && dinp) {
        const mode = layer.type === 'avgPool2d' ? 'avg' : 'max';
        parts.push(poolBackward(cache, mode, layer.pool!, { dinp, dout: this.dacts[i], inp: inputOf(i) }, bwdOpts));
      } else if (layer.type === 'activation' && dinp && this.acts[i] !== inputOf(i)) {
        const count = B * product(layer.outputShape);
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
