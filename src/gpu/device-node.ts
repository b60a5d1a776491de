/**
 * requestGpu for Node: navigator.gpu where the runtime has one (Deno, a Node
 * with WebGPU built in), else Dawn through the `webgpu` npm package
 * (node-webgpu.ts). On a CPU adapter the JS thread then waits for the GPU at
 * low priority (node-wait-priority.ts). The package's node build exports this
 * requestGpu in place of the browser one (src/index.node.ts).
 */
import { isCpuAdapter, navigatorGpu, openGpu, type AdapterReport, type Gpu, type GpuOptions } from './device.ts';
import { NODE_HELP } from './errors.ts';
import { setGpuWaiter } from './gpu-wait.ts';
import { nodeGpu } from './node-webgpu.ts';
import { lowPriorityWaiter } from './node-wait-priority.ts';

/** Node: the low-priority waiter on CPU adapters. Returns what was decided, for reports. */
async function installNodeWaiter(device: GPUDevice, report: AdapterReport): Promise<string> {
  if (!isCpuAdapter(report)) return 'promises at normal priority (hardware adapter: the poll does not compete with shaders)';
  const chosen = lowPriorityWaiter();
  if ('reason' in chosen) return `promises at normal priority (${chosen.reason})`;
  setGpuWaiter(device, chosen.waiter);
  return `the JS thread drops to nice ${chosen.nice} while it waits (CPU adapter: the poll would take cores from the shaders)`;
}

export async function requestGpu(options: GpuOptions = {}): Promise<Gpu> {
  const own = navigatorGpu();
  if (own) return openGpu(own, options);
  const { gpu, icd } = await nodeGpu();
  return openGpu({ gpu, runtime: `node (Vulkan ICD: ${icd || 'loader default'})`, help: NODE_HELP, onDevice: installNodeWaiter }, options);
}
