/**
 * Running training metrics (shaders/metrics.wgsl): per step, the batch's
 * summed loss and correct count are added into a 16-byte GPU `totals` buffer,
 * so a step never reads back; readTotals decodes it when the CPU reports.
 *
 * totals layout (little-endian): lossSum f32 at 0, correct u32 at 4,
 * samples u32 at 8, steps u32 at 12. metricsReset zeroes it with a kernel
 * (no upload), e.g. at the start of each epoch.
 */
import { ShapeError } from '../geometry.ts';
import type { MetricTotals } from '../reference/metrics.ts';
import { makeDispatch, type BufferResource, type Dispatch, type KernelCache, type ShaderSource, requireBytes } from './kernel.ts';
import code from '../../shaders/metrics.wgsl?raw';

export type { MetricTotals };
/** The decoded totals (the engine's name for MetricTotals). */
export type Totals = MetricTotals;

const shader: ShaderSource = { name: 'metrics.wgsl', code };

/** Bytes of the totals buffer. */
export const METRICS_TOTALS_BYTES = 16;

/** Adds the batch's loss sum, correct count, batch size and one step into totals. */
export async function metricsAccumulate(
  cache: KernelCache,
  batch: number,
  io: { sampleLoss: BufferResource; sampleCorrect: BufferResource; totals: BufferResource },
): Promise<Dispatch[]> {
  const label = `metrics_accumulate(B=${batch})`;
  if (!Number.isInteger(batch) || batch < 1) throw new ShapeError(`${label}: batch must be a positive integer`);
  requireBytes(label, {
    sampleLoss: [io.sampleLoss, batch * 4],
    sampleCorrect: [io.sampleCorrect, batch * 4],
    totals: [io.totals, METRICS_TOTALS_BYTES],
  });
  const kernel = await cache.get(shader, 'metrics_accumulate');
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: { batch },
      buffers: { sample_loss: io.sampleLoss, sample_correct: io.sampleCorrect, totals: io.totals },
      workgroups: 1,
      label,
    }),
  ];
}

/** Zeroes totals on the GPU. */
export async function metricsReset(cache: KernelCache, io: { totals: BufferResource }): Promise<Dispatch[]> {
  requireBytes('metrics_reset', { totals: [io.totals, METRICS_TOTALS_BYTES] });
  const kernel = await cache.get(shader, 'metrics_reset');
  return [makeDispatch(cache.device, kernel, { buffers: { totals: io.totals }, workgroups: 1, label: 'metrics_reset' })];
}

/** Decodes the totals buffer's 16 bytes (e.g. a mapped staging copy). */
export function decodeTotals(bytes: ArrayBuffer | ArrayBufferView): MetricTotals {
  const view = ArrayBuffer.isView(bytes) ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new DataView(bytes);
  if (view.byteLength < METRICS_TOTALS_BYTES) throw new RangeError(`totals need ${METRICS_TOTALS_BYTES} bytes, got ${view.byteLength}`);
  return { lossSum: view.getFloat32(0, true), correct: view.getUint32(4, true), samples: view.getUint32(8, true), steps: view.getUint32(12, true) };
}

/** Alias of decodeTotals. */
export const readTotals = decodeTotals;
