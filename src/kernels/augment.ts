/**
 * On-GPU augmentation (shaders/augment.wgsl): a random rotation, scaling and
 * shift per image of the gathered batch, resampled bilinearly from `images`
 * into `augmented` (B, C, H, W) f32, with the transforms drawn from a GPU
 * counter so a step needs no upload. `augmentAdvance` adds 1 to the counter;
 * a training pass records it once per step. CPU reference:
 * src/reference/augment.ts.
 */
import { ShapeError } from '../geometry.ts';
import { createBufferFrom } from '../gpu/buffers.ts';
import { augmentUniforms, type AugmentOptions } from '../reference/augment.ts';
import { grid1d, makeDispatch, requireBytes, type BufferResource, type Dispatch, type KernelCache, type ShaderSource } from './kernel.ts';
import code from '../../shaders/augment.wgsl?raw';

const shader: ShaderSource = { name: 'augment.wgsl', code };
const WORKGROUP_SIZE = 256;

export type { AugmentOptions };

export interface AugmentDims {
  batch: number;
  channels: number;
  height: number;
  width: number;
}

export interface AugmentIo {
  /** The gathered batch (B, C, H, W) f32. */
  images: BufferResource;
  /** One u32: the step counter augmentAdvance increments. */
  counter: BufferResource;
  /** Written: the augmented batch (B, C, H, W) f32; must not alias `images`. */
  augmented: BufferResource;
}

/** A counter buffer for augmentBatch/augmentAdvance, starting at `start`. */
export function createAugmentCounter(device: GPUDevice, start = 0): GPUBuffer {
  return createBufferFrom(device, Uint32Array.of(start >>> 0), undefined, 'augment counter');
}

export async function augmentBatch(cache: KernelCache, d: AugmentDims, options: AugmentOptions, io: AugmentIo): Promise<Dispatch[]> {
  for (const [name, value] of Object.entries(d)) {
    if (!Number.isInteger(value) || value < 1) throw new ShapeError(`augment_batch: ${name} must be a positive integer, got ${value}`);
  }
  const uniforms = augmentUniforms(options);
  const count = d.batch * d.channels * d.height * d.width;
  const label = `augment_batch(B=${d.batch}, ${d.channels}x${d.height}x${d.width})`;
  requireBytes(label, { images: [io.images, count * 4], counter: [io.counter, 4], augmented: [io.augmented, count * 4] });
  const kernel = await cache.get(shader, 'augment_batch', { WORKGROUP_SIZE });
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: { batch: d.batch, channels: d.channels, height: d.height, width: d.width, ...uniforms },
      buffers: { images: io.images, counter_in: io.counter, augmented: io.augmented },
      workgroups: grid1d(cache.device, count, WORKGROUP_SIZE),
      label,
    }),
  ];
}

/** counter += 1: recorded once per training step, after the step. */
export async function augmentAdvance(cache: KernelCache, io: { counter: BufferResource }): Promise<Dispatch[]> {
  requireBytes('augment_advance', { counter: [io.counter, 4] });
  const kernel = await cache.get(shader, 'augment_advance');
  return [makeDispatch(cache.device, kernel, { buffers: { counter: io.counter }, workgroups: 1, label: 'augment_advance' })];
}
