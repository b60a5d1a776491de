import { afterAll, describe, expect, it } from 'vitest';
import { activationBackward, activationForward, softmaxBackward, softmaxForward, type ActivationKind } from '../../src/reference/activation.ts';
import { expectNear } from '../helpers/allclose.ts';
import { centralDiff, createRng, dot, ErrorLog, FD_TOL, randomF64 } from './fd.ts';

const log = new ErrorLog();
afterAll(() => log.print('activation finite differences'));

it('activationForward on known values', () => {
  const x = Float64Array.from([-2, 0, 0.5, 3]);
  const out = new Float64Array(4);
  activationForward(out, x, 'relu');
  expect(Array.from(out)).toEqual([0, 0, 0.5, 3]);
  activationForward(out, x, 'sigmoid');
  expectNear(out, [1 / (1 + Math.E ** 2), 0.5, 1 / (1 + Math.E ** -0.5), 1 / (1 + Math.E ** -3)], 1e-15, 'sigmoid');
  activationForward(out, x, 'tanh');
  expectNear(out, [(Math.E ** -4 - 1) / (Math.E ** -4 + 1), 0, (Math.E - 1) / (Math.E + 1), (Math.E ** 6 - 1) / (Math.E ** 6 + 1)], 1e-15, 'tanh');
  activationForward(out, Float64Array.from([-1000, 1000, -1, 1]), 'sigmoid');
  expect(Array.from(out).every(Number.isFinite)).toBe(true);
});

describe.each(['linear', 'tanh', 'sigmoid', 'relu'] as ActivationKind[])('%s', (kind) => {
  it('backward (from the forward output) matches central finite differences, in place too', () => {
    const seed = 31;
    const rng = createRng(seed);
    // Keep relu's inputs away from its kink at 0, where it has no derivative.
    const inp = Float64Array.from(randomF64(rng, 57, -2, 2), (v) => (Math.abs(v) < 1e-3 ? v + 0.01 : v));
    const R = randomF64(rng, inp.length);
    const out = new Float64Array(inp.length);
    activationForward(out, inp, kind);
    const dinp = new Float64Array(inp.length).fill(NaN);
    activationBackward(dinp, R, out, kind);
    const numeric = centralDiff(() => (activationForward(out, inp, kind), dot(out, R)), inp);
    log.add(`${kind} seed ${seed}`, expectNear(dinp, numeric, FD_TOL, `${kind} dinp seed ${seed}`).relError);
    // In place: out === inp and dinp === dout.
    activationForward(out, inp, kind);
    const inPlace = Float64Array.from(inp);
    activationForward(inPlace, inPlace, kind);
    expectNear(inPlace, out, 0, `${kind} forward in place`);
    const dInPlace = Float64Array.from(R);
    activationBackward(dInPlace, dInPlace, out, kind);
    expectNear(dInPlace, dinp, 0, `${kind} backward in place`);
  });
});

describe('softmax', () => {
  it('rows sum to 1, known values, and no overflow on large logits', () => {
    const out = new Float64Array(6);
    softmaxForward(out, Float64Array.from([0, 0, Math.log(2), 1000, 1000, 999]), 2, 3);
    const e = Math.E;
    expectNear(out, [0.25, 0.25, 0.5, e / (2 * e + 1), e / (2 * e + 1), 1 / (2 * e + 1)], 1e-14, 'softmax rows');
  });

  it.each([
    { seed: 41, batch: 1, classes: 2 },
    { seed: 42, batch: 3, classes: 10 },
    { seed: 43, batch: 4, classes: 7 },
  ])('backward matches central finite differences, seed $seed B$batch x $classes', ({ seed, batch, classes }) => {
    const rng = createRng(seed);
    const inp = randomF64(rng, batch * classes, -3, 3);
    const R = randomF64(rng, inp.length);
    const out = new Float64Array(inp.length);
    softmaxForward(out, inp, batch, classes);
    const dinp = new Float64Array(inp.length).fill(NaN);
    softmaxBackward(dinp, R, out, batch, classes);
    const numeric = centralDiff(() => (softmaxForward(out, inp, batch, classes), dot(out, R)), inp);
    log.add(`softmax seed ${seed} B${batch}x${classes}`, expectNear(dinp, numeric, FD_TOL, `softmax dinp seed ${seed}`).relError);
  });
});
