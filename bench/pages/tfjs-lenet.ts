/**
 * The same model in TensorFlow.js 4.22, for the comparison: a ModelSpec
 * becomes a tf.sequential of the same layers (conv2d with the same filters,
 * kernel, padding and activation; average/max pooling; flatten; dense),
 * Glorot-uniform kernels and zero biases (tfjs's defaults, like Keras),
 * compiled with Adam (lr 0.001; tfjs's epsilon defaults to 1e-7 like
 * Keras's) and sparse categorical cross-entropy. TF.js is channels-last, so
 * the input is (B, 28, 28, 1), which for one channel is the same memory as
 * our NCHW (B, 1, 28, 28); the parameter count is checked to be ours.
 *
 * The timed step, mode 'minimize' (the default, and TF.js's best case): the
 * body of tfjs-layers' own train function, run without its per-step
 * readback:
 *     optimizer.minimize(() => mean(model.lossFunctions[0](y, model.apply(x, {training: true}))), true, trainableVariables)
 * on x and y already on the backend; each step's returned loss is disposed
 * except the last, and after the timed steps `await loss.data()` waits for
 * everything queued (backends run commands in order, so the last loss
 * resolving means every step finished). Mode 'trainOnBatch' times
 * `await model.trainOnBatch(x, y)` instead, which reads the loss back after
 * every step (what tfjs-layers users get).
 *
 * Counts: one warm-up step (its time, which includes TF.js's shader
 * compilation, is reported as firstStepSeconds), one calibration step that
 * sets the steps per repeat to about repeatBudgetMs (a single-step plan keeps
 * the calibration as its first repeat), then the repeats, fewer (never below
 * 2) where they would exceed maxConfigMs.
 *
 * The wasm backend has no Conv2DBackpropFilter (nor other gradient kernels
 * of this model): its failure is caught and reported with the error.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { ImageDataset } from '../../src/data/dataset.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { inferShapes } from '../../src/model/infer.ts';
import { countFlops } from '../../src/model/flops.ts';
import { mapSpread, now, summarize, type Spread } from '../../src/bench/stats.ts';
import { stepsForBudget } from '../../src/bench/train-step.ts';

export type TfjsBackend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type TfjsMode = 'minimize' | 'trainOnBatch';

export interface TfjsStepOptions {
  batch: number;
  mode?: TfjsMode;
  warmupSteps?: number;
  steps?: number;
  repeatBudgetMs?: number;
  minSteps?: number;
  maxSteps?: number;
  repeats?: number;
  /**
   * Caps the timed wall time of one configuration: fewer repeats (never
   * fewer than 2) when a step is so slow that `repeats` would exceed it.
   */
  maxConfigMs?: number;
}

export interface TfjsStepResult {
  backend: TfjsBackend;
  batch: number;
  mode: TfjsMode;
  warmupSteps: number;
  /** Wall seconds of the first (compiling) step. */
  firstStepSeconds: number;
  stepsPerRepeat: number;
  repeats: number;
  msPerStep: Spread;
  samplesPerSecond: Spread;
  gflops: Spread;
  finalLoss: number;
  paramCount: number;
}

/** Where the page's server has the wasm binaries (Vite serves node_modules under the root). */
export const WASM_PATH = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

