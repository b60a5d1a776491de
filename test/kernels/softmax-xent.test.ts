import { afterAll, describe, expect, it } from 'vitest';
import { readBytes, readU32 } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { KernelCache } from '../../src/kernels/kernel.ts';
import { softmaxCrossEntropy, softmaxForward } from '../../src/kernels/softmax-xent.ts';
import { softmaxForward as refSoftmax } from '../../src/reference/activation.ts';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../src/reference/loss.ts';
import { createRng, randomUniform, type Rng } from '../../src/util/random.ts';
import { testGpu } from '../helpers/gpu.ts';
import { expectParity, GpuScratch, printMeasured } from '../helpers/parity.ts';

/** argmax per row, ties to the FIRST max (what sampleCorrect is defined by). */
function firstArgmax(logits: Float32Array, batch: number, classes: number): Uint32Array {
  const out = new Uint32Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits[b * classes + j] > logits[b * classes + best]) best = j;
    out[b] = best;
  }
  return out;
}

function randomLabels(rng: Rng, batch: number, classes: number): Uint32Array {
  return Uint32Array.from({ length: batch }, () => rng.int(classes));
}

interface XentBuffers {
  logits: GPUBuffer;
  labels: GPUBuffer;
  probs: GPUBuffer;
  dlogits: GPUBuffer;
  sampleLoss: GPUBuffer;
  sampleCorrect: GPUBuffer;
}

function xentBuffers(scratch: GpuScratch, logits: Float32Array, labels: Uint32Array, batch: number, classes: number): XentBuffers {
  return {
    logits: scratch.upload(logits),
    labels: scratch.upload(labels),
    probs: scratch.poisoned(batch * classes),
    dlogits: scratch.poisoned(batch * classes),
    sampleLoss: scratch.poisoned(batch),
    sampleCorrect: scratch.poisoned(batch),
  };
}

