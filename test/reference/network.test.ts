import { afterAll, describe, expect, it } from 'vitest';
import { inferShapes, type ModelPlan } from '../../src/model/infer.ts';
import { initParameters } from '../../src/model/params.ts';
import { lenet5, lenet5Variant, type ModelSpec } from '../../src/model/spec.ts';
import { ReferenceNetwork } from '../../src/reference/network.ts';
import { createAdam } from '../../src/reference/optim.ts';
import { expectNear } from '../helpers/allclose.ts';
import { centralDiff, createRng, ErrorLog, FD_TOL, pick, randomF64 } from './fd.ts';

const log = new ErrorLog();
afterAll(() => log.print('network finite differences'));

/** The brief's tiny net: same and valid convs, avg and max pooling, tanh/sigmoid/relu, softmax. */
const tiny: ModelSpec = {
  name: 'tiny',
  inputShape: [1, 8, 8],
  layers: [
    { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' },
    { type: 'avgPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'sigmoid' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'relu' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
};

/** Odd corners: 2 input channels, even 'same' kernel, overlapping max pool, strided conv, activation layers. */
const odd: ModelSpec = {
  name: 'odd',
  inputShape: [2, 7, 7],
  layers: [
    { type: 'conv2d', filters: 5, kernelSize: 2, padding: 'same', activation: 'sigmoid' },
    { type: 'maxPool2d', poolSize: 3, strides: 2 },
    { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same' },
    { type: 'activation', activation: 'tanh' },
    { type: 'flatten' },
    { type: 'dense', units: 4 },
    { type: 'activation', activation: 'softmax' },
  ],
};

function float64Net(plan: ModelPlan, seed: number): ReferenceNetwork {
  const net = new ReferenceNetwork(plan, initParameters(plan, seed), Float64Array);
  // Non-zero biases so their gradients are exercised away from the initial point.
  const rng = createRng(seed + 1000);
  for (const t of net.layout.tensors) if (t.name === 'bias') for (let i = 0; i < t.size; i++) net.params[t.offset + i] = rng.uniform(-0.2, 0.2);
  return net;
}

function checkGradients(spec: ModelSpec, planBatch: number, batch: number, seed: number, subset?: number): void {
  const plan = inferShapes(spec, planBatch);
  const net = float64Net(plan, seed);
  const rng = createRng(seed);
  const [c, h, w] = plan.inputShape;
  const images = randomF64(rng, batch * c * h * w, 0, 1);
  const labels = Uint8Array.from({ length: batch }, () => rng.int(plan.outputClasses));
  const { grads } = net.lossAndGradients(images, labels, batch);
  const analytic = Float64Array.from(grads);
  let indices: number[] | undefined;
  if (subset) {
    // A few entries of every tensor, so no layer escapes the check.
    const perTensor = Math.ceil(subset / net.layout.tensors.length);
    indices = net.layout.tensors.flatMap((t) => Array.from({ length: Math.min(perTensor, t.size) }, () => t.offset + rng.int(t.size)));
  }
  const numeric = centralDiff(() => net.lossAndGradients(images, labels, batch).loss, net.params as Float64Array, indices);
  const label = `${spec.name} seed ${seed} batch ${batch}/${planBatch}${subset ? `, ${indices!.length} random params` : `, all ${analytic.length} params`}`;
  const c2 = expectNear(indices ? pick(analytic, indices) : analytic, numeric, FD_TOL, label);
  log.add(label, c2.relError);
}

describe('ReferenceNetwork gradients match central finite differences (float64)', () => {
  it('tiny net, all parameters, batch 3 of a plan for 4', () => checkGradients(tiny, 4, 3, 101));
  it('tiny net, all parameters, batch 1', () => checkGradients(tiny, 1, 1, 102));
  it('odd net, all parameters, batch 2', () => checkGradients(odd, 2, 2, 103));
  it('LeNet-5, ~50 random parameters, batch 2', () => checkGradients(lenet5, 2, 2, 104, 50));
  it('LeNet-5 variant, ~50 random parameters, batch 2', () => checkGradients(lenet5Variant, 2, 2, 105, 50));
});

describe('ReferenceNetwork behaviour', () => {
  const plan = inferShapes(tiny, 4);
  const params = initParameters(plan, 9);
  const rng = createRng(9);
  const images = randomF64(rng, 4 * 64, 0, 1);
  const labels = Uint8Array.from([0, 1, 2, 1]);

  it('forward returns probabilities and a smaller batch gives the same rows', () => {
    const net = new ReferenceNetwork(plan, params);
    const probs = net.forward(Float32Array.from(images), 4);
    expect(probs).toBeInstanceOf(Float32Array);
    expect(probs.length).toBe(12);
    for (let b = 0; b < 4; b++) expect(Math.abs(probs[b * 3] + probs[b * 3 + 1] + probs[b * 3 + 2] - 1)).toBeLessThan(1e-6);
    expectNear(net.forward(Float32Array.from(images), 2), probs.subarray(0, 6), 0, 'batch 2 vs first rows of batch 4, seed 9');
  });

  it('float32 and float64 networks agree to float32 precision', () => {
    const p32 = new ReferenceNetwork(plan, params).lossAndGradients(Float32Array.from(images), labels, 4);
    const grads32 = Float32Array.from(p32.grads);
    const p64 = new ReferenceNetwork(plan, params, Float64Array).lossAndGradients(Float64Array.from(Float32Array.from(images)), labels, 4);
    expect(Math.abs(p32.loss - p64.loss) / p64.loss).toBeLessThan(1e-6);
    expectNear(grads32, p64.grads, 1e-5, 'float32 vs float64 gradients, seed 9');
  });

  it('loss matches the mean -log(prob of the label) from forward', () => {
    const net = new ReferenceNetwork(plan, params, Float64Array);
    const probs = net.forward(images, 4);
    const expected = -Array.from(labels).reduce((s, l, b) => s + Math.log(probs[b * 3 + l]), 0) / 4;
    expect(net.lossAndGradients(images, labels, 4).loss).toBeCloseTo(expected, 12);
  });

  it('trainStep with Adam overfits one batch', () => {
    const net = new ReferenceNetwork(plan, params);
    const opt = createAdam(net.params.length, { learningRate: 0.01 });
    const x = Float32Array.from(images);
    const first = net.trainStep(x, labels, 4, opt);
    let last = first;
    for (let i = 0; i < 150; i++) last = net.trainStep(x, labels, 4, opt);
    expect(last).toBeLessThan(first * 0.1);
  });

  it('rejects a batch larger than the plan, short inputs, and training without softmax', () => {
    const net = new ReferenceNetwork(plan, params);
    expect(() => net.forward(new Float32Array(5 * 64), 5)).toThrow(/batch/);
    expect(() => net.forward(new Float32Array(64), 2)).toThrow(/images/);
    expect(() => new ReferenceNetwork(plan, params.subarray(1))).toThrow(/layout/);
    const linearPlan = inferShapes({ ...tiny, layers: [...tiny.layers.slice(0, -1), { type: 'dense', units: 3 }] }, 2);
    const linearNet = new ReferenceNetwork(linearPlan, initParameters(linearPlan, 1));
    expect(linearNet.forward(new Float32Array(64), 1).length).toBe(3);
    expect(() => linearNet.lossAndGradients(new Float32Array(64), Uint8Array.from([0]), 1)).toThrow(/softmax/);
  });
});
