import { afterAll, describe, expect, it } from 'vitest';
import { conv2dGeometry, pool2dGeometry, type Conv2dGeometry, type Conv2dParams } from '../../src/geometry.ts';
import { conv2dBackward, conv2dBackwardThroughAvgPool, conv2dForward } from '../../src/kernels/conv2d.ts';
import { conv2dFusesAvgPool, conv2dFusesAvgPoolBackward, conv2dSplitK } from '../../src/kernels/conv2d-plan.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import type { KernelVariant } from '../../src/kernels/variant.ts';
import { activationBackward, activationForward, type ActivationKind } from '../../src/reference/activation.ts';
import { conv2dBackward as refBackward, conv2dForward as refForward } from '../../src/reference/conv2d.ts';
import { avgPoolBackward, avgPoolForward } from '../../src/reference/pool.ts';
import { createRng, randomUniform } from '../../src/util/random.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { sharesLanes } from '../../src/kernels/sources.ts';
import { testGpu, testGpuWithoutSubgroups } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

const VARIANTS: KernelVariant[] = ['blocked', 'tiled'];
const ACTIVATIONS: ActivationKind[] = ['linear', 'tanh', 'sigmoid', 'relu'];

interface Case {
  name: string;
  params: Conv2dParams;
  /** Also check the dinp-less backward of a first layer, and that reruns are bit-identical. */
  firstLayer?: boolean;
}

/** Every activation on small outputs; one per case (in turn) on large ones, where the fused code is the same. */
function activationsFor(g: Conv2dGeometry, index: number): ActivationKind[] {
  const outputs = g.batch * g.outChannels * g.outHeight * g.outWidth;
  return outputs <= 20_000 ? ACTIVATIONS : [ACTIVATIONS[index % ACTIVATIONS.length]];
}

const CASES: Case[] = [
  // LeNet-5 (batch 64).
  { name: 'conv1 1->6 5x5 same 28x28 b64', params: { batch: 64, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernel: 5, padding: 'same' } },
  { name: 'conv2 6->16 5x5 valid 14x14 b64', params: { batch: 64, inChannels: 6, inHeight: 14, inWidth: 14, outChannels: 16, kernel: 5 } },
  // The variant network (batch 64).
  { name: 'v-conv1 1->6 2x2 valid 28x28 b64', params: { batch: 64, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernel: 2 }, firstLayer: true },
  { name: 'v-conv2 6->16 5x5 valid 13x13 b64', params: { batch: 64, inChannels: 6, inHeight: 13, inWidth: 13, outChannels: 16, kernel: 5 } },
  { name: 'v-conv3 16->120 4x4 valid 4x4 b64', params: { batch: 64, inChannels: 16, inHeight: 4, inWidth: 4, outChannels: 120, kernel: 4 } },
  // Batch 1.
  { name: 'conv1 1->6 5x5 same 28x28 b1', params: { batch: 1, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernel: 5, padding: 'same' }, firstLayer: true },
  { name: 'conv2 6->16 5x5 valid 14x14 b1', params: { batch: 1, inChannels: 6, inHeight: 14, inWidth: 14, outChannels: 16, kernel: 5 } },
  // Odd sizes: nothing a multiple of the block (4 columns, 1-4 channels) or the tiles.
  { name: 'odd 5->7 3x3 same 7x9 b3', params: { batch: 3, inChannels: 5, inHeight: 7, inWidth: 9, outChannels: 7, kernel: 3, padding: 'same' } },
  { name: 'stride 2 5->6 3x3 same 7x9 b3', params: { batch: 3, inChannels: 5, inHeight: 7, inWidth: 9, outChannels: 6, kernel: 3, stride: 2, padding: 'same' } },
  { name: 'stride 2 3->5 3x3 valid 11x10 b2', params: { batch: 2, inChannels: 3, inHeight: 11, inWidth: 10, outChannels: 5, kernel: 3, stride: 2 } },
  // Even kernels with 'same': more padding after than before.
  { name: 'even 4x4 same 3->5 9x7 b2', params: { batch: 2, inChannels: 3, inHeight: 9, inWidth: 7, outChannels: 5, kernel: 4, padding: 'same' } },
  { name: 'even 2x2 same stride 2 2->3 7x9 b3', params: { batch: 3, inChannels: 2, inHeight: 7, inWidth: 9, outChannels: 3, kernel: 2, stride: 2, padding: 'same' } },
  // Non-square kernels and strides.
  { name: 'nonsquare 2x3 same stride 2x1 4->5 10x11 b3', params: { batch: 3, inChannels: 4, inHeight: 10, inWidth: 11, outChannels: 5, kernel: [2, 3], stride: [2, 1], padding: 'same' } },
  { name: 'nonsquare 3x2 valid stride 1x2 2->9 8x9 b2', params: { batch: 2, inChannels: 2, inHeight: 8, inWidth: 9, outChannels: 9, kernel: [3, 2], stride: [1, 2] } },
  // A kernel larger than its input ('same'), and a strided 1x1.
  { name: 'kernel > input 5x5 same 2->3 3x3 b2', params: { batch: 2, inChannels: 2, inHeight: 3, inWidth: 3, outChannels: 3, kernel: 5, padding: 'same' } },
  { name: '1x1 stride 2 7->9 5x6 b3', params: { batch: 3, inChannels: 7, inHeight: 5, inWidth: 6, outChannels: 9, kernel: 1, stride: 2 } },
  // Larger.
  { name: 'large 16->32 3x3 same 16x16 b16', params: { batch: 16, inChannels: 16, inHeight: 16, inWidth: 16, outChannels: 32, kernel: 3, padding: 'same' } },
];

