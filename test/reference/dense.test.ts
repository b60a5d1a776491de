import { afterAll, describe, it } from 'vitest';
import { denseBackward, denseForward } from '../../src/reference/dense.ts';
import { expectNear } from '../helpers/allclose.ts';
import { centralDiff, createRng, dot, ErrorLog, FD_TOL, randomF64 } from './fd.ts';

const log = new ErrorLog();
afterAll(() => log.print('dense finite differences'));

it('denseForward computes y = x W + b with W stored [in, out]', () => {
  // x (2, 3), W (3, 2) = [[1, 2], [3, 4], [5, 6]], b = [0.5, -1]
  const out = new Float32Array(4);
  denseForward(out, Float32Array.from([1, 0, -1, 2, 1, 0]), Float32Array.from([1, 2, 3, 4, 5, 6]), Float32Array.from([0.5, -1]), 2, 3, 2);
  // row 0: [1-5, 2-6] + b = [-3.5, -5]; row 1: [2+3, 4+4] + b = [5.5, 7]
  expectNear(out, [-3.5, -5, 5.5, 7], 0, 'dense 2x3 -> 2');
});

describe.each([
  { seed: 21, batch: 1, inF: 1, outF: 1 },
  { seed: 22, batch: 3, inF: 7, outF: 5 },
  { seed: 23, batch: 2, inF: 13, outF: 10 },
  { seed: 24, batch: 5, inF: 4, outF: 9 },
])('dense seed $seed: B$batch $inF -> $outF', ({ seed, batch, inF, outF }) => {
  it('backward matches central finite differences (dinp, dweight, dbias)', () => {
    const rng = createRng(seed);
    const inp = randomF64(rng, batch * inF);
    const weight = randomF64(rng, inF * outF);
    const bias = randomF64(rng, outF);
    const R = randomF64(rng, batch * outF);
    const out = new Float64Array(R.length);
    const objective = (): number => (denseForward(out, inp, weight, bias, batch, inF, outF), dot(out, R));
    const dinp = new Float64Array(inp.length).fill(NaN);
    const dweight = new Float64Array(weight.length).fill(NaN);
    const dbias = new Float64Array(bias.length).fill(NaN);
    denseBackward(dinp, dweight, dbias, R, inp, weight, batch, inF, outF);
    const label = `seed ${seed}: B${batch} ${inF} -> ${outF}`;
    for (const [name, analytic, x] of [['dinp', dinp, inp], ['dweight', dweight, weight], ['dbias', dbias, bias]] as const) {
      log.add(`${name} ${label}`, expectNear(analytic, centralDiff(objective, x), FD_TOL, `${name} ${label}`).relError);
    }
  });
});
