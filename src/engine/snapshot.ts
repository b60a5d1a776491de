/**
 * A copy of some GPU buffers kept on the GPU (no CPU round trip): the
 * epoch-start state that a numerical failure rolls back to, or the best
 * weights early stopping restores. A resumed fit loads a copy from its
 * checkpoint, and a checkpoint reads one back.
 */
import { readBytes } from '../gpu/buffers.ts';

export class GpuSnapshot {
  private readonly copies: GPUBuffer[];

  constructor(
    private readonly device: GPUDevice,
    private readonly sources: GPUBuffer[],
    label: string,
  ) {
    this.copies = sources.map((s, i) => device.createBuffer({ size: s.size, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: `${label} ${i}` }));
  }

  save(): void {
    this.copy(this.sources, this.copies);
  }

  restore(): void {
    this.copy(this.copies, this.sources);
  }

  /** Writes the copy of source `index` (as if saved when it held `data`). */
  load(index: number, data: Uint8Array | Float32Array): void {
    this.device.queue.writeBuffer(this.copies[index], 0, data as Uint8Array<ArrayBuffer>);
  }

  /** Reads the copy of source `index` back. */
  read(index: number): Promise<ArrayBuffer> {
    return readBytes(this.device, this.copies[index]);
  }

  private copy(from: GPUBuffer[], to: GPUBuffer[]): void {
    const encoder = this.device.createCommandEncoder({ label: 'snapshot' });
    from.forEach((f, i) => encoder.copyBufferToBuffer(f, 0, to[i], 0, f.size));
    this.device.queue.submit([encoder.finish()]);
  }

  dispose(): void {
    for (const c of this.copies) c.destroy();
  }
}
