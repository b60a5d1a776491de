/**
 * A small CPU reference network: the reference kernels wired together from a
 * ModelPlan, the ground truth a whole GPU training step is compared with.
 *
 * Memory, llm.c style: one flat parameter buffer and one flat gradient
 * buffer in the layout of model/params.ts (kernel then bias per conv2d/dense
 * layer, in layer order), each tensor a subarray view; one activation buffer
 * and one activation-gradient buffer per layer, sized for plan.batch. A call
 * with a smaller batch uses prefix views of them. The element type is chosen
 * at construction (Float32Array as stored on the GPU, Float64Array for the
 * finite-difference checks); all the arithmetic is the shared reference code.
 *
 * acts[i] holds layer i's output (B, ...outputShape) after its activation,
 * which is what the activation backward needs (it differentiates from the
 * output y). A softmax on the last layer is NOT applied there: acts[last]
 * holds the logits, and softmax is fused into the cross-entropy loss
 * (forward() applies it separately to return probabilities). Training
 * therefore requires a softmax last layer.
 *
 * The backward pass is the layer list walked in reverse: dacts[i] holds
 * dL/d(output of layer i); each layer turns it (in place) into the gradient
 * of its pre-activation, then writes its parameter gradients into its slice
 * of `grads` and dL/d(its input) into dacts[i-1]. Every gradient tensor is
 * OVERWRITTEN each call. Layer 0 skips its input gradient.
 */
import type { Conv2dGeometry, Pool2dGeometry } from '../geometry.ts';
import type { LayerPlan, ModelPlan } from '../model/infer.ts';
import { layerTensors, parameterLayout, type ParameterLayout } from '../model/params.ts';
import { activationBackward, activationForward, softmaxForward, type ActivationKind } from './activation.ts';
import { conv2dBackward, conv2dForward } from './conv2d.ts';
import { denseBackward, denseForward } from './dense.ts';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward, type Labels } from './loss.ts';
import { optimizerStep, type ReferenceOptimizer } from './optim.ts';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './pool.ts';
import type { Vec, VecConstructor } from '../util/vec.ts';

