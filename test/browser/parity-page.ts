/**
 * A representative part of the kernel parity suite, run inside Chromium with
 * the same kernels and references as Node: conv2d forward/backward, dense
 * (both variants), pooling, softmax-xent and Adam at LeNet-5 shapes, plus
 * batch-1 and odd shapes. Publishes each case's elementwise comparison.
 */
import { createBufferFrom, createPoisonedF32, readF32 } from '../../src/gpu/buffers.ts';
import { requestGpu, type Gpu } from '../../src/gpu/device.ts';
import { conv2dGeometry, pool2dGeometry } from '../../src/geometry.ts';
import { conv2dBackward, conv2dForward } from '../../src/kernels/conv2d.ts';
import { denseBackward, denseForward } from '../../src/kernels/dense.ts';
import { disposeDispatch, encodeDispatches, KernelCache, type Dispatch } from '../../src/kernels/kernel.ts';
import { adamUpdate, createOptimizerState } from '../../src/kernels/optimizer.ts';
import { poolBackward, poolForward } from '../../src/kernels/pool.ts';
import { softmaxCrossEntropy } from '../../src/kernels/softmax-xent.ts';
import * as ref from '../../src/reference/index.ts';
import { createRng, randomUniform } from '../../src/util/random.ts';
import { allClose, tolFor } from '../helpers/allclose.ts';

declare global {
  interface Window { __testResult?: unknown }
}

interface CaseResult { name: string; mismatches: number; worstRatio: number; relError: number; nonFinite: number }

/** Elementwise, the rule every parity test uses (allclose.ts): |a − b| <= 1e-5·|ref| + 1e-5·max|ref|. */
function compare(actual: Float32Array, expected: ArrayLike<number>): Omit<CaseResult, 'name'> {
  const c = allClose(actual, expected, tolFor(expected, 1e-5));
  return { mismatches: c.mismatches, worstRatio: c.worstRatio, relError: c.relError, nonFinite: c.nonFinite };
}

class Runner {
  readonly cache: KernelCache;
  private readonly buffers: GPUBuffer[] = [];
  private readonly dispatches: Dispatch[] = [];
  readonly results: CaseResult[] = [];
  constructor(readonly gpu: Gpu) {
    this.cache = new KernelCache(gpu.device);
  }
  up(data: ArrayBufferView): GPUBuffer {
    const b = createBufferFrom(this.gpu.device, data);
    this.buffers.push(b);
    return b;
  }
  out(n: number): GPUBuffer {
    const b = createPoisonedF32(this.gpu.device, n);
    this.buffers.push(b);
    return b;
  }
  async run(list: Dispatch[]): Promise<void> {
    this.dispatches.push(...list);
    const encoder = this.gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, list);
    pass.end();
    this.gpu.device.queue.submit([encoder.finish()]);
    await this.gpu.device.queue.onSubmittedWorkDone();
  }
  async check(name: string, buffer: GPUBuffer, expected: ArrayLike<number>): Promise<void> {
    const actual = await readF32(this.gpu.device, buffer, expected.length);
    this.results.push({ name, ...compare(actual, expected) });
  }
  dispose(): void {
    this.buffers.forEach((b) => b.destroy());
    this.dispatches.forEach(disposeDispatch);
  }
}

