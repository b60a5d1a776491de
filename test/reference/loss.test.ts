import { afterAll, describe, expect, it } from 'vitest';
import {
  categoricalCrossEntropyBackward,
  categoricalCrossEntropyForward,
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from '../../src/reference/loss.ts';
import { expectNear } from '../helpers/allclose.ts';
import { centralDiff, createRng, ErrorLog, FD_TOL, randomF64 } from './fd.ts';

const log = new ErrorLog();
afterAll(() => log.print('cross-entropy finite differences'));

describe('softmaxCrossEntropyForward on hand-computed cases', () => {
  it('returns the mean of -log softmax[label] and writes probs and per-sample losses', () => {
    // sample 0: logits [0, 0], label 0 -> ln 2; sample 1: logits [1, 3], label 1 -> log(e + e^3) - 3
    const probs = new Float64Array(4);
    const losses = new Float64Array(2);
    const mean = softmaxCrossEntropyForward(probs, losses, Float64Array.from([0, 0, 1, 3]), Uint8Array.from([0, 1]), 2, 2);
    const l1 = Math.log(Math.E + Math.E ** 3) - 3;
    expectNear(losses, [Math.LN2, l1], 1e-15, 'per-sample losses');
    expect(mean).toBeCloseTo((Math.LN2 + l1) / 2, 15);
    expectNear(probs, [0.5, 0.5, 1 / (1 + Math.E ** 2), 1 / (1 + Math.E ** -2)], 1e-15, 'probs');
  });

  it('three classes, and large logits stay finite (log-sum-exp)', () => {
    const probs = new Float32Array(6);
    const losses = new Float32Array(2);
    softmaxCrossEntropyForward(probs, losses, Float32Array.from([1, 2, 3, 1000, 0, -1000]), Int32Array.from([2, 1]), 2, 3);
    const l0 = Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3;
    expectNear(losses, [l0, 1000], 1e-7, 'losses with large logits');
    expect(Array.from(probs).every(Number.isFinite)).toBe(true);
  });

  it('backward writes (probs - onehot) / batch', () => {
    const dlogits = new Float64Array(4).fill(NaN);
    softmaxCrossEntropyBackward(dlogits, Float64Array.from([0.25, 0.75, 0.5, 0.5]), Uint32Array.from([1, 0]), 2, 2);
    expectNear(dlogits, [0.125, -0.125, -0.25, 0.25], 0, 'dlogits');
  });

  it('rejects a label outside [0, classes)', () => {
    expect(() => softmaxCrossEntropyForward(new Float64Array(3), new Float64Array(1), new Float64Array(3), Uint8Array.from([3]), 1, 3)).toThrow(/label 3/);
  });

  it('categorical with one-hot targets equals sparse', () => {
    const rng = createRng(50);
    const logits = randomF64(rng, 4 * 5, -2, 2);
    const labels = Uint8Array.from([0, 4, 2, 2]);
    const targets = new Float64Array(20);
    labels.forEach((l, b) => (targets[b * 5 + l] = 1));
    const p1 = new Float64Array(20);
    const p2 = new Float64Array(20);
    const sparse = softmaxCrossEntropyForward(p1, new Float64Array(4), logits, labels, 4, 5);
    const cat = categoricalCrossEntropyForward(p2, new Float64Array(4), logits, targets, 4, 5);
    expect(Math.abs(sparse - cat)).toBeLessThan(1e-15);
    const d1 = new Float64Array(20);
    const d2 = new Float64Array(20);
    softmaxCrossEntropyBackward(d1, p1, labels, 4, 5);
    categoricalCrossEntropyBackward(d2, p2, targets, 4, 5);
    expectNear(d2, d1, 1e-15, 'categorical vs sparse dlogits, seed 50');
  });
});

describe.each([
  { seed: 51, batch: 1, classes: 2 },
  { seed: 52, batch: 4, classes: 10 },
  { seed: 53, batch: 3, classes: 7 },
])('cross-entropy seed $seed: B$batch x $classes', ({ seed, batch, classes }) => {
  const rng = createRng(seed);
  const logits = randomF64(rng, batch * classes, -3, 3);
  const labels = Int32Array.from({ length: batch }, () => rng.int(classes));
  const probs = new Float64Array(logits.length);
  const losses = new Float64Array(batch);

  it('sparse backward matches central finite differences of the mean loss', () => {
    softmaxCrossEntropyForward(probs, losses, logits, labels, batch, classes);
    const dlogits = new Float64Array(logits.length).fill(NaN);
    softmaxCrossEntropyBackward(dlogits, probs, labels, batch, classes);
    const numeric = centralDiff(() => softmaxCrossEntropyForward(probs, losses, logits, labels, batch, classes), logits);
    log.add(`sparse seed ${seed} B${batch}x${classes}`, expectNear(dlogits, numeric, FD_TOL, `sparse dlogits seed ${seed}`).relError);
  });

  it('categorical backward matches central finite differences, for soft and unnormalised targets', () => {
    // Targets that do not sum to 1 exercise the general form (probs * sum t - t) / B.
    const targets = randomF64(rng, batch * classes, 0, 1);
    categoricalCrossEntropyForward(probs, losses, logits, targets, batch, classes);
    const dlogits = new Float64Array(logits.length).fill(NaN);
    categoricalCrossEntropyBackward(dlogits, probs, targets, batch, classes);
    const numeric = centralDiff(() => categoricalCrossEntropyForward(probs, losses, logits, targets, batch, classes), logits);
    log.add(`categorical seed ${seed} B${batch}x${classes}`, expectNear(dlogits, numeric, FD_TOL, `categorical dlogits seed ${seed}`).relError);
  });
});
