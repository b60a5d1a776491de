/**
 * Every place the engine waits for the GPU (a submit's completion, a buffer
 * map) goes through awaitGpu(device, promise), so the runtime that made the
 * device can decide how its JS thread waits.
 *
 * Why: Dawn's Node binding polls for completion on the JS thread for as long
 * as any WebGPU promise is pending. On a CPU adapter (SwiftShader) that
 * polling competes with the shader threads for the same cores. Node
 * registers a waiter that drops the thread's scheduling priority for the
 * length of the wait (node-wait-priority.ts); browsers wait in their GPU
 * process and register none.
 */
export type GpuWaiter = <T>(pending: Promise<T>) => Promise<T>;

const waiters = new WeakMap<GPUDevice, GpuWaiter>();

export function setGpuWaiter(device: GPUDevice, waiter: GpuWaiter | undefined): void {
  if (waiter) waiters.set(device, waiter);
  else waiters.delete(device);
}

/** Awaits a GPU promise the way this device's runtime wants it awaited. */
export function awaitGpu<T>(device: GPUDevice, pending: Promise<T>): Promise<T> {
  const waiter = waiters.get(device);
  return waiter ? waiter(pending) : pending;
}

/** `queue.onSubmittedWorkDone()`, awaited through the device's waiter. */
export function gpuIdle(device: GPUDevice): Promise<void> {
  return awaitGpu(device, device.queue.onSubmittedWorkDone());
}
