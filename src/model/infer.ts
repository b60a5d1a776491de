/**
 * Shape inference: turns a ModelSpec (spec.ts) into a ModelPlan, the fixed
 * list of layers with every input/output shape, conv/pool geometry and
 * parameter shape that the CPU reference and the GPU engine allocate from.
 *
 * Shapes exclude the batch: [C, H, W] for spatial (NCHW) activations, [F]
 * after flatten or dense. Rules, Keras's:
 *   - conv2d and pooling need a spatial [C, H, W] input;
 *   - dense needs a flat input: a [C, H, W] input is an error unless a
 *     flatten precedes it (no implicit flatten, even for [C, 1, 1]);
 *   - flatten of NCHW is channel-major, [C*H*W]; of a flat input it is a no-op;
 *   - softmax is only allowed on the last layer, on a flat output, because
 *     training fuses it into the cross-entropy loss.
 * Conv kernel shapes are OIHW (Cout, Cin, KH, KW), dense kernels [in, out].
 *
 * Every impossible spec throws SpecError naming the layer index, its display
 * name and the shapes involved, and saying how to fix it. Display names are
 * Keras's snake-case class names numbered from 1 per type: conv2d_1,
 * conv2d_2, average_pooling2d_1, max_pooling2d_1, flatten_1, dense_1,
 * activation_1.
 */
import { conv2dGeometry, pool2dGeometry, ShapeError, type Conv2dGeometry, type Pool2dGeometry } from '../geometry.ts';
import type { Activation, LayerSpec, ModelSpec } from './spec.ts';

export class SpecError extends Error {
  override name = 'SpecError';
}

export type LayerType = LayerSpec['type'];

export interface ParamShape {
  name: 'kernel' | 'bias';
  shape: number[];
  size: number;
  /** Glorot fans of the layer's kernel (recorded on the bias too, which does not use them). */
  fanIn: number;
  fanOut: number;
}

export interface LayerPlan {
  index: number;
  type: LayerType;
  /** Display name, e.g. 'conv2d_1'. */
  name: string;
  /** Keras class name for summaries, e.g. 'Conv2D'. */
  className: string;
  spec: LayerSpec;
  /** Without the batch: [C, H, W] or [F]. */
  inputShape: number[];
  outputShape: number[];
  conv?: Conv2dGeometry;
  pool?: Pool2dGeometry;
  dense?: { inFeatures: number; outFeatures: number };
  /** 'linear' for layers that have none (pooling, flatten). */
  activation: Activation;
  /** Kernel then bias for conv2d and dense; empty otherwise. */
  params: ParamShape[];
  paramCount: number;
}

export interface ModelPlan {
  name: string;
  /** The batch size the geometries were built for (the largest batch a buffer holds). */
  batch: number;
  inputShape: [number, number, number];
  layers: LayerPlan[];
  outputShape: number[];
  /** Width of the last layer's output (its element count without the batch). */
  outputClasses: number;
  /** Whether the last layer's activation is softmax (fused into the loss when training). */
  softmaxOutput: boolean;
  paramCount: number;
}

