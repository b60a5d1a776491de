/**
 * Weight layouts between this engine and the formats it exchanges with.
 *
 * The engine (geometry.ts): activations NCHW, conv kernels OIHW
 * [out, in, kh, kw], dense kernels [in, out], flatten channel-major: the
 * flat index of (c, h, w) is (c * H + h) * W + w.
 *
 * TensorFlow.js / Keras (channels_last, the only layout TF.js runs): conv
 * kernels HWIO [kh, kw, in, out], dense kernels [in, out], flatten of NHWC
 * is channel-minor: the flat index of (h, w, c) is (h * W + w) * C + c. So
 * a conv kernel is transposed, and the first dense layer after a flatten of
 * a spatial map has its ROWS permuted from (C, H, W) order to (H, W, C) order;
 * later dense layers are the same in both.
 *
 * ONNX is NCHW like us and Gemm takes B as [in, out] (transB = 0): nothing
 * moves.
 *
 * `layerWeights` cuts the packed parameters (params.ts: per conv2d/dense
 * layer, kernel then bias, in layer order) into per-layer views and records,
 * for each dense layer, the [C, H, W] shape that a preceding flatten
 * flattened (undefined when its input was already flat).
 */
import type { LayerPlan, ModelPlan } from '../model/infer.ts';
import { packedSize } from '../graph/param-packing.ts';
import { parameterLayout } from '../model/params.ts';
import { InteropError } from './errors.ts';

export interface LayerWeights {
  layer: LayerPlan;
  /** Engine layout: OIHW for conv2d, [in, out] for dense. Views into the packed array. */
  kernel: Float32Array;
  bias: Float32Array;
  /** For a dense layer right after a flatten of a spatial [C, H, W] map: that shape. */
  flattenedFrom?: [number, number, number];
}

/** The per-layer kernel and bias views of packed weights (throws if the length does not match the plan). */
export function layerWeights(plan: ModelPlan, packed: Float32Array): LayerWeights[] {
  const layout = parameterLayout(plan);
  const total = packedSize(layout);
  if (packed.length !== total) {
    throw new InteropError(`the weights hold ${packed.length} values but ${plan.name} has ${total} parameters`);
  }
  const out: LayerWeights[] = [];
  for (const layer of plan.layers) {
    if (layer.params.length === 0) continue;
    const kernel = layout.tensors.find((t) => t.layer === layer.index && t.name === 'kernel')!;
    const bias = layout.tensors.find((t) => t.layer === layer.index && t.name === 'bias')!;
    out.push({
      layer,
      kernel: packed.subarray(kernel.offset, kernel.offset + kernel.size),
      bias: packed.subarray(bias.offset, bias.offset + bias.size),
      flattenedFrom: layer.type === 'dense' ? flattenedFrom(plan, layer.index) : undefined,
    });
  }
  return out;
}

/** The [C, H, W] shape flattened right before dense layer `index`, if its input came from a spatial map. */
function flattenedFrom(plan: ModelPlan, index: number): [number, number, number] | undefined {
  // Walk back over layers that keep the flat shape (activations) to the flatten, if any.
  for (let i = index - 1; i >= 0; i--) {
    const l = plan.layers[i];
    if (l.type === 'activation') continue;
    if (l.type === 'flatten' && l.inputShape.length === 3) {
      const [c, h, w] = l.inputShape;
      // A 1x1 map flattens the same in both orders.
      return h === 1 && w === 1 ? undefined : [c, h, w];
    }
    return undefined;
  }
  return undefined;
}

/** OIHW [O, I, KH, KW] -> HWIO [KH, KW, I, O]. */
export function oihwToHwio(src: Float32Array, [O, I, KH, KW]: readonly number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < KH; h++)
        for (let w = 0; w < KW; w++) dst[((h * KW + w) * I + i) * O + o] = src[((o * I + i) * KH + h) * KW + w];
  return dst;
}

/** HWIO [KH, KW, I, O] -> OIHW [O, I, KH, KW]; shape is the OIHW shape. */
export function hwioToOihw(src: Float32Array, [O, I, KH, KW]: readonly number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < KH; h++)
        for (let w = 0; w < KW; w++) dst[((o * I + i) * KH + h) * KW + w] = src[((h * KW + w) * I + i) * O + o];
  return dst;
}

/**
 * Dense kernel [C*H*W, out] with rows in (C, H, W) order -> rows in (H, W, C)
 * order, as a dense layer after a channels_last flatten needs.
 */
export function rowsChwToHwc(src: Float32Array, [C, H, W]: readonly number[], units: number): Float32Array {
  const dst = new Float32Array(src.length);
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) {
        const from = ((c * H + h) * W + w) * units;
        dst.set(src.subarray(from, from + units), ((h * W + w) * C + c) * units);
      }
  return dst;
}

/** The inverse of rowsChwToHwc. */
export function rowsHwcToChw(src: Float32Array, [C, H, W]: readonly number[], units: number): Float32Array {
  const dst = new Float32Array(src.length);
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) {
        const from = ((h * W + w) * C + c) * units;
        dst.set(src.subarray(from, from + units), ((c * H + h) * W + w) * units);
      }
  return dst;
}

/** Keras 'same' padding of a conv layer as [top, left, bottom, right] (the extra row/column goes after). */
export function convPads(layer: LayerPlan): [number, number, number, number] {
  const g = layer.conv;
  if (!g) throw new InteropError(`layer ${layer.name} is not a conv2d layer`);
  const total = (input: number, out: number, k: number, s: number): number => Math.max((out - 1) * s + k - input, 0);
  const padH = layer.spec.type === 'conv2d' && layer.spec.padding === 'same' ? total(g.inHeight, g.outHeight, g.kernelH, g.strideH) : 0;
  const padW = layer.spec.type === 'conv2d' && layer.spec.padding === 'same' ? total(g.inWidth, g.outWidth, g.kernelW, g.strideW) : 0;
  return [g.padTop, g.padLeft, padH - g.padTop, padW - g.padLeft];
}

/** Whether the host stores floats little-endian (every WebGPU platform does). */
export const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Float32 values as little-endian bytes (a copy). */
export function f32ToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (littleEndian) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  else {
    const view = new DataView(out.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return out;
}

/** Little-endian bytes as float32 values (a copy, so any alignment works). */
export function bytesToF32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new InteropError(`${bytes.length} bytes is not a whole number of float32 values`);
  const out = new Float32Array(bytes.length / 4);
  if (littleEndian) new Uint8Array(out.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
