/**
 * Floating-point operations of a training step, counted from the ModelPlan
 * (so any spec, not just LeNet-5), per sample.
 *
 * Convention (the usual one for "model FLOPs"):
 *   - forward: the multiply-adds of the conv2d and dense layers, x2 (a
 *     multiply and an add each):
 *       conv2d: Cout * OH * OW * Cin * KH * KW multiply-adds
 *       dense:  In * Out multiply-adds
 *   - backward ≈ 2x forward (input gradient and weight gradient are each one
 *     product the size of the forward one);
 *   - training step = forward + backward = 3x forward.
 * Pooling, activations, bias adds, softmax + cross-entropy and the optimizer
 * are not counted (for LeNet-5 they are a few percent of the multiply-adds
 * and none of them is a multiply-add chain). `exactTrainFlops` also drops the
 * first layer's input gradient, which no engine computes.
 *
 * LeNet-5 (classic, 28x28, same-padded first conv), per sample:
 *   conv2d_1  6x28x28 x 1x5x5   = 117,600 MACs
 *   conv2d_2  16x10x10 x 6x5x5  = 240,000 MACs
 *   dense_1   400 x 120         =  48,000 MACs
 *   dense_2   120 x 84          =  10,080 MACs
 *   dense_3   84 x 10           =     840 MACs
 *   total 416,520 MACs = 833,040 forward FLOPs; x3 = 2,499,120 FLOPs per
 *   trained sample (2.50 MFLOP); exact (no conv2d_1 input gradient):
 *   2,263,920.
 */
import type { LayerPlan, ModelPlan } from './infer.ts';

export interface LayerFlops {
  name: string;
  type: LayerPlan['type'];
  /** Multiply-adds of the forward pass, per sample. */
  forwardMacs: number;
  forwardFlops: number;
  /** 2x forward, or 1x for the first layer in the exact count. */
  backwardFlops: number;
}

export interface ModelFlops {
  layers: LayerFlops[];
  forwardMacs: number;
  forwardFlops: number;
  /** forward + 2x forward: the convention used for every GFLOP/s figure. */
  trainFlops: number;
  /** As trainFlops, without the first layer's input gradient. */
  exactTrainFlops: number;
}

/** Forward multiply-adds of one layer, per sample (0 for layers without products). */
export function layerMacs(layer: LayerPlan): number {
  if (layer.type === 'conv2d' && layer.conv) {
    const g = layer.conv;
    return g.outChannels * g.outHeight * g.outWidth * g.inChannels * g.kernelH * g.kernelW;
  }
  if (layer.type === 'dense' && layer.dense) return layer.dense.inFeatures * layer.dense.outFeatures;
  return 0;
}

export function countFlops(plan: ModelPlan): ModelFlops {
  const firstProduct = plan.layers.findIndex((l) => layerMacs(l) > 0);
  const layers: LayerFlops[] = plan.layers
    .map((l, i) => {
      const forwardMacs = layerMacs(l);
      return { name: l.name, type: l.type, forwardMacs, forwardFlops: 2 * forwardMacs, backwardFlops: (i === firstProduct ? 2 : 4) * forwardMacs };
    })
    .filter((l) => l.forwardMacs > 0);
  const forwardMacs = layers.reduce((s, l) => s + l.forwardMacs, 0);
  const forwardFlops = 2 * forwardMacs;
  return {
    layers,
    forwardMacs,
    forwardFlops,
    trainFlops: 3 * forwardFlops,
    exactTrainFlops: forwardFlops + layers.reduce((s, l) => s + l.backwardFlops, 0),
  };
}
