/**
 * TensorFlow.js on its CPU backend, for the interop tests: load a model.json
 * through a small in-memory IOHandler (no file:// or http), build a TF.js
 * Sequential independently from a ModelSpec (its own layer names and
 * initialisers), and save one back to model.json + weight bytes.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../../src/model/spec.ts';
import type { TfjsModelJson } from '../../src/interop/tfjs-layers.ts';

let ready: Promise<typeof tf> | undefined;

export function tfCpu(): Promise<typeof tf> {
  ready ??= (async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    return tf;
  })();
  return ready;
}

/** An IOHandler that serves model.json (as written) and its weight bytes from memory. */
export function memoryHandler(modelJson: TfjsModelJson, weightData: Uint8Array): tf.io.IOHandler {
  return {
    load: () =>
      tf.io.getModelArtifactsForJSON(JSON.parse(JSON.stringify(modelJson)) as tf.io.ModelJSON, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const copy = weightData.slice().buffer;
        return [specs, copy];
      }),
  };
}

/** Probabilities of a TF.js model on NCHW u8 pixels of single-channel images (NHWC has the same bytes for C = 1). */
export function tfPredict(model: tf.LayersModel, pixels: Uint8Array, count: number, [c, h, w]: readonly number[]): Float32Array {
  if (c !== 1) throw new Error('tfPredict handles single-channel images');
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(pixels.subarray(0, count * h * w), (p) => p / 255), [count, h, w, 1]);
    return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
}

/** A TF.js Sequential with the architecture of `spec`, built with TF.js's own names and initialisers. */
export function tfjsSequentialFor(spec: ModelSpec, seed: number): tf.Sequential {
  const [c, h, w] = spec.inputShape;
  const model = tf.sequential();
  let first = true;
  const input = (): { inputShape?: [number, number, number] } => {
    const o = first ? { inputShape: [h, w, c] as [number, number, number] } : {};
    first = false;
    return o;
  };
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  for (const l of spec.layers) {
    switch (l.type) {
      case 'conv2d':
        model.add(tf.layers.conv2d({ ...input(), filters: l.filters, kernelSize: l.kernelSize, strides: l.strides ?? 1, padding: l.padding ?? 'valid', activation: l.activation ?? 'linear', kernelInitializer: init() }));
        break;
      case 'avgPool2d':
        model.add(tf.layers.averagePooling2d({ ...input(), poolSize: l.poolSize, strides: l.strides }));
        break;
      case 'maxPool2d':
        model.add(tf.layers.maxPooling2d({ ...input(), poolSize: l.poolSize, strides: l.strides }));
        break;
      case 'flatten':
        model.add(tf.layers.flatten(input()));
        break;
      case 'dense':
        model.add(tf.layers.dense({ ...input(), units: l.units, activation: l.activation ?? 'linear', kernelInitializer: init() }));
        break;
      case 'activation':
        model.add(tf.layers.activation({ ...input(), activation: l.activation }));
        break;
    }
  }
  return model;
}

/** Saves a TF.js model the way tf.io does and returns model.json and the concatenated weight bytes. */
export async function saveToMemory(model: tf.LayersModel): Promise<{ modelJson: TfjsModelJson; weightData: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts!;
  const modelJson: TfjsModelJson = {
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology as Record<string, unknown>,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs! }],
  };
  return { modelJson, weightData: new Uint8Array(tf.io.concatenateArrayBuffers(a.weightData!)) };
}
