/**
 * The formats without a GPU: layout transposes, 'same' pads, the safetensors
 * container and its refusals, the TF.js topology reader and its refusals, and
 * the ONNX graph's structure. Weights are initParameters draws (the runtime
 * comparisons on trained weights are in export.test.ts).
 */
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../src/model/infer.ts';
import { initParameters } from '../../src/model/params.ts';
import { lenet5, lenet5Variant, type ModelSpec } from '../../src/model/spec.ts';
import { InteropError } from '../../src/interop/errors.ts';
import { convPads, hwioToOihw, oihwToHwio, rowsChwToHwc, rowsHwcToChw } from '../../src/interop/layout.ts';
import { exportOnnx } from '../../src/interop/onnx.ts';
import { decodeSafetensors, encodeSafetensors, exportSafetensors, importSafetensors } from '../../src/interop/safetensors.ts';
import { exportTfjsLayers, importTfjsLayers, specFromTfjsTopology, type TfjsModelJson } from '../../src/interop/tfjs-layers.ts';

const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i);
const weightsOf = (spec: ModelSpec, seed = 3): Float32Array => initParameters(inferShapes(spec, 1), seed);
const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('layout', () => {
  it('OIHW -> HWIO puts [o, i, h, w] at [h, w, i, o], and back', () => {
    const shape = [4, 3, 2, 5];
    const hwio = oihwToHwio(ramp(120), shape);
    // [o=1, i=2, h=1, w=3] is ((1*3+2)*2+1)*5+3 = 58; in HWIO it sits at ((1*5+3)*3+2)*4+1 = 105.
    expect(hwio[105]).toBe(58);
    expect(hwioToOihw(hwio, shape)).toEqual(ramp(120));
  });

  it('dense rows move from (C, H, W) to (H, W, C) order, and back', () => {
    const [C, H, W, units] = [3, 2, 2, 2];
    const chw = ramp(C * H * W * units);
    const hwc = rowsChwToHwc(chw, [C, H, W], units);
    // Row (c=2, h=1, w=0) is row 10 in CHW and row (1*2+0)*3+2 = 8 in HWC.
    expect([hwc[16], hwc[17]]).toEqual([20, 21]);
    expect(rowsHwcToChw(hwc, [C, H, W], units)).toEqual(chw);
  });

  it("'same' pads put the extra row and column after, as Keras does", () => {
    const conv = (kernelSize: number, strides = 1, padding: 'same' | 'valid' = 'same') =>
      convPads(inferShapes({ inputShape: [1, 28, 28], layers: [{ type: 'conv2d', filters: 2, kernelSize, strides, padding }] }, 1).layers[0]);
    expect(conv(5)).toEqual([2, 2, 2, 2]);
    expect(conv(2)).toEqual([0, 0, 1, 1]);
    expect(conv(4)).toEqual([1, 1, 2, 2]);
    expect(conv(3, 2)).toEqual([0, 0, 1, 1]);
    expect(conv(5, 1, 'valid')).toEqual([0, 0, 0, 0]);
  });
});

