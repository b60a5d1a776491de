/**
 * Softmax fused with cross-entropy: CPU reference.
 *
 * Layout: logits and probs (B, classes), row-major; losses (B); labels (B)
 * class indices (sparse) or targets (B, classes) (categorical).
 *
 * Per sample, with lse = log(sum_j exp(z_j)) computed as max + log(sum exp(z - max)):
 *   sparse:      loss_b = lse - z[label]                 (= -log softmax(z)[label])
 *   categorical: loss_b = sum_j t_j (lse - z_j)         (= -sum_j t_j log softmax(z)_j)
 * The forward returns the MEAN over the batch (Keras's default reduction), so
 * the backward divides by batch:
 *   sparse:      dlogits = (probs - onehot(label)) / B
 *   categorical: dlogits = (probs * sum_k t_k - t) / B
 * The categorical form is exact for any targets; for targets summing to 1
 * (one-hot or label smoothing) it is the familiar (probs - t) / B.
 *
 * Fusing softmax into the loss avoids log(softmax) underflowing to -Infinity
 * and gives the simple gradient above instead of a Jacobian product.
 * The backward functions OVERWRITE dlogits.
 */
import type { Vec } from '../util/vec.ts';

export type Labels = Uint8Array | Int32Array | Uint32Array;

/** Writes probs for one row and returns its log-sum-exp. */
function softmaxRow(probs: Vec, logits: Vec, row: number, classes: number): number {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, logits[row + j]);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(logits[row + j] - max);
  for (let j = 0; j < classes; j++) probs[row + j] = Math.exp(logits[row + j] - max) / sum;
  return max + Math.log(sum);
}

function checkLabel(label: number, b: number, classes: number): void {
  if (!(label >= 0 && label < classes)) throw new RangeError(`label ${label} of sample ${b} is outside [0, ${classes})`);
}

export function softmaxCrossEntropyForward(
  probs: Vec, // (B, classes)
  losses: Vec, // (B)
  logits: Vec, // (B, classes)
  labels: Labels, // (B)
  batch: number,
  classes: number,
): number {
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    checkLabel(labels[b], b, classes);
    const lse = softmaxRow(probs, logits, row, classes);
    const loss = lse - logits[row + labels[b]];
    losses[b] = loss;
    total += loss;
  }
  return total / batch;
}

export function softmaxCrossEntropyBackward(
  dlogits: Vec, // (B, classes)
  probs: Vec, // (B, classes)
  labels: Labels, // (B)
  batch: number,
  classes: number,
): void {
  const scale = 1 / batch;
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    checkLabel(labels[b], b, classes);
    for (let j = 0; j < classes; j++) dlogits[row + j] = probs[row + j] * scale;
    dlogits[row + labels[b]] -= scale;
  }
}

export function categoricalCrossEntropyForward(
  probs: Vec, // (B, classes)
  losses: Vec, // (B)
  logits: Vec, // (B, classes)
  targets: Vec, // (B, classes)
  batch: number,
  classes: number,
): number {
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    const lse = softmaxRow(probs, logits, row, classes);
    let loss = 0;
    for (let j = 0; j < classes; j++) loss += targets[row + j] * (lse - logits[row + j]);
    losses[b] = loss;
    total += loss;
  }
  return total / batch;
}

export function categoricalCrossEntropyBackward(
  dlogits: Vec, // (B, classes)
  probs: Vec, // (B, classes)
  targets: Vec, // (B, classes)
  batch: number,
  classes: number,
): void {
  const scale = 1 / batch;
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    let targetSum = 0;
    for (let j = 0; j < classes; j++) targetSum += targets[row + j];
    for (let j = 0; j < classes; j++) dlogits[row + j] = (probs[row + j] * targetSum - targets[row + j]) * scale;
  }
}
