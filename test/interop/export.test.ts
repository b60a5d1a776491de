/**
 * Export and import against the real runtimes, for both presets, with weights
 * trained for a few dozen steps on real MNIST (random weights would make a
 * match mean little). A layout check proves the comparison has teeth: each
 * kernel written untransposed moves the probabilities by far more than the
 * tolerance. The all-sigmoid variant still sits on its plateau after a few
 * dozen steps (near chance; its output barely depends on the input, so a
 * layout mistake would hide), so its exports are also compared, and the
 * layout check run, on "sensitised" weights: the trained kernels x4, each
 * layer after a sigmoid re-centred (bias -= 0.5 * kernel sum).
 *   - TF.js Layers: tf.loadLayersModel (CPU backend) through an in-memory
 *     IOHandler serving our model.json as written; probabilities on 1,000
 *     test images equal ours (predict on the GPU) within 1e-4;
 *   - ONNX: onnxruntime-web (wasm, in Node) runs the exported file; 300
 *     images within 1e-4;
 *   - safetensors: the round trip is bit-identical;
 *   - TF.js import: a model built and trained with TF.js (its own names and
 *     initialisers), imported into ours, predicts what TF.js predicts.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { predict } from '../../src/engine/evaluate.ts';
import { fit } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { lenet5, lenet5Variant, type ModelSpec } from '../../src/model/spec.ts';
import { inferShapes } from '../../src/model/infer.ts';
import { InteropError } from '../../src/interop/errors.ts';
import { f32ToBytes, layerWeights } from '../../src/interop/layout.ts';
import { exportOnnx, onnxMetadata } from '../../src/interop/onnx.ts';
import { exportSafetensors, importSafetensors } from '../../src/interop/safetensors.ts';
import { exportTfjsLayers, importTfjsLayers } from '../../src/interop/tfjs-layers.ts';
import { buildRunCard, type RunCard } from '../../src/engine/run-card.ts';
import { closeness } from '../helpers/allclose.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';
import { memoryHandler, saveToMemory, tfCpu, tfjsSequentialFor, tfPredict } from './tfjs-helpers.ts';

const TOLERANCE = 1e-4;
const TEST_IMAGES = 1000;
const ONNX_IMAGES = 300;
const SENSITISED_IMAGES = 200;

ort.env.wasm.numThreads = 1;

function maxAbsDiff(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const c = closeness(actual, expected);
  // Printed so the report can quote the measured differences.
  console.log(`${label}: max |difference| of probabilities ${c.maxAbsError.toExponential(2)} over ${expected.length} values`);
  expect(c.nonFinite, `${label}: non-finite values`).toBe(0);
  return c.maxAbsError;
}

/** Trained weights moved into the regime where the output depends strongly on the input (see the header). */
function sensitised(spec: ModelSpec, weights: Float32Array, gain: number): Float32Array {
  const plan = inferShapes(spec, 1);
  const out = weights.slice();
  if (gain === 1) return out;
  for (const w of layerWeights(plan, out)) {
    w.kernel.forEach((v, i) => (w.kernel[i] = v * gain));
    const prev = plan.layers.slice(0, w.layer.index).reverse().find((l) => l.activation !== 'linear');
    if (prev?.activation !== 'sigmoid') continue;
    const outs = w.bias.length;
    const perOut = w.kernel.length / outs;
    for (let o = 0; o < outs; o++) {
      let sum = 0;
      for (let k = 0; k < perOut; k++) sum += w.layer.type === 'conv2d' ? w.kernel[o * perOut + k] : w.kernel[k * outs + o];
      w.bias[o] -= 0.5 * sum;
    }
  }
  return out;
}

