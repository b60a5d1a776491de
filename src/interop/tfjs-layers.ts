/**
 * TensorFlow.js Layers format: export a model to `model.json` plus one binary
 * weight shard, and import weights (and the architecture) back from one.
 *
 * model.json (what tf.loadLayersModel reads):
 *   { format: 'layers-model', generatedBy, convertedBy: null,
 *     modelTopology: { class_name: 'Sequential', config: { name, layers: [...] },
 *                      keras_version, backend },
 *     weightsManifest: [{ paths: ['group1-shard1of1.bin'],
 *                         weights: [{ name: 'conv2d_1/kernel', shape, dtype: 'float32' }, ...] }],
 *     userDefinedMetadata: { lenetGpu: { spec, runCard } } }
 * The shard is the weights in manifest order, float32 little-endian, back to
 * back.
 *
 * TF.js runs convolutions channels_last only, so the exported model takes
 * NHWC input ([N, 28, 28, 1] for MNIST: for one channel the same bytes as
 * our NCHW, pixels / 255) and its weights are transposed (layout.ts): conv
 * kernels OIHW -> HWIO, and the first dense layer after a flatten of a
 * spatial map gets its rows permuted from (C, H, W) to (H, W, C) order.
 * Activations map one to one (linear, tanh, sigmoid, relu, softmax), as do
 * Keras 'same'/'valid' padding and pooling.
 *
 * Import accepts a Sequential of InputLayer (skipped), Conv2D, AveragePooling2D,
 * MaxPooling2D, Flatten, Dense and Activation, channels_last, float32
 * weights (several shards and groups are fine: they are concatenated in
 * manifest order); anything else is refused naming the layer and why. It
 * returns the ModelSpec the topology describes and the packed weights in
 * this engine's layout; with `expected` it also checks that the topology is
 * that spec's architecture. Browser-safe: no Node imports.
 */
import { inferShapes, SpecError, type ModelPlan } from '../model/infer.ts';
import { packedSize } from '../graph/param-packing.ts';
import { parameterLayout } from '../model/params.ts';
import type { Activation, LayerSpec, ModelSpec } from '../model/spec.ts';
import { canonicalJson } from '../engine/checkpoint.ts';
import { PACKAGE_VERSION, type RunCard } from '../engine/run-card.ts';
import { InteropError } from './errors.ts';
import { bytesToF32, f32ToBytes, hwioToOihw, layerWeights, oihwToHwio, rowsChwToHwc, rowsHwcToChw } from './layout.ts';

export const TFJS_SHARD_NAME = 'group1-shard1of1.bin';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface KerasLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: Record<string, unknown>;
  weightsManifest: TfjsWeightsGroup[];
  userDefinedMetadata?: Record<string, unknown>;
}

export interface TfjsArtifacts {
  modelJson: TfjsModelJson;
  /** The one shard, named TFJS_SHARD_NAME in the manifest. */
  weightData: Uint8Array;
}

const pair = (v: number | [number, number] | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

const glorotUniform = { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null } };
const zeros = { class_name: 'Zeros', config: {} };

/** The Keras layer config of one layer of the plan (channels_last). */
function kerasLayer(plan: ModelPlan, index: number): KerasLayerConfig {
  const layer = plan.layers[index];
  const spec = layer.spec;
  const common: Record<string, unknown> = { name: layer.name, trainable: true };
  if (index === 0) {
    const [c, h, w] = plan.inputShape;
    common.batch_input_shape = [null, h, w, c];
    common.dtype = 'float32';
  }
  switch (spec.type) {
    case 'conv2d':
      return {
        class_name: 'Conv2D',
        config: {
          filters: spec.filters,
          kernel_initializer: glorotUniform,
          kernel_regularizer: null,
          kernel_constraint: null,
          kernel_size: pair(spec.kernelSize, 1),
          strides: pair(spec.strides, 1),
          padding: spec.padding ?? 'valid',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: layer.activation,
          use_bias: true,
          bias_initializer: zeros,
          bias_regularizer: null,
          activity_regularizer: null,
          bias_constraint: null,
          ...common,
        },
      };
    case 'avgPool2d':
    case 'maxPool2d': {
      const poolSize = pair(spec.poolSize, 1);
      return {
        class_name: spec.type === 'avgPool2d' ? 'AveragePooling2D' : 'MaxPooling2D',
        config: { pool_size: poolSize, padding: 'valid', strides: spec.strides === undefined ? poolSize : pair(spec.strides, 1), data_format: 'channels_last', ...common },
      };
    }
    case 'flatten':
      return { class_name: 'Flatten', config: { ...common } };
    case 'dense':
      return {
        class_name: 'Dense',
        config: {
          units: spec.units,
          activation: layer.activation,
          use_bias: true,
          kernel_initializer: glorotUniform,
          bias_initializer: zeros,
          kernel_regularizer: null,
          bias_regularizer: null,
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
          ...common,
        },
      };
    case 'activation':
      return { class_name: 'Activation', config: { activation: layer.activation, ...common } };
  }
}