const activations: readonly Activation[] = ['linear', 'tanh', 'sigmoid', 'relu', 'softmax'];
const layerTypes: readonly LayerType[] = ['conv2d', 'avgPool2d', 'maxPool2d', 'flatten', 'dense', 'activation'];
const kerasNames: Record<LayerType, [snake: string, className: string]> = {
  conv2d: ['conv2d', 'Conv2D'],
  avgPool2d: ['average_pooling2d', 'AveragePooling2D'],
  maxPool2d: ['max_pooling2d', 'MaxPooling2D'],
  flatten: ['flatten', 'Flatten'],
  dense: ['dense', 'Dense'],
  activation: ['activation', 'Activation'],
};

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function inferShapes(spec: ModelSpec, batch: number): ModelPlan {
  if (!isPositiveInt(batch)) throw new SpecError(`batch must be a positive integer, got ${batch}`);
  const inputShape = spec?.inputShape;
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every(isPositiveInt)) {
    throw new SpecError(`inputShape must be [channels, height, width] of positive integers, got ${JSON.stringify(inputShape)}; MNIST is [1, 28, 28]`);
  }
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
    throw new SpecError('the model has no layers; add at least one layer (e.g. flatten then dense with softmax)');
  }

  const counters = new Map<string, number>();
  const layers: LayerPlan[] = [];
  let shape: number[] = [...inputShape];
  const last = spec.layers.length - 1;

  spec.layers.forEach((layer, index) => {
    const type = (layer as { type?: unknown } | null)?.type as LayerType;
    if (!layerTypes.includes(type)) {
      throw new SpecError(`layer ${index}: unknown layer type ${JSON.stringify(type)} (input shape ${fmt(shape)}); use one of ${layerTypes.join(', ')}`);
    }
    const [snake, className] = kerasNames[type];
    const count = (counters.get(snake) ?? 0) + 1;
    counters.set(snake, count);
    const name = `${snake}_${count}`;
    const where = `layer ${index} '${name}' (${type}, input shape ${fmt(shape)})`;
    const fail = (problem: string): never => {
      throw new SpecError(`${where}: ${problem}`);
    };
    const spatial = shape.length === 3;

    const checkActivation = (value: unknown, required: boolean): Activation => {
      if (value === undefined && !required) return 'linear';
      if (!activations.includes(value as Activation)) {
        fail(`unknown activation ${JSON.stringify(value)}; use one of ${activations.join(', ')}`);
      }
      return value as Activation;
    };
    const checkPair = (what: string, value: unknown): number | [number, number] => {
      if (isPositiveInt(value)) return value;
      if (Array.isArray(value) && value.length === 2 && value.every(isPositiveInt)) return [value[0], value[1]];
      return fail(`${what} must be a positive integer or a [height, width] pair of them, got ${JSON.stringify(value)}`);
    };
    const needSpatial = (): [number, number, number] => {
      if (!spatial) fail(`needs a spatial [channels, height, width] input but gets the flat shape ${fmt(shape)}; move it before the flatten/dense layers`);
      return shape as [number, number, number];
    };
    const wrapShapeError = <T>(build: () => T, hint = ''): T => {
      try {
        return build();
      } catch (e) {
        if (e instanceof ShapeError) fail(e.message + hint);
        throw e;
      }
    };

    let plan: LayerPlan;
    const base = { index, type, name, className, spec: layer, inputShape: [...shape] };
    switch (layer.type) {
      case 'conv2d': {
        const [C, H, W] = needSpatial();
        if (!isPositiveInt(layer.filters)) fail(`filters must be a positive integer, got ${JSON.stringify(layer.filters)}`);
        const kernel = checkPair('kernelSize', layer.kernelSize);
        const stride = layer.strides === undefined ? 1 : checkPair('strides', layer.strides);
        const padding = layer.padding ?? 'valid';
        if (padding !== 'same' && padding !== 'valid') fail(`padding must be 'same' or 'valid', got ${JSON.stringify(layer.padding)}`);
        const activation = checkActivation(layer.activation, false);
        const conv = wrapShapeError(() =>
          conv2dGeometry({ batch, inChannels: C, inHeight: H, inWidth: W, outChannels: layer.filters, kernel, stride, padding }),
        );
        const { kernelH: KH, kernelW: KW, outChannels: Cout } = conv;
        const fanIn = C * KH * KW;
        const fanOut = Cout * KH * KW;
        plan = {
          ...base,
          outputShape: [Cout, conv.outHeight, conv.outWidth],
          conv,
          activation,
          params: [
            { name: 'kernel', shape: [Cout, C, KH, KW], size: Cout * fanIn, fanIn, fanOut },
            { name: 'bias', shape: [Cout], size: Cout, fanIn, fanOut },
          ],
          paramCount: Cout * fanIn + Cout,
        };
        break;
      }
      case 'avgPool2d':
      case 'maxPool2d': {
        const [C, H, W] = needSpatial();
        const window = checkPair('poolSize', layer.poolSize);
        const stride = layer.strides === undefined ? undefined : checkPair('strides', layer.strides);
        const pool = wrapShapeError(() =>
          pool2dGeometry({ batch, channels: C, inHeight: H, inWidth: W, window, stride }),
          '; use a smaller poolSize or drop this pooling layer',
        );
        plan = { ...base, outputShape: [C, pool.outHeight, pool.outWidth], pool, activation: 'linear', params: [], paramCount: 0 };
        break;
      }
      case 'flatten':
        plan = { ...base, outputShape: [product(shape)], activation: 'linear', params: [], paramCount: 0 };
        break;
      case 'dense': {
        if (spatial) {
          fail(`dense needs a flat input but gets the spatial shape ${fmt(shape)}; add { type: 'flatten' } before it (giving [${product(shape)}])`);
        }
        if (!isPositiveInt(layer.units)) fail(`units must be a positive integer, got ${JSON.stringify(layer.units)}`);
        const activation = checkActivation(layer.activation, false);
        const inFeatures = shape[0];
        const outFeatures = layer.units;
        plan = {
          ...base,
          outputShape: [outFeatures],
          dense: { inFeatures, outFeatures },
          activation,
          params: [
            { name: 'kernel', shape: [inFeatures, outFeatures], size: inFeatures * outFeatures, fanIn: inFeatures, fanOut: outFeatures },
            { name: 'bias', shape: [outFeatures], size: outFeatures, fanIn: inFeatures, fanOut: outFeatures },
          ],
          paramCount: inFeatures * outFeatures + outFeatures,
        };
        break;
      }
      case 'activation': {
        const activation = checkActivation(layer.activation, true);
        plan = { ...base, outputShape: [...shape], activation, params: [], paramCount: 0 };
        break;
      }
    }

    if (plan.activation === 'softmax') {
      if (index !== last) {
        fail(`softmax is only allowed on the last layer (training fuses it into the cross-entropy loss), but ${spec.layers.length - 1 - index} layer(s) follow; use another activation here or move the softmax to the end`);
      }
      if (plan.outputShape.length !== 1) {
        fail(`softmax needs a flat output but this layer outputs ${fmt(plan.outputShape)}; add a flatten and a dense layer before the softmax`);
      }
    }
    layers.push(plan);
    shape = plan.outputShape;
  });

  const lastPlan = layers[layers.length - 1];
  return {
    name: spec.name ?? 'model',
    batch,
    inputShape: [inputShape[0], inputShape[1], inputShape[2]],
    layers,
    outputShape: [...lastPlan.outputShape],
    outputClasses: product(lastPlan.outputShape),
    softmaxOutput: lastPlan.activation === 'softmax',
    paramCount: layers.reduce((sum, l) => sum + l.paramCount, 0),
  };
}
