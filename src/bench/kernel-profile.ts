/**
 * Per-kernel GPU time from timestamp queries: each dispatch of a recorded
 * list runs in its own compute pass with timestampWrites at its start and end,
 * repeated `repeats` times; times are summed per dispatch label. Where the
 * adapter has no 'timestamp-query' this returns undefined and says so.
 */
import type { Dispatch } from '../kernels/kernel.ts';
import { awaitGpu } from '../gpu/gpu-wait.ts';

export interface KernelTime {
  label: string;
  /** Mean GPU time per replay of the list, milliseconds. */
  ms: number;
  share: number;
}

export async function profileDispatches(device: GPUDevice, dispatches: readonly Dispatch[], repeats = 5): Promise<KernelTime[] | undefined> {
  return (await profileDispatchSpan(device, dispatches, repeats))?.times;
}

export interface DispatchSpan {
  times: KernelTime[];
  /**
   * Mean GPU time from the first dispatch's start to the last one's end of a
   * replay (all dispatches in one submit, each in its own pass): minus the sum
   * of `times`, what the GPU spent between dispatches (barriers, launches).
   */
  spanMs: number;
}

/** profileDispatches plus the span of each replay, for the GPU's idle time between dispatches. */
export async function profileDispatchSpan(device: GPUDevice, dispatches: readonly Dispatch[], repeats = 5): Promise<DispatchSpan | undefined> {
  if (!device.features.has('timestamp-query')) return undefined;
  const n = dispatches.length;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const totals = new Float64Array(n);
  let spanTotal = 0;
  try {
    for (let r = 0; r < repeats; r++) {
      const encoder = device.createCommandEncoder({ label: 'profile' });
      dispatches.forEach((d, i) => {
        const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        pass.setPipeline(d.kernel.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(...d.workgroups);
        pass.end();
      });
      encoder.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      device.queue.submit([encoder.finish()]);
      await awaitGpu(device, read.mapAsync(GPUMapMode.READ));
      const stamps = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      for (let i = 0; i < n; i++) totals[i] += Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6;
      if (n > 0) spanTotal += Number(stamps[2 * n - 1] - stamps[0]) / 1e6;
    }
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
  const byLabel = new Map<string, number>();
  dispatches.forEach((d, i) => byLabel.set(d.label, (byLabel.get(d.label) ?? 0) + totals[i] / repeats));
  const sum = [...byLabel.values()].reduce((a, b) => a + b, 0);
  return { times: [...byLabel.entries()].map(([label, ms]) => ({ label, ms, share: ms / sum })), spanMs: spanTotal / repeats };
}

/** A dispatch label without its shapes: 'conv2d_forward[blocked](64x1x28x28 -> ...)' -> 'conv2d_forward[blocked]'. */
export function kernelName(label: string): string {
  return label.replace(/\([^)]*\)/g, '').replace(/\s+/g, ' ').trim();
}

/**
 * The op family a dispatch belongs to, for the per-family shares: the
 * families of the micro-benchmark (conv forward/backward, pooling, dense,
 * softmax-xent, Adam) plus the glue (activations, gather, metrics).
 */
export function kernelFamily(label: string): string {
  const name = kernelName(label);
  if (/^conv2d_forward/.test(name)) return 'conv2d forward';
  if (/^conv2d_/.test(name)) return 'conv2d backward';
  if (/^dense_forward/.test(name)) return 'dense forward';
  if (/^dense_/.test(name)) return 'dense backward';
  if (/pool_forward/.test(name)) return 'pooling forward';
  if (/pool_backward/.test(name)) return 'pooling backward';
  if (/^softmax/.test(name)) return 'softmax-xent';
  if (/^(adam|sgd|optimizer)/.test(label)) return 'optimizer';
  if (/^activation/.test(name)) return 'activations';
  if (/^(gather|advance_cursor)/.test(name)) return 'gather';
  if (/^metrics/.test(name)) return 'metrics';
  return name;
}

/** Sums times under a key (kernelFamily, kernelName...), largest first, shares recomputed. */
export function groupKernelTimes(times: readonly KernelTime[], key: (label: string) => string): KernelTime[] {
  const by = new Map<string, number>();
  for (const t of times) by.set(key(t.label), (by.get(key(t.label)) ?? 0) + t.ms);
  const sum = [...by.values()].reduce((a, b) => a + b, 0);
  return [...by.entries()].map(([label, ms]) => ({ label, ms, share: sum > 0 ? ms / sum : 0 })).sort((a, b) => b.ms - a.ms);
}
