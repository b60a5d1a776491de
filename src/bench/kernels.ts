/**
 * Kernel micro-benchmarks and the matmul ceiling. Browser-safe.
 *
 * timeReplays: `reps` replays of a dispatch list recorded into one compute
 * pass and one submit, timed from before encoding to onSubmittedWorkDone,
 * divided by reps. The replay count is calibrated to a time budget, and the
 * measurement repeated; figures are medians with spread. Where the device
 * has 'timestamp-query', the summed per-dispatch GPU time is reported too.
 *
 * kernelCases: one case per op of a model at its real shapes (from the
 * ModelPlan), every variant side by side where an op has variants (conv2d
 * and dense: 'blocked' and 'tiled'), on random inputs: conv2d forward and
 * backward (weight-gradient partials + their reduction + input gradient),
 * pooling forward/backward, dense forward/backward, the standalone
 * activation backward, the fused softmax + cross-entropy and Adam over all
 * the parameters.
 *
 * matmulCeiling: the best GFLOP/s our dense kernels reach on a large
 * square-ish product (C = A B, A M x K, B K x N, 2 M K N FLOPs), each
 * variant: the adapter's practical ceiling for this engine, against which
 * the training step's GFLOP/s is read.
 */
import { createBufferFrom, STORAGE } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { inferShapes, type ModelPlan } from '../model/infer.ts';
import { parameterLayout } from '../model/params.ts';
import { lenet5, type ModelSpec } from '../model/spec.ts';
import { activationBackward } from '../kernels/activation.ts';
import { conv2dBackward, conv2dForward } from '../kernels/conv2d.ts';
import { denseBackward, denseFlops, denseForward } from '../kernels/dense.ts';
import { disposeDispatch, encodeDispatches, KernelCache, type Dispatch } from '../kernels/kernel.ts';
import { adamUpdate, createOptimizerState } from '../kernels/optimizer.ts';
import { poolBackward, poolForward } from '../kernels/pool.ts';
import { softmaxCrossEntropy } from '../kernels/softmax-xent.ts';
import type { KernelVariant } from '../kernels/variant.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { defaultAdam } from '../reference/optim.ts';
import { createRng } from '../util/random.ts';
import { layerMacs } from '../model/flops.ts';
import { profileDispatches } from './kernel-profile.ts';
import { mapSpread, now, summarize, type Spread } from './stats.ts';
import { defaultSubmitWait, SubmitPacer, type SubmitWait } from '../engine/submit-pacer.ts';
import { gpuIdle } from '../gpu/gpu-wait.ts';

export const ALL_VARIANTS: readonly KernelVariant[] = ['blocked', 'tiled'];

export interface TimingOptions {
  /** Wall time one repeat aims for. */
  budgetMs?: number;
  repeats?: number;
  maxReps?: number;
  /** How to wait for the GPU (submit-pacer.ts); default 'promise'. Node wants 'timer'. */
  submitWait?: SubmitWait;
}

export interface ReplayTiming {
  reps: number;
  repeats: number;
  ms: Spread;
  /** Summed per-dispatch GPU time from timestamp queries, where available. */
  gpuMs?: number;
}

/**
 * Wall ms per replay of `dispatches`, `reps` replays in one pass and one
 * submit; with a 'timer' pacer, the wait sleeps through most of the learned
 * time first, so Dawn's Node binding does not poll a core away meanwhile.
 */
export async function timeReplays(device: GPUDevice, dispatches: readonly Dispatch[], reps: number, pacer?: SubmitPacer): Promise<number> {
  await gpuIdle(device);
  const t0 = now();
  const encoder = device.createCommandEncoder({ label: 'bench replays' });
  const pass = encoder.beginComputePass();
  for (let r = 0; r < reps; r++) encodeDispatches(pass, dispatches);
  pass.end();
  device.queue.submit([encoder.finish()]);
  if (pacer) {
    await pacer.submitted(reps);
    await pacer.drain();
  }
  await gpuIdle(device);
  return (now() - t0) / reps;
}

