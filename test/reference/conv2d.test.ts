import { afterAll, describe, expect, it } from 'vitest';
import { conv2dGeometry, type Conv2dParams } from '../../src/geometry.ts';
import { conv2dBackward, conv2dForward } from '../../src/reference/conv2d.ts';
import { expectNear } from '../helpers/allclose.ts';
import { centralDiff, createRng, dot, ErrorLog, FD_TOL, randomF64 } from './fd.ts';

const log = new ErrorLog();
afterAll(() => log.print('conv2d finite differences'));

describe('conv2dForward on hand-computed cases', () => {
  // inp 3x3 = [[1,2,3],[4,5,6],[7,8,9]], kernel 2x2 = [[1,2],[3,4]], bias 0.5.
  const inp = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const weight = Float32Array.from([1, 2, 3, 4]);
  const bias = Float32Array.from([0.5]);
  const base = { batch: 1, inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernel: 2 } as const;

  it('valid padding', () => {
    const g = conv2dGeometry({ ...base, padding: 'valid' });
    const out = new Float32Array(4);
    conv2dForward(out, inp, weight, bias, g);
    // 1*1+2*2+3*4+4*5 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77
    expectNear(out, [37.5, 47.5, 67.5, 77.5], 1e-7, 'valid 2x2 on 3x3');
  });

  it("'same' padding with an even kernel pads only after (bottom/right)", () => {
    const g = conv2dGeometry({ ...base, padding: 'same' });
    expect([g.outHeight, g.outWidth, g.padTop, g.padLeft]).toEqual([3, 3, 0, 0]);
    const out = new Float32Array(9);
    conv2dForward(out, inp, weight, bias, g);
    // Last column reads a zero column on the right: 1*3+3*6 = 21, 1*6+3*9 = 33;
    // last row reads a zero row below: 1*7+2*8 = 23, 1*8+2*9 = 26; corner 1*9.
    expectNear(out, [37.5, 47.5, 21.5, 67.5, 77.5, 33.5, 23.5, 26.5, 9.5], 1e-7, 'same 2x2 on 3x3');
  });

  it("'same' padding, 3x3 kernel, stride 2 pads one before", () => {
    const g = conv2dGeometry({ batch: 1, inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernel: 3, stride: 2, padding: 'same' });
    expect([g.outHeight, g.outWidth, g.padTop, g.padLeft]).toEqual([2, 2, 1, 1]);
    const out = new Float32Array(4);
    conv2dForward(out, inp, new Float32Array(9).fill(1), new Float32Array(1), g);
    // Windows centred on (0,0), (0,2), (2,0), (2,2): sums of the in-range 2x2 corners.
    expectNear(out, [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9], 1e-7, 'same 3x3 stride 2');
  });

  it('sums over input channels and keeps output channels apart', () => {
    // 2 input channels (all ones, all twos) 2x2; 2 output channels with 1x1 kernels [1, 10] and [-1, 0].
    const g = conv2dGeometry({ batch: 1, inChannels: 2, inHeight: 2, inWidth: 2, outChannels: 2, kernel: 1 });
    const out = new Float32Array(8);
    conv2dForward(out, Float32Array.from([1, 1, 1, 1, 2, 2, 2, 2]), Float32Array.from([1, 10, -1, 0]), Float32Array.from([0, 3]), g);
    expectNear(out, [21, 21, 21, 21, 2, 2, 2, 2], 1e-7, 'channel mixing');
  });
});

/** Naive convolution through an explicitly zero-padded copy of the input: an independent formulation. */
function naiveConv(inp: Float64Array, weight: Float64Array, bias: Float64Array, p: Conv2dParams): Float64Array {
  const g = conv2dGeometry(p);
  const { batch: B, inChannels: C, inHeight: H, inWidth: W, outChannels: O, kernelH: KH, kernelW: KW, strideH: SH, strideW: SW } = g;
  const PH = (g.outHeight - 1) * SH + KH;
  const PW = (g.outWidth - 1) * SW + KW;
  const padded = new Float64Array(B * C * PH * PW);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const ph = h + g.padTop;
          const pw = w + g.padLeft;
          if (ph < PH && pw < PW) padded[((b * C + c) * PH + ph) * PW + pw] = inp[((b * C + c) * H + h) * W + w];
        }
  const out = new Float64Array(B * O * g.outHeight * g.outWidth);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++)
      for (let y = 0; y < g.outHeight; y++)
        for (let x = 0; x < g.outWidth; x++) {
          let s = bias[o];
          for (let c = 0; c < C; c++)
            for (let i = 0; i < KH; i++)
              for (let j = 0; j < KW; j++) s += weight[((o * C + c) * KH + i) * KW + j] * padded[((b * C + c) * PH + y * SH + i) * PW + x * SW + j];
          out[((b * O + o) * g.outHeight + y) * g.outWidth + x] = s;
        }
  return out;
}

