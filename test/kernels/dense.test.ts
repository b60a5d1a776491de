import { afterAll, describe, expect, it } from 'vitest';
import { denseBackward, denseForward, WEIGHT_GRAD_BATCH_CHUNK, type DenseDims } from '../../src/kernels/dense.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import type { KernelVariant } from '../../src/kernels/variant.ts';
import { activationBackward, activationForward, type ActivationKind } from '../../src/reference/activation.ts';
import { denseBackward as refBackward, denseForward as refForward } from '../../src/reference/dense.ts';
import { createRng, randomUniform } from '../../src/util/random.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { testGpu, testGpuWithoutSubgroups } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

interface Case extends DenseDims {
  name: string;
  activation: ActivationKind;
}

const CASES: Case[] = [
  // LeNet-5's three dense layers at batch 64.
  { name: 'lenet dense1', batch: 64, inFeatures: 400, outFeatures: 120, activation: 'tanh' },
  { name: 'lenet dense2', batch: 64, inFeatures: 120, outFeatures: 84, activation: 'relu' },
  { name: 'lenet logits', batch: 64, inFeatures: 84, outFeatures: 10, activation: 'linear' },
  { name: 'batch 1', batch: 1, inFeatures: 400, outFeatures: 120, activation: 'sigmoid' },
  // Odd sizes: no dimension a multiple of the 4x4 block or the 16x16 tile.
  { name: 'odd 3x7->13', batch: 3, inFeatures: 7, outFeatures: 13, activation: 'tanh' },
  { name: 'odd 5x13->7', batch: 5, inFeatures: 13, outFeatures: 7, activation: 'relu' },
  { name: 'odd 17x33->19', batch: 17, inFeatures: 33, outFeatures: 19, activation: 'linear' },
  { name: 'single unit', batch: 2, inFeatures: 1, outFeatures: 1, activation: 'linear' },
  // Split-K: three weight-gradient chunks, the last one partial.
  { name: 'split-K', batch: 2 * WEIGHT_GRAD_BATCH_CHUNK + 89, inFeatures: 37, outFeatures: 29, activation: 'tanh' },
  // Larger layers.
  { name: 'large 784->512', batch: 256, inFeatures: 784, outFeatures: 512, activation: 'relu' },
  { name: 'large 512->300', batch: 256, inFeatures: 512, outFeatures: 300, activation: 'sigmoid' },
];

const VARIANTS: KernelVariant[] = ['blocked', 'tiled'];

/** The blocked kernels share B's loads between a subgroup's lanes where the device allows; this device has no 'subgroups'. */
const RUNS: { label: string; variant: KernelVariant; gpu: () => Promise<Gpu> }[] = [
  ...VARIANTS.map((variant) => ({ label: variant, variant, gpu: testGpu })),
  { label: 'blocked, no subgroups', variant: 'blocked', gpu: testGpuWithoutSubgroups },
];

interface Inputs {
  inp: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
  dout: Float32Array;
}

function randomInputs(c: Case, seed: number): Inputs {
  const rng = createRng(seed);
  return {
    inp: randomUniform(rng, c.batch * c.inFeatures, -1, 1),
    weight: randomUniform(rng, c.inFeatures * c.outFeatures, -0.5, 0.5),
    bias: randomUniform(rng, c.outFeatures, -0.5, 0.5),
    dout: randomUniform(rng, c.batch * c.outFeatures, -1, 1),
  };
}

type Expected = ReturnType<typeof reference>;
/** The CPU reference is the slow part of this file: compute it once per case and seed, for every run. */
const expectedBySeed = new Map<string, Expected>();
function expectedFor(c: Case, seed: number, x: Inputs): Expected {
  const key = `${c.name}/${seed}`;
  let e = expectedBySeed.get(key);
  if (!e) {
    e = reference(c, x);
    expectedBySeed.set(key, e);
  }
  return e;
}

function reference(c: Case, x: Inputs) {
  const { batch, inFeatures, outFeatures } = c;
  const pre = new Float32Array(batch * outFeatures);
  refForward(pre, x.inp, x.weight, x.bias, batch, inFeatures, outFeatures);
  const out = new Float32Array(pre.length);
  activationForward(out, pre, c.activation);
  const dinp = new Float32Array(batch * inFeatures);
  const dweight = new Float32Array(inFeatures * outFeatures);
  const dbias = new Float32Array(outFeatures);
  refBackward(dinp, dweight, dbias, x.dout, x.inp, x.weight, batch, inFeatures, outFeatures);
  return { out, dinp, dweight, dbias };
}

