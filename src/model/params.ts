/**
 * The flat parameter layout, llm.c style: every kernel and bias of the model
 * lives in one Float32Array (one GPU buffer), cut into tensors by a size
 * table. Order: layer order, and within a conv2d or dense layer its kernel
 * then its bias. Kernels are OIHW (Cout, Cin, KH, KW) for conv2d and
 * [in, out] for dense. Gradients and optimizer state (Adam m and v, SGD
 * velocity) use the same layout, so an optimizer is one loop over `total`.
 *
 * Tensors are packed back to back by default. `align` (in elements) rounds
 * each offset up to a multiple, e.g. 64 floats = 256 bytes, the usual
 * WebGPU minStorageBufferOffsetAlignment, for binding tensors as sub-ranges;
 * the gaps stay zero.
 *
 * initParameters is THE initialiser of both the CPU reference and the GPU
 * engine: Glorot-uniform kernels drawn from one createRng(seed) in layer
 * order (kernel elements in flat order), zero biases. The draws do not
 * depend on `align`, so the same seed gives the same weights in any layout.
 */
import { glorotUniform } from './init.ts';
import { createRng } from '../util/random.ts';
import type { ModelPlan } from './infer.ts';

export interface ParamTensor {
  /** Index of the owning layer in plan.layers. */
  layer: number;
  name: 'kernel' | 'bias';
  shape: number[];
  /** In elements (floats), from the start of the flat buffer. */
  offset: number;
  size: number;
  fanIn: number;
  fanOut: number;
}

export interface ParameterLayout {
  tensors: ParamTensor[];
  /** Elements in the flat buffer (including any alignment gaps). */
  total: number;
}

export function parameterLayout(plan: ModelPlan, align = 1): ParameterLayout {
  if (!Number.isInteger(align) || align < 1) throw new RangeError(`align must be a positive integer (elements), got ${align}`);
  const tensors: ParamTensor[] = [];
  let offset = 0;
  for (const layer of plan.layers) {
    for (const p of layer.params) {
      offset = Math.ceil(offset / align) * align;
      tensors.push({ layer: layer.index, name: p.name, shape: [...p.shape], offset, size: p.size, fanIn: p.fanIn, fanOut: p.fanOut });
      offset += p.size;
    }
  }
  return { tensors, total: offset };
}

/** The kernel and bias tensors of one layer (undefined for layers without parameters). */
export function layerTensors(layout: ParameterLayout, layer: number): { kernel: ParamTensor; bias: ParamTensor } | undefined {
  const kernel = layout.tensors.find((t) => t.layer === layer && t.name === 'kernel');
  const bias = layout.tensors.find((t) => t.layer === layer && t.name === 'bias');
  return kernel && bias ? { kernel, bias } : undefined;
}

export function initParameters(plan: ModelPlan, seed: number, align = 1): Float32Array {
  const layout = parameterLayout(plan, align);
  const params = new Float32Array(layout.total);
  const rng = createRng(seed);
  for (const t of layout.tensors) {
    // Biases stay zero (Keras's default); only kernels draw from the rng.
    if (t.name === 'kernel') glorotUniform(params.subarray(t.offset, t.offset + t.size), rng, t.fanIn, t.fanOut);
  }
  return params;
}