interface Tensors {
  inp: Float32Array; // (B, Cin, H, W)
  weight: Float32Array; // (Cout, Cin, KH, KW)
  bias: Float32Array; // (Cout)
  dout: Float32Array; // (B, Cout, OH, OW)
}

function randomTensors(g: Conv2dGeometry, seed: number): Tensors {
  const rng = createRng(seed);
  const fanIn = g.inChannels * g.kernelH * g.kernelW;
  const fanOut = g.outChannels * g.kernelH * g.kernelW;
  const limit = Math.sqrt(6 / (fanIn + fanOut)) * 2; // wide enough to reach tanh/sigmoid saturation
  return {
    inp: randomUniform(rng, g.batch * g.inChannels * g.inHeight * g.inWidth, -1, 1),
    weight: randomUniform(rng, g.outChannels * fanIn, -limit, limit),
    bias: randomUniform(rng, g.outChannels, -0.5, 0.5),
    dout: randomUniform(rng, g.batch * g.outChannels * g.outHeight * g.outWidth, -1, 1),
  };
}

function referenceForward(g: Conv2dGeometry, t: Tensors, kind: ActivationKind): Float32Array {
  const pre = new Float32Array(t.dout.length);
  refForward(pre, t.inp, t.weight, t.bias, g);
  const out = new Float32Array(pre.length);
  activationForward(out, pre, kind);
  return out;
}

function referenceBackward(g: Conv2dGeometry, t: Tensors): { dinp: Float32Array; dweight: Float32Array; dbias: Float32Array } {
  const r = { dinp: new Float32Array(t.inp.length), dweight: new Float32Array(t.weight.length), dbias: new Float32Array(g.outChannels) };
  refBackward(r.dinp, r.dweight, r.dbias, t.dout, t.inp, t.weight, g);
  return r;
}

const bitsEqual = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

/**
 * The window kernels of the 'blocked' variant share kernel loads between the
 * lanes of a subgroup where the device allows (SHARED_WEIGHTS); this second
 * device has no 'subgroups', so the same cases also cover the path without.
 */
const NO_SUBGROUP_CASES = ['conv1 1->6 5x5 same 28x28 b64', 'conv2 6->16 5x5 valid 14x14 b64', 'v-conv1 1->6 2x2 valid 28x28 b64', 'conv1 1->6 5x5 same 28x28 b1', 'odd 5->7 3x3 same 7x9 b3', 'even 4x4 same 3->5 9x7 b2'];
const RUNS: { label: string; variant: KernelVariant; gpu: () => Promise<Gpu>; cases: (c: Case) => boolean }[] = [
  ...VARIANTS.map((variant) => ({ label: variant, variant, gpu: testGpu, cases: () => true })),
  // Shapes the window kernels take: LeNet-5's, a 2x2 and a 4x4 kernel (the statement-chain path), odd sizes, batch 1.
  { label: 'blocked, no subgroups', variant: 'blocked', gpu: testGpuWithoutSubgroups, cases: (c) => NO_SUBGROUP_CASES.includes(c.name) },
];

/** Which fused paths ran, as `variant: case`: the checks inside `if`s below must be shown to have run. */
const fusedRan = { poolForward: new Set<string>(), poolBackward: new Set<string>() };
const LENET_CONVS = ['conv1 1->6 5x5 same 28x28 b64', 'conv2 6->16 5x5 valid 14x14 b64', 'conv1 1->6 5x5 same 28x28 b1', 'conv2 6->16 5x5 valid 14x14 b1'];

