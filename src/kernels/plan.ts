/**
 * The kernel plan: which entry point runs for each layer in each pass, and
 * which work is fused into a neighbour's kernel, decided in one place from
 * the model plan and the kernel variant. The network graph (graph/network-
 * graph.ts) records exactly this plan: it walks the layers forward, then the
 * same list reversed, and asks the plan at each step; the launchers
 * (conv2d.ts, dense.ts, pool.ts) take their entry points from the same
 * functions (conv2d-plan.ts, and the two below), so what is printed is what
 * runs. `Model.kernelPlan()` and
 * `lenet-gpu summary --kernels` print it; test/kernels/plan.test.ts checks it
 * for both presets on both variants, and test/engine/gradient-parity.test.ts
 * checks that a recorded step dispatches exactly it.
 *
 * Fusions decided here (fewer dispatches, same buffers):
 *   - a conv2d followed by a 2x2 stride-2 average pooling that its window
 *     kernel can also write (blocked variant) records no pooling forward;
 *   - a first-layer conv2d followed by such a pooling computes its weight
 *     gradient from the pooling's output gradient: the pooling records no
 *     backward;
 *   - a non-linear activation's derivative is applied by the backward kernel
 *     of the layer reading its output (conv, dense or pooling, through
 *     flattens), so the producer needs no activation_backward.
 */
import type { Pool2dGeometry } from '../geometry.ts';
import type { LayerPlan, ModelPlan } from '../model/infer.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { conv2dForwardEntry, conv2dFusesAvgPool, conv2dFusesAvgPoolBackward, conv2dInputEntry, conv2dSplitK, conv2dWeightEntry, forwardProduct, usesWindowKernels, windowBlock } from './conv2d-plan.ts';
import type { KernelVariant } from './variant.ts';

/** The dense products' entry points: 'compact' runs the blocked kernels (with narrow blocks, dense.ts). */
export const denseEntries = (variant: KernelVariant): { forward: string; weight: string; input: string } => {
  const v = variant === 'tiled' ? 'tiled' : 'blocked';
  return { forward: `dense_forward_${v}`, weight: `dense_backward_weight_${v}`, input: `dense_backward_input_${v}` };
};

/** Average pooling whose windows do not overlap scatters each gradient without a search. */
export function poolBackwardEntry(mode: 'avg' | 'max', g: Pool2dGeometry): string {
  const disjoint = mode === 'avg' && g.strideH >= g.windowH && g.strideW >= g.windowW;
  return disjoint ? 'avg_pool_backward_disjoint' : `${mode}_pool_backward`;
}

/** The planned work of one layer in one pass. */
export interface PassStep {
  /** Entry points in dispatch order (a split-K reduction is its own entry). */
  entries: string[];
  /** What this layer's kernels also do, or why the layer records nothing. */
  notes: string[];
}

export interface LayerKernels {
  layer: LayerPlan;
  forward: PassStep;
  backward: PassStep;
  /** conv2d: the following average pooling is written by this layer's forward kernel. */
  writesPool: boolean;
  /** pooling layer: its forward is done by the convolution before it. */
  pooledByPrevious: boolean;
  /** First-layer conv2d: its weight gradient comes from the following pooling's gradient (that pooling records no backward). */
  weightGradThroughPool: boolean;
  /** The activation derivative this layer's input-gradient kernel applies (the producer's), 'linear' for none. */
  belowActivation: ActivationKind;
  /** conv2d/dense: a consumer applies this layer's activation derivative, so its dacts hold dL/d pre-activation. */
  derivativeFusedBelow: boolean;
  /** The activation this layer's own forward kernel applies (a final softmax is left to the loss). */
  ownActivation: ActivationKind;
}

export interface KernelPlan {
  variant: KernelVariant;
  layers: LayerKernels[];
  loss: string[];
  predict: string[];
}

/** Layers that own no buffers: their output is their input (NCHW flatten is a reshape). */
export function aliasesInput(l: LayerPlan): boolean {
  return l.type === 'flatten' || (l.type === 'activation' && (l.activation === 'softmax' || l.activation === 'linear'));
}

const ownActivation = (l: LayerPlan): ActivationKind => (l.activation === 'softmax' ? 'linear' : l.activation);

