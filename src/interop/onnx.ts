/**
 * ONNX export: the model as one self-contained ModelProto (opset 13, IR
 * version 8), encoded with the `onnx-proto` package (the official onnx.proto
 * compiled by protobufjs), so no protobuf wire format is written by hand.
 *
 * ONNX is NCHW like this engine, so nothing is transposed:
 *   conv2d     -> Conv (W: OIHW, our kernel as is; B) with explicit pads
 *                 [top, left, bottom, right]: Keras 'same' puts the extra
 *                 row/column after, which auto_pad SAME_UPPER also does but
 *                 explicit pads leave no room for interpretation
 *   avgPool2d  -> AveragePool, maxPool2d -> MaxPool (no padding)
 *   flatten    -> Flatten(axis 1): channel-major, the same order as ours
 *   dense      -> Gemm(A, B = our [in, out] kernel, C = bias), transB = 0
 *   activation -> Tanh / Sigmoid / Relu / Softmax(axis 1); linear -> Identity
 * Input `input` [N, C, H, W] float32, pixels / 255; output `output`
 * [N, classes] (probabilities when the model ends in softmax). Initializers
 * are named `<layer>.kernel` / `<layer>.bias` as in the safetensors export.
 * The spec and run card ride along as metadata_props `lenet_gpu.spec` and
 * `lenet_gpu.run_card` (JSON strings).
 */
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import type { Activation, ModelSpec } from '../model/spec.ts';
import { inferShapes, type LayerPlan } from '../model/infer.ts';
import { PACKAGE_VERSION, type RunCard } from '../engine/run-card.ts';
import { InteropError } from './errors.ts';
import { convPads, f32ToBytes, layerWeights } from './layout.ts';

// onnx-proto is CommonJS: its module.exports is the protobufjs root holding the `onnx` namespace.
// Read inside functions, never at module load: a bundle that does not export ONNX drops this module whole.
const onnxRoot = (): typeof Onnx => onnxProto.onnx;

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 8;

const float32 = (): number => onnxRoot().TensorProto.DataType.FLOAT;
const ints = (name: string, values: number[]): Onnx.IAttributeProto => ({ name, type: onnxRoot().AttributeProto.AttributeType.INTS, ints: values });
const int = (name: string, value: number): Onnx.IAttributeProto => ({ name, type: onnxRoot().AttributeProto.AttributeType.INT, i: value });

const activationOps: Record<Activation, string> = { linear: 'Identity', tanh: 'Tanh', sigmoid: 'Sigmoid', relu: 'Relu', softmax: 'Softmax' };

function valueInfo(name: string, dims: (number | string)[]): Onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: float32(), shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/** The model as ONNX bytes (a serialized ModelProto). */
export function exportOnnx(spec: ModelSpec, packed: Float32Array, runCard?: RunCard): Uint8Array {
  const plan = inferShapes(spec, 1);
  const weights = new Map(layerWeights(plan, packed).map((w) => [w.layer.index, w]));
  const nodes: Onnx.INodeProto[] = [];
  const initializer: Onnx.ITensorProto[] = [];
  let current = 'input';

  const emit = (layer: LayerPlan, opType: string, inputs: string[], attribute: Onnx.IAttributeProto[] = [], suffix = ''): void => {
    const output = `${layer.name}${suffix}`;
    nodes.push({ name: output, opType, input: [current, ...inputs], output: [output], attribute });
    current = output;
  };
  const activate = (layer: LayerPlan, name: Activation): void => {
    if (name === 'linear') return;
    emit(layer, activationOps[name], [], name === 'softmax' ? [int('axis', 1)] : [], `_${name}`);
  };
  const addParams = (layer: LayerPlan): [string, string] => {
    const w = weights.get(layer.index)!;
    const kernel = `${layer.name}.kernel`;
    const bias = `${layer.name}.bias`;
    initializer.push({ name: kernel, dims: layer.params[0].shape, dataType: float32(), rawData: f32ToBytes(w.kernel) });
    initializer.push({ name: bias, dims: layer.params[1].shape, dataType: float32(), rawData: f32ToBytes(w.bias) });
    return [kernel, bias];
  };

  for (const layer of plan.layers) {
    switch (layer.type) {
      case 'conv2d': {
        const g = layer.conv!;
        emit(layer, 'Conv', addParams(layer), [
          ints('kernel_shape', [g.kernelH, g.kernelW]),
          ints('strides', [g.strideH, g.strideW]),
          ints('pads', convPads(layer)),
          ints('dilations', [1, 1]),
          int('group', 1),
        ]);
        activate(layer, layer.activation);
        break;
      }
      case 'avgPool2d':
      case 'maxPool2d': {
        const p = layer.pool!;
        emit(layer, layer.type === 'avgPool2d' ? 'AveragePool' : 'MaxPool', [], [ints('kernel_shape', [p.windowH, p.windowW]), ints('strides', [p.strideH, p.strideW])]);
        break;
      }
      case 'flatten':
        emit(layer, 'Flatten', [], [int('axis', 1)]);
        break;
      case 'dense':
        emit(layer, 'Gemm', addParams(layer), [int('transA', 0), int('transB', 0)]);
        activate(layer, layer.activation);
        break;
      case 'activation':
        emit(layer, activationOps[layer.activation], [], layer.activation === 'softmax' ? [int('axis', 1)] : []);
        break;
    }
  }
  if (nodes.length === 0) throw new InteropError(`${plan.name} has no operations to export`);
  // The graph's output gets a stable name.
  const last = nodes[nodes.length - 1];
  last.output = ['output'];

  const metadataProps: Onnx.IStringStringEntryProto[] = [{ key: 'lenet_gpu.spec', value: JSON.stringify(spec) }];
  if (runCard) metadataProps.push({ key: 'lenet_gpu.run_card', value: JSON.stringify(runCard) });
  const model = onnxRoot().ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'lenet-gpu',
    producerVersion: PACKAGE_VERSION,
    docString: `${plan.name}: input NCHW float32 pixels / 255, output ${plan.softmaxOutput ? 'class probabilities' : 'the last layer'}`,
    metadataProps,
    graph: {
      name: plan.name,
      node: nodes,
      initializer,
      input: [valueInfo('input', ['N', ...plan.inputShape])],
      output: [valueInfo('output', ['N', ...plan.outputShape])],
    },
  });
  return new Uint8Array(onnxRoot().ModelProto.encode(model).finish());
}

/** The metadata_props of an ONNX file (e.g. to read back the spec and run card). */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnxRoot().ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
}
