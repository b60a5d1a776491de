/**
 * shaders/augment.wgsl against its CPU reference (src/reference/augment.ts):
 * the identity when every maximum is 0, parity on real MNIST digits and on
 * odd multi-channel shapes at several counters, the counter advancing on the
 * GPU, and the geometry and draws of the reference itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { readBytes, readF32, readU32 } from '../../src/gpu/buffers.ts';
import { Model } from '../../src/engine/model.ts';
import { BatchCursor, batchOrder, ResidentDataset } from '../../src/engine/resident-dataset.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { decodeTotals } from '../../src/kernels/metrics.ts';
import { AugmentedInput, recordAugmentedTrainPass } from '../../src/engine/augmented-pass.ts';
import { augmentAdvance, augmentBatch, createAugmentCounter, type AugmentDims } from '../../src/kernels/augment.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { augmentBatch as refAugment, augmentTransform, augmentUniforms, type AugmentOptions } from '../../src/reference/augment.ts';
import { createRng } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice, normalisedBatch } from '../helpers/mnist.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

const LECUN: AugmentOptions = { maxRotationDegrees: 15, maxScale: 0.15, maxShift: 2, seed: 7 };

function reference(images: Float32Array, counter: number, options: AugmentOptions, d: AugmentDims): Float32Array {
  const out = new Float32Array(images.length);
  refAugment(out, images, counter, options, d.batch, d.channels, d.height, d.width);
  return out;
}

describe('augment_batch matches the CPU reference', () => {
  let gpu: Gpu;
  let cache: KernelCache;
  let digits: Float32Array;
  const mnist: AugmentDims = { batch: 64, channels: 1, height: 28, width: 28 };
  beforeAll(async () => {
    gpu = await testGpu();
    cache = new KernelCache(gpu.device);
    digits = normalisedBatch(await mnistSlice('train', 0, 64), 0, 64);
  });
  afterAll(() => printMeasured('augment parity'));

  async function gpuAugment(images: Float32Array, counter: number, options: AugmentOptions, d: AugmentDims, advanceFirst = 0): Promise<Float32Array> {
    const scratch = new GpuScratch(gpu);
    try {
      const count = d.batch * d.channels * d.height * d.width;
      const input = scratch.upload(images);
      const output = scratch.poisoned(count);
      const counterBuffer = createAugmentCounter(gpu.device, counter);
      try {
        for (let k = 0; k < advanceFirst; k++) await scratch.run(await augmentAdvance(cache, { counter: counterBuffer }));
        if (advanceFirst > 0) expect((await readU32(gpu.device, counterBuffer, 1))[0]).toBe(counter + advanceFirst);
        await scratch.run(await augmentBatch(cache, d, options, { images: input, counter: counterBuffer, augmented: output }));
        return await scratch.read(output, count);
      } finally {
        counterBuffer.destroy();
      }
    } finally {
      scratch.dispose();
    }
  }

  it('is the identity, exactly, when every maximum is 0', async () => {
    const out = await gpuAugment(digits, 3, { maxRotationDegrees: 0, maxScale: 0, maxShift: 0 }, mnist);
    expect(Buffer.from(out.buffer).equals(Buffer.from(digits.buffer))).toBe(true);
    expect(reference(digits, 3, { maxRotationDegrees: 0, maxScale: 0, maxShift: 0 }, mnist)).toEqual(digits);
  });

  it.each([0, 1, 123456, 0xffffffff])('MNIST batch of 64 at counter %i: rotations, scalings and shifts as the reference', async (counter) => {
    const out = await gpuAugment(digits, counter, LECUN, mnist);
    const ref = reference(digits, counter, LECUN, mnist);
    expectParity(out, ref, `augment 64x1x28x28 counter ${counter}`);
    // It did something: the batch moved.
    let changed = 0;
    for (let i = 0; i < ref.length; i++) if (Math.abs(ref[i] - digits[i]) > 0.1) changed++;
    expect(changed).toBeGreaterThan(ref.length / 50);
  });

  it('odd multi-channel shapes and large transforms', async () => {
    const d: AugmentDims = { batch: 5, channels: 3, height: 9, width: 7 };
    const rng = createRng(4);
    const images = Float32Array.from({ length: 5 * 3 * 9 * 7 }, () => rng.next());
    const big: AugmentOptions = { maxRotationDegrees: 45, maxScale: 0.5, maxShift: 3, seed: 0xdeadbeef };
    expectParity(await gpuAugment(images, 42, big, d), reference(images, 42, big, d), 'augment 5x3x9x7 counter 42');
  });

  it('augment_advance moves the counter on the GPU, so the next step draws new transforms', async () => {
    const out = await gpuAugment(digits, 10, LECUN, mnist, 2);
    expectParity(out, reference(digits, 12, LECUN, mnist), 'augment after 2 advances');
    const before = reference(digits, 10, LECUN, mnist);
    expect(out).not.toEqual(before);
  });
});

describe('the augmented training pass (gather -> augment -> forward ...)', () => {
  it('feeds the network the augmented batch, advances the counter per step, and trains', async () => {
    const gpu = await testGpu();
    const data = await mnistSlice('train', 0, 256);
    const B = 16;
    const model = await Model.create(gpu, lenet5, { seed: 5, batchSize: B });
    const resident = new ResidentDataset(gpu.device, data, 'augment test data');
    const cursor = new BatchCursor(gpu.device, 256, 'augment test');
    const augment = new AugmentedInput(gpu.device, LECUN, B, 784);
    const pass = await recordAugmentedTrainPass(model, resident, cursor, augment);
    try {
      cursor.load(batchOrder(Uint32Array.from({ length: 256 }, (_, i) => i), B, 'wrap'));
      augment.setStep(5);
      const step = async (steps: number, reset: boolean): Promise<void> => {
        const encoder = gpu.device.createCommandEncoder();
        pass.encode(encoder, steps, reset ? model.resetTrainTotals : []);
        gpu.device.queue.submit([encoder.finish()]);
        await gpu.device.queue.onSubmittedWorkDone();
      };
      await step(1, true);
      // The network's input is the reference augmentation of batch 0 at step 5.
      const input = await readF32(gpu.device, model.graph.input, B * 784);
      expectParity(input, reference(normalisedBatch(data, 0, B), 5, LECUN, { batch: B, channels: 1, height: 28, width: 28 }), 'augmented pass input, step 5');
      expect((await readU32(gpu.device, augment.counter, 1))[0]).toBe(6);
      const first = decodeTotals(await readBytes(gpu.device, model.trainTotals));
      await step(15, true);
      expect((await readU32(gpu.device, augment.counter, 1))[0]).toBe(21);
      await step(16, true);
      const later = decodeTotals(await readBytes(gpu.device, model.trainTotals));
      expect(Number.isFinite(later.lossSum)).toBe(true);
      expect(later.lossSum / later.samples).toBeLessThan(first.lossSum / first.samples);
    } finally {
      pass.dispose();
      augment.dispose();
      cursor.dispose();
      resident.dispose();
      model.dispose();
    }
  });
});

describe('the reference', () => {
  const u = augmentUniforms(LECUN);

  it('draws transforms within the bounds, centred, different per image and per step', () => {
    const angles: number[] = [];
    const scales: number[] = [];
    const shifts: number[] = [];
    for (let counter = 0; counter < 20; counter++) {
      for (let b = 0; b < 50; b++) {
        const t = augmentTransform(counter, b, u);
        angles.push(t.angle);
        scales.push(t.scale);
        shifts.push(t.shiftX, t.shiftY);
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const maxAngle = (15 * Math.PI) / 180;
    expect(Math.max(...angles.map(Math.abs))).toBeLessThanOrEqual(maxAngle * (1 + 1e-6));
    expect(Math.max(...angles)).toBeGreaterThan(0.9 * maxAngle);
    expect(Math.abs(mean(angles))).toBeLessThan(0.05 * maxAngle);
    expect(Math.min(...scales)).toBeGreaterThanOrEqual(0.85 - 1e-6);
    expect(Math.max(...scales)).toBeLessThanOrEqual(1.15 + 1e-6);
    expect(Math.max(...shifts.map(Math.abs))).toBeLessThanOrEqual(2);
    expect(new Set(angles).size).toBeGreaterThan(990);
    expect(augmentTransform(5, 3, u)).toEqual(augmentTransform(5, 3, u));
  });

  it('shifts a single bright pixel by the drawn shift, keeping its mass (bilinear)', () => {
    const shiftOnly: AugmentOptions = { maxRotationDegrees: 0, maxScale: 0, maxShift: 3, seed: 1 };
    const d = { batch: 1, channels: 1, height: 15, width: 15 };
    const image = new Float32Array(225);
    image[7 * 15 + 7] = 1;
    const out = reference(image, 9, shiftOnly, d);
    const t = augmentTransform(9, 0, augmentUniforms(shiftOnly));
    let mass = 0;
    let mx = 0;
    let my = 0;
    out.forEach((v, i) => {
      mass += v;
      mx += v * (i % 15);
      my += v * Math.floor(i / 15);
    });
    expect(mass).toBeCloseTo(1, 5);
    expect(mx / mass).toBeCloseTo(7 + t.shiftX, 4);
    expect(my / mass).toBeCloseTo(7 + t.shiftY, 4);
  });

  it('rotates about the centre: a pixel on the centre stays, one off it turns by the drawn angle', () => {
    const rotateOnly: AugmentOptions = { maxRotationDegrees: 30, maxScale: 0, maxShift: 0, seed: 2 };
    const d = { batch: 1, channels: 1, height: 21, width: 21 };
    const t = augmentTransform(0, 0, augmentUniforms(rotateOnly));
    const centre = new Float32Array(441);
    centre[10 * 21 + 10] = 1;
    expect(reference(centre, 0, rotateOnly, d)[10 * 21 + 10]).toBeCloseTo(1, 5);
    // A smooth blob 6 pixels right of the centre comes out at angle t.angle (y down, so positive turns clockwise on screen).
    const blob = Float32Array.from({ length: 441 }, (_, i) => Math.exp(-(((i % 21) - 16) ** 2 + (Math.floor(i / 21) - 10) ** 2) / 2));
    const out = reference(blob, 0, rotateOnly, d);
    let mass = 0;
    let mx = 0;
    let my = 0;
    out.forEach((v, i) => {
      mass += v;
      mx += v * ((i % 21) - 10);
      my += v * (Math.floor(i / 21) - 10);
    });
    expect(Math.atan2(my / mass, mx / mass)).toBeCloseTo(t.angle, 2);
  });

  it('refuses options outside their ranges', () => {
    expect(() => augmentUniforms({ maxRotationDegrees: 90, maxScale: 0, maxShift: 0 })).toThrow(/maxRotationDegrees must be in \[0, 45\]/);
    expect(() => augmentUniforms({ maxRotationDegrees: 0, maxScale: 1, maxShift: 0 })).toThrow(/maxScale/);
    expect(() => augmentUniforms({ maxRotationDegrees: 0, maxScale: 0, maxShift: -1 })).toThrow(/maxShift/);
  });
});