export function planKernels(plan: ModelPlan, variant: KernelVariant): KernelPlan {
  const layers = plan.layers;
  const isParamLayer = (l: LayerPlan | undefined): boolean => l?.type === 'conv2d' || l?.type === 'dense';
  const readsFused = (l: LayerPlan): boolean => isParamLayer(l) || l.type === 'avgPool2d' || l.type === 'maxPool2d';

  // The producer (through aliasing layers) whose activation derivative each layer's backward applies.
  const below: ActivationKind[] = layers.map((layer, j) => {
    let i = j - 1;
    while (i >= 0 && aliasesInput(layers[i])) i--;
    if (i < 0 || !readsFused(layer) || !isParamLayer(layers[i])) return 'linear';
    return ownActivation(layers[i]);
  });
  const derivativeFused = new Set<number>();
  below.forEach((activation, j) => {
    if (activation === 'linear') return;
    let i = j - 1;
    while (!isParamLayer(layers[i])) i--;
    derivativeFused.add(i);
  });

  const first = layers[0];
  const second = layers[1];
  const throughPool = first?.type === 'conv2d' && second?.type === 'avgPool2d' && conv2dFusesAvgPoolBackward(first.conv!, second.pool!, variant);

  const out: LayerKernels[] = [];
  for (const [i, layer] of layers.entries()) {
    const prev = out[i - 1];
    const next = layers[i + 1];
    const writesPool = layer.type === 'conv2d' && next?.type === 'avgPool2d' && conv2dFusesAvgPool(layer.conv!, next.pool!, variant);
    const pooledByPrevious = Boolean(prev?.writesPool);
    const forward: PassStep = { entries: [], notes: [] };
    const backward: PassStep = { entries: [], notes: [] };
    const act = ownActivation(layer);
    const hasInputGrad = i > 0;
    // dL/d pre-activation needs its own activation_backward unless linear or fused below.
    const ownDerivative = isParamLayer(layer) && act !== 'linear' && !derivativeFused.has(i);

    if (layer.type === 'conv2d') {
      const g = layer.conv!;
      forward.entries.push(conv2dForwardEntry(g, variant, writesPool));
      if (usesWindowKernels(g, variant)) {
        const b = windowBlock(g, forwardProduct(g), { evenRows: writesPool });
        forward.notes.push(`tiles of ${b.rows}x${b.cols} outputs x ${b.channels} channels`);
      }
      if (act !== 'linear') forward.notes.push(`+ bias, ${act}`);
      if (writesPool) forward.notes.push('+ the 2x2 average pooling after it');
      const chunks = conv2dSplitK(g, variant).chunks;
      backward.notes.push(`weight gradient in ${chunks} chunk${chunks === 1 ? '' : 's'} (split-K)`);
      if (i === 0 && throughPool) {
        backward.entries.push(conv2dWeightEntry(g, variant, true), 'conv2d_backward_weight_reduce');
        backward.notes.push(`weight gradient from the pooling's gradient, through ${act}'`);
      } else {
        if (ownDerivative) backward.entries.push('activation_backward');
        backward.entries.push(conv2dWeightEntry(g, variant, false), 'conv2d_backward_weight_reduce');
        if (hasInputGrad) backward.entries.push(conv2dInputEntry(g, variant));
        else backward.notes.push('no input gradient: first layer');
      }
    } else if (layer.type === 'dense') {
      const e = denseEntries(variant);
      forward.entries.push(e.forward);
      if (act !== 'linear') forward.notes.push(`+ bias, ${act}`);
      if (ownDerivative) backward.entries.push('activation_backward');
      backward.entries.push(e.weight, 'dense_backward_weight_reduce');
      if (hasInputGrad) backward.entries.push(e.input);
    } else if (layer.type === 'avgPool2d' || layer.type === 'maxPool2d') {
      const mode = layer.type === 'avgPool2d' ? 'avg' : 'max';
      if (pooledByPrevious) forward.notes.push('written by the convolution before it');
      else forward.entries.push(`${mode}_pool_forward`);
      if (i === 1 && throughPool) backward.notes.push('folded into the first convolution\'s weight gradient');
      else if (hasInputGrad) backward.entries.push(poolBackwardEntry(mode, layer.pool!));
    } else if (layer.type === 'activation' && !aliasesInput(layer)) {
      forward.entries.push('activation_forward');
      if (hasInputGrad) backward.entries.push('activation_backward');
    } else {
      forward.notes.push(layer.type === 'flatten' ? 'a reshape: no work' : 'left to the loss');
    }
    if (below[i] !== 'linear' && backward.entries.length > 0) backward.notes.push(`input gradient then ${below[i]}' of the layer below`);
    out.push({ layer, forward, backward, writesPool, pooledByPrevious, weightGradThroughPool: throughPool && i === 0, belowActivation: below[i], derivativeFusedBelow: derivativeFused.has(i), ownActivation: act });
  }
  return { variant, layers: out, loss: ['softmax_xent'], predict: ['softmax_forward'] };
}

/** The plan as a table: per layer, the forward and backward entry points and what they fuse. */
export function formatKernelPlan(kp: KernelPlan, optimizer?: string): string {
  const rows = kp.layers.map((l) => [
    l.layer.name,
    [l.forward.entries.join(', ') || '-', ...l.forward.notes.map((n) => `(${n})`)].join(' '),
    [l.backward.entries.join(', ') || '-', ...l.backward.notes.map((n) => `(${n})`)].join(' '),
  ]);
  const header = ['Layer', 'Forward', 'Backward'];
  const widths = [0, 1].map((c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)) + 2);
  const line = (r: string[]): string => ` ${r[0].padEnd(widths[0])}${r[1].padEnd(widths[1])}${r[2]}`.trimEnd();
  return [
    `Kernels (variant ${kp.variant}):`,
    line(header),
    ...rows.map(line),
    ` loss: ${kp.loss.join(', ')}; predict: ${kp.predict.join(', ')}${optimizer ? `; optimizer: ${optimizer}` : ''}`,
  ].join('\n');
}
