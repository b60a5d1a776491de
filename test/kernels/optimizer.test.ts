import { afterAll, describe, expect, it } from 'vitest';
import { readBytes } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { adamUpdate, createOptimizerState, decodeOptimizerState, sgdUpdate, writeLearningRate } from '../../src/kernels/optimizer.ts';
import { adamStep, defaultAdam, sgdMomentumStep, type AdamHyper, type SgdHyper } from '../../src/reference/optim.ts';
import { createRng, randomUniform, type Rng } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

// 1 and 5: no whole quad / one quad and a tail; 1023: three-element tail; 61,706: LeNet-5's parameter count.
const COUNTS = [1, 5, 1023, 61_706];

/** Gradients for each step: the same ones every step, or fresh ones. */
function gradSchedule(rng: Rng, count: number, steps: number, fresh: boolean): Float32Array[] {
  const first = randomUniform(rng, count, -1, 1);
  return Array.from({ length: steps }, (_, s) => (fresh && s > 0 ? randomUniform(rng, count, -1, 1) : first));
}

/** Runs `steps` recorded updates on the GPU, writing each step's gradients first. */
async function runSteps(scratch: GpuScratch, dispatches: Awaited<ReturnType<typeof adamUpdate>>, grads: GPUBuffer, schedule: Float32Array[]): Promise<void> {
  for (const g of schedule) {
    scratch.gpu.device.queue.writeBuffer(grads, 0, g);
    await scratch.run(dispatches);
  }
}

afterAll(() => printMeasured('optimizer parity'));

describe('adam_update matches adamStep', () => {
  let gpu: Gpu;

  const CASES: { steps: number; fresh: boolean; hp: AdamHyper }[] = [
    { steps: 1, fresh: false, hp: defaultAdam },
    { steps: 10, fresh: false, hp: defaultAdam },
    { steps: 10, fresh: true, hp: defaultAdam },
    { steps: 10, fresh: true, hp: { learningRate: 0.01, beta1: 0.5, beta2: 0.9, epsilon: 1e-3 } },
  ];
  for (const { steps, fresh, hp } of CASES) {
    it(`${steps} step(s), ${fresh ? 'fresh' : 'the same'} grads, ${JSON.stringify(hp)}`, async () => {
      gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      for (const count of COUNTS) {
        const seed = 500 + count + steps * 13 + (fresh ? 1 : 0) + Math.round(hp.beta1 * 10);
        const rng = createRng(seed);
        const params = randomUniform(rng, count, -0.5, 0.5);
        const schedule = gradSchedule(rng, count, steps, fresh);
        const scratch = new GpuScratch(gpu);
        try {
          const io = {
            params: scratch.upload(params),
            grads: scratch.upload(schedule[0]),
            m: scratch.upload(new Float32Array(count)),
            v: scratch.upload(new Float32Array(count)),
            state: createOptimizerState(gpu.device, 0, hp.learningRate),
          };
          await runSteps(scratch, await adamUpdate(cache, count, hp, io), io.grads, schedule);
          const ref = { p: Float32Array.from(params), m: new Float32Array(count), v: new Float32Array(count) };
          schedule.forEach((g, s) => adamStep(ref.p, g, ref.m, ref.v, s + 1, hp));
          const label = `adam n=${count} steps=${steps}${fresh ? ' fresh' : ''} b1=${hp.beta1} seed=${seed}`;
          expectParity(await scratch.read(io.params, count), ref.p, `${label} params`);
          expectParity(await scratch.read(io.m, count), ref.m, `${label} m`);
          expectParity(await scratch.read(io.v, count), ref.v, `${label} v`);
          const state = decodeOptimizerState(await readBytes(gpu.device, io.state));
          expect(state.step).toBe(steps);
          const alpha = (hp.learningRate * Math.sqrt(1 - hp.beta2 ** steps)) / (1 - hp.beta1 ** steps);
          expectParity([state.alpha], [alpha], `${label} alpha_t`);
          io.state.destroy();
        } finally {
          scratch.dispose();
        }
      }
    });
  }

  it('resumes from initialStep with the state it left, and follows writeLearningRate', async () => {
    gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    const count = 1023;
    const seed = 640;
    const rng = createRng(seed);
    const params = randomUniform(rng, count, -0.5, 0.5);
    const m = randomUniform(rng, count, -0.1, 0.1);
    const v = randomUniform(rng, count, 0, 0.01);
    const schedule = gradSchedule(rng, count, 6, true);
    const scratch = new GpuScratch(gpu);
    const state = createOptimizerState(gpu.device, 7, 0.002);
    try {
      const io = { params: scratch.upload(params), grads: scratch.upload(schedule[0]), m: scratch.upload(m), v: scratch.upload(v), state };
      const dispatches = await adamUpdate(cache, count, { ...defaultAdam, learningRate: 123 }, io);
      await runSteps(scratch, dispatches, io.grads, schedule.slice(0, 3));
      writeLearningRate(gpu.device, state, 0.0005);
      await runSteps(scratch, dispatches, io.grads, schedule.slice(3));
      const ref = { p: Float32Array.from(params), m: Float32Array.from(m), v: Float32Array.from(v) };
      schedule.forEach((g, s) => adamStep(ref.p, g, ref.m, ref.v, 8 + s, { ...defaultAdam, learningRate: s < 3 ? 0.002 : 0.0005 }));
      const label = `adam resume t=8..13, lr 0.002 -> 0.0005 seed=${seed}`;
      expectParity(await scratch.read(io.params, count), ref.p, `${label} params`);
      expectParity(await scratch.read(io.m, count), ref.m, `${label} m`);
      expectParity(await scratch.read(io.v, count), ref.v, `${label} v`);
      const decoded = decodeOptimizerState(await readBytes(gpu.device, state));
      expect([decoded.step, decoded.learningRate]).toEqual([13, Math.fround(0.0005)]);
    } finally {
      state.destroy();
      scratch.dispose();
    }
  });

  it('is bit-identical run to run', async () => {
    gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    const count = 61_706;
    const rng = createRng(650);
    const params = randomUniform(rng, count, -0.5, 0.5);
    const schedule = gradSchedule(rng, count, 3, true);
    const results: Uint8Array[] = [];
    for (let run = 0; run < 2; run++) {
      const scratch = new GpuScratch(gpu);
      const state = createOptimizerState(gpu.device, 0, 0.001);
      try {
        const io = { params: scratch.upload(params), grads: scratch.upload(schedule[0]), m: scratch.upload(new Float32Array(count)), v: scratch.upload(new Float32Array(count)), state };
        await runSteps(scratch, await adamUpdate(cache, count, defaultAdam, io), io.grads, schedule);
        results.push(new Uint8Array(await readBytes(gpu.device, io.params)));
      } finally {
        state.destroy();
        scratch.dispose();
      }
    }
    // Buffer.equals: vitest's deep equality walks 246 KB element by element.
    expect(Buffer.from(results[1]).equals(Buffer.from(results[0]))).toBe(true);
  });
});

