/**
 * Batch gather (shaders/gather.wgsl): copies one batch of the GPU-resident
 * data set into the network's input, reading the batch number from a GPU
 * cursor, so a training step needs no upload.
 *
 * Buffers: pixels and labels are the data set's u8 bytes packed 4 per u32
 * word (createBufferFrom pads them to whole words); indices is the epoch's
 * order, steps * batch u32; cursor is one u32 the CPU zeroes each epoch;
 * images (B, imageSize) f32 and batchLabels (B) u32 are written.
 */
import { ShapeError } from '../geometry.ts';
import { grid1d, makeDispatch, type BufferResource, type Dispatch, type KernelCache, type ShaderSource, requireBytes } from './kernel.ts';
import code from '../../shaders/gather.wgsl?raw';

const shader: ShaderSource = { name: 'gather.wgsl', code };
const WORKGROUP_SIZE = 256;

export interface GatherDims {
  batch: number;
  /** Bytes (pixels) per image: rows * cols for single-channel images. */
  imageSize: number;
  /** Samples in the data set. */
  datasetCount: number;
  /** Entries in the index buffer: steps * batch. */
  indexCount: number;
}

export interface GatherIo {
  pixels: BufferResource;
  labels: BufferResource;
  indices: BufferResource;
  cursor: BufferResource;
  images: BufferResource;
  batchLabels: BufferResource;
}

const wordBytes = (bytes: number): number => Math.ceil(bytes / 4) * 4;

function checkGatherDims(d: GatherDims): void {
  for (const [name, value] of Object.entries(d)) {
    if (!Number.isInteger(value) || value < 1) throw new ShapeError(`gather_batch: ${name} must be a positive integer, got ${value}`);
  }
  if (d.indexCount % d.batch !== 0) {
    throw new ShapeError(`gather_batch: indexCount ${d.indexCount} must be a multiple of the batch (${d.batch}): fill the last batch by wrapping the order`);
  }
  if (d.datasetCount * d.imageSize > 0xffffffff) throw new ShapeError(`gather_batch: ${d.datasetCount} x ${d.imageSize} pixel bytes exceed u32 addressing`);
}

export async function gatherBatch(cache: KernelCache, d: GatherDims, io: GatherIo): Promise<Dispatch[]> {
  checkGatherDims(d);
  const label = `gather_batch(B=${d.batch}, image=${d.imageSize})`;
  requireBytes(label, {
    pixels: [io.pixels, wordBytes(d.datasetCount * d.imageSize)],
    labels: [io.labels, wordBytes(d.datasetCount)],
    indices: [io.indices, d.indexCount * 4],
    cursor: [io.cursor, 4],
    images: [io.images, d.batch * d.imageSize * 4],
    batchLabels: [io.batchLabels, d.batch * 4],
  });
  // MNIST's 784-byte images are whole words: one word in, one vec4 out per invocation.
  const aligned = d.imageSize % 4 === 0;
  const kernel = await cache.get(shader, aligned ? 'gather_batch' : 'gather_batch_unaligned', { WORKGROUP_SIZE });
  const perImage = Math.ceil(d.imageSize / 4);
  const common = { pixels: io.pixels, labels: io.labels, indices: io.indices, cursor_in: io.cursor, batch_labels: io.batchLabels };
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: { batch: d.batch, image_size: d.imageSize, dataset_count: d.datasetCount, index_count: d.indexCount },
      buffers: aligned ? { ...common, images4: io.images } : { ...common, images: io.images },
      workgroups: grid1d(cache.device, d.batch * perImage, WORKGROUP_SIZE),
      label: aligned ? label : `${label} unaligned`,
    }),
  ];
}

/** cursor += 1: recorded after the step so the next gather reads the next batch. */
export async function advanceCursor(cache: KernelCache, io: { cursor: BufferResource }): Promise<Dispatch[]> {
  requireBytes('advance_cursor', { cursor: [io.cursor, 4] });
  const kernel = await cache.get(shader, 'advance_cursor');
  return [makeDispatch(cache.device, kernel, { buffers: { cursor: io.cursor }, workgroups: 1, label: 'advance_cursor' })];
}