/**
 * A model as TF.js Layers artifacts: model.json (topology, manifest, the spec
 * and run card as userDefinedMetadata) and its one weight shard.
 */
export function exportTfjsLayers(spec: ModelSpec, packed: Float32Array, runCard?: RunCard): TfjsArtifacts {
  const plan = inferShapes(spec, 1);
  const weights: TfjsWeightSpec[] = [];
  const arrays: Float32Array[] = [];
  for (const w of layerWeights(plan, packed)) {
    const { layer } = w;
    if (layer.type === 'conv2d') {
      const [O, I, KH, KW] = layer.params[0].shape;
      weights.push({ name: `${layer.name}/kernel`, shape: [KH, KW, I, O], dtype: 'float32' });
      arrays.push(oihwToHwio(w.kernel, layer.params[0].shape));
    } else {
      const [inFeatures, units] = layer.params[0].shape;
      weights.push({ name: `${layer.name}/kernel`, shape: [inFeatures, units], dtype: 'float32' });
      arrays.push(w.flattenedFrom ? rowsChwToHwc(w.kernel, w.flattenedFrom, units) : w.kernel);
    }
    weights.push({ name: `${layer.name}/bias`, shape: [w.bias.length], dtype: 'float32' });
    arrays.push(w.bias);
  }
  const weightData = new Uint8Array(arrays.reduce((n, a) => n + a.length * 4, 0));
  let at = 0;
  for (const a of arrays) {
    weightData.set(f32ToBytes(a), at);
    at += a.length * 4;
  }
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: `lenet-gpu ${PACKAGE_VERSION}`,
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: plan.name, layers: plan.layers.map((_, i) => kerasLayer(plan, i)) },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_SHARD_NAME], weights }],
    userDefinedMetadata: { lenetGpu: { spec, ...(runCard ? { runCard } : {}) } },
  };
  return { modelJson, weightData };
}

// ---------------------------------------------------------------- import

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const activations: readonly Activation[] = ['linear', 'tanh', 'sigmoid', 'relu', 'softmax'];

/** The Sequential's layer list, from the shapes TF.js and the Keras converters write. */
function sequentialLayers(topology: Record<string, unknown>, source: string): KerasLayerConfig[] {
  // The Keras converter nests the model under model_config.
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  if (model.class_name !== 'Sequential') {
    throw new InteropError(`${source}: the model is a ${JSON.stringify(model.class_name)}; only Sequential models can be imported (rebuild it with tf.sequential())`);
  }
  const config = model.config;
  // Keras 1 and early Keras 2 wrote the layer list itself as the config.
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || !layers.every((l) => isObject(l) && typeof l.class_name === 'string' && isObject(l.config))) {
    throw new InteropError(`${source}: modelTopology has no readable list of layers (expected config.layers of { class_name, config })`);
  }
  return layers as KerasLayerConfig[];
}

const intPair = (v: unknown): [number, number] | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v > 0
    ? [v, v]
    : Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x > 0)
      ? [v[0] as number, v[1] as number]
      : undefined;

const compactPair = ([a, b]: [number, number]): number | [number, number] => (a === b ? a : [a, b]);

