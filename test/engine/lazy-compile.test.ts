/**
 * Time to first result: a model compiles the kernels of its forward pass (and
 * the loss and softmax that predict and evaluate run) when created, and those
 * of the backward pass and the optimizer only when training first asks
 * (Model.trainingPass). Each test file runs in its own process with its own
 * device, so the kernel cache starts empty here and its log is this model's.
 */
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/model.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('pipelines compile when a pass first needs them', () => {
  it('Model.create compiles the forward pass, loss and softmax only; no backward or optimizer kernel', async () => {
    const gpu = await testGpu();
    const model = await Model.create(gpu, lenet5, { batchSize: 1 });
    try {
      const compiled = model.cache.compileLog.map((c) => c.label.slice(c.label.lastIndexOf(':') + 1));
      expect(compiled.length).toBeGreaterThanOrEqual(6);
      expect(compiled.filter((e) => /backward|update|adam|sgd|reduce/.test(e)), compiled.join(' ')).toEqual([]);
      expect(compiled).toEqual(expect.arrayContaining(['softmax_forward', 'softmax_xent']));
      expect(model.graph.forward.length).toBeGreaterThan(0);
      expect(model.graph.backward).toHaveLength(0);
      expect(model.optimizer.update).toHaveLength(0);
    } finally {
      model.dispose();
    }
  });
});