/** Warm-up, calibration to the budget, then timed repeats (and a timestamp profile where possible). */
export async function measureDispatches(device: GPUDevice, dispatches: readonly Dispatch[], options: TimingOptions = {}): Promise<ReplayTiming> {
  const budgetMs = options.budgetMs ?? 300;
  const repeats = options.repeats ?? 3;
  const pacer = new SubmitPacer(device, options.submitWait ?? 'promise', 1);
  await timeReplays(device, dispatches, 1, pacer);
  const single = await timeReplays(device, dispatches, 1, pacer);
  const reps = Math.max(1, Math.min(options.maxReps ?? 200, Math.round(budgetMs / Math.max(single, 1e-3))));
  // A product slower than the budget is timed one replay per repeat: the calibration replay already is one.
  const values: number[] = reps === 1 ? [single] : [];
  while (values.length < repeats) values.push(await timeReplays(device, dispatches, reps, pacer));
  const timing: ReplayTiming = { reps, repeats, ms: summarize(values) };
  if (device.features.has('timestamp-query')) {
    const profile = await profileDispatches(device, dispatches, Math.min(reps, 5));
    if (profile) timing.gpuMs = profile.reduce((s, k) => s + k.ms, 0);
  }
  return timing;
}

export interface KernelCase {
  family: string;
  /** Layer and op, e.g. 'conv2d_1 forward (64x1x28x28 -> 6x28x28, k5)'. */
  name: string;
  variant: KernelVariant | 'single';
  /** FLOPs of one replay (0 where the op has no multiply-add chain). */
  flops: number;
  dispatches: Dispatch[];
}

export interface KernelCaseResult {
  family: string;
  name: string;
  variant: string;
  dispatches: number;
  reps: number;
  ms: Spread;
  gpuMs?: number;
  gflops?: Spread;
}

/** Random inputs, owned outputs and the cases of one model at one batch; dispose() frees it all. */
export class KernelCaseSet {
  readonly cases: KernelCase[] = [];
  private readonly buffers: GPUBuffer[] = [];
  private readonly rng = createRng(7);

  constructor(
    readonly cache: KernelCache,
    readonly plan: ModelPlan,
  ) {}

  random(elements: number, label: string): GPUBuffer {
    const data = new Float32Array(Math.max(1, elements));
    for (let i = 0; i < data.length; i++) data[i] = this.rng.uniform(-0.5, 0.5);
    return this.keep(createBufferFrom(this.cache.device, data, STORAGE(), label));
  }

  empty(elements: number, label: string): GPUBuffer {
    return this.keep(this.cache.device.createBuffer({ size: Math.max(4, elements * 4), usage: STORAGE(), label }));
  }

  keep(b: GPUBuffer): GPUBuffer {
    this.buffers.push(b);
    return b;
  }

