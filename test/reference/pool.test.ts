import { afterAll, describe, expect, it } from 'vitest';
import { pool2dGeometry, type Pool2dParams } from '../../src/geometry.ts';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from '../../src/reference/pool.ts';
import { expectNear } from '../helpers/allclose.ts';
import { centralDiff, createRng, dot, ErrorLog, FD_TOL, randomF64 } from './fd.ts';

const log = new ErrorLog();
afterAll(() => log.print('pooling finite differences'));

describe('pooling on hand-computed cases', () => {
  // 1x1x4x4: rows [1,2,3,4] [5,6,7,8] [9,10,11,12] [13,14,15,-16]
  const inp = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, -16]);
  const g = pool2dGeometry({ batch: 1, channels: 1, inHeight: 4, inWidth: 4, window: 2 });

  it('average pooling', () => {
    const out = new Float32Array(4);
    avgPoolForward(out, inp, g);
    expectNear(out, [3.5, 5.5, 11.5, (11 + 12 + 15 - 16) / 4], 1e-7, 'avg 2x2');
    const dinp = new Float32Array(16).fill(NaN);
    avgPoolBackward(dinp, Float32Array.from([4, 8, 12, 16]), g);
    expectNear(dinp, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], 0, 'avg backward');
  });

  it('max pooling', () => {
    const out = new Float32Array(4);
    maxPoolForward(out, inp, g);
    expectNear(out, [6, 8, 14, 15], 0, 'max 2x2');
    const dinp = new Float32Array(16).fill(NaN);
    maxPoolBackward(dinp, Float32Array.from([1, 2, 3, 4]), inp, g);
    expectNear(dinp, [0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 4, 0], 0, 'max backward');
  });

  it('max pooling sends a tied window gradient to the first maximum in row-major order', () => {
    const g1 = pool2dGeometry({ batch: 1, channels: 2, inHeight: 2, inWidth: 2, window: 2 });
    // channel 0: [[5,5],[5,1]] -> index 0; channel 1: [[1,7],[7,7]] -> index 1 of that plane
    const x = Float32Array.from([5, 5, 5, 1, 1, 7, 7, 7]);
    const dinp = new Float32Array(8);
    maxPoolBackward(dinp, Float32Array.from([10, 20]), x, g1);
    expect(Array.from(dinp)).toEqual([10, 0, 0, 0, 0, 20, 0, 0]);
  });

  it('overlapping windows sum their contributions', () => {
    // 1x3 input [0, 3, 1], window 1x2, stride 1: both windows pick the 3.
    const g1 = pool2dGeometry({ batch: 1, channels: 1, inHeight: 1, inWidth: 3, window: [1, 2], stride: 1 });
    const x = Float32Array.from([0, 3, 1]);
    const out = new Float32Array(2);
    maxPoolForward(out, x, g1);
    expect(Array.from(out)).toEqual([3, 3]);
    const dinp = new Float32Array(3);
    maxPoolBackward(dinp, Float32Array.from([0.5, 2]), x, g1);
    expect(Array.from(dinp)).toEqual([0, 2.5, 0]);
    avgPoolBackward(dinp, Float32Array.from([0.5, 2]), g1);
    expect(Array.from(dinp)).toEqual([0.25, 1.25, 1]);
  });
});

const cases: (Pool2dParams & { seed: number })[] = [
  { seed: 11, batch: 1, channels: 1, inHeight: 4, inWidth: 4, window: 2 },
  { seed: 12, batch: 2, channels: 3, inHeight: 7, inWidth: 7, window: 3, stride: 2 },
  { seed: 13, batch: 3, channels: 5, inHeight: 5, inWidth: 6, window: [2, 3], stride: 1 },
  { seed: 14, batch: 1, channels: 6, inHeight: 9, inWidth: 5, window: 2 },
  { seed: 15, batch: 2, channels: 2, inHeight: 8, inWidth: 9, window: [3, 2], stride: [1, 2] },
];

describe.each(cases.map((c) => [`seed ${c.seed}: B${c.batch} C${c.channels} ${c.inHeight}x${c.inWidth} w${JSON.stringify(c.window)} s${JSON.stringify(c.stride ?? c.window)}`, c] as const))(
  'pool %s',
  (label, c) => {
    const g = pool2dGeometry(c);
    const rng = createRng(c.seed);
    // Random floats: ties (where max pooling is not differentiable) have probability zero.
    const inp = randomF64(rng, g.batch * g.channels * g.inHeight * g.inWidth);
    const R = randomF64(rng, g.batch * g.channels * g.outHeight * g.outWidth);
    const out = new Float64Array(R.length);

    it('average pooling backward matches central finite differences', () => {
      const dinp = new Float64Array(inp.length).fill(NaN);
      avgPoolBackward(dinp, R, g);
      const numeric = centralDiff(() => (avgPoolForward(out, inp, g), dot(out, R)), inp);
      log.add(`avg ${label}`, expectNear(dinp, numeric, FD_TOL, `avg dinp ${label}`).relError);
    });

    it('max pooling backward matches central finite differences', () => {
      const dinp = new Float64Array(inp.length).fill(NaN);
      maxPoolBackward(dinp, R, inp, g);
      const numeric = centralDiff(() => (maxPoolForward(out, inp, g), dot(out, R)), inp);
      log.add(`max ${label}`, expectNear(dinp, numeric, FD_TOL, `max dinp ${label}`).relError);
    });
  },
);
