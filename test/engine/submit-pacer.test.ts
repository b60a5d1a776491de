/**
 * SubmitPacer: in 'timer' mode no completion promise exists while the GPU
 * works (Dawn's Node binding polls the main thread for as long as one is
 * pending), the sleep follows what earlier waits measured, and callbacks run
 * only after their submit completed. 'promise' mode keeps at most
 * maxInFlight submits queued. On the GPU, both modes train identically.
 */
import { describe, expect, it } from 'vitest';
import { fit } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import { defaultSubmitWait, SubmitPacer } from '../../src/engine/submit-pacer.ts';
import { readF32 } from '../../src/gpu/buffers.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

/** A queue whose work takes `msPerSubmit` each, in order, from its submit on. */
class FakeQueue {
  submits: number[] = [];
  promisesAsked: { at: number; pendingSubmits: number }[] = [];
  constructor(private readonly msPerSubmit: number) {}
  submit(): void {
    const start = Math.max(performance.now(), this.submits.at(-1) ?? 0);
    this.submits.push(start + this.msPerSubmit);
  }
  pending(): number {
    const t = performance.now();
    return this.submits.filter((end) => end > t + 2).length; // timers may fire a millisecond early
  }
  onSubmittedWorkDone(): Promise<undefined> {
    this.promisesAsked.push({ at: performance.now(), pendingSubmits: this.pending() });
    const end = this.submits.at(-1) ?? 0;
    return new Promise((resolve) => setTimeout(() => resolve(undefined), Math.max(0, end - performance.now())));
  }
}

const fakeDevice = (queue: FakeQueue): GPUDevice => ({ queue }) as unknown as GPUDevice;

describe('SubmitPacer', () => {
  it('chooses timer pacing in Node on a CPU adapter, promises on hardware and in browsers', () => {
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', isFallback: true };
    const nvidia = { vendor: 'nvidia', architecture: 'hopper', isFallback: false };
    expect(defaultSubmitWait({ ...swiftshader, runtime: 'node (Vulkan ICD: /usr/lib/chromium/vk_swiftshader_icd.json)' })).toBe('timer');
    expect(defaultSubmitWait({ ...swiftshader, isFallback: false, runtime: 'node (Vulkan ICD: loader default)' })).toBe('timer');
    expect(defaultSubmitWait({ ...nvidia, runtime: 'node (Vulkan ICD: /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json)' })).toBe('promise');
    expect(defaultSubmitWait({ ...swiftshader, runtime: 'browser' })).toBe('promise');
  });

  it('timer mode: asks for completion only after sleeping most of the learned time; callbacks follow completion', async () => {
    const queue = new FakeQueue(40);
    const pacer = new SubmitPacer(fakeDevice(queue), 'timer', 2);
    const completedWhenCalled: boolean[] = [];
    const submitAndPace = async (i: number): Promise<void> => {
      queue.submit();
      await pacer.submitted(4, () => completedWhenCalled.push(queue.submits.length - queue.pending() > i));
    };
    // First window: nothing learned yet, so it waits at once (and learns ~10 ms per step).
    await submitAndPace(0);
    expect(queue.promisesAsked).toHaveLength(0); // one queued < maxInFlight: no promise yet
    await submitAndPace(1);
    expect(queue.promisesAsked).toHaveLength(1);
    expect(pacer.estimateMs).toBeGreaterThanOrEqual(9);
    expect(pacer.estimateMs).toBeLessThan(25);
    // Later windows: the promise is asked for only when little work is left.
    for (let i = 2; i < 8; i++) await submitAndPace(i);
    for (const asked of queue.promisesAsked.slice(1)) expect(asked.pendingSubmits).toBeLessThanOrEqual(1);
    // Every callback ran after its own submit had completed.
    expect(completedWhenCalled).toEqual(Array(8).fill(true));
    expect(queue.pending()).toBe(0);
  });

  it('timer mode: a faster GPU lowers the estimate, a slower one raises it', async () => {
    // Long enough that timer lateness on a loaded machine (tens of ms) cannot hide the trend.
    const queue = new FakeQueue(300);
    const pacer = new SubmitPacer(fakeDevice(queue), 'timer', 1);
    const step = async (): Promise<number> => {
      queue.submit();
      await pacer.submitted(1);
      return pacer.estimateMs!;
    };
    const first = await step();
    expect(first).toBeGreaterThanOrEqual(295);
    (queue as unknown as { msPerSubmit: number }).msPerSubmit = 10;
    // Each wait sleeps 90% of the estimate, measures that upper bound and takes it at once.
    let estimate = first;
    for (let i = 0; i < 4; i++) estimate = await step();
    expect(estimate).toBeLessThan(first);
    (queue as unknown as { msPerSubmit: number }).msPerSubmit = 900;
    expect(await step()).toBeGreaterThan(estimate);
  });

  it('promise mode: at most maxInFlight queued, callbacks in order after completion', async () => {
    const queue = new FakeQueue(15);
    const pacer = new SubmitPacer(fakeDevice(queue), 'promise', 2);
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      queue.submit();
      await pacer.submitted(1, () => order.push(i));
      expect(queue.pending()).toBeLessThanOrEqual(2);
    }
    await pacer.drain();
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(queue.promisesAsked).toHaveLength(6);
  });

  it('maxInFlight 0 waits for every submit in both modes; a negative one is refused', async () => {
    for (const mode of ['timer', 'promise'] as const) {
      const queue = new FakeQueue(10);
      const pacer = new SubmitPacer(fakeDevice(queue), mode, 0);
      for (let i = 0; i < 3; i++) {
        queue.submit();
        await pacer.submitted(1);
        expect(queue.pending()).toBe(0);
      }
    }
    expect(() => new SubmitPacer(fakeDevice(new FakeQueue(1)), 'timer', -1)).toThrow(/maxInFlight must be a non-negative integer/);
  });

  it('on the GPU, timer and promise pacing train to bit-identical weights and the same history', async () => {
    const gpu = await testGpu();
    const data = await mnistSlice('train', 0, 640);
    const run = async (submitWait: 'timer' | 'promise') => {
      const model = await Model.create(gpu, lenet5, { seed: 11, batchSize: 32 });
      try {
        const events: number[] = [];
        const history = await fit(model, data, { epochs: 2, validationSplit: 0.25, stepsPerSubmit: 2, submitWait, onStep: (e) => events.push(e.step) });
        const weights = await readF32(gpu.device, model.graph.params);
        return { history, weights, events };
      } finally {
        model.dispose();
      }
    };
    const timer = await run('timer');
    const promise = await run('promise');
    expect(Buffer.from(timer.weights.buffer).equals(Buffer.from(promise.weights.buffer))).toBe(true);
    expect(timer.history.epochs.map((e) => [e.loss, e.valLoss])).toEqual(promise.history.epochs.map((e) => [e.loss, e.valLoss]));
    expect(timer.events.length).toBeGreaterThan(0);
    expect(timer.events.every((s) => s >= 1 && s <= 15)).toBe(true);
  });
});