describe('safetensors', () => {
  it('writes the container the format describes: u64 header length, 8-aligned JSON header, F32 tensors', () => {
    const bytes = encodeSafetensors([{ name: 'a', shape: [2, 2], values: ramp(4) }, { name: 'b', shape: [3], values: ramp(3) }], { note: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({ __metadata__: { note: 'x' }, a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [3], data_offsets: [16, 28] } });
    expect(bytes.length).toBe(8 + n + 28);
    expect(new Float32Array(bytes.slice(8 + n + 16).buffer)).toEqual(ramp(3));
  });

  it('round-trips both presets bit for bit, with spec and run card in __metadata__', () => {
    for (const spec of [lenet5, lenet5Variant]) {
      const w = weightsOf(spec);
      const bytes = exportSafetensors(spec, w);
      const file = decodeSafetensors(bytes);
      expect([...file.tensors.keys()].slice(0, 2)).toEqual(['conv2d_1.kernel', 'conv2d_1.bias']);
      expect(file.tensors.get('conv2d_1.kernel')!.shape).toEqual(spec === lenet5 ? [6, 1, 5, 5] : [6, 1, 2, 2]);
      expect(JSON.parse(file.metadata.spec)).toEqual(spec);
      expect(sameBits(importSafetensors(spec, bytes).weights, w)).toBe(true);
    }
  });

  it('refuses truncated, mistyped, misshapen and foreign files, saying what is wrong', () => {
    const good = exportSafetensors(lenet5, weightsOf(lenet5));
    expect(() => importSafetensors(lenet5, good.subarray(0, 4))).toThrow(/too short/);
    expect(() => importSafetensors(lenet5, good.subarray(0, good.length - 4))).toThrow(/outside the .* data bytes|cover/);
    const f16 = encodeSafetensors([{ name: 'conv2d_1.kernel', shape: [6, 1, 5, 5], values: ramp(150) }]);
    // Rewrite the dtype in the header in place (same length) to F16.
    const mistyped = f16.slice();
    const at = Buffer.from(mistyped).indexOf('"F32"');
    mistyped.set(new TextEncoder().encode('"F16"'), at);
    expect(() => importSafetensors(lenet5, mistyped)).toThrow(/conv2d_1\.kernel is F16, not F32/);
    const shaped = encodeSafetensors([{ name: 'conv2d_1.kernel', shape: [150], values: ramp(150) }]);
    expect(() => importSafetensors(lenet5, shaped)).toThrow(/conv2d_1\.kernel has shape \[150\] but the model needs \[6,1,5,5\]; conv2d_1\.bias is missing/);
    const extra = encodeSafetensors([{ name: 'extra.weight', shape: [1], values: ramp(1) }]);
    expect(() => importSafetensors(lenet5, extra)).toThrow(/extra\.weight is not a tensor of the model/);
    expect(() => importSafetensors(lenet5Variant, good)).toThrow(InteropError);
    expect(() => decodeSafetensors(new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 1]))).toThrow(/declares a .*-byte header/);
  });
});