  dispose(): void {
    for (const c of this.cases) c.dispatches.forEach(disposeDispatch);
    for (const b of this.buffers) b.destroy();
    this.cases.length = 0;
    this.buffers.length = 0;
  }
}

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The micro-benchmark cases of `spec` at batch `batch` (see the header). */
export async function kernelCases(cache: KernelCache, spec: ModelSpec, batch: number, variants: readonly KernelVariant[] = ALL_VARIANTS): Promise<KernelCaseSet> {
  const plan = inferShapes(spec, batch);
  const set = new KernelCaseSet(cache, plan);
  const B = batch;
  const firstProduct = plan.layers.findIndex((l) => layerMacs(l) > 0);
  try {
    for (const [i, layer] of plan.layers.entries()) {
      const inSize = B * product(layer.inputShape);
      const outSize = B * product(layer.outputShape);
      const act: ActivationKind = layer.activation === 'softmax' ? 'linear' : layer.activation;
      const macs = B * layerMacs(layer);
      if (layer.type === 'conv2d' && layer.conv) {
        const g = layer.conv;
        const shape = `${B}x${g.inChannels}x${g.inHeight}x${g.inWidth} -> ${g.outChannels}x${g.outHeight}x${g.outWidth}, k${g.kernelH}x${g.kernelW}`;
        const inp = set.random(inSize, 'inp');
        const weight = set.random(g.outChannels * g.inChannels * g.kernelH * g.kernelW, 'weight');
        const bias = set.random(g.outChannels, 'bias');
        const out = set.empty(outSize, 'out');
        const dout = set.random(outSize, 'dout');
        const dweight = set.empty(g.outChannels * g.inChannels * g.kernelH * g.kernelW, 'dweight');
        const dbias = set.empty(g.outChannels, 'dbias');
        const dinp = i === firstProduct ? undefined : set.empty(inSize, 'dinp');
        for (const variant of variants) {
          set.cases.push({ family: 'conv2d forward', name: `${layer.name} forward (${shape})`, variant, flops: 2 * macs, dispatches: await conv2dForward(cache, g, act, { out, inp, weight, bias }, { variant }) });
          set.cases.push({
            family: 'conv2d backward',
            name: `${layer.name} backward (${shape}${dinp ? '' : ', no input grad'})`,
            variant,
            flops: (dinp ? 4 : 2) * macs,
            dispatches: await conv2dBackward(cache, g, { dinp, dweight, dbias, dout, inp, weight }, { variant }),
          });
        }
      } else if (layer.type === 'dense' && layer.dense) {
        const d = { batch: B, ...layer.dense };
        const shape = `${B}x${d.inFeatures} -> ${d.outFeatures}`;
        const inp = set.random(inSize, 'inp');
        const weight = set.random(d.inFeatures * d.outFeatures, 'weight');
        const bias = set.random(d.outFeatures, 'bias');
        const out = set.empty(outSize, 'out');
        const dout = set.random(outSize, 'dout');
        const dweight = set.empty(d.inFeatures * d.outFeatures, 'dweight');
        const dbias = set.empty(d.outFeatures, 'dbias');
        const dinp = i === firstProduct ? undefined : set.empty(inSize, 'dinp');
        for (const variant of variants) {
          set.cases.push({ family: 'dense forward', name: `${layer.name} forward (${shape})`, variant, flops: denseFlops(d), dispatches: await denseForward(cache, d, act, { out, inp, weight, bias }, { variant }) });
          set.cases.push({
            family: 'dense backward',
            name: `${layer.name} backward (${shape})`,
            variant,
            flops: (dinp ? 2 : 1) * denseFlops(d),
            dispatches: await denseBackward(cache, d, { dinp, dweight, dbias, dout, inp, weight }, { variant }),
          });
        }
      } else if ((layer.type === 'avgPool2d' || layer.type === 'maxPool2d') && layer.pool) {
        const mode = layer.type === 'avgPool2d' ? 'avg' : 'max';
        const g = layer.pool;
        const shape = `${B}x${g.channels}x${g.inHeight}x${g.inWidth}, ${mode} ${g.windowH}x${g.windowW}`;
        const inp = set.random(inSize, 'inp');
        const out = set.empty(outSize, 'out');
        const dout = set.random(outSize, 'dout');
        const dinp = set.empty(inSize, 'dinp');
        set.cases.push({ family: 'pooling', name: `${layer.name} forward (${shape})`, variant: 'single', flops: 0, dispatches: await poolForward(cache, mode, g, { out, inp }) });
        set.cases.push({ family: 'pooling', name: `${layer.name} backward (${shape})`, variant: 'single', flops: 0, dispatches: await poolBackward(cache, mode, g, { dinp, dout, inp }) });
      }
      if ((layer.type === 'conv2d' || layer.type === 'dense' || layer.type === 'activation') && act !== 'linear') {
        const fwd = set.random(outSize, 'act out');
        const dout = set.random(outSize, 'act dout');
        const dinp = set.empty(outSize, 'act dinp');
        set.cases.push({
          family: 'activations',
          name: `${layer.name} ${act} backward (${outSize} values)`,
          variant: 'single',
          flops: 0,
          dispatches: [await activationBackward(cache, act, outSize, { dinp, dout, out: fwd })],
        });
      }
    }

    const K = plan.outputClasses;
    const labels = new Uint32Array(B);
    for (let b = 0; b < B; b++) labels[b] = b % K;
    const softmaxIo = {
      logits: set.random(B * K, 'logits'),
      labels: set.keep(createBufferFrom(cache.device, labels, STORAGE(), 'labels')),
      probs: set.empty(B * K, 'probs'),
      dlogits: set.empty(B * K, 'dlogits'),
      sampleLoss: set.empty(B, 'sample loss'),
      sampleCorrect: set.empty(B, 'sample correct'),
    };
    set.cases.push({ family: 'softmax-xent', name: `softmax_xent (${B}x${K})`, variant: 'single', flops: 0, dispatches: await softmaxCrossEntropy(cache, { batch: B, classes: K }, softmaxIo) });

    const count = parameterLayout(plan, 64).total;
    const params = set.random(count, 'params');
    const grads = set.random(count, 'grads');
    const m = set.empty(count, 'm');
    const v = set.empty(count, 'v');
    const state = set.keep(createOptimizerState(cache.device, 0, 0.001));
    set.cases.push({ family: 'adam', name: `adam_update (${count} parameters)`, variant: 'single', flops: 0, dispatches: await adamUpdate(cache, count, defaultAdam, { params, grads, m, v, state }) });
    return set;
  } catch (error) {
    set.dispose();
    throw error;
  }
}

