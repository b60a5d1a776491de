import { batchOrder, PAD_INDEX } from '../../src/engine/resident-dataset.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { readU32 } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { advanceCursor, gatherBatch, type GatherDims } from '../../src/kernels/gather.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { gatherBatch as refGather } from '../../src/reference/gather.ts';
import { createRng, type Rng } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

interface Dataset {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  imageSize: number;
}

function randomDataset(rng: Rng, count: number, imageSize: number): Dataset {
  const pixels = new Uint8Array(count * imageSize);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  return { pixels, labels, count, imageSize };
}

/** A shuffled epoch order of `count` samples, the last partial batch filled by wrapping to its start. */
function epochOrder(rng: Rng, count: number, batch: number): Uint32Array {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const steps = Math.ceil(count / batch);
  return Uint32Array.from({ length: steps * batch }, (_, i) => order[i % count]);
}

interface GatherRun {
  scratch: GpuScratch;
  cache: KernelCache;
  data: Dataset;
  indices: Uint32Array;
  batch: number;
  cursor: number;
}

/** Gathers batch `cursor` on the GPU (images poisoned first) and on the CPU, and compares. */
async function gatherAndCompare(run: GatherRun, label: string): Promise<void> {
  const { scratch, cache, data, indices, batch, cursor } = run;
  const d: GatherDims = { batch, imageSize: data.imageSize, datasetCount: data.count, indexCount: indices.length };
  const images = scratch.poisoned(batch * data.imageSize);
  const batchLabels = scratch.poisoned(batch);
  const io = {
    pixels: scratch.upload(data.pixels),
    labels: scratch.upload(data.labels),
    indices: scratch.upload(indices),
    cursor: scratch.upload(Uint32Array.of(cursor)),
    images,
    batchLabels,
  };
  await scratch.run(await gatherBatch(cache, d, io));
  const refImages = new Float32Array(batch * data.imageSize);
  const refLabels = new Uint32Array(batch);
  refGather(refImages, refLabels, data.pixels, data.labels, indices, cursor, batch, data.imageSize);
  expectParity(await scratch.read(images, batch * data.imageSize), refImages, `${label} images`);
  expect(await readU32(scratch.gpu.device, batchLabels, batch), `${label} labels`).toEqual(refLabels);
}