async function convCase(r: Runner, seed: number, p: Parameters<typeof conv2dGeometry>[0]): Promise<void> {
  const g = conv2dGeometry(p);
  const rng = createRng(seed);
  const inp = randomUniform(rng, g.batch * g.inChannels * g.inHeight * g.inWidth);
  const weight = randomUniform(rng, g.outChannels * g.inChannels * g.kernelH * g.kernelW);
  const bias = randomUniform(rng, g.outChannels);
  const outN = g.batch * g.outChannels * g.outHeight * g.outWidth;
  const dout = randomUniform(rng, outN);
  const name = `conv2d B${g.batch} ${g.inChannels}->${g.outChannels} k${g.kernelH}x${g.kernelW} ${g.inHeight}x${g.inWidth}`;
  const io = { inp: r.up(inp), weight: r.up(weight), bias: r.up(bias), out: r.out(outN) };
  await r.run(await conv2dForward(r.cache, g, 'tanh', io));
  const refOut = new Float32Array(outN);
  ref.conv2dForward(refOut, inp, weight, bias, g);
  ref.activationForward(refOut, refOut, 'tanh');
  await r.check(`${name} forward`, io.out, refOut);
  const bio = { dinp: r.out(inp.length), dweight: r.out(weight.length), dbias: r.out(bias.length), dout: r.up(dout), inp: io.inp, weight: io.weight };
  await r.run(await conv2dBackward(r.cache, g, bio));
  const [dinp, dweight, dbias] = [new Float32Array(inp.length), new Float32Array(weight.length), new Float32Array(bias.length)];
  ref.conv2dBackward(dinp, dweight, dbias, dout, inp, weight, g);
  await r.check(`${name} dinp`, bio.dinp, dinp);
  await r.check(`${name} dweight`, bio.dweight, dweight);
  await r.check(`${name} dbias`, bio.dbias, dbias);
}

async function denseCase(r: Runner, seed: number, batch: number, inF: number, outF: number, variant: 'blocked' | 'tiled'): Promise<void> {
  const rng = createRng(seed);
  const inp = randomUniform(rng, batch * inF);
  const weight = randomUniform(rng, inF * outF);
  const bias = randomUniform(rng, outF);
  const dout = randomUniform(rng, batch * outF);
  const d = { batch, inFeatures: inF, outFeatures: outF };
  const name = `dense ${variant} B${batch} ${inF}->${outF}`;
  const io = { inp: r.up(inp), weight: r.up(weight), bias: r.up(bias), out: r.out(batch * outF) };
  await r.run(await denseForward(r.cache, d, 'sigmoid', io, { variant }));
  const refOut = new Float32Array(batch * outF);
  ref.denseForward(refOut, inp, weight, bias, batch, inF, outF);
  ref.activationForward(refOut, refOut, 'sigmoid');
  await r.check(`${name} forward`, io.out, refOut);
  const bio = { dinp: r.out(inp.length), dweight: r.out(weight.length), dbias: r.out(outF), dout: r.up(dout), inp: io.inp, weight: io.weight };
  await r.run(await denseBackward(r.cache, d, bio, { variant }));
  const [dinp, dweight, dbias] = [new Float32Array(inp.length), new Float32Array(weight.length), new Float32Array(outF)];
  ref.denseBackward(dinp, dweight, dbias, dout, inp, weight, batch, inF, outF);
  await r.check(`${name} dinp`, bio.dinp, dinp);
  await r.check(`${name} dweight`, bio.dweight, dweight);
  await r.check(`${name} dbias`, bio.dbias, dbias);
}

async function poolCase(r: Runner, seed: number, mode: 'avg' | 'max', p: Parameters<typeof pool2dGeometry>[0]): Promise<void> {
  const g = pool2dGeometry(p);
  const rng = createRng(seed);
  const inp = randomUniform(rng, g.batch * g.channels * g.inHeight * g.inWidth);
  const outN = g.batch * g.channels * g.outHeight * g.outWidth;
  const dout = randomUniform(rng, outN);
  const name = `${mode}-pool B${g.batch} ${g.channels}x${g.inHeight}x${g.inWidth}`;
  const io = { inp: r.up(inp), out: r.out(outN) };
  await r.run(await poolForward(r.cache, mode, g, io));
  const refOut = new Float32Array(outN);
  if (mode === 'avg') ref.avgPoolForward(refOut, inp, g);
  else ref.maxPoolForward(refOut, inp, g);
  await r.check(`${name} forward`, io.out, refOut);
  const bio = { dinp: r.out(inp.length), dout: r.up(dout), inp: io.inp };
  await r.run(await poolBackward(r.cache, mode, g, bio));
  const dinp = new Float32Array(inp.length);
  if (mode === 'avg') ref.avgPoolBackward(dinp, dout, g);
  else ref.maxPoolBackward(dinp, dout, inp, g);
  await r.check(`${name} backward`, bio.dinp, dinp);
}

