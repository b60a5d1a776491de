/**
 * Whole training steps on the GPU against the CPU reference: identical
 * initial weights (initParameters with one seed) and identical batches in
 * order; parameters after 1 and 10 Adam steps, and the first 20 losses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { Model } from '../../src/engine/model.ts';
import { recordTrainPass, type RecordedPass } from '../../src/engine/passes.ts';
import { BatchCursor, batchOrder, ResidentDataset } from '../../src/engine/resident-dataset.ts';
import { TotalsRing } from '../../src/engine/totals-ring.ts';
import { initParameters } from '../../src/graph/params.ts';
import { lenet5, lenet5Variant, type ModelSpec } from '../../src/graph/spec.ts';
import { ReferenceNetwork } from '../../src/reference/network.ts';
import { createAdam } from '../../src/reference/optim.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { closeness } from '../helpers/allclose.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice, normalisedBatch } from '../helpers/mnist.ts';

const BATCH = 16;
const SEED = 7;

interface GpuRun {
  model: Model;
  resident: ResidentDataset;
  cursor: BatchCursor;
  pass: RecordedPass;
  ring: TotalsRing;
  dispose(): void;
}

async function gpuRun(gpu: Gpu, spec: ModelSpec, data: ImageDataset): Promise<GpuRun> {
  const model = await Model.create(gpu, spec, { seed: SEED, batchSize: BATCH });
  const resident = new ResidentDataset(gpu.device, data);
  const cursor = new BatchCursor(gpu.device, data.count, 'parity');
  cursor.load(batchOrder(Uint32Array.from({ length: data.count }, (_, i) => i), BATCH, 'wrap'));
  const pass = await recordTrainPass(model, resident, cursor);
  const ring = new TotalsRing(gpu.device, model.trainTotals, 1);
  return { model, resident, cursor, pass, ring, dispose: () => { pass.dispose(); ring.dispose(); cursor.dispose(); resident.dispose(); model.dispose(); } };
}

/** One GPU step; returns that step's mean loss from the GPU totals. */
async function gpuStep(run: GpuRun): Promise<number> {
  const { device } = run.model;
  const encoder = device.createCommandEncoder();
  run.pass.encode(encoder, 1, run.model.resetTrainTotals);
  device.queue.submit([encoder.finish()]);
  const t = await run.ring.readNow();
  return t.lossSum / t.samples;
}

describe.each([
  ['lenet5', lenet5],
  ['lenet5-variant', lenet5Variant],
])('%s: GPU training steps match the CPU reference', (_name, spec) => {
  let gpu: Gpu;
  let data: ImageDataset;
  beforeAll(async () => {
    gpu = await testGpu();
    data = await mnistSlice('train', 0, BATCH * 20);
  });

  it('parameters after 1 and 10 Adam steps agree to 1e-4, and the first 20 losses to 1e-3', async () => {
    const run = await gpuRun(gpu, spec, data);
    try {
      const plan = run.model.plan;
      const cpu = new ReferenceNetwork(plan, initParameters(plan, SEED));
      const opt = createAdam(cpu.params.length);
      expect(closeness(await run.model.getWeights(), cpu.params).relError).toBe(0);
      const gpuLosses: number[] = [];
      const cpuLosses: number[] = [];
      for (let step = 0; step < 20; step++) {
        gpuLosses.push(await gpuStep(run));
        const labels = data.labels.subarray(step * BATCH, (step + 1) * BATCH);
        cpuLosses.push(cpu.trainStep(normalisedBatch(data, step * BATCH, BATCH), labels, BATCH, opt));
        if (step === 0 || step === 9) {
          const c = closeness(await run.model.getWeights(), cpu.params);
          console.log(`${spec.name} params after ${step + 1} step(s): rel ${c.relError.toExponential(2)}, max abs ${c.maxAbsError.toExponential(2)}`);
          expect(c.nonFinite).toBe(0);
          expect(c.relError).toBeLessThan(1e-4);
        }
      }
      const c = closeness(gpuLosses, cpuLosses);
      console.log(`${spec.name} losses: gpu ${gpuLosses.slice(0, 3).map((l) => l.toFixed(5))}... cpu ${cpuLosses.slice(0, 3).map((l) => l.toFixed(5))}... rel ${c.relError.toExponential(2)}`);
      expect(c.relError).toBeLessThan(1e-3);
      // The loss must actually move: a frozen model would match a frozen reference too.
      expect(Math.min(...gpuLosses.slice(15))).toBeLessThan(gpuLosses[0]);
    } finally {
      run.dispose();
    }
  });
});

describe('determinism', () => {
  afterAll(() => undefined);
  it('two runs with one seed give bit-identical losses and weights', async () => {
    const gpu = await testGpu();
    const data = await mnistSlice('train', 0, BATCH * 6);
    const trace = async (): Promise<{ losses: number[]; weights: Float32Array }> => {
      const run = await gpuRun(gpu, lenet5, data);
      try {
        const losses: number[] = [];
        for (let s = 0; s < 6; s++) losses.push(await gpuStep(run));
        return { losses, weights: await run.model.getWeights() };
      } finally {
        run.dispose();
      }
    };
    const a = await trace();
    const b = await trace();
    expect(b.losses).toEqual(a.losses);
    expect(Buffer.from(b.weights.buffer).equals(Buffer.from(a.weights.buffer))).toBe(true);
  });
});
