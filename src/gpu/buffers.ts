/**
 * Buffer helpers: create-and-fill, and readback through a staging buffer.
 * Readback is for tests, checkpoints and evaluation; the training step never
 * reads back (metrics use their own ring of staging buffers).
 */
import { awaitGpu } from './gpu-wait.ts';

export const STORAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Storage buffers bound at an offset must start on this many bytes (WebGPU's minimum is 256). */
export const STORAGE_OFFSET_ALIGNMENT = 256;

export function createBufferFrom(device: GPUDevice, data: ArrayBufferView, usage = STORAGE(), label?: string): GPUBuffer {
  // Buffer sizes must be multiples of 4 bytes; u8 data (MNIST pixels) is padded.
  const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({ size, usage, mappedAtCreation: true, label });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** A float32 storage buffer filled with NaN, so elements a kernel never writes show up. */
export function createPoisonedF32(device: GPUDevice, elements: number, label?: string): GPUBuffer {
  return createBufferFrom(device, new Float32Array(Math.max(1, elements)).fill(Number.NaN), STORAGE(), label);
}

export async function readBytes(device: GPUDevice, source: GPUBuffer, byteOffset = 0, byteLength = source.size - byteOffset): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
  try {
    const encoder = device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(source, byteOffset, staging, 0, byteLength);
    device.queue.submit([encoder.finish()]);
    await awaitGpu(device, staging.mapAsync(GPUMapMode.READ));
    return staging.getMappedRange().slice(0);
  } finally {
    staging.destroy();
  }
}

export async function readF32(device: GPUDevice, source: GPUBuffer, elements?: number, elementOffset = 0): Promise<Float32Array> {
  const length = elements ?? source.size / 4 - elementOffset;
  return new Float32Array(await readBytes(device, source, elementOffset * 4, length * 4));
}

export async function readU32(device: GPUDevice, source: GPUBuffer, elements?: number): Promise<Uint32Array> {
  const length = elements ?? source.size / 4;
  return new Uint32Array(await readBytes(device, source, 0, length * 4));
}
