/**
 * Adapter limits checked against a plan before any GPU work: every buffer the
 * graph binds must fit maxStorageBufferBindingSize (and maxBufferSize). The
 * error names the buffer, the sizes and the largest batch that fits.
 */
import { GpuLimitError } from '../gpu/errors.ts';
import type { ModelPlan } from '../model/infer.ts';

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export interface BufferNeed {
  name: string;
  /** Bytes per sample (activations) or in total (parameters). */
  bytesPerSample: number;
  fixedBytes: number;
}

export function bufferNeeds(plan: ModelPlan): BufferNeed[] {
  const needs: BufferNeed[] = [{ name: 'input batch', bytesPerSample: 4 * product(plan.inputShape), fixedBytes: 0 }];
  for (const layer of plan.layers) needs.push({ name: `${layer.name} output`, bytesPerSample: 4 * product(layer.outputShape), fixedBytes: 0 });
  // Split-K partial sums are bounded by their kernels (32 MiB); parameters are per model.
  needs.push({ name: 'parameters', bytesPerSample: 0, fixedBytes: 4 * plan.paramCount });
  return needs;
}

export function checkPlanFitsAdapter(plan: ModelPlan, limits: { maxStorageBufferBindingSize: number; maxBufferSize: number }): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  for (const need of bufferNeeds(plan)) {
    const bytes = need.fixedBytes + need.bytesPerSample * plan.batch;
    if (bytes > limit) {
      const fits = need.bytesPerSample > 0 ? Math.floor((limit - need.fixedBytes) / need.bytesPerSample) : 0;
      throw new GpuLimitError(
        `batch ${plan.batch} needs a ${bytes}-byte buffer for the ${need.name} (${plan.name}), over this adapter's limit of ${limit} bytes per storage buffer; ` +
          (fits > 0 ? `the largest batch that fits is ${fits}` : 'the model is too large for this adapter'),
      );
    }
  }
}
