import { describe, expect, it } from 'vitest';
import { adamStep, createAdam, createSgd, defaultAdam, defaultSgd, optimizerStep, sgdMomentumStep } from '../../src/reference/optim.ts';
import { expectNear } from '../helpers/allclose.ts';
import { createRng, randomF64 } from './fd.ts';

it('defaults are Keras defaults', () => {
  expect(defaultAdam).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  expect(defaultSgd).toEqual({ learningRate: 0.01, momentum: 0, nesterov: false });
});

describe('Adam', () => {
  it('two steps match the paper form with bias-corrected moments, computed here by hand', () => {
    const hp = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const p = Float64Array.from([1, -2, 0.5]);
    const m = new Float64Array(3);
    const v = new Float64Array(3);
    const g1 = [0.5, -1, 0];
    const g2 = [0.1, 0.3, -2];

    adamStep(p, Float64Array.from(g1), m, v, 1, hp);
    // Step 1: m = 0.1 g, v = 0.001 g^2, so m_hat = g and v_hat = g^2 exactly. Keras's eps sits outside
    // the bias correction: p -= lr * m_hat / (sqrt(v_hat) + eps / sqrt(1 - b2)).
    const epsHat1 = 1e-7 / Math.sqrt(0.001);
    const expected1 = [1 - (0.1 * 0.5) / (0.5 + epsHat1), -2 + (0.1 * 1) / (1 + epsHat1), 0.5];
    expectNear(p, expected1, 1e-15, 'adam step 1');
    expectNear(m, [0.05, -0.1, 0], 1e-15, 'adam m after step 1');
    expectNear(v, [0.00025, 0.001, 0], 1e-12, 'adam v after step 1');

    adamStep(p, Float64Array.from(g2), m, v, 2, hp);
    const expected2 = expected1.map((pi, i) => {
      const mi = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
      const vi = 0.999 * (0.001 * g1[i] ** 2) + 0.001 * g2[i] ** 2;
      const mHat = mi / (1 - 0.9 ** 2);
      const vHat = vi / (1 - 0.999 ** 2);
      return pi - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-7 / Math.sqrt(1 - 0.999 ** 2));
    });
    expectNear(p, expected2, 1e-14, 'adam step 2');
    // Literal value for the first parameter, ignoring eps (worth ~1e-6 here): m = 0.055, v = 0.00025975
    expect(p[0]).toBeCloseTo(1 - 0.1 - (0.1 * (0.055 / 0.19)) / Math.sqrt(0.00025975 / 0.001999), 5);
  });

  it('rejects step 0 (the first update is step 1)', () => {
    expect(() => adamStep(new Float64Array(1), new Float64Array(1), new Float64Array(1), new Float64Array(1), 0)).toThrow(/step/);
  });

  it('minimises a quadratic', () => {
    const rng = createRng(61);
    const n = 20;
    const target = randomF64(rng, n, -3, 3);
    const scale = randomF64(rng, n, 0.1, 10);
    const opt = createAdam(n, { learningRate: 0.05 }, Float64Array);
    const p = new Float64Array(n);
    const grads = new Float64Array(n);
    const loss = (): number => p.reduce((s, pi, i) => s + scale[i] * (pi - target[i]) ** 2, 0);
    const initial = loss();
    for (let t = 0; t < 1000; t++) {
      for (let i = 0; i < n; i++) grads[i] = 2 * scale[i] * (p[i] - target[i]);
      optimizerStep(opt, p, grads);
    }
    expect(opt.kind === 'adam' && opt.step).toBe(1000);
    expect(loss()).toBeLessThan(initial * 1e-6);
    expectNear(p, target, 1e-3, 'adam quadratic minimum, seed 61');
  });
});

describe('SGD', () => {
  const g1 = [1, -2];
  const g2 = [0.5, 4];

  it('plain SGD is p -= lr g', () => {
    const p = Float64Array.from([1, 1]);
    sgdMomentumStep(p, Float64Array.from(g1), new Float64Array(2));
    expectNear(p, [1 - 0.01, 1 + 0.02], 1e-15, 'sgd default');
  });

  it('two momentum steps, Keras form, computed by hand', () => {
    const hp = { learningRate: 0.1, momentum: 0.9, nesterov: false };
    const p = Float64Array.from([1, 1]);
    const vel = new Float64Array(2);
    sgdMomentumStep(p, Float64Array.from(g1), vel, hp);
    // v1 = -0.1 g1 = [-0.1, 0.2]; p1 = [0.9, 1.2]
    expectNear(vel, [-0.1, 0.2], 1e-15, 'velocity 1');
    expectNear(p, [0.9, 1.2], 1e-15, 'momentum step 1');
    sgdMomentumStep(p, Float64Array.from(g2), vel, hp);
    // v2 = 0.9 v1 - 0.1 g2 = [-0.09 - 0.05, 0.18 - 0.4] = [-0.14, -0.22]; p2 = [0.76, 0.98]
    expectNear(vel, [-0.14, -0.22], 1e-14, 'velocity 2');
    expectNear(p, [0.76, 0.98], 1e-14, 'momentum step 2');
  });

  it('two nesterov steps, computed by hand', () => {
    const opt = createSgd(2, { learningRate: 0.1, momentum: 0.9, nesterov: true }, Float64Array);
    const p = Float64Array.from([1, 1]);
    optimizerStep(opt, p, Float64Array.from(g1));
    // v1 = [-0.1, 0.2]; p += 0.9 v1 - 0.1 g1 = [-0.09 - 0.1, 0.18 + 0.2] -> [0.81, 1.38]
    expectNear(p, [0.81, 1.38], 1e-14, 'nesterov step 1');
    optimizerStep(opt, p, Float64Array.from(g2));
    // v2 = [-0.14, -0.22]; p += 0.9 v2 - 0.1 g2 = [-0.126 - 0.05, -0.198 - 0.4] -> [0.634, 0.782]
    expectNear(p, [0.634, 0.782], 1e-14, 'nesterov step 2');
  });
});