interface LayerBuffers {
  kernel: Vec | null;
  bias: Vec | null;
  dkernel: Vec | null;
  dbias: Vec | null;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class ReferenceNetwork {
  readonly plan: ModelPlan;
  readonly layout: ParameterLayout;
  /** (P) flat parameters; updated in place by trainStep. Perturb freely for finite differences. */
  readonly params: Vec;
  /** (P) flat gradients of the last lossAndGradients call, same layout as params. */
  readonly grads: Vec;
  private readonly arrayType: VecConstructor;
  private readonly buffers: LayerBuffers[];
  private readonly acts: Vec[]; // acts[i]: (plan.batch, ...layers[i].outputShape)
  private readonly dacts: Vec[]; // same shapes as acts
  private readonly probs: Vec; // (plan.batch, classes)
  private readonly losses: Vec; // (plan.batch)
  private readonly inputSize: number;
  private readonly fusedSoftmax: boolean;

  /**
   * `params` (from initParameters, packed layout) is copied into a new buffer
   * of `arrayType`.
   */
  constructor(plan: ModelPlan, params: ArrayLike<number>, arrayType: VecConstructor = Float32Array) {
    this.plan = plan;
    this.layout = parameterLayout(plan);
    if (params.length !== this.layout.total) {
      throw new RangeError(`params has ${params.length} elements but the plan's packed layout needs ${this.layout.total}`);
    }
    this.arrayType = arrayType;
    this.params = new arrayType(params);
    this.grads = new arrayType(this.layout.total);
    this.buffers = plan.layers.map((layer) => {
      const t = layerTensors(this.layout, layer.index);
      if (!t) return { kernel: null, bias: null, dkernel: null, dbias: null };
      const view = (v: Vec, at: { offset: number; size: number }): Vec => v.subarray(at.offset, at.offset + at.size);
      return { kernel: view(this.params, t.kernel), bias: view(this.params, t.bias), dkernel: view(this.grads, t.kernel), dbias: view(this.grads, t.bias) };
    });
    this.acts = plan.layers.map((l) => new arrayType(plan.batch * product(l.outputShape)));
    this.dacts = plan.layers.map((l) => new arrayType(plan.batch * product(l.outputShape)));
    this.probs = new arrayType(plan.batch * plan.outputClasses);
    this.losses = new arrayType(plan.batch);
    this.inputSize = product(plan.inputShape);
    this.fusedSoftmax = plan.softmaxOutput;
  }

  /**
   * Runs the network on `batch` images (B, C, H, W), pixels already scaled to
   * [0, 1]. Returns a new (B, classes) array: probabilities when the last
   * layer is softmax, the raw outputs otherwise.
   */
  forward(images: Vec, batch: number): Vec {
    this.checkBatch(images, batch);
    this.forwardLayers(images, batch);
    const n = batch * this.plan.outputClasses;
    const result = new this.arrayType(n);
    const last = this.acts[this.acts.length - 1].subarray(0, n);
    if (this.fusedSoftmax) softmaxForward(result, last, batch, this.plan.outputClasses);
    else result.set(last);
    return result;
  }

  /**
   * Mean sparse categorical cross-entropy of `batch` samples and its gradient
   * with respect to every parameter. `grads` is this.grads, overwritten by
   * the next call: copy it to keep it.
   */
  lossAndGradients(images: Vec, labels: Labels, batch: number): { loss: number; grads: Vec } {
    if (!this.fusedSoftmax) {
      throw new Error(`training needs a softmax last layer (it is fused into the cross-entropy loss); '${this.plan.layers[this.plan.layers.length - 1].name}' has activation '${this.plan.layers[this.plan.layers.length - 1].activation}'`);
    }
    this.checkBatch(images, batch);
    if (labels.length < batch) throw new RangeError(`labels has ${labels.length} entries, fewer than the batch of ${batch}`);
    this.forwardLayers(images, batch);
    const classes = this.plan.outputClasses;
    const n = batch * classes;
    const lastIndex = this.plan.layers.length - 1;
    const logits = this.acts[lastIndex].subarray(0, n);
    const probs = this.probs.subarray(0, n);
    const loss = softmaxCrossEntropyForward(probs, this.losses, logits, labels, batch, classes);
    softmaxCrossEntropyBackward(this.dacts[lastIndex].subarray(0, n), probs, labels, batch, classes);
    for (let i = lastIndex; i >= 0; i--) this.backwardLayer(this.plan.layers[i], images, batch);
    return { loss, grads: this.grads };
  }

  /** One optimisation step on `batch` samples; returns the loss before the update. */
  trainStep(images: Vec, labels: Labels, batch: number, optimizer: ReferenceOptimizer): number {
    const { loss } = this.lossAndGradients(images, labels, batch);
    optimizerStep(optimizer, this.params, this.grads);
    return loss;
  }

  private checkBatch(images: Vec, batch: number): void {
    if (!Number.isInteger(batch) || batch < 1 || batch > this.plan.batch) {
      throw new RangeError(`batch must be an integer in [1, ${this.plan.batch}] (the plan's batch), got ${batch}`);
    }
    if (images.length < batch * this.inputSize) {
      throw new RangeError(`images has ${images.length} values, fewer than batch ${batch} x ${this.inputSize}`);
    }
  }

  /** Layer i's input (B, ...inputShape): the images for layer 0, else the previous output. */
  private input(i: number, images: Vec, batch: number): Vec {
    return i === 0 ? images.subarray(0, batch * this.inputSize) : this.acts[i - 1].subarray(0, batch * product(this.plan.layers[i].inputShape));
  }

  /** Whether layer i applies its own activation (a final softmax is left to the loss). */
  private ownActivation(layer: LayerPlan): ActivationKind | null {
    if (layer.activation === 'softmax' || layer.activation === 'linear') return null;
    return layer.activation;
  }

  private forwardLayers(images: Vec, batch: number): void {
    for (const layer of this.plan.layers) {
      const i = layer.index;
      const x = this.input(i, images, batch);
      const y = this.acts[i].subarray(0, batch * product(layer.outputShape));
      const buf = this.buffers[i];
      switch (layer.type) {
        case 'conv2d':
          conv2dForward(y, x, buf.kernel!, buf.bias!, this.conv(layer, batch));
          break;
        case 'dense':
          denseForward(y, x, buf.kernel!, buf.bias!, batch, layer.dense!.inFeatures, layer.dense!.outFeatures);
          break;
        case 'avgPool2d':
          avgPoolForward(y, x, this.pool(layer, batch));
          break;
        case 'maxPool2d':
          maxPoolForward(y, x, this.pool(layer, batch));
          break;
        case 'flatten': // NCHW flattens channel-major: the memory is already in order.
        case 'activation':
          y.set(x);
          break;
      }
      const kind = this.ownActivation(layer);
      if (kind) activationForward(y, y, kind);
    }
  }

  private backwardLayer(layer: LayerPlan, images: Vec, batch: number): void {
    const i = layer.index;
    const x = this.input(i, images, batch);
    const y = this.acts[i].subarray(0, batch * product(layer.outputShape));
    const dy = this.dacts[i].subarray(0, y.length);
    const dx = i === 0 ? null : this.dacts[i - 1].subarray(0, x.length);
    const buf = this.buffers[i];
    // dy becomes the gradient of the pre-activation, in place.
    const kind = this.ownActivation(layer);
    if (kind) activationBackward(dy, dy, y, kind);
    switch (layer.type) {
      case 'conv2d':
        conv2dBackward(dx, buf.dkernel!, buf.dbias!, dy, x, buf.kernel!, this.conv(layer, batch));
        break;
      case 'dense':
        denseBackward(dx, buf.dkernel!, buf.dbias!, dy, x, buf.kernel!, batch, layer.dense!.inFeatures, layer.dense!.outFeatures);
        break;
      case 'avgPool2d':
        if (dx) avgPoolBackward(dx, dy, this.pool(layer, batch));
        break;
      case 'maxPool2d':
        if (dx) maxPoolBackward(dx, dy, x, this.pool(layer, batch));
        break;
      case 'flatten':
      case 'activation':
        dx?.set(dy);
        break;
    }
  }

  private conv(layer: LayerPlan, batch: number): Conv2dGeometry {
    return { ...layer.conv!, batch };
  }

  private pool(layer: LayerPlan, batch: number): Pool2dGeometry {
    return { ...layer.pool!, batch };
  }
}
