/**
 * The workflow on real MNIST, small: fit (loss falls, history complete,
 * validation), evaluate (GPU totals agree with the probabilities), predict,
 * checkpoint round trip and resume, and refusals of damaged or mismatched
 * checkpoints.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { captureCheckpoint, CheckpointError, decodeCheckpoint, restoreCheckpoint } from '../../src/engine/checkpoint.ts';
import { evaluate, predict } from '../../src/engine/evaluate.ts';
import { fit } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import { SpecError } from '../../src/model/infer.ts';
import { lenet5, lenet5Variant, type ModelSpec } from '../../src/model/spec.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

describe('fit / evaluate / predict / checkpoints', () => {
  let gpu: Gpu;
  let train: ImageDataset;
  let test: ImageDataset;
  beforeAll(async () => {
    gpu = await testGpu();
    train = await mnistSlice('train', 0, 2000);
    test = await mnistSlice('test', 0, 300);
  });

  it('trains: loss falls over epochs, validation is reported, step events arrive', async () => {
    const model = await Model.create(gpu, lenet5, { seed: 3, batchSize: 32 });
    try {
      const steps: number[] = [];
      const history = await fit(model, train, { epochs: 3, validationSplit: 0.2, onStep: (e) => steps.push(e.step) });
      expect(history.epochs).toHaveLength(3);
      expect(history.stopReason).toBe('completed');
      const [first, , last] = history.epochs;
      expect(last.loss).toBeLessThan(first.loss);
      expect(last.valAccuracy).toBeGreaterThan(0.8);
      expect(first.steps).toBe(Math.ceil(1600 / 32));
      expect(first.samplesPerSecond).toBeGreaterThan(0);
      expect(steps.length).toBeGreaterThan(0);
      const evaluation = await evaluate(model, test);
      expect(evaluation.report.count).toBe(300);
      expect(evaluation.accuracy).toBeGreaterThan(0.8);
      expect(evaluation.report.macroAuc).toBeGreaterThan(0.95);
      expect(evaluation.report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
      const p = await predict(model, test.pixels.subarray(0, 5 * 784), 5);
      expect(p.probabilities.length).toBe(50);
      for (let i = 0; i < 5; i++) {
        const row = p.probabilities.subarray(i * 10, i * 10 + 10);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(p.probabilities.subarray(i * 10, i * 10 + 10)).toEqual(evaluation.probabilities.subarray(i * 10, i * 10 + 10));
      }
    } finally {
      model.dispose();
    }
  });

  it('checkpoint round trip is bit-identical, and resuming continues the loss curve', async () => {
    const options = { seed: 5, batchSize: 32 } as const;
    const fitOptions = { validationSplit: 0, maxStepsPerEpoch: 10, shuffleSeed: 5 } as const;
    // Uninterrupted: 3 epochs.
    const straight = await Model.create(gpu, lenet5, options);
    const full = await fit(straight, train, { ...fitOptions, epochs: 3 });
    const straightWeights = await straight.getWeights();
    straight.dispose();
    // Interrupted after 2 epochs, saved, loaded into a fresh model, resumed for the 3rd.
    const first = await Model.create(gpu, lenet5, options);
    const part = await fit(first, train, { ...fitOptions, epochs: 2 });
    const bytes = await captureCheckpoint(first, 2);
    const weights = await first.getWeights();
    first.dispose();
    const second = await Model.create(gpu, lenet5, { ...options, seed: 99 });
    try {
      const header = restoreCheckpoint(second, bytes);
      expect(header.epoch).toBe(2);
      const restored = await second.getWeights();
      expect(Buffer.from(restored.buffer).equals(Buffer.from(weights.buffer))).toBe(true);
      const rest = await fit(second, train, { ...fitOptions, epochs: 3, initialEpoch: 2 });
      expect(part.epochs.map((e) => e.loss)).toEqual(full.epochs.slice(0, 2).map((e) => e.loss));
      expect(rest.epochs[0].epoch).toBe(3);
      // Same weights, optimizer moments, step counter and shuffle: the third epoch is the same.
      expect(rest.epochs[0].loss).toBe(full.epochs[2].loss);
      expect(Buffer.from((await second.getWeights()).buffer).equals(Buffer.from(straightWeights.buffer))).toBe(true);
    } finally {
      second.dispose();
    }
  });

  it('refuses damaged, truncated and mismatched checkpoints without touching the model', async () => {
    const model = await Model.create(gpu, lenet5, { seed: 1, batchSize: 8 });
    const other = await Model.create(gpu, lenet5Variant, { seed: 1, batchSize: 8 });
    try {
      const bytes = await captureCheckpoint(model, 0);
      const before = await other.getWeights();
      const flipped = bytes.slice();
      flipped[bytes.length >> 1] ^= 0x40;
      expect(() => decodeCheckpoint(flipped)).toThrow(/damaged or truncated: checksum/);
      expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100))).toThrow(CheckpointError);
      expect(() => decodeCheckpoint(new TextEncoder().encode('not a checkpoint at all'))).toThrow(/not a lenet-gpu checkpoint/);
      expect(() => restoreCheckpoint(other, bytes)).toThrow(/different model/);
      expect(await other.getWeights()).toEqual(before);
    } finally {
      model.dispose();
      other.dispose();
    }
  });

  it('an impossible spec fails at shape inference, naming the layer and shapes, before any GPU work', async () => {
    const bad: ModelSpec = { inputShape: [1, 28, 28], layers: [{ type: 'conv2d', filters: 4, kernelSize: 30 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] };
    await expect(Model.create(gpu, bad)).rejects.toThrow(SpecError);
    await expect(Model.create(gpu, bad)).rejects.toThrow(/conv2d_1.*\[1, 28, 28\]/);
  });
});
