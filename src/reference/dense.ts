/**
 * Fully connected (dense) layer: CPU reference.
 *
 * Layout: inp (B, In), out (B, Out), weight (In, Out) as Keras stores it
 * (y = x W + b), bias (Out). Flattened NCHW activations are channel-major,
 * so a dense layer after `flatten` reads inp[b, (c*H + h)*W + w].
 *
 *   out[b,o]    = bias[o] + sum_i inp[b,i] * weight[i,o]
 *   dinp[b,i]   = sum_o dout[b,o] * weight[i,o]
 *   dweight[i,o] = sum_b inp[b,i] * dout[b,o]
 *   dbias[o]    = sum_b dout[b,o]
 *
 * Each sum is accumulated in a JS number (float64) and stored once.
 * denseBackward OVERWRITES dinp, dweight and dbias.
 */
import type { Vec } from '../util/vec.ts';

export function denseForward(
  out: Vec, // (B, Out)
  inp: Vec, // (B, In)
  weight: Vec, // (In, Out)
  bias: Vec, // (Out)
  batch: number,
  inFeatures: number,
  outFeatures: number,
): void {
  for (let b = 0; b < batch; b++) {
    const inRow = b * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      let sum = bias[o];
      for (let i = 0; i < inFeatures; i++) sum += inp[inRow + i] * weight[i * outFeatures + o];
      out[b * outFeatures + o] = sum;
    }
  }
}

/** Pass `dinp = null` to skip the input gradient (not needed for a first layer). */
export function denseBackward(
  dinp: Vec | null, // (B, In)
  dweight: Vec, // (In, Out)
  dbias: Vec, // (Out)
  dout: Vec, // (B, Out)
  inp: Vec, // (B, In)
  weight: Vec, // (In, Out)
  batch: number,
  inFeatures: number,
  outFeatures: number,
): void {
  for (let o = 0; o < outFeatures; o++) {
    let sum = 0;
    for (let b = 0; b < batch; b++) sum += dout[b * outFeatures + o];
    dbias[o] = sum;
  }
  for (let i = 0; i < inFeatures; i++) {
    for (let o = 0; o < outFeatures; o++) {
      let sum = 0;
      for (let b = 0; b < batch; b++) sum += inp[b * inFeatures + i] * dout[b * outFeatures + o];
      dweight[i * outFeatures + o] = sum;
    }
  }
  if (dinp === null) return;
  for (let b = 0; b < batch; b++) {
    const outRow = b * outFeatures;
    for (let i = 0; i < inFeatures; i++) {
      const wRow = i * outFeatures;
      let sum = 0;
      for (let o = 0; o < outFeatures; o++) sum += dout[outRow + o] * weight[wRow + o];
      dinp[b * inFeatures + i] = sum;
    }
  }
}
