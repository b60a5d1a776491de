/**
 * Batch gather: CPU reference of the first kernel of every training step.
 *
 * Layout: pixels (count, imageSize) u8, image-major, as the data set holds
 * them; labels (count) u8; indices (steps * batch) the epoch's sample order
 * (a last partial batch already filled by wrapping to the start of the
 * order); cursor the batch number within the epoch.
 *
 *   sample         = indices[(cursor mod steps) * batch + b]
 *   outImages[b,i] = pixels[sample * imageSize + i] / 255      (B, imageSize) f32
 *   outLabels[b]   = labels[sample]                              (B) u32
 *
 * A cursor past the last batch wraps to the start of the order, exactly as
 * the GPU kernel does. A sample index outside the data set is a caller bug:
 * the reference throws (the GPU kernel clamps it so it never reads out of
 * bounds). PAD_INDEX (0xffffffff) marks a padding slot: a zero image and the
 * label PAD_INDEX, which the loss counts nowhere.
 */
export const PAD_INDEX = 0xffffffff;

import type { Vec } from '../util/vec.ts';

export function gatherBatch(
  outImages: Vec, // (B, imageSize)
  outLabels: Uint32Array, // (B)
  pixels: Uint8Array, // (count, imageSize)
  labels: Uint8Array, // (count)
  indices: Uint32Array, // (steps * B)
  cursor: number,
  batch: number,
  imageSize: number,
): void {
  const steps = Math.floor(indices.length / batch);
  if (steps < 1 || indices.length % batch !== 0) {
    throw new RangeError(`indices holds ${indices.length} entries; it must be a positive multiple of the batch (${batch})`);
  }
  const count = labels.length;
  const first = (cursor % steps) * batch;
  for (let b = 0; b < batch; b++) {
    const sample = indices[first + b];
    if (sample === PAD_INDEX) {
      outImages.fill(0, b * imageSize, (b + 1) * imageSize);
      outLabels[b] = PAD_INDEX;
      continue;
    }
    if (sample >= count) throw new RangeError(`indices[${first + b}] = ${sample} is outside the data set (${count} samples)`);
    const src = sample * imageSize;
    const dst = b * imageSize;
    for (let i = 0; i < imageSize; i++) outImages[dst + i] = pixels[src + i] / 255;
    outLabels[b] = labels[sample];
  }
}
