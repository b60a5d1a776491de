/**
 * GPU-side helpers for parity tests: upload inputs, poison outputs with NaN
 * (an element a kernel never writes then fails the comparison), run
 * dispatches inside a validation error scope, read results back.
 */
import { expect } from 'vitest';
import { createBufferFrom, createPoisonedF32, readF32 } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { disposeDispatch, encodeDispatches, type Dispatch } from '../../src/kernels/kernel.ts';
import { expectAllClose, tolFor, type AllClose, type Numeric, type Tolerance } from './allclose.ts';

export class GpuScratch {
  private readonly buffers: GPUBuffer[] = [];
  private readonly dispatches: Dispatch[] = [];
  constructor(readonly gpu: Gpu) {}

  upload(data: ArrayBufferView, label?: string): GPUBuffer {
    const b = createBufferFrom(this.gpu.device, data, undefined, label);
    this.buffers.push(b);
    return b;
  }

  poisoned(elements: number, label?: string): GPUBuffer {
    const b = createPoisonedF32(this.gpu.device, elements, label);
    this.buffers.push(b);
    return b;
  }

  async run(dispatches: Dispatch[]): Promise<void> {
    const { device } = this.gpu;
    this.dispatches.push(...dispatches);
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, dispatches);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`GPU validation error: ${error.message}`);
    await device.queue.onSubmittedWorkDone();
  }

  read(buffer: GPUBuffer, elements: number): Promise<Float32Array> {
    return readF32(this.gpu.device, buffer, elements);
  }

  dispose(): void {
    for (const b of this.buffers) b.destroy();
    for (const d of this.dispatches) disposeDispatch(d);
  }
}

/**
 * fp32 parity bound: every element within 1e-5·|ref| + 1e-5·max|ref|. The
 * second term is the tensor's scale: an element that is a sum with
 * cancellation keeps only fp32's absolute accuracy, not its relative one.
 */
export const PARITY_RTOL = 1e-5;

/** Compares and records the measured error so the suite can print a table. */
export const measured: { label: string; relError: number; maxAbsError: number; worstRatio: number }[] = [];

/** Elementwise parity (allclose.ts); `tol` is a Tolerance, or an rtol whose atol is rtol·max|expected|. */
export function expectParity(actual: Numeric, expected: Numeric, label: string, tol: Tolerance | number = PARITY_RTOL): AllClose {
  const c = expectAllClose(actual, expected, typeof tol === 'number' ? tolFor(expected, tol) : tol, label);
  expect(c.nonFinite).toBe(0);
  measured.push({ label, relError: c.relError, maxAbsError: c.maxAbsError, worstRatio: c.worstRatio });
  return c;
}

export function printMeasured(title: string): void {
  const lines = measured.map((m) => `  ${m.label.padEnd(60)} worst ${m.worstRatio.toFixed(3)} of bound  rel ${m.relError.toExponential(2)}  maxabs ${m.maxAbsError.toExponential(2)}`);
  console.log(`${title}\n${lines.join('\n')}`);
}