/** The ModelSpec a TF.js/Keras Sequential topology describes (channels_last input [H, W, C] -> [C, H, W]). */
export function specFromTfjsTopology(topology: Record<string, unknown>, source = 'model.json'): { spec: ModelSpec; layerNames: string[] } {
  const keras = sequentialLayers(topology, source);
  let inputShape: [number, number, number] | undefined;
  const layers: LayerSpec[] = [];
  const layerNames: string[] = [];
  keras.forEach(({ class_name: cls, config }, i) => {
    const name = typeof config.name === 'string' ? config.name : `layer ${i}`;
    const where = `${source}: layer ${i} '${name}' (${cls})`;
    const fail = (problem: string): never => {
      throw new InteropError(`${where}: ${problem}`);
    };
    const shape = (config.batch_input_shape ?? config.batch_shape) as unknown;
    if (Array.isArray(shape) && inputShape === undefined) {
      if (shape.length !== 4 || !shape.slice(1).every((x) => Number.isInteger(x) && (x as number) > 0)) {
        fail(`input shape ${JSON.stringify(shape)} is not [batch, height, width, channels]; only image inputs can be imported`);
      }
      inputShape = [shape[3] as number, shape[1] as number, shape[2] as number];
    }
    const dataFormat = config.data_format ?? 'channels_last';
    if (dataFormat !== 'channels_last') fail(`data_format ${JSON.stringify(dataFormat)}: only channels_last (what TF.js runs) is supported`);
    const activation = (): Activation => {
      const a = config.activation ?? 'linear';
      if (!activations.includes(a as Activation)) fail(`activation ${JSON.stringify(a)} is not one of ${activations.join(', ')}`);
      return a as Activation;
    };
    switch (cls) {
      case 'InputLayer':
        return;
      case 'Conv2D': {
        const kernelSize = intPair(config.kernel_size) ?? fail(`kernel_size ${JSON.stringify(config.kernel_size)} is not a positive integer pair`);
        const strides = intPair(config.strides ?? 1) ?? fail(`strides ${JSON.stringify(config.strides)} is not a positive integer pair`);
        const dilation = intPair(config.dilation_rate ?? 1);
        if (!dilation || dilation[0] !== 1 || dilation[1] !== 1) fail(`dilation_rate ${JSON.stringify(config.dilation_rate)}: only 1 is supported`);
        if ((config.groups ?? 1) !== 1) fail(`groups ${JSON.stringify(config.groups)}: only 1 is supported`);
        if (config.use_bias === false) fail('use_bias false: only convolutions with a bias are supported');
        const padding = config.padding ?? 'valid';
        if (padding !== 'same' && padding !== 'valid') fail(`padding ${JSON.stringify(padding)} is not 'same' or 'valid'`);
        if (!Number.isInteger(config.filters) || (config.filters as number) < 1) fail(`filters ${JSON.stringify(config.filters)} is not a positive integer`);
        layers.push({ type: 'conv2d', filters: config.filters as number, kernelSize: compactPair(kernelSize), strides: compactPair(strides), padding: padding as 'same' | 'valid', activation: activation() });
        break;
      }
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        const poolSize = intPair(config.pool_size ?? 2) ?? fail(`pool_size ${JSON.stringify(config.pool_size)} is not a positive integer pair`);
        const strides = config.strides == null ? poolSize : (intPair(config.strides) ?? fail(`strides ${JSON.stringify(config.strides)} is not a positive integer pair`));
        if ((config.padding ?? 'valid') !== 'valid') fail(`padding ${JSON.stringify(config.padding)}: pooling supports only 'valid'`);
        const spec: LayerSpec = { type: cls === 'AveragePooling2D' ? 'avgPool2d' : 'maxPool2d', poolSize: compactPair(poolSize) };
        if (strides[0] !== poolSize[0] || strides[1] !== poolSize[1]) spec.strides = compactPair(strides);
        layers.push(spec);
        break;
      }
      case 'Flatten':
        layers.push({ type: 'flatten' });
        break;
      case 'Dense':
        if (!Number.isInteger(config.units) || (config.units as number) < 1) fail(`units ${JSON.stringify(config.units)} is not a positive integer`);
        if (config.use_bias === false) fail('use_bias false: only dense layers with a bias are supported');
        layers.push({ type: 'dense', units: config.units as number, activation: activation() });
        break;
      case 'Activation':
        layers.push({ type: 'activation', activation: activation() });
        break;
      default:
        fail('this layer type cannot be imported; supported: InputLayer, Conv2D, AveragePooling2D, MaxPooling2D, Flatten, Dense, Activation');
    }
    layerNames.push(name);
  });
  if (!inputShape) throw new InteropError(`${source}: no layer declares the input shape (batch_input_shape); the first layer needs one`);
  const modelName = isObject(topology.config) && typeof topology.config.name === 'string' ? topology.config.name : undefined;
  const spec: ModelSpec = { ...(modelName ? { name: modelName } : {}), inputShape, layers };
  try {
    inferShapes(spec, 1);
  } catch (error) {
    if (error instanceof SpecError) throw new InteropError(`${source}: the topology is not a model this engine can run: ${error.message}`);
    throw error;
  }
  return { spec, layerNames };
}

/** Spec layers compared without names and with defaults filled in (padding 'valid', activation 'linear'). */
function sameArchitecture(a: ModelSpec, b: ModelSpec): string | undefined {
  const planA = inferShapes(a, 1);
  const planB = inferShapes(b, 1);
  if (canonicalJson(planA.inputShape) !== canonicalJson(planB.inputShape)) return `input shape [${planA.inputShape}] differs from the expected [${planB.inputShape}]`;
  const describe = (p: ModelPlan, i: number): string => {
    const l = p.layers[i];
    return l ? `${l.type} ${JSON.stringify({ out: l.outputShape, activation: l.activation, params: l.params.map((t) => t.shape), conv: l.conv && [l.conv.strideH, l.conv.strideW, l.conv.padTop, l.conv.padLeft] })}` : 'nothing';
  };
  for (let i = 0; i < Math.max(planA.layers.length, planB.layers.length); i++) {
    if (describe(planA, i) !== describe(planB, i)) return `layer ${i} is ${describe(planA, i)} but the model expects ${describe(planB, i)}`;
  }
  return undefined;
}

