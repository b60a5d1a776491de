/**
 * Softmax fused with sparse cross-entropy (shaders/softmax-xent.wgsl): one
 * pass gives probs, dlogits = (probs - onehot)/B, the per-sample loss and
 * whether each sample was classified correctly (u32 0/1). softmaxForward
 * gives probs alone, for prediction. Both overwrite their outputs.
 *
 * Labels are u32 (B). A label outside [0, classes) is never used as an index:
 * its loss is NaN, its correct flag 0 and its dlogits probs/B.
 */
import { ShapeError } from '../geometry.ts';
import { grid1d, makeDispatch, type BufferResource, type Dispatch, type KernelCache, type ShaderSource, requireBytes } from './kernel.ts';
import code from '../../shaders/softmax-xent.wgsl?raw';

const shader: ShaderSource = { name: 'softmax-xent.wgsl', code };
/** One invocation per sample: a LeNet-5 batch of 64 is one workgroup. */
const WORKGROUP_SIZE = 64;

export interface SoftmaxDims {
  batch: number;
  classes: number;
}

export interface SoftmaxXentIo {
  logits: BufferResource;
  labels: BufferResource;
  probs: BufferResource;
  dlogits: BufferResource;
  sampleLoss: BufferResource;
  sampleCorrect: BufferResource;
}

function checkDims(label: string, d: SoftmaxDims): void {
  for (const [name, value] of Object.entries(d)) {
    if (!Number.isInteger(value) || value < 1) throw new ShapeError(`${label}: ${name} must be a positive integer, got ${value}`);
  }
  if (d.batch * d.classes > 0xffffffff) throw new ShapeError(`${label}: ${d.batch} x ${d.classes} logits exceed u32 indexing`);
}

export async function softmaxCrossEntropy(cache: KernelCache, d: SoftmaxDims, io: SoftmaxXentIo): Promise<Dispatch[]> {
  const label = `softmax_xent(B=${d.batch}, classes=${d.classes})`;
  checkDims(label, d);
  const rows = d.batch * d.classes * 4;
  requireBytes(label, {
    logits: [io.logits, rows],
    labels: [io.labels, d.batch * 4],
    probs: [io.probs, rows],
    dlogits: [io.dlogits, rows],
    sampleLoss: [io.sampleLoss, d.batch * 4],
    sampleCorrect: [io.sampleCorrect, d.batch * 4],
  });
  const kernel = await cache.get(shader, 'softmax_xent', { WORKGROUP_SIZE });
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: { batch: d.batch, classes: d.classes, grad_scale: 1 / d.batch },
      buffers: {
        logits: io.logits,
        labels: io.labels,
        probs: io.probs,
        dlogits: io.dlogits,
        sample_loss: io.sampleLoss,
        sample_correct: io.sampleCorrect,
      },
      workgroups: grid1d(cache.device, d.batch, WORKGROUP_SIZE),
      label,
    }),
  ];
}

export async function softmaxForward(cache: KernelCache, d: SoftmaxDims, io: { logits: BufferResource; probs: BufferResource }): Promise<Dispatch[]> {
  const label = `softmax_forward(B=${d.batch}, classes=${d.classes})`;
  checkDims(label, d);
  requireBytes(label, { logits: [io.logits, d.batch * d.classes * 4], probs: [io.probs, d.batch * d.classes * 4] });
  const kernel = await cache.get(shader, 'softmax_forward', { WORKGROUP_SIZE });
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: { batch: d.batch, classes: d.classes, grad_scale: 1 / d.batch },
      buffers: { logits: io.logits, probs: io.probs },
      workgroups: grid1d(cache.device, d.batch, WORKGROUP_SIZE),
      label,
    }),
  ];
}