describe('gather_batch matches the CPU reference', () => {
  let gpu: Gpu;
  afterAll(() => printMeasured('gather parity'));

  // [batch, imageSize, dataset count, cursor]: LeNet-5's batch of MNIST digits, batch 1, images whose size is
  // not a multiple of 4 (7x9 = 63, 5x6 = 30: quads straddle words), a cursor past the epoch (wraps), and a
  // larger batch over many workgroups.
  const CASES: [number, number, number, number][] = [
    [64, 784, 1000, 5],
    [1, 784, 37, 20],
    [3, 63, 50, 4],
    [5, 30, 11, 1],
    [4, 784, 10, 7],
    [512, 784, 3000, 2],
  ];
  for (const [batch, imageSize, count, cursor] of CASES) {
    it(`B=${batch} image=${imageSize} count=${count} cursor=${cursor}`, async () => {
      gpu = await testGpu();
      const seed = 7000 + batch * 31 + imageSize;
      const rng = createRng(seed);
      const data = randomDataset(rng, count, imageSize);
      const scratch = new GpuScratch(gpu);
      try {
        const run = { scratch, cache: new KernelCache(gpu.device), data, indices: epochOrder(rng, count, batch), batch, cursor };
        await gatherAndCompare(run, `B=${batch} image=${imageSize} cursor=${cursor} seed=${seed}`);
      } finally {
        scratch.dispose();
      }
    });
  }

  it('the last partial batch wraps to the start of the order', async () => {
    gpu = await testGpu();
    const seed = 7100;
    const rng = createRng(seed);
    // 10 samples, batch 4: 3 steps, the last one is samples order[8], order[9], order[0], order[1].
    const data = randomDataset(rng, 10, 784);
    const indices = epochOrder(rng, 10, 4);
    expect(indices.length).toBe(12);
    expect(Array.from(indices.subarray(10))).toEqual(Array.from(indices.subarray(0, 2)));
    const scratch = new GpuScratch(gpu);
    try {
      await gatherAndCompare({ scratch, cache: new KernelCache(gpu.device), data, indices, batch: 4, cursor: 2 }, `wrap B=4 count=10 seed=${seed}`);
    } finally {
      scratch.dispose();
    }
  });

  it('padding slots (PAD_INDEX) gather a zero image and the PAD label', async () => {
    gpu = await testGpu();
    const seed = 7200;
    const rng = createRng(seed);
    // 10 samples, batch 4, evaluation order: the last batch is samples 8, 9 and two padding slots.
    const data = randomDataset(rng, 10, 784);
    const indices = batchOrder(Uint32Array.from({ length: 10 }, (_, i) => i), 4, 'padding');
    expect(Array.from(indices.subarray(8))).toEqual([8, 9, PAD_INDEX, PAD_INDEX]);
    const scratch = new GpuScratch(gpu);
    try {
      await gatherAndCompare({ scratch, cache: new KernelCache(gpu.device), data, indices, batch: 4, cursor: 2 }, `padding B=4 count=10 seed=${seed}`);
      const odd = randomDataset(rng, 5, 63);
      const oddIndices = batchOrder(Uint32Array.from({ length: 5 }, (_, i) => i), 3, 'padding');
      await gatherAndCompare({ scratch, cache: new KernelCache(gpu.device), data: odd, indices: oddIndices, batch: 3, cursor: 1 }, `padding unaligned B=3 seed=${seed}`);
    } finally {
      scratch.dispose();
    }
  });

  it('advance_cursor walks the epoch: gather, advance, gather, ...', async () => {
    gpu = await testGpu();
    const seed = 7200;
    const rng = createRng(seed);
    const batch = 8;
    const data = randomDataset(rng, 45, 784);
    const indices = epochOrder(rng, 45, batch);
    const steps = indices.length / batch;
    const scratch = new GpuScratch(gpu);
    try {
      const cache = new KernelCache(gpu.device);
      const cursor = scratch.upload(Uint32Array.of(0));
      const images = scratch.poisoned(batch * 784);
      const batchLabels = scratch.poisoned(batch);
      const io = { pixels: scratch.upload(data.pixels), labels: scratch.upload(data.labels), indices: scratch.upload(indices), cursor, images, batchLabels };
      const gather = await gatherBatch(cache, { batch, imageSize: 784, datasetCount: 45, indexCount: indices.length }, io);
      const advance = await advanceCursor(cache, { cursor });
      const refImages = new Float32Array(batch * 784);
      const refLabels = new Uint32Array(batch);
      for (let step = 0; step < steps; step++) {
        // One pass per step, as the graph records it: the gather sees the cursor, the advance comes after.
        await scratch.run([...gather, ...advance]);
        refGather(refImages, refLabels, data.pixels, data.labels, indices, step, batch, 784);
        expectParity(await scratch.read(images, batch * 784), refImages, `advancing step ${step} seed=${seed}`);
        expect(await readU32(gpu.device, batchLabels, batch)).toEqual(refLabels);
      }
      expect(Array.from(await readU32(gpu.device, cursor, 1))).toEqual([steps]);
    } finally {
      scratch.dispose();
    }
  });

  it('a sample index past the data set is clamped, never read out of bounds', async () => {
    gpu = await testGpu();
    const rng = createRng(7300);
    const data = randomDataset(rng, 6, 30);
    const scratch = new GpuScratch(gpu);
    try {
      const cache = new KernelCache(gpu.device);
      const images = scratch.poisoned(2 * 30);
      const batchLabels = scratch.poisoned(2);
      const io = {
        pixels: scratch.upload(data.pixels),
        labels: scratch.upload(data.labels),
        indices: scratch.upload(Uint32Array.of(1, 1_000_000)),
        cursor: scratch.upload(Uint32Array.of(0)),
        images,
        batchLabels,
      };
      await scratch.run(await gatherBatch(cache, { batch: 2, imageSize: 30, datasetCount: 6, indexCount: 2 }, io));
      const ref = new Float32Array(2 * 30);
      const refLabels = new Uint32Array(2);
      refGather(ref, refLabels, data.pixels, data.labels, Uint32Array.of(1, 5), 0, 2, 30);
      expectParity(await scratch.read(images, 60), ref, 'clamped index seed=7300');
      expect(await readU32(gpu.device, batchLabels, 2)).toEqual(refLabels);
    } finally {
      scratch.dispose();
    }
  });

  it('rejects an index buffer that is not a whole number of batches, and buffers too small', async () => {
    gpu = await testGpu();
    const scratch = new GpuScratch(gpu);
    try {
      const cache = new KernelCache(gpu.device);
      const b = scratch.poisoned(16);
      const io = { pixels: b, labels: b, indices: b, cursor: b, images: b, batchLabels: b };
      await expect(gatherBatch(cache, { batch: 4, imageSize: 4, datasetCount: 4, indexCount: 6 }, io)).rejects.toThrow(/multiple of the batch/);
      await expect(gatherBatch(cache, { batch: 4, imageSize: 784, datasetCount: 4, indexCount: 4 }, io)).rejects.toThrow(/pixels binds 64 bytes but needs 3136; images binds 64 bytes but needs 12544/);
    } finally {
      scratch.dispose();
    }
  });
});
