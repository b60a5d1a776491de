import { afterAll, describe, expect, it } from 'vitest';
import { pool2dGeometry, type Pool2dGeometry, type Pool2dParams } from '../../src/geometry.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { poolBackward, poolForward, type PoolMode } from '../../src/kernels/pool.ts';
import { activationBackward, type ActivationKind } from '../../src/reference/activation.ts';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from '../../src/reference/pool.ts';
import { createRng, randomUniform, type Rng } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

interface Case extends Pool2dParams {
  name: string;
}

const CASES: Case[] = [
  // LeNet-5 (2x2 pooling after 28x28 and 10x10 convolutions) and its variant (27x27 and 9x9: the last row and column are in no window).
  { name: 'lenet pool1', batch: 64, channels: 6, inHeight: 28, inWidth: 28, window: 2 },
  { name: 'lenet pool2', batch: 64, channels: 16, inHeight: 10, inWidth: 10, window: 2 },
  { name: 'variant pool1', batch: 64, channels: 6, inHeight: 27, inWidth: 27, window: 2 },
  { name: 'variant pool2', batch: 64, channels: 16, inHeight: 9, inWidth: 9, window: 2 },
  { name: 'batch 1', batch: 1, channels: 6, inHeight: 28, inWidth: 28, window: 2 },
  // Overlapping windows, odd sizes.
  { name: 'overlap 3x3 s2', batch: 3, channels: 5, inHeight: 7, inWidth: 9, window: 3, stride: 2 },
  { name: 'overlap 3x3 s1', batch: 2, channels: 3, inHeight: 6, inWidth: 5, window: 3, stride: 1 },
  // Non-square window and stride, overlapping in one direction only.
  { name: 'non-square 2x3 s1x2', batch: 2, channels: 3, inHeight: 7, inWidth: 11, window: [2, 3], stride: [1, 2] },
  // Stride larger than the window: elements between windows get no gradient.
  { name: 'gaps 2x2 s3', batch: 2, channels: 3, inHeight: 11, inWidth: 10, window: 2, stride: 3 },
  // Rows narrower than a 4-element segment: lanes past the row end must not leak into the next row.
  { name: 'narrow 5x3', batch: 2, channels: 3, inHeight: 5, inWidth: 3, window: 2, stride: 1 },
  { name: 'global 5x4', batch: 3, channels: 2, inHeight: 5, inWidth: 4, window: [5, 4] },
  { name: 'large', batch: 256, channels: 16, inHeight: 28, inWidth: 28, window: 2 },
];

const MODES: PoolMode[] = ['avg', 'max'];

function reference(mode: PoolMode, g: Pool2dGeometry, inp: Float32Array, dout: Float32Array) {
  const out = new Float32Array(dout.length);
  const dinp = new Float32Array(inp.length);
  if (mode === 'avg') {
    avgPoolForward(out, inp, g);
    avgPoolBackward(dinp, dout, g);
  } else {
    maxPoolForward(out, inp, g);
    maxPoolBackward(dinp, dout, inp, g);
  }
  return { out, dinp };
}

/** Values from {-1, -0.5, 0, 0.5, 1}: most max-pool windows then hold ties. */
function quantised(rng: Rng, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(5) / 2 - 1;
  return out;
}

/** Forward, backward, and backward with `below`'s derivative fused (inp standing for that layer's output). */
async function runPool(
  gpu: Awaited<ReturnType<typeof testGpu>>,
  cache: KernelCache,
  mode: PoolMode,
  g: Pool2dGeometry,
  inp: Float32Array,
  dout: Float32Array,
  below: ActivationKind = 'linear',
) {
  const scratch = new GpuScratch(gpu);
  try {
    const inpBuf = scratch.upload(inp);
    const doutBuf = scratch.upload(dout);
    const out = scratch.poisoned(dout.length);
    const dinp = scratch.poisoned(inp.length);
    const fusedDinp = scratch.poisoned(inp.length);
    await scratch.run(await poolForward(cache, mode, g, { out, inp: inpBuf }));
    await scratch.run(await poolBackward(cache, mode, g, { dinp, dout: doutBuf, inp: inpBuf }));
    await scratch.run(await poolBackward(cache, mode, g, { dinp: fusedDinp, dout: doutBuf, inp: inpBuf }, { belowActivation: below }));
    return { out: await scratch.read(out, dout.length), dinp: await scratch.read(dinp, inp.length), fusedDinp: await scratch.read(fusedDinp, inp.length) };
  } finally {
    scratch.dispose();
  }
}

const sizesOf = (g: Pool2dGeometry) => ({ inp: g.batch * g.channels * g.inHeight * g.inWidth, out: g.batch * g.channels * g.outHeight * g.outWidth });

describe('pooling kernels match the CPU reference', () => {
  afterAll(() => printMeasured('pool parity'));

  for (const mode of MODES) {
    it(`${mode} pool forward and backward`, async () => {
      const gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      for (const [index, c] of CASES.entries()) {
        const g = pool2dGeometry(c);
        const n = sizesOf(g);
        const seed = 4000 + index;
        const rng = createRng(seed);
        const inp = randomUniform(rng, n.inp, -2, 2);
        const dout = randomUniform(rng, n.out, -1, 1);
        const ref = reference(mode, g, inp, dout);
        const below = (['tanh', 'sigmoid', 'relu'] as const)[index % 3];
        const got = await runPool(gpu, cache, mode, g, inp, dout, below);
        const shape = `${g.batch}x${g.channels}x${g.inHeight}x${g.inWidth} w${g.windowH}x${g.windowW} s${g.strideH}x${g.strideW}`;
        expectParity(got.out, ref.out, `${mode} forward ${c.name} ${shape} seed=${seed}`);
        expectParity(got.dinp, ref.dinp, `${mode} backward ${c.name} ${shape} seed=${seed}`);
        const fused = new Float32Array(n.inp);
        activationBackward(fused, ref.dinp, inp, below);
        expectParity(got.fusedDinp, fused, `${mode} backward, then ${below}' ${c.name} ${shape} seed=${seed}`);
      }
    });
  }

  it('max pool routes tied gradients to the first maximum in row-major window order', async () => {
    const gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    for (const name of ['lenet pool1', 'variant pool2', 'overlap 3x3 s2', 'overlap 3x3 s1', 'non-square 2x3 s1x2', 'narrow 5x3']) {
      const g = pool2dGeometry(CASES.find((c) => c.name === name)!);
      const n = sizesOf(g);
      const seed = 5000 + n.inp;
      const rng = createRng(seed);
      const inp = quantised(rng, n.inp);
      const dout = randomUniform(rng, n.out, -1, 1);
      const ref = reference('max', g, inp, dout);
      const got = await runPool(gpu, cache, 'max', g, inp, dout);
      expectParity(got.out, ref.out, `max forward ties ${name} seed=${seed}`);
      expectParity(got.dinp, ref.dinp, `max backward ties ${name} seed=${seed}`);
      // Same comparisons and the same f32 additions in the same order: the gradient must match bit for bit.
      expect(Array.from(got.dinp)).toEqual(Array.from(ref.dinp));
    }
  });
});