/** Runs every case of `spec` at `batch`; results in case order (variants adjacent). */
export async function benchKernels(gpu: Gpu, options: { spec?: ModelSpec; batch?: number; variants?: readonly KernelVariant[]; timing?: TimingOptions; onResult?: (r: KernelCaseResult) => void } = {}): Promise<KernelCaseResult[]> {
  const cache = new KernelCache(gpu.device);
  const set = await kernelCases(cache, options.spec ?? lenet5, options.batch ?? 64, options.variants ?? ALL_VARIANTS);
  try {
    const results: KernelCaseResult[] = [];
    for (const c of set.cases) {
      const t = await measureDispatches(gpu.device, c.dispatches, { submitWait: defaultSubmitWait(gpu.report), ...options.timing });
      gpu.assertAlive();
      const r: KernelCaseResult = { family: c.family, name: c.name, variant: c.variant, dispatches: c.dispatches.length, reps: t.reps, ms: t.ms, gpuMs: t.gpuMs };
      if (c.flops > 0) r.gflops = mapSpread(t.ms, (ms) => c.flops / (ms * 1e6));
      results.push(r);
      options.onResult?.(r);
    }
    return results;
  } finally {
    set.dispose();
  }
}

export interface MatmulResult {
  m: number;
  k: number;
  n: number;
  variant: KernelVariant;
  reps: number;
  ms: Spread;
  gflops: Spread;
  gpuMs?: number;
}

export interface MatmulCeiling {
  results: MatmulResult[];
  /** The best median GFLOP/s over sizes and variants. */
  best: { variant: KernelVariant; m: number; k: number; n: number; gflops: number };
}

/** The dense kernels on large products, every variant; see the header. */
export async function matmulCeiling(
  gpu: Gpu,
  options: { sizes?: [number, number, number][]; variants?: readonly KernelVariant[]; timing?: TimingOptions; onResult?: (r: MatmulResult) => void } = {},
): Promise<MatmulCeiling> {
  const sizes = options.sizes ?? [[512, 512, 512]];
  const cache = new KernelCache(gpu.device);
  const rng = createRng(11);
  const results: MatmulResult[] = [];
  for (const [m, k, n] of sizes) {
    const fill = (elements: number): GPUBuffer => {
      const data = new Float32Array(elements);
      for (let i = 0; i < elements; i++) data[i] = rng.uniform(-1, 1);
      return createBufferFrom(gpu.device, data, STORAGE());
    };
    const a = fill(m * k);
    const b = fill(k * n);
    const bias = gpu.device.createBuffer({ size: n * 4, usage: STORAGE() });
    const c = gpu.device.createBuffer({ size: m * n * 4, usage: STORAGE() });
    try {
      for (const variant of options.variants ?? ALL_VARIANTS) {
        const dims = { batch: m, inFeatures: k, outFeatures: n };
        const dispatches = await denseForward(cache, dims, 'linear', { out: c, inp: a, weight: b, bias }, { variant });
        try {
          const t = await measureDispatches(gpu.device, dispatches, { budgetMs: 1000, repeats: 3, maxReps: 50, submitWait: defaultSubmitWait(gpu.report), ...options.timing });
          const r: MatmulResult = { m, k, n, variant, reps: t.reps, ms: t.ms, gflops: mapSpread(t.ms, (ms) => denseFlops(dims) / (ms * 1e6)), gpuMs: t.gpuMs };
          results.push(r);
          options.onResult?.(r);
        } finally {
          dispatches.forEach(disposeDispatch);
        }
      }
    } finally {
      [a, b, bias, c].forEach((x) => x.destroy());
    }
  }
  const top = results.reduce((best, r) => (r.gflops.median > best.gflops.median ? r : best));
  return { results, best: { variant: top.variant, m: top.m, k: top.k, n: top.n, gflops: top.gflops.median } };
}