async function xentAndAdamCase(r: Runner, seed: number): Promise<void> {
  const rng = createRng(seed);
  const [batch, classes] = [64, 10];
  const logits = randomUniform(rng, batch * classes, -4, 4);
  const labels = Uint32Array.from({ length: batch }, () => rng.int(classes));
  const io = { logits: r.up(logits), labels: r.up(labels), probs: r.out(batch * classes), dlogits: r.out(batch * classes), sampleLoss: r.out(batch), sampleCorrect: r.out(batch) };
  await r.run(await softmaxCrossEntropy(r.cache, { batch, classes }, io));
  const [probs, losses, dlogits] = [new Float32Array(batch * classes), new Float32Array(batch), new Float32Array(batch * classes)];
  ref.softmaxCrossEntropyForward(probs, losses, logits, labels, batch, classes);
  ref.softmaxCrossEntropyBackward(dlogits, probs, labels, batch, classes);
  await r.check('softmax-xent probs', io.probs, probs);
  await r.check('softmax-xent dlogits', io.dlogits, dlogits);
  await r.check('softmax-xent loss', io.sampleLoss, losses);

  const count = 61_706;
  const params = randomUniform(rng, count);
  const grads = randomUniform(rng, count);
  const state = createOptimizerState(r.gpu.device, 0, 0.001);
  const aio = { params: r.up(params), grads: r.up(grads), m: r.up(new Float32Array(count)), v: r.up(new Float32Array(count)), state };
  const hp = { ...ref.defaultAdam };
  const update = await adamUpdate(r.cache, count, hp, aio);
  await r.run(update);
  await r.run(update);
  const [m, v] = [new Float32Array(count), new Float32Array(count)];
  ref.adamStep(params, grads, m, v, 1, hp);
  ref.adamStep(params, grads, m, v, 2, hp);
  await r.check('adam params after 2 steps', aio.params, params);
  await r.check('adam m', aio.m, m);
  await r.check('adam v', aio.v, v);
  state.destroy();
}

async function run(): Promise<unknown> {
  const gpu = await requestGpu();
  const r = new Runner(gpu);
  try {
    await convCase(r, 11, { batch: 8, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernel: 5, padding: 'same' });
    await convCase(r, 12, { batch: 1, inChannels: 6, inHeight: 14, inWidth: 14, outChannels: 16, kernel: 5 });
    await convCase(r, 13, { batch: 3, inChannels: 5, inHeight: 7, inWidth: 9, outChannels: 7, kernel: [2, 3], stride: 2, padding: 'same' });
    for (const variant of ['blocked', 'tiled'] as const) {
      await denseCase(r, 21, 64, 400, 120, variant);
      await denseCase(r, 22, 1, 84, 10, variant);
      await denseCase(r, 23, 7, 13, 5, variant);
    }
    await poolCase(r, 31, 'avg', { batch: 8, channels: 6, inHeight: 28, inWidth: 28, window: 2 });
    await poolCase(r, 32, 'max', { batch: 3, channels: 16, inHeight: 9, inWidth: 9, window: 2 });
    await poolCase(r, 33, 'max', { batch: 2, channels: 5, inHeight: 7, inWidth: 9, window: 3, stride: 2 });
    await xentAndAdamCase(r, 41);
    document.getElementById('out')!.textContent = r.results.map((c) => `${c.name}: ${c.relError.toExponential(2)}`).join('\n');
    return { results: r.results, adapter: gpu.report };
  } finally {
    r.dispose();
    gpu.destroy();
  }
}

run().then(
  (result) => { window.__testResult = result; },
  (error: unknown) => { window.__testResult = { error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) }; },
);