describe('conv2d kernels match the CPU reference', () => {
  afterAll(() => printMeasured('conv2d parity'));
  // One cache per device: pipelines (one per entry point, activation and
  // channel block) compile once, as they would in a training run.
  const caches = new Map<GPUDevice, KernelCache>();

  it('shares kernel loads between lanes on the test adapter, and not on the device without subgroups', async () => {
    const gpu = await testGpu();
    // SwiftShader (the CI adapter) reports 4-lane subgroups; a hardware GPU reports others and takes the plain path.
    expect(sharesLanes(gpu.device)).toBe(gpu.report.subgroupSizes?.[0] === 4 && gpu.report.subgroupSizes?.[1] === 4);
    expect(sharesLanes((await testGpuWithoutSubgroups()).device)).toBe(false);
  });

  for (const run of RUNS) {
    const variant = run.variant;
    CASES.filter(run.cases).forEach((c) => {
      const index = CASES.indexOf(c);
      it(`${run.label}: ${c.name}`, async () => {
        const gpu = await run.gpu();
        const cache = caches.get(gpu.device) ?? new KernelCache(gpu.device);
        caches.set(gpu.device, cache);
        const g = conv2dGeometry(c.params);
        const seed = 7100 + index;
        const t = randomTensors(g, seed);
        const tag = `[${variant}] ${c.name} seed=${seed}`;
        const scratch = new GpuScratch(gpu);
        try {
          const inp = scratch.upload(t.inp);
          const weight = scratch.upload(t.weight);
          const bias = scratch.upload(t.bias);
          const dout = scratch.upload(t.dout);

          for (const kind of activationsFor(g, index)) {
            const out = scratch.poisoned(t.dout.length);
            await scratch.run(await conv2dForward(cache, g, kind, { out, inp, weight, bias }, { variant }));
            expectParity(await scratch.read(out, t.dout.length), referenceForward(g, t, kind), `${tag} forward ${kind}`);
          }

          // A following 2x2 stride-2 average pooling fused into the forward store, where the kernel can.
          if (g.outHeight >= 2 && g.outWidth >= 2) {
            const pool = pool2dGeometry({ batch: g.batch, channels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth, window: 2, stride: 2 });
            if (conv2dFusesAvgPool(g, pool, variant)) {
              fusedRan.poolForward.add(`${run.label}: ${c.name}`);
              const kind = ACTIVATIONS[index % ACTIVATIONS.length];
              const n = g.batch * g.outChannels * pool.outHeight * pool.outWidth;
              const out = scratch.poisoned(t.dout.length);
              const pooled = scratch.poisoned(n);
              await scratch.run(await conv2dForward(cache, g, kind, { out, inp, weight, bias, pooled }, { variant }));
              const refOut = referenceForward(g, t, kind);
              const refPooled = new Float32Array(n);
              avgPoolForward(refPooled, refOut, pool);
              expectParity(await scratch.read(out, t.dout.length), refOut, `${tag} forward ${kind}, pooled: out`);
              expectParity(await scratch.read(pooled, n), refPooled, `${tag} forward ${kind}, then avg-pool 2x2`);
            }
            // The weight gradient through that pooling and the activation, from the pooled gradient.
            if (conv2dFusesAvgPoolBackward(g, pool, variant)) {
              fusedRan.poolBackward.add(`${run.label}: ${c.name}`);
              const kind = ACTIVATIONS[1 + (index % 3)];
              const n = g.batch * g.outChannels * pool.outHeight * pool.outWidth;
              const dpoolData = randomUniform(createRng(seed + 1), n, -1, 1);
              const yData = referenceForward(g, t, kind);
              const dpre = new Float32Array(t.dout.length);
              avgPoolBackward(dpre, dpoolData, pool);
              activationBackward(dpre, dpre, yData, kind);
              const refThrough = referenceBackward(g, { ...t, dout: dpre });
              const dweight = scratch.poisoned(t.weight.length);
              const dbias = scratch.poisoned(g.outChannels);
              const io = { dweight, dbias, dpool: scratch.upload(dpoolData), out: scratch.upload(yData), inp };
              await scratch.run(await conv2dBackwardThroughAvgPool(cache, g, kind, io, { variant }));
              expectParity(await scratch.read(dweight, t.weight.length), refThrough.dweight, `${tag} dweight through avg-pool 2x2 and ${kind}'`);
              expectParity(await scratch.read(dbias, g.outChannels), refThrough.dbias, `${tag} dbias through avg-pool 2x2 and ${kind}'`);
            }
          }

          const ref = referenceBackward(g, t);
          const chunks = conv2dSplitK(g, variant).chunks;
          const dinp = scratch.poisoned(t.inp.length);
          const dweight = scratch.poisoned(t.weight.length);
          const dbias = scratch.poisoned(g.outChannels);
          const backward = await conv2dBackward(cache, g, { dinp, dweight, dbias, dout, inp, weight }, { variant });
          expect(backward).toHaveLength(3);
          await scratch.run(backward);
          const gpuDinp = await scratch.read(dinp, t.inp.length);
          const gpuDweight = await scratch.read(dweight, t.weight.length);
          const gpuDbias = await scratch.read(dbias, g.outChannels);
          expectParity(gpuDinp, ref.dinp, `${tag} backward dinp`);
          expectParity(gpuDweight, ref.dweight, `${tag} backward dweight (${chunks} chunks)`);
          expectParity(gpuDbias, ref.dbias, `${tag} backward dbias (${chunks} chunks)`);

          // The input gradient with the layer below's activation derivative fused (inp is that layer's output).
          const below = ACTIVATIONS[1 + (index % 3)];
          const fusedDinp = scratch.poisoned(t.inp.length);
          const fused = await conv2dBackward(
            cache,
            g,
            { dinp: fusedDinp, dweight: scratch.poisoned(t.weight.length), dbias: scratch.poisoned(g.outChannels), dout, inp, weight },
            { variant, belowActivation: below },
          );
          await scratch.run(fused);
          const expectedFused = new Float32Array(t.inp.length);
          activationBackward(expectedFused, ref.dinp, t.inp, below);
          expectParity(await scratch.read(fusedDinp, t.inp.length), expectedFused, `${tag} backward dinp, then ${below}'`);

          if (c.firstLayer) {
            // Same dispatches again: bit-identical (no atomics, fixed reduction order).
            await scratch.run(backward);
            expect(bitsEqual(await scratch.read(dweight, t.weight.length), gpuDweight)).toBe(true);
            expect(bitsEqual(await scratch.read(dbias, g.outChannels), gpuDbias)).toBe(true);
            expect(bitsEqual(await scratch.read(dinp, t.inp.length), gpuDinp)).toBe(true);
            // A first layer omits dinp: the input-gradient dispatch is skipped.
            const dweight2 = scratch.poisoned(t.weight.length);
            const dbias2 = scratch.poisoned(g.outChannels);
            const noInput = await conv2dBackward(cache, g, { dweight: dweight2, dbias: dbias2, dout, inp, weight }, { variant });
            expect(noInput).toHaveLength(2);
            await scratch.run(noInput);
            expect(bitsEqual(await scratch.read(dweight2, t.weight.length), gpuDweight)).toBe(true);
            expect(bitsEqual(await scratch.read(dbias2, g.outChannels), gpuDbias)).toBe(true);
          }
        } finally {
          scratch.dispose();
        }
      });
    });
  }

  it('ran the fused average-pooling paths (forward store, weight gradient from the pooled gradient) on LeNet-5\'s shapes', () => {
    // The blocked variant fuses the 2x2 average pooling after both LeNet-5 convolutions (and the
    // weight gradient through it) into its window kernels; the tiled variant has no window
    // kernels, keeps pooling as its own kernel, and must not claim to fuse.
    for (const name of LENET_CONVS) {
      expect([...fusedRan.poolForward]).toContain(`blocked: ${name}`);
      if (NO_SUBGROUP_CASES.includes(name)) expect([...fusedRan.poolForward]).toContain(`blocked, no subgroups: ${name}`);
    }
    expect([...fusedRan.poolBackward]).toEqual(expect.arrayContaining(['blocked: conv1 1->6 5x5 same 28x28 b64', 'blocked: conv1 1->6 5x5 same 28x28 b1']));
    expect([...fusedRan.poolForward, ...fusedRan.poolBackward].filter((k) => k.startsWith('tiled:'))).toEqual([]);
  });

  it('splits the weight-gradient reduction into several chunks at LeNet-5 shapes, batch 1 and 64', () => {
    for (const batch of [1, 64]) {
      for (const variant of VARIANTS) {
        const conv1 = conv2dGeometry({ batch, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernel: 5, padding: 'same' });
        const conv2 = conv2dGeometry({ batch, inChannels: 6, inHeight: 14, inWidth: 14, outChannels: 16, kernel: 5 });
        for (const g of [conv1, conv2]) {
          const split = conv2dSplitK(g, variant);
          expect(split.chunks).toBeGreaterThan(1);
          expect((split.chunks - 1) * split.rowsPerChunk).toBeLessThan(split.rows);
          expect(split.chunks * split.rowsPerChunk).toBeGreaterThanOrEqual(split.rows);
          expect(split.rows).toBeGreaterThanOrEqual(g.batch * Math.ceil(g.outHeight / 5));
        }
      }
    }
  });
});
