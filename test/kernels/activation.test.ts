import { afterAll, describe, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { activationBackward, activationForward } from '../../src/kernels/activation.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { activationBackward as refBackward, activationForward as refForward, type ActivationKind } from '../../src/reference/activation.ts';
import { createRng, randomUniform } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

const KINDS: ActivationKind[] = ['linear', 'tanh', 'sigmoid', 'relu'];
// 1: a single element; 255/257: around the workgroup size; 37,633: many workgroups, odd.
const COUNTS = [1, 255, 257, 4704, 37_633];

describe('activation kernels match the CPU reference', () => {
  let gpu: Gpu;
  afterAll(() => printMeasured('activation parity'));

  for (const kind of KINDS) {
    it(`${kind} forward and backward`, async () => {
      gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      for (const count of COUNTS) {
        const seed = 1000 + count;
        const rng = createRng(seed);
        // Wide range: exercises tanh/sigmoid saturation (and tanh's overflow clamp).
        const x = randomUniform(rng, count, -20, 20);
        const dout = randomUniform(rng, count, -1, 1);
        const scratch = new GpuScratch(gpu);
        try {
          const inp = scratch.upload(x);
          const out = scratch.poisoned(count);
          const doutBuf = scratch.upload(dout);
          const dinp = scratch.poisoned(count);
          await scratch.run([await activationForward(cache, kind, count, { inp, out })]);
          await scratch.run([await activationBackward(cache, kind, count, { dinp, dout: doutBuf, out })]);
          const refOut = new Float32Array(count);
          refForward(refOut, x, kind);
          const refDinp = new Float32Array(count);
          const gpuOut = await scratch.read(out, count);
          // Backward is fed the GPU's own forward output, so each kernel is judged alone.
          refBackward(refDinp, dout, gpuOut, kind);
          expectParity(gpuOut, refOut, `${kind} forward n=${count} seed=${seed}`);
          expectParity(await scratch.read(dinp, count), refDinp, `${kind} backward n=${count} seed=${seed}`);
        } finally {
          scratch.dispose();
        }
      }
    });
  }
});