describe('softmax_xent and softmax_forward match the CPU reference', () => {
  let gpu: Gpu;
  afterAll(() => printMeasured('softmax / cross-entropy parity'));

  // [batch, classes, logit range]: LeNet-5's head (64 x 10), batch 1, odd sizes, logits large enough to
  // overflow exp without the max subtraction, a batch over several workgroups, and 1000 classes.
  const CASES: [number, number, number][] = [
    [64, 10, 5],
    [1, 10, 5],
    [3, 7, 5],
    [65, 10, 100],
    [200, 10, 20],
    [33, 1000, 10],
  ];
  for (const [batch, classes, range] of CASES) {
    it(`B=${batch} classes=${classes} logits in ±${range}`, async () => {
      gpu = await testGpu();
      const cache = new KernelCache(gpu.device);
      const seed = 3000 + batch * 7 + classes;
      const rng = createRng(seed);
      const logits = randomUniform(rng, batch * classes, -range, range);
      const labels = randomLabels(rng, batch, classes);
      // Make some samples confidently right (tiny loss, where log1p matters) and one row a tie.
      for (let b = 0; b < batch; b += 4) logits[b * classes + labels[b]] = range + 20;
      if (batch > 1) logits.fill(range + 1, classes, classes + Math.min(3, classes));
      const scratch = new GpuScratch(gpu);
      try {
        const io = xentBuffers(scratch, logits, labels, batch, classes);
        await scratch.run(await softmaxCrossEntropy(cache, { batch, classes }, io));
        const probs = new Float32Array(batch * classes);
        const losses = new Float64Array(batch);
        softmaxCrossEntropyForward(probs, losses, logits, labels, batch, classes);
        const dlogits = new Float32Array(batch * classes);
        softmaxCrossEntropyBackward(dlogits, probs, labels, batch, classes);
        const label = `B=${batch} C=${classes} ±${range} seed=${seed}`;
        expectParity(await scratch.read(io.probs, batch * classes), probs, `softmax_xent probs ${label}`);
        expectParity(await scratch.read(io.dlogits, batch * classes), dlogits, `softmax_xent dlogits ${label}`);
        expectParity(await scratch.read(io.sampleLoss, batch), losses, `softmax_xent loss ${label}`);
        const argmax = firstArgmax(logits, batch, classes);
        const correct = Uint32Array.from(labels, (l, b) => (argmax[b] === l ? 1 : 0));
        expect(await readU32(gpu.device, io.sampleCorrect, batch)).toEqual(correct);

        const forwardProbs = scratch.poisoned(batch * classes);
        await scratch.run(await softmaxForward(cache, { batch, classes }, { logits: io.logits, probs: forwardProbs }));
        const refProbs = new Float32Array(batch * classes);
        refSoftmax(refProbs, logits, batch, classes);
        expectParity(await scratch.read(forwardProbs, batch * classes), refProbs, `softmax_forward probs ${label}`);
      } finally {
        scratch.dispose();
      }
    });
  }

  it('each sample loss stays accurate when the network is sure and right', async () => {
    gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    // Margins of 8..16: loss = log1p(sum of 9 exp(-margin)) from 3e-3 down to 1e-6.
    const batch = 9;
    const classes = 10;
    const logits = new Float32Array(batch * classes);
    const labels = Uint32Array.from({ length: batch }, (_, b) => b);
    for (let b = 0; b < batch; b++) logits[b * classes + b] = 8 + b;
    const scratch = new GpuScratch(gpu);
    try {
      const io = xentBuffers(scratch, logits, labels, batch, classes);
      await scratch.run(await softmaxCrossEntropy(cache, { batch, classes }, io));
      const losses = new Float64Array(batch);
      softmaxCrossEntropyForward(new Float64Array(batch * classes), losses, Float64Array.from(logits), labels, batch, classes);
      const gpuLoss = await scratch.read(io.sampleLoss, batch);
      for (let b = 0; b < batch; b++) expectParity([gpuLoss[b]], [losses[b]], `confident loss margin ${8 + b}`);
    } finally {
      scratch.dispose();
    }
  });

  it('a label outside [0, classes) gives loss NaN, correct 0 and dlogits probs/B; the PAD label counts nowhere', async () => {
    gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    const seed = 3500;
    const rng = createRng(seed);
    const batch = 4;
    const classes = 10;
    const logits = randomUniform(rng, batch * classes, -3, 3);
    // 10 and 12345 are bad data; 0xffffffff is the padding label of an evaluation's last batch.
    const labels = Uint32Array.of(2, 10, 0xffffffff, 12345);
    const scratch = new GpuScratch(gpu);
    try {
      const io = xentBuffers(scratch, logits, labels, batch, classes);
      await scratch.run(await softmaxCrossEntropy(cache, { batch, classes }, io));
      const loss = await scratch.read(io.sampleLoss, batch);
      expect(Number.isNaN(loss[1]) && Number.isNaN(loss[3])).toBe(true);
      expect(loss[2]).toBe(0);
      expect(Number.isFinite(loss[0])).toBe(true);
      const correct = await readU32(gpu.device, io.sampleCorrect, batch);
      expect([correct[1], correct[2], correct[3]]).toEqual([0, 0, 0]);
      const probs = await scratch.read(io.probs, batch * classes);
      const refProbs = new Float32Array(batch * classes);
      refSoftmax(refProbs, logits, batch, classes);
      expectParity(probs, refProbs, `bad labels probs seed=${seed}`);
      const dlogits = await scratch.read(io.dlogits, batch * classes);
      for (const b of [1, 3]) {
        const row = refProbs.subarray(b * classes, (b + 1) * classes).map((p) => p / batch);
        expectParity(dlogits.subarray(b * classes, (b + 1) * classes), row, `bad label ${labels[b]} dlogits seed=${seed}`);
      }
      expect(Array.from(dlogits.subarray(2 * classes, 3 * classes))).toEqual(new Array(classes).fill(0));
    } finally {
      scratch.dispose();
    }
  });

  it('is bit-identical run to run', async () => {
    gpu = await testGpu();
    const cache = new KernelCache(gpu.device);
    const rng = createRng(3600);
    const batch = 64;
    const classes = 10;
    const logits = randomUniform(rng, batch * classes, -5, 5);
    const labels = randomLabels(rng, batch, classes);
    const scratch = new GpuScratch(gpu);
    try {
      const io = xentBuffers(scratch, logits, labels, batch, classes);
      const dispatches = await softmaxCrossEntropy(cache, { batch, classes }, io);
      const snapshot = async (): Promise<Uint8Array[]> => {
        await scratch.run(dispatches);
        return Promise.all([io.probs, io.dlogits, io.sampleLoss].map(async (b) => new Uint8Array(await readBytes(gpu.device, b))));
      };
      const first = await snapshot();
      expect(await snapshot()).toEqual(first);
    } finally {
      scratch.dispose();
    }
  });
});
