/**
 * The engine's recorded train pass (gather -> forward -> loss -> metrics ->
 * backward -> optimizer -> cursor, exactly what fit replays) over a resident
 * data set taken in order, one step per submit, for whole-step parity tests.
 */
import type { ImageDataset } from '../../src/data/dataset.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { Model } from '../../src/engine/model.ts';
import type { OptimizerConfig } from '../../src/engine/optimizer-state.ts';
import { recordTrainPass } from '../../src/engine/passes.ts';
import { BatchCursor, batchOrder, ResidentDataset } from '../../src/engine/resident-dataset.ts';
import { TotalsRing } from '../../src/engine/totals-ring.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import type { KernelVariant } from '../../src/kernels/variant.ts';

export interface GpuTrainer {
  model: Model;
  /** One step on the next batch; returns its mean loss from the GPU totals. */
  step(): Promise<number>;
  /** The entry points one step dispatches, in order ("shader.wgsl:entry"). */
  entryPoints(): string[];
  dispose(): void;
}

export async function gpuTrainer(
  gpu: Gpu,
  spec: ModelSpec,
  data: ImageDataset,
  options: { seed: number; batch: number; variant?: KernelVariant; optimizer: OptimizerConfig },
): Promise<GpuTrainer> {
  const { batch } = options;
  const model = await Model.create(gpu, spec, { seed: options.seed, batchSize: batch, variant: options.variant, optimizer: options.optimizer });
  const resident = new ResidentDataset(gpu.device, data);
  const cursor = new BatchCursor(gpu.device, data.count, 'parity');
  // The samples in order: batch k is samples [k·batch, (k+1)·batch), as the reference takes them.
  cursor.load(batchOrder(Uint32Array.from({ length: data.count }, (_, i) => i), batch, 'wrap'));
  const pass = await recordTrainPass(model, resident, cursor);
  const ring = new TotalsRing(gpu.device, model.trainTotals, 1);
  return {
    model,
    async step() {
      const encoder = gpu.device.createCommandEncoder();
      pass.encode(encoder, 1, model.resetTrainTotals);
      gpu.device.queue.submit([encoder.finish()]);
      const t = await ring.readNow();
      return t.lossSum / t.samples;
    },
    entryPoints: () => pass.dispatches.map((d) => d.kernel.label),
    dispose() {
      pass.dispose();
      ring.dispose();
      cursor.dispose();
      resident.dispose();
      model.dispose();
    },
  };
}
