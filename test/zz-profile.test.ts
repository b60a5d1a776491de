import { it } from 'vitest';
import { Model } from '../src/engine/model.ts';
import { recordTrainPass } from '../src/engine/passes.ts';
import { BatchCursor, batchOrder, ResidentDataset } from '../src/engine/resident-dataset.ts';
import { profileDispatches } from '../src/bench/kernel-profile.ts';
import { lenet5 } from '../src/graph/spec.ts';
import { testGpu } from './helpers/gpu.ts';
import { mnistSlice } from './helpers/mnist.ts';

it('profile', async () => {
  const gpu = await testGpu();
  const B = Number(process.env.B ?? 64);
  const data = await mnistSlice('train', 0, B * 4);
  const model = await Model.create(gpu, lenet5, { batchSize: B, variant: (process.env.VARIANT as 'blocked') ?? undefined });
  const resident = new ResidentDataset(gpu.device, data);
  const cursor = new BatchCursor(gpu.device, data.count, 'p');
  cursor.load(batchOrder(Uint32Array.from({ length: data.count }, (_, i) => i), B, 'wrap'));
  const pass = await recordTrainPass(model, resident, cursor);
  await profileDispatches(gpu.device, pass.dispatches, 1);
  const t = (await profileDispatches(gpu.device, pass.dispatches, 3))!;
  const total = t.reduce((a, b) => a + b.ms, 0);
  console.log(t.sort((a, b) => b.ms - a.ms).map((k) => `${k.label.padEnd(50)} ${k.ms.toFixed(2)} ms ${(k.share * 100).toFixed(1)}%`).join('\n') + `\ntotal ${total.toFixed(1)} ms/step = ${(B / total * 1000).toFixed(0)} samples/s`);
  // wall clock
  const t0 = performance.now();
  const enc = gpu.device.createCommandEncoder();
  pass.encode(enc, 10);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
  const ms = (performance.now() - t0) / 10;
  console.log(`wall ${ms.toFixed(1)} ms/step = ${(B / ms * 1000).toFixed(0)} samples/s`);
});
