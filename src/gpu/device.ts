/**
 * One way to get a GPUDevice in both worlds: the browser's navigator.gpu, or
 * Node's Dawn (node-webgpu.ts). What comes back is a `Gpu`: the device, a
 * report of what the adapter is and can do, and the plumbing that makes
 * uncaptured errors and device loss visible instead of silent.
 *
 * Limits: WebGPU hands out conservative defaults unless asked; we ask for the
 * adapter's own values of the limits this engine leans on (storage buffer size,
 * storage buffers per stage, workgroup storage and size), nothing else.
 */
import { BROWSER_HELP, GpuDeviceLostError, NODE_HELP, WebGpuUnavailableError } from './errors.ts';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations such as SwiftShader. */
  isFallback: boolean;
  /** Where the adapter came from: 'browser' or 'node (ICD list)'. */
  runtime: string;
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupSizeX: number;
    maxComputeWorkgroupsPerDimension: number;
  };
  timestampQuery: boolean;
  shaderF16: boolean;
  /** Subgroup sizes [min, max] where the device has the 'subgroups' feature. */
  subgroupSizes?: [number, number];
  /**
   * How the JS thread waits for this device (gpu-wait.ts): Node on a CPU
   * adapter waits at low priority where it may; otherwise, why not.
   */
  waiting?: string;
}

/** CPU implementations of WebGPU (SwiftShader, llvmpipe): their "GPU" shares the CPU with JS. */
export function isCpuAdapter(report: Pick<AdapterReport, 'isFallback' | 'vendor' | 'architecture'>): boolean {
  return report.isFallback || /swiftshader|llvmpipe|lavapipe/i.test(`${report.vendor} ${report.architecture}`);
}

export interface GpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Called for every uncaptured GPU error (validation, out-of-memory, internal). */
  onError?: (error: GPUError) => void;
  /** Called once if the device is lost, except after our own destroy(). */
  onLost?: (info: GPUDeviceLostInfo) => void;
  /** Optional features to leave off even where the adapter has them (tests of the paths without them, comparisons). */
  withoutFeatures?: GPUFeatureName[];
}

/** The engine's handle on a device. */
export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly report: AdapterReport;
  /** Errors the device raised outside any error scope, oldest first. */
  readonly uncapturedErrors: GPUError[];
  /** Set once the device is lost. */
  lostInfo: GPUDeviceLostInfo | undefined;
  /** Throws GpuDeviceLostError if the device was lost, naming the reason. */
  assertAlive(): void;
  destroy(): void;
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Where a GPU object came from, and what to do once its device exists (Node installs its waiter). */
export interface GpuSource {
  gpu: GPU;
  /** 'browser', 'worker' or 'node (Vulkan ICD: ...)', for reports. */
  runtime: string;
  /** Fix to print when this source has no adapter. */
  help: string;
  /** Called with the new device and its report; returns how the JS thread waits (AdapterReport.waiting). */
  onDevice?: (device: GPUDevice, report: AdapterReport) => Promise<string | undefined>;
}

/** navigator.gpu of a page or a worker, or undefined. */
export function navigatorGpu(): GpuSource | undefined {
  const scope = globalThis as { navigator?: { gpu?: GPU }; document?: unknown };
  const gpu = scope.navigator?.gpu;
  if (!gpu) return undefined;
  return { gpu, runtime: scope.document === undefined ? 'worker' : 'browser', help: BROWSER_HELP };
}

/**
 * The browser's WebGPU device (a page or a dedicated worker). Node gets its
 * own requestGpu from the package's node build (`lenet-gpu` under the `node`
 * condition, or `lenet-gpu/node`; src/gpu/device-node.ts), which falls back
 * to Dawn: this module never loads Node code, so browser bundles stay clean.
 */
