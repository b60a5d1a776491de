import { afterAll, describe, expect, it } from 'vitest';
import { readBytes } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { METRICS_TOTALS_BYTES, metricsAccumulate, metricsReset, readTotals } from '../../src/kernels/metrics.ts';
import { metricsAccumulate as refAccumulate, metricsReset as refReset, type MetricTotals } from '../../src/reference/metrics.ts';
import { createRng, randomUniform, type Rng } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

interface Batch {
  loss: Float32Array;
  correct: Uint32Array;
}

function randomBatch(rng: Rng, batch: number): Batch {
  return { loss: randomUniform(rng, batch, 0, 4), correct: Uint32Array.from({ length: batch }, () => (rng.next() < 0.7 ? 1 : 0)) };
}

async function readGpuTotals(gpu: Gpu, totals: GPUBuffer): Promise<MetricTotals> {
  return readTotals(await readBytes(gpu.device, totals, 0, METRICS_TOTALS_BYTES));
}

function expectTotals(actual: MetricTotals, expected: MetricTotals, label: string): void {
  expectParity([actual.lossSum], [expected.lossSum], `${label} lossSum`);
  expect({ correct: actual.correct, samples: actual.samples, steps: actual.steps }, label).toEqual({
    correct: expected.correct,
    samples: expected.samples,
    steps: expected.steps,
  });
}

describe('metrics_accumulate and metrics_reset match the CPU reference', () => {
  let gpu: Gpu;
  afterAll(() => printMeasured('metrics parity'));

  // [batch, batches]: LeNet-5's batch over a run of steps, batch 1, an odd batch, and a large one.
  const CASES: [number, number][] = [
    [64, 12],
    [1, 5],
    [3, 7],
    [1000, 4],
  ];
  for (const [batch, batches] of CASES) {
    it(`B=${batch} over ${batches} batches, reset by the kernel first`, async () => {
      gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      const seed = 9000 + batch + batches;
      const rng = createRng(seed);
      const scratch = new GpuScratch(gpu);
      try {
        // Poisoned: only metrics_reset makes it zero, with no upload.
        const totals = scratch.poisoned(4);
        const sampleLoss = scratch.poisoned(batch);
        const sampleCorrect = scratch.poisoned(batch);
        const reset = await metricsReset(cache, { totals });
        const accumulate = await metricsAccumulate(cache, batch, { sampleLoss, sampleCorrect, totals });
        await scratch.run(reset);
        const ref: MetricTotals = { lossSum: NaN, correct: NaN, samples: NaN, steps: NaN };
        refReset(ref);
        expect(await readGpuTotals(gpu, totals)).toEqual(ref);
        for (let i = 0; i < batches; i++) {
          const { loss, correct } = randomBatch(rng, batch);
          gpu.device.queue.writeBuffer(sampleLoss, 0, loss);
          gpu.device.queue.writeBuffer(sampleCorrect, 0, correct);
          await scratch.run(accumulate);
          refAccumulate(ref, loss, correct, batch);
        }
        expectTotals(await readGpuTotals(gpu, totals), ref, `B=${batch} x${batches} seed=${seed}`);
        await scratch.run(reset);
        expect(await readGpuTotals(gpu, totals)).toEqual({ lossSum: 0, correct: 0, samples: 0, steps: 0 });
      } finally {
        scratch.dispose();
      }
    });
  }

  it('is bit-identical run to run', async () => {
    gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    const rng = createRng(9100);
    const batches = Array.from({ length: 10 }, () => randomBatch(rng, 64));
    const runs: ArrayBuffer[] = [];
    for (let run = 0; run < 2; run++) {
      const scratch = new GpuScratch(gpu);
      try {
        const totals = scratch.poisoned(4);
        const sampleLoss = scratch.poisoned(64);
        const sampleCorrect = scratch.poisoned(64);
        await scratch.run(await metricsReset(cache, { totals }));
        const accumulate = await metricsAccumulate(cache, 64, { sampleLoss, sampleCorrect, totals });
        for (const { loss, correct } of batches) {
          gpu.device.queue.writeBuffer(sampleLoss, 0, loss);
          gpu.device.queue.writeBuffer(sampleCorrect, 0, correct);
          await scratch.run(accumulate);
        }
        runs.push(await readBytes(gpu.device, totals));
      } finally {
        scratch.dispose();
      }
    }
    expect(new Uint8Array(runs[1])).toEqual(new Uint8Array(runs[0]));
  });

  it('readTotals decodes the documented layout', () => {
    const bytes = new ArrayBuffer(16);
    const view = new DataView(bytes);
    view.setFloat32(0, 12.5, true);
    view.setUint32(4, 7, true);
    view.setUint32(8, 9, true);
    view.setUint32(12, 3, true);
    expect(readTotals(bytes)).toEqual({ lossSum: 12.5, correct: 7, samples: 9, steps: 3 });
    expect(readTotals(new Uint8Array(bytes))).toEqual({ lossSum: 12.5, correct: 7, samples: 9, steps: 3 });
  });
});
