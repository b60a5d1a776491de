/**
 * Faults the engine promises to survive or report: a lost device mid-run,
 * a loss that goes NaN, a batch over the adapter's limits; and long-run
 * hygiene: no buffer created per step or epoch, dispose() frees everything,
 * two engines share one device.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { fit, NumericalError } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import { fitWithRecovery } from '../../src/engine/resilient-fit.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { requestGpu } from '../../src/gpu/device-node.ts';
import { GpuLimitError } from '../../src/gpu/errors.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

describe('faults and long runs', () => {
  let train: ImageDataset;
  beforeAll(async () => {
    train = await mnistSlice('train', 0, 640);
  });

  it('survives a device lost mid-training: new device, rebuilt from the last epoch checkpoint, same result as without the loss', async () => {
    const options = { seed: 11, batchSize: 32 } as const;
    const fitOptions = { epochs: 3, validationSplit: 0, maxStepsPerEpoch: 12, stepsPerSubmit: 2, shuffleSeed: 11 } as const;
    // Reference: the same run with no fault.
    const calm = await testGpu();
    const reference = await Model.create(calm, lenet5, options);
    const expected = await fit(reference, train, fitOptions);
    const expectedWeights = await reference.getWeights();
    reference.dispose();

    const first = await requestGpu({ onLost: () => undefined });
    let killed = false;
    const saved: number[] = [];
    const result = await fitWithRecovery(first, lenet5, options, train, {
      ...fitOptions,
      onStep: (e) => {
        if (e.epoch === 2 && e.step >= 4 && !killed) {
          killed = true;
          first.device.destroy(); // what a driver reset looks like from here
        }
      },
    }, { requestGpu: () => requestGpu(), onCheckpoint: (_bytes, epoch) => { saved.push(epoch); } });
    try {
      expect(killed).toBe(true);
      expect(result.recoveries).toBe(1);
      expect(result.gpu).not.toBe(first);
      expect(result.history.notes.join('\n')).toMatch(/device lost during epoch 2 after step \d+ \(destroyed\); recovery 1\/3: .*rebuilt from the checkpoint after epoch 1; \d+ step\(s\) trained again/);
      const [recovery] = result.history.recoveries!;
      expect(recovery.reason).toBe('destroyed');
      expect(recovery.resumedFrom).toEqual({ epoch: 1, step: 0 });
      expect(recovery.lostAfter.epoch).toBe(2);
      expect(recovery.stepsRedone).toBe(recovery.lostAfter.step);
      expect(recovery.stepsRedone).toBeGreaterThanOrEqual(4);
      expect(result.history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
      expect(saved).toEqual([1, 2, 3]);
      // Deterministic kernels + the checkpoint's optimizer state: nothing but time was lost.
      expect(result.history.epochs.map((e) => e.loss)).toEqual(expected.epochs.map((e) => e.loss));
      expect(await result.model.getWeights()).toEqual(expectedWeights);
    } finally {
      result.model.dispose();
      result.gpu.destroy();
    }
  });

  it('a loss that becomes NaN stops training at once, names the layer, and keeps the last good weights', async () => {
    const gpu = await testGpu();
    // An absurd learning rate makes the weights overflow within a few steps.
    const model = await Model.create(gpu, lenet5, { seed: 2, batchSize: 32, optimizer: { kind: 'sgd', learningRate: 1e36 } });
    try {
      const before = await model.getWeights();
      const error = await fit(model, train, { epochs: 1, validationSplit: 0, stepsPerSubmit: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NumericalError);
      expect((error as Error).message).toMatch(/loss became (NaN|-?Infinity) in epoch 1 by step \d+; the first bad values are in layer \d+ '\w+'/);
      const after = await model.getWeights();
      expect(after.every(Number.isFinite)).toBe(true);
      expect(after).toEqual(before); // restored to the start of the epoch
    } finally {
      model.dispose();
    }
  });

  it('a batch over the adapter limits is refused up front with the largest batch that fits', async () => {
    const gpu = await testGpu();
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const batch = Math.ceil(limit / (6 * 28 * 28 * 4)) + 10;
    const error = await Model.create(gpu, lenet5, { batchSize: batch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuLimitError);
    const fits = Math.floor(limit / (6 * 28 * 28 * 4));
    expect((error as Error).message).toContain(`the largest batch that fits is ${fits}`);
    expect((error as Error).message).toContain('conv2d_1 output');
  });

  it('creates no buffer after the first epoch starts, and dispose() frees every buffer it made', async () => {
    const gpu: Gpu = await testGpu();
    const device = gpu.device;
    const created: GPUBuffer[] = [];
    const createBuffer = device.createBuffer.bind(device);
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      const b = createBuffer(descriptor);
      created.push(b);
      const destroy = b.destroy.bind(b);
      b.destroy = () => { destroyedSet.add(b); destroy(); };
      return b;
    };
    const destroyedSet = new Set<GPUBuffer>();
    try {
      const model = await Model.create(gpu, lenet5, { seed: 1, batchSize: 32 });
      const counts: number[] = [];
      await fit(model, train, { epochs: 4, validationSplit: 0.2, maxStepsPerEpoch: 8, onEpochEnd: () => counts.push(created.length) });
      // All per-run buffers exist before epoch 1 ends; epochs 2-4 create none (several hundred dispatches later).
      expect(counts[1]).toBe(counts[0]);
      expect(counts[3]).toBe(counts[0]);
      model.dispose();
      const leaked = created.filter((b) => !destroyedSet.has(b));
      expect(leaked.map((b) => b.label)).toEqual([]);
    } finally {
      device.createBuffer = createBuffer;
    }
  });

  it('two models share one device and train independently (each equals its solo run)', async () => {
    const gpu = await testGpu();
    const run = async (seed: number): Promise<number[]> => {
      const m = await Model.create(gpu, lenet5, { seed, batchSize: 32 });
      try {
        return (await fit(m, train, { epochs: 1, validationSplit: 0, maxStepsPerEpoch: 6 })).epochs.map((e) => e.loss);
      } finally {
        m.dispose();
      }
    };
    const [soloA, soloB] = [await run(1), await run(2)];
    const [a, b] = await Promise.all([run(1), run(2)]);
    expect(a).toEqual(soloA);
    expect(b).toEqual(soloB);
    expect(soloA).not.toEqual(soloB);
  });
});