describe('sgd_update matches sgdMomentumStep', () => {
  let gpu: Gpu;

  const CASES: { steps: number; fresh: boolean; hp: SgdHyper }[] = [
    { steps: 1, fresh: false, hp: { learningRate: 0.01, momentum: 0, nesterov: false } },
    { steps: 10, fresh: true, hp: { learningRate: 0.01, momentum: 0, nesterov: false } },
    { steps: 1, fresh: false, hp: { learningRate: 0.05, momentum: 0.9, nesterov: false } },
    { steps: 10, fresh: false, hp: { learningRate: 0.05, momentum: 0.9, nesterov: false } },
    { steps: 10, fresh: true, hp: { learningRate: 0.05, momentum: 0.9, nesterov: false } },
    { steps: 1, fresh: false, hp: { learningRate: 0.05, momentum: 0.9, nesterov: true } },
    { steps: 10, fresh: true, hp: { learningRate: 0.05, momentum: 0.9, nesterov: true } },
  ];
  for (const { steps, fresh, hp } of CASES) {
    it(`${steps} step(s), ${fresh ? 'fresh' : 'the same'} grads, ${JSON.stringify(hp)}`, async () => {
      gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      for (const count of COUNTS) {
        const seed = 800 + count + steps * 13 + (fresh ? 1 : 0) + (hp.nesterov ? 2 : 0) + hp.momentum * 10;
        const rng = createRng(seed);
        const params = randomUniform(rng, count, -0.5, 0.5);
        const schedule = gradSchedule(rng, count, steps, fresh);
        const scratch = new GpuScratch(gpu);
        const state = createOptimizerState(gpu.device, 0, hp.learningRate);
        try {
          const io = { params: scratch.upload(params), grads: scratch.upload(schedule[0]), velocity: scratch.upload(new Float32Array(count)), state };
          await runSteps(scratch, await sgdUpdate(cache, count, hp, io), io.grads, schedule);
          const ref = { p: Float32Array.from(params), velocity: new Float32Array(count) };
          for (const g of schedule) sgdMomentumStep(ref.p, g, ref.velocity, hp);
          const label = `sgd n=${count} steps=${steps}${fresh ? ' fresh' : ''} mom=${hp.momentum}${hp.nesterov ? ' nesterov' : ''} seed=${seed}`;
          expectParity(await scratch.read(io.params, count), ref.p, `${label} params`);
          if (hp.momentum > 0) expectParity(await scratch.read(io.velocity, count), ref.velocity, `${label} velocity`);
          expect(decodeOptimizerState(await readBytes(gpu.device, state)).step).toBe(steps);
        } finally {
          state.destroy();
          scratch.dispose();
        }
      }
    });
  }
});