const cases: (Conv2dParams & { seed: number })[] = [
  { seed: 1, batch: 1, inChannels: 1, inHeight: 5, inWidth: 5, outChannels: 1, kernel: 3, padding: 'valid' },
  { seed: 2, batch: 2, inChannels: 3, inHeight: 7, inWidth: 6, outChannels: 5, kernel: [2, 3], padding: 'same' },
  { seed: 3, batch: 2, inChannels: 2, inHeight: 9, inWidth: 7, outChannels: 3, kernel: 3, stride: 2, padding: 'same' },
  { seed: 4, batch: 1, inChannels: 5, inHeight: 8, inWidth: 8, outChannels: 2, kernel: 4, stride: 2, padding: 'same' },
  { seed: 5, batch: 3, inChannels: 2, inHeight: 6, inWidth: 9, outChannels: 6, kernel: [3, 2], stride: [2, 1], padding: 'valid' },
  { seed: 6, batch: 1, inChannels: 3, inHeight: 4, inWidth: 5, outChannels: 7, kernel: 5, padding: 'same' },
  { seed: 7, batch: 2, inChannels: 1, inHeight: 11, inWidth: 10, outChannels: 6, kernel: [5, 4], stride: [3, 2], padding: 'same' },
];

const describeCase = (c: (typeof cases)[number]): string =>
  `seed ${c.seed}: B${c.batch} ${c.inChannels}x${c.inHeight}x${c.inWidth} -> ${c.outChannels}, k${JSON.stringify(c.kernel)} s${JSON.stringify(c.stride ?? 1)} ${c.padding}`;

describe.each(cases.map((c) => [describeCase(c), c] as const))('conv2d %s', (label, c) => {
  const g = conv2dGeometry(c);
  const rng = createRng(c.seed);
  const inp = randomF64(rng, g.batch * g.inChannels * g.inHeight * g.inWidth);
  const weight = randomF64(rng, g.outChannels * g.inChannels * g.kernelH * g.kernelW);
  const bias = randomF64(rng, g.outChannels);
  const R = randomF64(rng, g.batch * g.outChannels * g.outHeight * g.outWidth);
  const out = new Float64Array(R.length);
  const objective = (): number => {
    conv2dForward(out, inp, weight, bias, g);
    return dot(out, R);
  };

  it('forward matches a naive zero-padded convolution', () => {
    conv2dForward(out, inp, weight, bias, g);
    expectNear(out, naiveConv(inp, weight, bias, c), 1e-12, `forward ${label}`);
  });

  it('backward matches central finite differences (dinp, dweight, dbias)', () => {
    // Poison the outputs to prove the backward overwrites every element.
    const dinp = new Float64Array(inp.length).fill(NaN);
    const dweight = new Float64Array(weight.length).fill(NaN);
    const dbias = new Float64Array(bias.length).fill(NaN);
    conv2dBackward(dinp, dweight, dbias, R, inp, weight, g);
    for (const [name, analytic, x] of [['dinp', dinp, inp], ['dweight', dweight, weight], ['dbias', dbias, bias]] as const) {
      const c2 = expectNear(analytic, centralDiff(objective, x), FD_TOL, `${name} ${label}`);
      log.add(`${name} ${label}`, c2.relError);
    }
  });

  it('dinp = null skips only the input gradient', () => {
    const dweight = new Float64Array(weight.length);
    const dbias = new Float64Array(bias.length);
    const dweightRef = new Float64Array(weight.length);
    const dbiasRef = new Float64Array(bias.length);
    conv2dBackward(null, dweight, dbias, R, inp, weight, g);
    conv2dBackward(new Float64Array(inp.length), dweightRef, dbiasRef, R, inp, weight, g);
    expectNear(dweight, dweightRef, 0, `dweight ${label}`);
    expectNear(dbias, dbiasRef, 0, `dbias ${label}`);
  });
});

it('float32 storage gives the float64 result up to float32 rounding', () => {
  const c = cases[2];
  const g = conv2dGeometry(c);
  const rng = createRng(c.seed);
  const inp = randomF64(rng, g.batch * g.inChannels * g.inHeight * g.inWidth);
  const weight = randomF64(rng, g.outChannels * g.inChannels * g.kernelH * g.kernelW);
  const bias = randomF64(rng, g.outChannels);
  const n = g.batch * g.outChannels * g.outHeight * g.outWidth;
  const out64 = new Float64Array(n);
  const out32 = new Float32Array(n);
  conv2dForward(out64, Float64Array.from(Float32Array.from(inp)), Float64Array.from(Float32Array.from(weight)), Float64Array.from(Float32Array.from(bias)), g);
  conv2dForward(out32, Float32Array.from(inp), Float32Array.from(weight), Float32Array.from(bias), g);
  expectNear(out32, out64, 3e-7, 'float32 vs float64 storage, seed 3');
});