// [name, spec, batch, steps, Adam learning rate, kernel gain of the sensitised weights (1: as trained)].
describe.each([
  ['lenet5', lenet5, 32, 40, 0.001, 1],
  ['lenet5-variant', lenet5Variant, 32, 40, 0.003, 4],
] as [string, ModelSpec, number, number, number, number][])('interop of %s', (name, spec, batchSize, steps, learningRate, gain) => {
  let gpu: Gpu;
  let test: ImageDataset;
  let model: Model;
  let weights: Float32Array;
  let ours: Float32Array;
  let runCard: RunCard;
  /** Sensitised weights and our probabilities for them on the first SENSITISED_IMAGES test images. */
  let sharp: Float32Array;
  let oursSharp: Float32Array;

  beforeAll(async () => {
    gpu = await testGpu();
    const train = await mnistSlice('train', 0, batchSize * steps);
    test = await mnistSlice('test', 0, TEST_IMAGES);
    model = await Model.create(gpu, spec, { seed: 11, batchSize, optimizer: { kind: 'adam', learningRate } });
    const t0 = performance.now();
    const history = await fit(model, train, { epochs: 1, validationSplit: 0 });
    console.log(`${name}: trained ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    weights = await model.getWeights();
    ours = (await predict(model, test.pixels, TEST_IMAGES)).probabilities;
    // Trained, not random: most of the test images are right already.
    let correct = 0;
    for (let i = 0; i < TEST_IMAGES; i++) {
      const row = ours.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
    }
    console.log(`${name}: test accuracy after ${steps} steps ${correct / TEST_IMAGES}`);
    if (gain === 1) expect(correct / TEST_IMAGES, `${name} learned something in ${steps} steps`).toBeGreaterThan(0.5);
    sharp = sensitised(spec, weights, gain);
    model.setWeights(sharp);
    oursSharp = (await predict(model, test.pixels.subarray(0, SENSITISED_IMAGES * 784), SENSITISED_IMAGES)).probabilities;
    model.setWeights(weights);
    runCard = buildRunCard({ spec, seed: 11, batchSize, optimizer: model.optimizer.config, epochs: 1, trainImages: train.count, testImages: TEST_IMAGES, adapter: gpu.report, history });
    return () => model.dispose();
  });

  it('TF.js Layers export loads in tf.loadLayersModel and predicts what we predict', async () => {
    const tf = await tfCpu();
    const { modelJson, weightData } = exportTfjsLayers(spec, weights, runCard);
    expect(modelJson.weightsManifest[0].paths).toEqual(['group1-shard1of1.bin']);
    const loaded = await tf.loadLayersModel(memoryHandler(modelJson, weightData));
    try {
      expect(loaded.inputs[0].shape).toEqual([null, 28, 28, 1]);
      expect((loaded.getUserDefinedMetadata() as { lenetGpu: { runCard: RunCard } }).lenetGpu.runCard.seed).toBe(11);
      const theirs = tfPredict(loaded, test.pixels, TEST_IMAGES, spec.inputShape);
      expect(maxAbsDiff(`${name} TF.js export`, theirs, ours)).toBeLessThan(TOLERANCE);
    } finally {
      loaded.dispose();
    }
    if (gain !== 1) {
      const a = exportTfjsLayers(spec, sharp);
      const loadedSharp = await tf.loadLayersModel(memoryHandler(a.modelJson, a.weightData));
      const theirs = tfPredict(loadedSharp, test.pixels, SENSITISED_IMAGES, spec.inputShape);
      loadedSharp.dispose();
      expect(maxAbsDiff(`${name} TF.js export, sensitised weights`, theirs, oursSharp)).toBeLessThan(TOLERANCE);
    }
  });

  it('the comparison catches layout mistakes: a kernel left in our layout moves the probabilities far beyond the tolerance', async () => {
    const tf = await tfCpu();
    const { modelJson, weightData } = exportTfjsLayers(spec, sharp);
    // Each conv kernel, and each dense kernel that follows a flatten of a spatial map, written untransposed.
    const mistakes = layerWeights(inferShapes(spec, 1), sharp).filter((w) => w.layer.type === 'conv2d' || w.flattenedFrom);
    expect(mistakes.length).toBeGreaterThan(0);
    for (const w of mistakes) {
      const bytes = weightData.slice();
      let at = 0;
      for (const s of modelJson.weightsManifest[0].weights) {
        if (s.name === `${w.layer.name}/kernel`) bytes.set(f32ToBytes(w.kernel), at);
        at += s.shape.reduce((a, b) => a * b, 1) * 4;
      }
      const wrong = await tf.loadLayersModel(memoryHandler(modelJson, bytes));
      const c = closeness(tfPredict(wrong, test.pixels, SENSITISED_IMAGES, spec.inputShape), oursSharp);
      wrong.dispose();
      console.log(`${name}: ${w.layer.name} kernel untransposed -> max |difference| ${c.maxAbsError.toExponential(2)}`);
      expect(c.maxAbsError, `${w.layer.name} untransposed`).toBeGreaterThan(100 * TOLERANCE);
    }
  });

  it('ONNX export runs in onnxruntime and predicts what we predict', async () => {
    const bytes = exportOnnx(spec, weights, runCard);
    const meta = onnxMetadata(bytes);
    expect(JSON.parse(meta['lenet_gpu.spec'])).toEqual(spec);
    expect(JSON.parse(meta['lenet_gpu.run_card']).seed).toBe(11);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    try {
      const x = Float32Array.from(test.pixels.subarray(0, ONNX_IMAGES * 784), (p) => p / 255);
      const result = await session.run({ input: new ort.Tensor('float32', x, [ONNX_IMAGES, 1, 28, 28]) });
      const output = result.output;
      expect(output.dims).toEqual([ONNX_IMAGES, 10]);
      expect(maxAbsDiff(`${name} ONNX export`, output.data as Float32Array, ours.subarray(0, ONNX_IMAGES * 10))).toBeLessThan(TOLERANCE);
    } finally {
      await session.release();
    }
    if (gain !== 1) {
      const sharpSession = await ort.InferenceSession.create(exportOnnx(spec, sharp), { executionProviders: ['wasm'] });
      const x = Float32Array.from(test.pixels.subarray(0, SENSITISED_IMAGES * 784), (p) => p / 255);
      const { output } = await sharpSession.run({ input: new ort.Tensor('float32', x, [SENSITISED_IMAGES, 1, 28, 28]) });
      await sharpSession.release();
      expect(maxAbsDiff(`${name} ONNX export, sensitised weights`, output.data as Float32Array, oursSharp)).toBeLessThan(TOLERANCE);
    }
  });

  it('safetensors round trip is bit-identical and carries spec and run card', () => {
    const bytes = exportSafetensors(spec, weights, runCard);
    const back = importSafetensors(spec, bytes);
    expect(Buffer.from(back.weights.buffer).equals(Buffer.from(weights.buffer))).toBe(true);
    expect(back.spec).toEqual(spec);
    expect((back.runCard as RunCard).hyperParameters.batchSize).toBe(batchSize);
    // The other preset has other shapes: refused, naming the tensors.
    const other = spec === lenet5 ? lenet5Variant : lenet5;
    expect(() => importSafetensors(other, bytes)).toThrow(InteropError);
    expect(() => importSafetensors(other, bytes)).toThrow(/does not fit .*(shape|missing)/);
  });

  it('imports a model trained with TF.js: our predictions equal TF.js predictions', async () => {
    const tf = await tfCpu();
    const tfModel = tfjsSequentialFor(spec, 5);
    try {
      tfModel.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
      // A few steps only: TF.js's CPU backend trains convolutions slowly.
      const n = 96;
      const x = tf.tensor4d(Float32Array.from(test.pixels.subarray(0, n * 784), (p) => p / 255), [n, 28, 28, 1]);
      const y = tf.tensor1d(Array.from(test.labels.subarray(0, n)), 'float32');
      const t0 = performance.now();
      await tfModel.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
      console.log(`${name}: TF.js trained ${n / 32} steps in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
      tf.dispose([x, y]);
      const saved = await saveToMemory(tfModel);
      const imported = importTfjsLayers(saved.modelJson, saved.weightData, { expected: spec });
      const theirs = tfPredict(tfModel, test.pixels, TEST_IMAGES, spec.inputShape);
      const target = await Model.create(gpu, spec, { seed: 99, batchSize: 32 });
      try {
        target.setWeights(imported.weights);
        const mine = (await predict(target, test.pixels, TEST_IMAGES)).probabilities;
        expect(maxAbsDiff(`${name} TF.js import`, mine, theirs)).toBeLessThan(TOLERANCE);
      } finally {
        target.dispose();
      }
      // Our export of the imported weights gives back TF.js's weights exactly (the transposes are inverses).
      const again = exportTfjsLayers(spec, imported.weights);
      expect(Buffer.from(again.weightData).equals(Buffer.from(saved.weightData))).toBe(true);
    } finally {
      tfModel.dispose();
    }
  });
});