export async function requestGpu(options: GpuOptions = {}): Promise<Gpu> {
  const source = navigatorGpu();
  if (!source) {
    const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
    throw new WebGpuUnavailableError(
      isNode
        ? 'This is the browser build of lenet-gpu, and Node has no navigator.gpu. Import from "lenet-gpu" with Node\'s default conditions, or from "lenet-gpu/node", to use Dawn (the "webgpu" package). ' + NODE_HELP
        : `This browser exposes no WebGPU (navigator.gpu is undefined). ${BROWSER_HELP}`,
    );
  }
  return openGpu(source, options);
}

/** Requests the adapter and device of `source` with the limits and features this engine uses. */
export async function openGpu(source: GpuSource, options: GpuOptions = {}): Promise<Gpu> {
  const { gpu, runtime } = source;
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new WebGpuUnavailableError(`No WebGPU adapter was found (${runtime}): requestAdapter() returned null. ${source.help}`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = [];
  for (const feature of ['timestamp-query', 'shader-f16', 'subgroups'] as const) {
    if (adapter.features.has(feature) && !options.withoutFeatures?.includes(feature)) requiredFeatures.push(feature);
  }
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'lenet-gpu' });
  const info = adapter.info;
  const report: AdapterReport = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallback: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    runtime,
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    },
    timestampQuery: device.features.has('timestamp-query'),
    shaderF16: device.features.has('shader-f16'),
  };
  if (device.features.has('subgroups')) {
    const sizes = info as { subgroupMinSize?: number; subgroupMaxSize?: number };
    report.subgroupSizes = [sizes.subgroupMinSize ?? 0, sizes.subgroupMaxSize ?? 0];
  }
  const waiting = await source.onDevice?.(device, report);
  if (waiting) report.waiting = waiting;

  let destroyedByUs = false;
  const handle: Gpu = {
    device,
    adapter,
    report,
    uncapturedErrors: [],
    lostInfo: undefined,
    assertAlive() {
      if (handle.lostInfo) {
        throw new GpuDeviceLostError(
          `The GPU device was lost (${handle.lostInfo.reason}: ${handle.lostInfo.message}). Request a new device and restore from the last checkpoint.`,
          handle.lostInfo.reason,
        );
      }
    },
    destroy() {
      destroyedByUs = true;
      device.destroy();
    },
  };
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    handle.uncapturedErrors.push(error);
    if (options.onError) options.onError(error);
    else console.error(`[lenet-gpu] uncaptured GPU error: ${error.message}`);
  });
  void device.lost.then((info) => {
    handle.lostInfo = info;
    if (!destroyedByUs) {
      if (options.onLost) options.onLost(info);
      else console.error(`[lenet-gpu] GPU device lost (${info.reason}): ${info.message}`);
    }
  });
  return handle;
}

/** One line per fact, for CLIs and logs. */
/** The adapter's subgroup sizes as 'min-max lanes' (SwiftShader: 4-4), or 'no'. */
export function formatSubgroups(r: Pick<AdapterReport, 'subgroupSizes'>): string {
  return r.subgroupSizes ? `${r.subgroupSizes[0]}-${r.subgroupSizes[1]} lanes` : 'no';
}

export function formatAdapterReport(r: AdapterReport): string {
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
  return [
    `adapter: ${r.vendor || '?'} / ${r.architecture || '?'} / ${r.device || '?'} (${r.description || 'no description'})${r.isFallback ? ' [CPU fallback]' : ''}`,
    `runtime: ${r.runtime}`,
    `max storage buffer binding: ${mib(r.limits.maxStorageBufferBindingSize)}, max buffer: ${mib(r.limits.maxBufferSize)}, storage buffers per stage: ${r.limits.maxStorageBuffersPerShaderStage}`,
    `workgroup storage: ${r.limits.maxComputeWorkgroupStorageSize} B, invocations per workgroup: ${r.limits.maxComputeInvocationsPerWorkgroup}, workgroups per dimension: ${r.limits.maxComputeWorkgroupsPerDimension}`,
    `timestamp-query: ${r.timestampQuery ? 'yes' : 'no'}, shader-f16: ${r.shaderF16 ? 'yes' : 'no'}, subgroups: ${formatSubgroups(r)}`,
    ...(r.waiting ? [`waits: ${r.waiting}`] : []),
  ].join('\n');
}
