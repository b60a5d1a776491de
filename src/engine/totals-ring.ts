/**
 * Reads the GPU's running metric totals without stalling the step stream:
 * a ring of small staging buffers. After a submit, the totals are copied into
 * a free slot and mapped asynchronously; the promise resolves when the GPU has
 * got there. When every slot is still in flight the capture is skipped (the
 * next one will carry newer totals anyway), so the CPU never waits here.
 */
import { decodeTotals, type Totals } from '../kernels/metrics.ts';
import { awaitGpu, gpuIdle } from '../gpu/gpu-wait.ts';

const TOTALS_BYTES = 16;

export class TotalsRing {
  private readonly slots: { buffer: GPUBuffer; busy: boolean }[];

  constructor(
    private readonly device: GPUDevice,
    private readonly totals: GPUBuffer,
    size = 4,
  ) {
    this.slots = Array.from({ length: size }, (_, i) => ({
      buffer: device.createBuffer({ size: TOTALS_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: `totals ring ${i}` }),
      busy: false,
    }));
  }

  /**
   * Records a copy of the totals into a free slot. Returns a function to call
   * right after the encoder is submitted; it gives the totals' promise.
   */
  capture(encoder: GPUCommandEncoder): (() => Promise<Totals>) | undefined {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) return undefined;
    slot.busy = true;
    encoder.copyBufferToBuffer(this.totals, 0, slot.buffer, 0, TOTALS_BYTES);
    return async () => {
      try {
        await awaitGpu(this.device, slot.buffer.mapAsync(GPUMapMode.READ));
        const totals = decodeTotals(slot.buffer.getMappedRange().slice(0));
        slot.buffer.unmap();
        return totals;
      } finally {
        slot.busy = false;
      }
    };
  }

  /** Reads the totals now (end of an epoch): one submit and one map. */
  async readNow(): Promise<Totals> {
    const encoder = this.device.createCommandEncoder({ label: 'totals readback' });
    let read = this.capture(encoder);
    while (!read) {
      await gpuIdle(this.device);
      read = this.capture(encoder);
    }
    this.device.queue.submit([encoder.finish()]);
    return read();
  }

  dispose(): void {
    for (const s of this.slots) s.buffer.destroy();
  }
}