export interface TfjsImport {
  /** The architecture model.json describes (named after the Sequential). */
  spec: ModelSpec;
  /** Packed weights in this engine's layout (params.ts). */
  weights: Float32Array;
  /** userDefinedMetadata.lenetGpu.runCard, when the model came from this engine. */
  runCard?: unknown;
}

/**
 * Weights (and the architecture) of a TF.js Layers model. `weightData` is the
 * shards of the manifest concatenated in manifest order. With `expected`,
 * refuses a topology whose architecture differs from that spec's.
 */
export function importTfjsLayers(modelJson: TfjsModelJson, weightData: Uint8Array, options: { expected?: ModelSpec; source?: string } = {}): TfjsImport {
  const source = options.source ?? 'model.json';
  if (!isObject(modelJson) || !isObject(modelJson.modelTopology)) throw new InteropError(`${source}: has no modelTopology; is it a TF.js Layers model.json (not a graph model)?`);
  if (modelJson.format !== undefined && modelJson.format !== 'layers-model') {
    throw new InteropError(`${source}: format is ${JSON.stringify(modelJson.format)}; only 'layers-model' (tf.LayersModel.save) can be imported`);
  }
  const { spec, layerNames } = specFromTfjsTopology(modelJson.modelTopology, source);
  if (options.expected) {
    const diff = sameArchitecture(spec, options.expected);
    if (diff) throw new InteropError(`${source} is not the architecture of ${options.expected.name ?? 'the model'}: ${diff}`);
  }

  // Every weight of the manifest, by name, cut out of the concatenated shards.
  if (!Array.isArray(modelJson.weightsManifest)) throw new InteropError(`${source}: has no weightsManifest`);
  const byName = new Map<string, { spec: TfjsWeightSpec; values: Float32Array }>();
  let at = 0;
  for (const group of modelJson.weightsManifest) {
    for (const w of group.weights ?? []) {
      if (w.dtype !== 'float32' || w.quantization) {
        throw new InteropError(`${source}: weight ${w.name} is ${w.quantization ? 'quantized' : w.dtype}; only unquantized float32 weights can be imported (save without quantization)`);
      }
      const bytes = w.shape.reduce((a, b) => a * b, 1) * 4;
      if (at + bytes > weightData.length) {
        throw new InteropError(`${source}: the weight shards hold ${weightData.length} bytes but the manifest needs more by ${w.name} (truncated or missing shard?)`);
      }
      byName.set(w.name.replace(/:0$/, ''), { spec: w, values: bytesToF32(weightData.subarray(at, at + bytes)) });
      at += bytes;
    }
  }
  if (at !== weightData.length) throw new InteropError(`${source}: the weight shards hold ${weightData.length} bytes but the manifest describes ${at}`);

  const find = (layerName: string, what: 'kernel' | 'bias'): { spec: TfjsWeightSpec; values: Float32Array } => {
    const exact = byName.get(`${layerName}/${what}`);
    if (exact) return exact;
    const suffix = [...byName.keys()].filter((n) => n.endsWith(`/${layerName}/${what}`));
    if (suffix.length === 1) return byName.get(suffix[0])!;
    throw new InteropError(`${source}: no weight named ${layerName}/${what} in the manifest (it has ${[...byName.keys()].join(', ')})`);
  };

  const plan = inferShapes(spec, 1);
  const layout = parameterLayout(plan);
  const weights = new Float32Array(packedSize(layout));
  const expectShape = (name: string, got: number[], want: number[]): void => {
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw new InteropError(`${source}: weight ${name} has shape [${got}] but the layer needs [${want}]`);
    }
  };
  for (const w of layerWeights(plan, weights)) {
    const { layer } = w;
    // layerNames skips InputLayer, so it lines up with plan.layers.
    const name = layerNames[layer.index];
    const kernel = find(name, 'kernel');
    const bias = find(name, 'bias');
    expectShape(kernel.spec.name, kernel.spec.shape, layer.type === 'conv2d' ? [layer.params[0].shape[2], layer.params[0].shape[3], layer.params[0].shape[1], layer.params[0].shape[0]] : layer.params[0].shape);
    expectShape(bias.spec.name, bias.spec.shape, layer.params[1].shape);
    if (layer.type === 'conv2d') w.kernel.set(hwioToOihw(kernel.values, layer.params[0].shape));
    else w.kernel.set(w.flattenedFrom ? rowsHwcToChw(kernel.values, w.flattenedFrom, layer.params[0].shape[1]) : kernel.values);
    w.bias.set(bias.values);
  }
  const meta = modelJson.userDefinedMetadata?.lenetGpu;
  return { spec, weights, runCard: isObject(meta) ? meta.runCard : undefined };
}