describe('TF.js Layers topology', () => {
  it('our export reads back as the same architecture, and the weights round-trip exactly', () => {
    for (const spec of [lenet5, lenet5Variant]) {
      const w = weightsOf(spec);
      const { modelJson, weightData } = exportTfjsLayers(spec, w);
      const layers = (modelJson.modelTopology.config as { layers: { class_name: string }[] }).layers.map((l) => l.class_name);
      expect(layers).toEqual(spec === lenet5 ? ['Conv2D', 'AveragePooling2D', 'Conv2D', 'AveragePooling2D', 'Flatten', 'Dense', 'Dense', 'Dense'] : ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense']);
      expect(modelJson.weightsManifest[0].weights[0]).toEqual({ name: 'conv2d_1/kernel', shape: spec === lenet5 ? [5, 5, 1, 6] : [2, 2, 1, 6], dtype: 'float32' });
      const back = importTfjsLayers(modelJson, weightData, { expected: spec });
      expect(inferShapes(back.spec, 1).paramCount).toBe(inferShapes(spec, 1).paramCount);
      expect(sameBits(back.weights, w)).toBe(true);
    }
  });

  const topology = (layers: unknown[]): Record<string, unknown> => ({ class_name: 'Sequential', config: { name: 's', layers } });
  const input = { batch_input_shape: [null, 28, 28, 1] };

  it('reads Keras-converter topologies: InputLayer, model_config nesting, pooling strides', () => {
    const { spec } = specFromTfjsTopology({
      model_config: topology([
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 28, 28, 1], name: 'in' } },
        { class_name: 'Conv2D', config: { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', name: 'c' } },
        { class_name: 'MaxPooling2D', config: { pool_size: [2, 2], strides: [1, 1], padding: 'valid', name: 'p' } },
        { class_name: 'Flatten', config: { name: 'f' } },
        { class_name: 'Dense', config: { units: 10, activation: 'softmax', name: 'd' } },
      ]),
    });
    expect(spec.inputShape).toEqual([1, 28, 28]);
    expect(spec.layers).toEqual([
      { type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2, strides: 1 },
      { type: 'flatten' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ]);
  });

  it('refuses what it cannot run, naming the layer and the reason', () => {
    expect(() => specFromTfjsTopology(topology([{ class_name: 'Dropout', config: { rate: 0.5, name: 'drop', ...input } }]))).toThrow(/layer 0 'drop' \(Dropout\): this layer type cannot be imported/);
    expect(() => specFromTfjsTopology(topology([{ class_name: 'Conv2D', config: { filters: 2, kernel_size: 3, data_format: 'channels_first', name: 'c', ...input } }]))).toThrow(/channels_first.*only channels_last/);
    expect(() => specFromTfjsTopology(topology([{ class_name: 'Dense', config: { units: 2, activation: 'elu', name: 'd', ...input } }]))).toThrow(/activation "elu"/);
    expect(() => specFromTfjsTopology({ class_name: 'Model', config: {} })).toThrow(/only Sequential/);
    expect(() => specFromTfjsTopology(topology([{ class_name: 'Flatten', config: { name: 'f' } }]))).toThrow(/no layer declares the input shape/);
  });

  it('refuses another architecture, quantized weights and short shards', () => {
    const { modelJson, weightData } = exportTfjsLayers(lenet5, weightsOf(lenet5));
    expect(() => importTfjsLayers(modelJson, weightData, { expected: lenet5Variant })).toThrow(/is not the architecture of lenet5-variant: layer 0/);
    expect(() => importTfjsLayers(modelJson, weightData.subarray(0, 1000))).toThrow(/shards hold 1000 bytes/);
    const quantized: TfjsModelJson = JSON.parse(JSON.stringify(modelJson));
    quantized.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 };
    expect(() => importTfjsLayers(quantized, weightData)).toThrow(/conv2d_1\/kernel is quantized/);
    const renamed: TfjsModelJson = JSON.parse(JSON.stringify(modelJson));
    renamed.weightsManifest[0].weights[0].name = 'other/kernel';
    expect(() => importTfjsLayers(renamed, weightData)).toThrow(/no weight named conv2d_1\/kernel/);
  });
});

describe('ONNX graph', () => {
  it('is NCHW Conv/pool/Flatten/Gemm with explicit Keras pads, opset 13, and our tensors untransposed', () => {
    const { onnx } = onnxProto;
    const w = weightsOf(lenet5);
    const model = onnx.ModelProto.decode(exportOnnx(lenet5, w));
    expect(Number(model.opsetImport[0].version)).toBe(13);
    const g = model.graph as Onnx.GraphProto;
    const nodes = g.node as Onnx.NodeProto[];
    expect(nodes.map((n) => n.opType)).toEqual(['Conv', 'Tanh', 'AveragePool', 'Conv', 'Tanh', 'AveragePool', 'Flatten', 'Gemm', 'Tanh', 'Gemm', 'Tanh', 'Gemm', 'Softmax']);
    const pads = nodes[0].attribute.find((a) => a.name === 'pads')!.ints!.map(Number);
    expect(pads).toEqual([2, 2, 2, 2]);
    expect(nodes.at(-1)!.output).toEqual(['output']);
    expect(g.input[0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 1, 28, 28]);
    const kernel = g.initializer.find((t) => t.name === 'dense_1.kernel')!;
    expect(kernel.dims!.map(Number)).toEqual([400, 120]);
    const raw = kernel.rawData!;
    expect(sameBits(new Float32Array(raw.slice().buffer), w.subarray(6 * 25 + 6 + 16 * 150 + 16, 6 * 25 + 6 + 16 * 150 + 16 + 48000))).toBe(true);
  });
});
