/**
 * Task D: the float32 CPU reference network learns LeNet-5 on real MNIST.
 * The first 4,500 training images for 2 epochs (batch 32, Adam lr 0.003),
 * then accuracy on the first 1,000 images of the test split, never trained on. This is the end-to-end proof that the reference kernels, loss and
 * optimizer are right together, and the accuracy bar the GPU engine must
 * also clear.
 */
import { expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { loadMnistNode } from '../../src/data/mnist-node.ts';
import { inferShapes } from '../../src/model/infer.ts';
import { initParameters } from '../../src/model/params.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { ReferenceNetwork } from '../../src/reference/network.ts';
import { createAdam } from '../../src/reference/optim.ts';
import { createRng } from '../../src/util/random.ts';

// ~280 Adam steps: about 30 s on the 2-core dev machine. The REF_* variables
// are for longer manual runs; the defaults are what CI checks.
const TRAIN = Number(process.env.REF_TRAIN ?? 4500);
const TEST = 1000;
const BATCH = Number(process.env.REF_BATCH ?? 32);
const EPOCHS = Number(process.env.REF_EPOCHS ?? 2);
const LEARNING_RATE = Number(process.env.REF_LR ?? 0.003);
const SEED = 1234;

/** Images [start, start + count) of a dataset as floats in [0, 1]. */
function toFloat(ds: ImageDataset, start: number, count: number): { images: Float32Array; labels: Uint8Array } {
  const size = ds.rows * ds.cols;
  const images = new Float32Array(count * size);
  for (let i = 0; i < count * size; i++) images[i] = ds.pixels[start * size + i] / 255;
  return { images, labels: ds.labels.slice(start, start + count) };
}

it(`LeNet-5 on ${TRAIN} MNIST images: loss falls and held-out accuracy passes 90%`, async () => {
  const started = performance.now();
  const mnist = await loadMnistNode();
  const train = toFloat(mnist.train, 0, TRAIN);
  const test = toFloat(mnist.test, 0, TEST);
  const size = 28 * 28;

  const plan = inferShapes(lenet5, BATCH);
  const net = new ReferenceNetwork(plan, initParameters(plan, SEED));
  const opt = createAdam(net.params.length, { learningRate: LEARNING_RATE });
  const rng = createRng(SEED);
  const order = Uint32Array.from({ length: TRAIN }, (_, i) => i);
  const batchImages = new Float32Array(BATCH * size);
  const batchLabels = new Uint8Array(BATCH);

  const epochLoss: number[] = [];
  const stepLosses: number[] = [];
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = TRAIN - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let sum = 0;
    let steps = 0;
    for (let start = 0; start + BATCH <= TRAIN; start += BATCH) {
      for (let b = 0; b < BATCH; b++) {
        const k = order[start + b];
        batchImages.set(train.images.subarray(k * size, (k + 1) * size), b * size);
        batchLabels[b] = train.labels[k];
      }
      const loss = net.trainStep(batchImages, batchLabels, BATCH, opt);
      stepLosses.push(loss);
      sum += loss;
      steps++;
    }
    epochLoss.push(sum / steps);
  }

  let correct = 0;
  for (let start = 0; start < TEST; start += BATCH) {
    const n = Math.min(BATCH, TEST - start);
    const probs = net.forward(test.images.subarray(start * size, (start + n) * size), n);
    for (let b = 0; b < n; b++) {
      let best = 0;
      for (let j = 1; j < 10; j++) if (probs[b * 10 + j] > probs[b * 10 + best]) best = j;
      if (best === test.labels[start + b]) correct++;
    }
  }
  const accuracy = correct / TEST;
  const seconds = (performance.now() - started) / 1000;
  const first10 = stepLosses.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
  const last10 = stepLosses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  console.log(
    `reference LeNet-5: ${TRAIN} train images, batch ${BATCH}, ${EPOCHS} epoch(s), Adam lr ${LEARNING_RATE}, seed ${SEED}\n` +
      `  loss: first 10 steps ${first10.toFixed(4)}, last 10 steps ${last10.toFixed(4)}, per epoch ${epochLoss.map((l) => l.toFixed(4)).join(' -> ')}\n` +
      `  held-out accuracy ${(accuracy * 100).toFixed(1)}% on ${TEST} test images; ${seconds.toFixed(1)} s`,
  );
  // Untrained, the loss is about ln 10 = 2.30.
  expect(first10).toBeGreaterThan(1.5);
  expect(last10).toBeLessThan(0.5 * first10);
  for (let e = 1; e < EPOCHS; e++) expect(epochLoss[e]).toBeLessThan(epochLoss[e - 1]);
  expect(accuracy).toBeGreaterThan(0.9);
});