describe('dense kernels match the CPU reference', () => {
  afterAll(() => printMeasured('dense parity'));

  for (const { label: runLabel, variant, gpu: getGpu } of RUNS) {
    it(`${runLabel}: forward (fused bias + activation), input, weight and bias gradients`, async () => {
      const gpu = await getGpu();
      const cache = new KernelCache(gpu.device);
      for (const [index, c] of CASES.entries()) {
        const seed = 2000 + index;
        const x = randomInputs(c, seed);
        const ref = expectedFor(c, seed, x);
        const { batch, inFeatures, outFeatures } = c;
        const scratch = new GpuScratch(gpu);
        try {
          const inp = scratch.upload(x.inp);
          const weight = scratch.upload(x.weight);
          const bias = scratch.upload(x.bias);
          const dout = scratch.upload(x.dout);
          const out = scratch.poisoned(batch * outFeatures);
          const dinp = scratch.poisoned(batch * inFeatures);
          const dweight = scratch.poisoned(inFeatures * outFeatures);
          const dbias = scratch.poisoned(outFeatures);
          await scratch.run(await denseForward(cache, c, c.activation, { out, inp, weight, bias }, { variant }));
          await scratch.run(await denseBackward(cache, c, { dinp, dweight, dbias, dout, inp, weight }, { variant }));
          const label = (what: string): string => `${runLabel} ${what} ${c.name} ${batch}x${inFeatures}->${outFeatures} seed=${seed}`;
          expectParity(await scratch.read(out, batch * outFeatures), ref.out, label(`forward(${c.activation})`));
          expectParity(await scratch.read(dinp, batch * inFeatures), ref.dinp, label('dinp'));
          expectParity(await scratch.read(dweight, inFeatures * outFeatures), ref.dweight, label('dweight'));
          expectParity(await scratch.read(dbias, outFeatures), ref.dbias, label('dbias'));
          // dinp with the layer below's activation derivative fused (inp is that layer's output).
          const below = (['tanh', 'sigmoid', 'relu'] as const)[index % 3];
          const fusedDinp = scratch.poisoned(batch * inFeatures);
          await scratch.run(
            await denseBackward(cache, c, { dinp: fusedDinp, dweight: scratch.poisoned(inFeatures * outFeatures), dbias: scratch.poisoned(outFeatures), dout, inp, weight }, { variant, belowActivation: below }),
          );
          const expectedFused = new Float32Array(batch * inFeatures);
          activationBackward(expectedFused, ref.dinp, x.inp, below);
          expectParity(await scratch.read(fusedDinp, batch * inFeatures), expectedFused, label(`dinp, then ${below}'`));
        } finally {
          scratch.dispose();
        }
      }
    });
  }

  it('blocked: each block shape the options allow matches the reference, and its grid shrinks with wider blocks', async () => {
    const gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    const workgroups = (ds: { workgroups: [number, number, number] }[]): number[] => ds.map((d) => d.workgroups[0] * d.workgroups[1] * d.workgroups[2]);
    for (const c of CASES.filter((k) => ['lenet dense1', 'odd 17x33->19', 'split-K'].includes(k.name))) {
      // The parity run's seed, so its reference is reused.
      const seed = 2000 + CASES.indexOf(c);
      const x = randomInputs(c, seed);
      const ref = expectedFor(c, seed, x);
      const { batch, inFeatures, outFeatures } = c;
      const grids: number[][] = [];
      for (const blocked of [{ cols: 8, kStep: 4 }, { cols: 16, kStep: 8 }]) {
        const scratch = new GpuScratch(gpu);
        try {
          const inp = scratch.upload(x.inp);
          const weight = scratch.upload(x.weight);
          const bias = scratch.upload(x.bias);
          const dout = scratch.upload(x.dout);
          const out = scratch.poisoned(batch * outFeatures);
          const dinp = scratch.poisoned(batch * inFeatures);
          const dweight = scratch.poisoned(inFeatures * outFeatures);
          const dbias = scratch.poisoned(outFeatures);
          const forward = await denseForward(cache, c, c.activation, { out, inp, weight, bias }, { variant: 'blocked', blocked });
          const backward = await denseBackward(cache, c, { dinp, dweight, dbias, dout, inp, weight }, { variant: 'blocked', blocked });
          await scratch.run(forward);
          await scratch.run(backward);
          grids.push(workgroups([...forward, ...backward]));
          const label = (what: string): string => `blocked ${blocked.cols} columns x ${blocked.kStep} K steps ${what} ${c.name}`;
          expectParity(await scratch.read(out, batch * outFeatures), ref.out, label(`forward(${c.activation})`));
          expectParity(await scratch.read(dinp, batch * inFeatures), ref.dinp, label('dinp'));
          expectParity(await scratch.read(dweight, inFeatures * outFeatures), ref.dweight, label('dweight'));
          expectParity(await scratch.read(dbias, outFeatures), ref.dbias, label('dbias'));
        } finally {
          scratch.dispose();
        }
      }
      // Forward and the large products: 16-column blocks need about half the invocations of 8-column ones.
      if (c.name === 'lenet dense1') {
        const [narrow, wide] = grids;
        for (const i of [0, 1, 3]) expect(wide[i], `${c.name} dispatch ${i}: ${wide[i]} workgroups with 16-column blocks, ${narrow[i]} with 8`).toBeLessThanOrEqual(Math.ceil(narrow[i] / 2) + 1);
      }
    }
  });

  for (const variant of VARIANTS) {
    it(`${variant}: gradients are bit-identical run to run, overwrite their outputs, and dinp can be skipped`, async () => {
      const gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      const c = CASES.find((k) => k.name === 'split-K')!;
      const x = randomInputs(c, 3000);
      const scratch = new GpuScratch(gpu);
      try {
        const inp = scratch.upload(x.inp);
        const weight = scratch.upload(x.weight);
        const dout = scratch.upload(x.dout);
        const dweight = scratch.poisoned(c.inFeatures * c.outFeatures);
        const dbias = scratch.poisoned(c.outFeatures);
        // Without dinp: two dispatches (partials, reduction), recorded once and run twice.
        const dispatches = await denseBackward(cache, c, { dweight, dbias, dout, inp, weight }, { variant });
        expect(dispatches).toHaveLength(2);
        await scratch.run(dispatches);
        const first = [await scratch.read(dweight, c.inFeatures * c.outFeatures), await scratch.read(dbias, c.outFeatures)];
        await scratch.run(dispatches);
        const second = [await scratch.read(dweight, c.inFeatures * c.outFeatures), await scratch.read(dbias, c.outFeatures)];
        // Equal bits, and no doubling: a second run overwrites rather than accumulates.
        expect(new Uint32Array(second[0].buffer)).toEqual(new Uint32Array(first[0].buffer));
        expect(new Uint32Array(second[1].buffer)).toEqual(new Uint32Array(first[1].buffer));
      } finally {
        scratch.dispose();
      }
    });
  }
});
