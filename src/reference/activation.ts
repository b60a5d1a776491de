/**
 * Elementwise activations and softmax: CPU reference.
 *
 * activationForward/activationBackward act on every element of `out`
 * (`out.length` of them; pass subarray views to act on a prefix). They may
 * run in place (out === inp, dinp === dout), since element i reads only
 * element i.
 *
 * The backward pass takes the forward OUTPUT y, not the input, because that
 * is what the GPU engine keeps after a fused bias+activation write:
 *   tanh: 1 - y^2    sigmoid: y (1 - y)    relu: y > 0 ? 1 : 0    linear: 1
 * (relu's derivative at 0 is taken as 0, as TensorFlow does.)
 *
 * Softmax acts on rows of a (B, classes) matrix, subtracting the row max
 * before exponentiating so large logits cannot overflow. Its backward is the
 * Jacobian-vector product dinp_j = y_j (dout_j - sum_k dout_k y_k).
 *
 * Every backward OVERWRITES dinp.
 */
import type { Vec } from '../util/vec.ts';

export type ActivationKind = 'linear' | 'tanh' | 'sigmoid' | 'relu';

export function activationForward(out: Vec, inp: Vec, kind: ActivationKind): void {
  const n = out.length;
  switch (kind) {
    case 'linear':
      for (let i = 0; i < n; i++) out[i] = inp[i];
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(inp[i]);
      return;
    case 'sigmoid':
      // exp(-x) overflows to Infinity for x < -709, and 1/(1+Infinity) = 0 is the right limit.
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-inp[i]));
      return;
    case 'relu':
      for (let i = 0; i < n; i++) out[i] = inp[i] > 0 ? inp[i] : 0;
      return;
    default:
      throw new Error(`unknown activation '${kind as string}'`);
  }
}

export function activationBackward(
  dinp: Vec, // same shape as out
  dout: Vec,
  out: Vec, // the forward output y
  kind: ActivationKind,
): void {
  const n = dinp.length;
  switch (kind) {
    case 'linear':
      for (let i = 0; i < n; i++) dinp[i] = dout[i];
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) dinp[i] = dout[i] * (1 - out[i] * out[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dinp[i] = dout[i] * out[i] * (1 - out[i]);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) dinp[i] = out[i] > 0 ? dout[i] : 0;
      return;
    default:
      throw new Error(`unknown activation '${kind as string}'`);
  }
}

export function softmaxForward(
  out: Vec, // (B, classes)
  inp: Vec, // (B, classes)
  batch: number,
  classes: number,
): void {
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, inp[row + j]);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(inp[row + j] - max);
    for (let j = 0; j < classes; j++) out[row + j] = Math.exp(inp[row + j] - max) / sum;
  }
}

export function softmaxBackward(
  dinp: Vec, // (B, classes)
  dout: Vec, // (B, classes)
  out: Vec, // (B, classes): the forward output
  batch: number,
  classes: number,
): void {
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    let dot = 0;
    for (let j = 0; j < classes; j++) dot += dout[row + j] * out[row + j];
    for (let j = 0; j < classes; j++) dinp[row + j] = out[row + j] * (dout[row + j] - dot);
  }
}