export async function useBackend(backend: TfjsBackend): Promise<{ ok: true; info: Record<string, unknown> } | { ok: false; error: string }> {
  try {
    if (backend === 'wasm') setWasmPaths(WASM_PATH);
    const ok = await tf.setBackend(backend);
    if (!ok) return { ok: false, error: `tf.setBackend('${backend}') returned false (backend failed to initialise)` };
    await tf.ready();
    const info: Record<string, unknown> = { backend: tf.getBackend(), tfjs: tf.version.tfjs };
    if (backend === 'webgl') info.webglVersion = tf.env().getNumber('WEBGL_VERSION');
    if (backend === 'webgpu') {
      const b = tf.backend() as unknown as { adapterInfo?: unknown; device?: GPUDevice };
      info.adapterInfo = b.adapterInfo;
    }
    return { ok: true, info };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** The spec as a tf.sequential (channels-last input), compiled as the header says. */
export function tfjsModel(spec: ModelSpec): tf.LayersModel {
  const [c, h, w] = spec.inputShape;
  const model = tf.sequential();
  spec.layers.forEach((layer, i) => {
    const first = i === 0 ? { inputShape: [h, w, c] } : {};
    switch (layer.type) {
      case 'conv2d':
        model.add(
          tf.layers.conv2d({
            ...first,
            filters: layer.filters,
            kernelSize: layer.kernelSize,
            strides: layer.strides ?? 1,
            padding: layer.padding ?? 'valid',
            activation: layer.activation ?? 'linear',
            kernelInitializer: 'glorotUniform',
            biasInitializer: 'zeros',
          }),
        );
        break;
      case 'avgPool2d':
        model.add(tf.layers.averagePooling2d({ ...first, poolSize: layer.poolSize, strides: layer.strides ?? layer.poolSize }));
        break;
      case 'maxPool2d':
        model.add(tf.layers.maxPooling2d({ ...first, poolSize: layer.poolSize, strides: layer.strides ?? layer.poolSize }));
        break;
      case 'flatten':
        model.add(tf.layers.flatten(first));
        break;
      case 'dense':
        model.add(tf.layers.dense({ ...first, units: layer.units, activation: layer.activation ?? 'linear', kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' }));
        break;
      case 'activation':
        model.add(tf.layers.activation({ ...first, activation: layer.activation }));
        break;
    }
  });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

/** Times training steps of `spec` on the current backend; see the header for the modes and the synchronisation. */
export async function benchTfjsStep(spec: ModelSpec, data: ImageDataset, options: TfjsStepOptions): Promise<TfjsStepResult> {
  const B = options.batch;
  const mode = options.mode ?? 'minimize';
  const warmupSteps = options.warmupSteps ?? 1;
  const plan = inferShapes(spec, B);
  const flops = countFlops(plan);
  const size = spec.inputShape[0] * spec.inputShape[1] * spec.inputShape[2];
  if (data.count < B) throw new Error(`need ${B} samples, have ${data.count}`);

  const pixels = new Float32Array(B * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = data.pixels[i] / 255;
  const labels = Float32Array.from(data.labels.subarray(0, B));
  const x = tf.tensor4d(pixels, [B, spec.inputShape[1], spec.inputShape[2], spec.inputShape[0]]);
  const y = tf.tensor1d(labels);
  const model = tfjsModel(spec);
  const optimizer = (model as unknown as { optimizer: tf.Optimizer }).optimizer;
  try {
    const paramCount = model.countParams();
    if (paramCount !== plan.paramCount) throw new Error(`the TF.js model has ${paramCount} parameters, ours ${plan.paramCount}: not the same model`);
    // A Sequential delegates compile() to the LayersModel it wraps, which holds the compiled loss.
    const compiled = (model as unknown as { model?: tf.LayersModel }).model ?? model;
    const lossFn = compiled.lossFunctions[0];
    if (!lossFn) throw new Error('the compiled TF.js model has no loss function');
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const minimizeStep = (): tf.Scalar => optimizer.minimize(() => tf.mean(lossFn(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true, variables)!;

    /** Runs n steps and returns ms from before the first to the resolved loss of the last. */
    const run = async (n: number): Promise<{ ms: number; loss: number }> => {
      const t0 = now();
      let loss = NaN;
      if (mode === 'trainOnBatch') {
        for (let s = 0; s < n; s++) loss = (await model.trainOnBatch(x, y)) as number;
      } else {
        let last: tf.Scalar | undefined;
        for (let s = 0; s < n; s++) {
          last?.dispose();
          last = minimizeStep();
        }
        loss = (await last!.data())[0];
        last!.dispose();
      }
      return { ms: now() - t0, loss };
    };

    const first = await run(1);
    if (warmupSteps > 1) await run(warmupSteps - 1);
    const values: number[] = [];
    let finalLoss = NaN;
    let stepsPerRepeat = options.steps;
    let estimateMs = first.ms;
    if (stepsPerRepeat === undefined) {
      const calibration = await run(1);
      estimateMs = calibration.ms;
      stepsPerRepeat = stepsForBudget(calibration.ms, options.repeatBudgetMs ?? 3000, options.minSteps ?? 1, options.maxSteps ?? 100);
      // A synchronised single step after the warm-up is a repeat of one step: keep it when that is the plan.
      if (stepsPerRepeat === 1) {
        values.push(calibration.ms);
        finalLoss = calibration.loss;
      }
    }
    const cap = options.maxConfigMs ?? Infinity;
    const requested = options.repeats ?? 3;
    const repeats = Math.max(Math.min(2, requested), Math.min(requested, Math.floor(cap / (stepsPerRepeat * estimateMs))));
    while (values.length < repeats) {
      const { ms, loss } = await run(stepsPerRepeat);
      values.push(ms / stepsPerRepeat);
      finalLoss = loss;
    }
    const msPerStep = summarize(values);
    return {
      backend: tf.getBackend() as TfjsBackend,
      batch: B,
      mode,
      warmupSteps,
      firstStepSeconds: first.ms / 1000,
      stepsPerRepeat,
      repeats,
      msPerStep,
      samplesPerSecond: mapSpread(msPerStep, (ms) => (B * 1000) / ms),
      gflops: mapSpread(msPerStep, (ms) => (flops.trainFlops * B) / (ms * 1e6)),
      finalLoss,
      paramCount,
    };
  } finally {
    model.dispose();
    optimizer.dispose();
    x.dispose();
    y.dispose();
  }
}

export { tf };
