/**
 * A data set resident on the GPU: pixels and labels uploaded once as bytes
 * (packed 4 per u32 word; normalisation to [0,1] happens in the gather
 * kernel), so a training step reads its batch without touching the CPU.
 * Which samples form an epoch, a validation pass or a prediction is decided
 * by index buffers (see BatchOrder), not by copying data.
 */
import type { ImageDataset } from '../data/dataset.ts';
import { createBufferFrom, STORAGE } from '../gpu/buffers.ts';

export class ResidentDataset {
  readonly pixels: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly count: number;
  readonly imageSize: number;

  constructor(device: GPUDevice, dataset: ImageDataset, label = 'dataset') {
    this.count = dataset.count;
    this.imageSize = dataset.channels * dataset.rows * dataset.cols;
    const limit = device.limits.maxStorageBufferBindingSize;
    if (dataset.pixels.byteLength > limit) {
      const fits = Math.floor(limit / this.imageSize);
      throw new Error(`${label}: ${dataset.count} images (${dataset.pixels.byteLength} bytes) exceed this adapter's maxStorageBufferBindingSize (${limit}); at most ${fits} fit in one buffer`);
    }
    this.pixels = createBufferFrom(device, dataset.pixels, STORAGE(), `${label} pixels`);
    this.labels = createBufferFrom(device, dataset.labels, STORAGE(), `${label} labels`);
  }

  dispose(): void {
    this.pixels.destroy();
    this.labels.destroy();
  }
}

/** Marks a padding slot in an index buffer: the gather writes a zero image and an invalid label, which the loss ignores. */
export const PAD_INDEX = 0xffffffff;

/**
 * The order in which one pass visits samples, padded to whole batches.
 * Training wraps around to the start of the order (every sample is seen, a
 * few twice: fixed-size batches keep every kernel's shape static); evaluation
 * pads with PAD_INDEX so each sample counts exactly once.
 */
export function batchOrder(order: ArrayLike<number>, batch: number, pad: 'wrap' | 'padding'): Uint32Array {
  if (order.length === 0) throw new Error('cannot make batches from zero samples');
  const steps = Math.ceil(order.length / batch);
  const indices = new Uint32Array(steps * batch);
  for (let i = 0; i < indices.length; i++) {
    indices[i] = i < order.length ? order[i] : pad === 'wrap' ? order[i % order.length] : PAD_INDEX;
  }
  return indices;
}

/** An index buffer plus the GPU-held cursor (batch number) the gather reads. */
export class BatchCursor {
  readonly indices: GPUBuffer;
  readonly cursor: GPUBuffer;
  readonly capacity: number;

  constructor(
    private readonly device: GPUDevice,
    capacity: number,
    label: string,
  ) {
    this.capacity = capacity;
    this.indices = device.createBuffer({ size: Math.max(4, capacity * 4), usage: STORAGE(), label: `${label} indices` });
    this.cursor = device.createBuffer({ size: 16, usage: STORAGE(), label: `${label} cursor` });
  }

  /** One small upload per pass: the order and a cursor reset to batch `startBatch`. */
  load(indices: Uint32Array, startBatch = 0): void {
    if (indices.length > this.capacity) throw new Error(`index list of ${indices.length} exceeds its buffer (${this.capacity})`);
    this.device.queue.writeBuffer(this.indices, 0, indices);
    this.device.queue.writeBuffer(this.cursor, 0, new Uint32Array([startBatch, 0, 0, 0]));
  }

  dispose(): void {
    this.indices.destroy();
    this.cursor.destroy();
  }
}
