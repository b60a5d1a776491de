/**
 * Kernels and dispatches.
 *
 * A Kernel is one compiled entry point: pipeline plus the bind group layout
 * reflected from its WGSL (reflect.ts). Kernels are compiled once per device
 * by KernelCache (keyed by shader, entry point and override constants), inside
 * an error scope, so a bad shader fails at graph-build time with file:line:col
 * and the offending source line, never in the middle of training.
 *
 * A Dispatch is a kernel bound to buffers (by binding name) with a fixed
 * workgroup count: what the command-encoder graph records, step after step,
 * with no per-step allocation.
 */
import { ShapeError } from '../geometry.ts';
import { GpuLimitError, GpuValidationError } from '../gpu/errors.ts';
import { createBufferFrom } from '../gpu/buffers.ts';
import { packUniform, reflectEntry, uniformLayout, type EntryReflection } from './reflect.ts';
import { KernelCompileError } from './errors.ts';

export interface ShaderSource {
  /** File name under shaders/, for messages. */
  name: string;
  code: string;
  /** Where a variant of a shader only fixes array lengths (withBindingLengths): the code to reflect bindings from, parsed once. */
  reflectFrom?: string;
}

export interface Kernel {
  label: string;
  shader: ShaderSource;
  reflection: EntryReflection;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export { KernelCompileError };

const sharedCaches = new WeakMap<GPUDevice, KernelCache>();

export class KernelCache {
  /**
   * The cache every model on `device` shares: pipelines are immutable, so a
   * second model (another run on the page, a test's reference model) compiles
   * nothing the first did. On CPU adapters compiling is most of a small run.
   */
  static shared(device: GPUDevice): KernelCache {
    let cache = sharedCaches.get(device);
    if (!cache) {
      cache = new KernelCache(device);
      sharedCaches.set(device, cache);
    }
    return cache;
  }

  private readonly kernels = new Map<string, Promise<Kernel>>();
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  /** Number of pipelines compiled: lets tests prove nothing is built per step. */
  compiled = 0;
  /** Every pipeline compiled, with its wall time (on CPU adapters, seconds each): for reports. */
  readonly compileLog: { label: string; constants: Record<string, number>; ms: number }[] = [];

  constructor(readonly device: GPUDevice) {}

  get(shader: ShaderSource, entryPoint: string, constants: Record<string, number> = {}): Promise<Kernel> {
    const key = `${shader.name}:${entryPoint}:${JSON.stringify(Object.entries(constants).sort())}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.build(shader, entryPoint, constants);
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  private module(shader: ShaderSource): Promise<GPUShaderModule> {
    let module = this.modules.get(shader.name);
    if (!module) {
      module = (async () => {
        const m = this.device.createShaderModule({ code: shader.code, label: shader.name });
        const info = await m.getCompilationInfo();
        const errors = info.messages.filter((msg) => msg.type === 'error');
        if (errors.length > 0) {
          const lines = shader.code.split('\n');
          const detail = errors
            .map((e) => `shaders/${shader.name}:${e.lineNum}:${e.linePos}: ${e.message}\n    ${lines[e.lineNum - 1] ?? ''}`)
            .join('\n');
          throw new KernelCompileError(`WGSL compile failed:\n${detail}`);
        }
        return m;
      })();
      this.modules.set(shader.name, module);
    }
    return module;
  }

  private async build(shader: ShaderSource, entryPoint: string, constants: Record<string, number>): Promise<Kernel> {
    const reflection = reflectEntry(shader.name, shader.reflectFrom ?? shader.code, entryPoint);
    const module = await this.module(shader);
    const label = `${shader.name}:${entryPoint}`;
    const t0 = performance.now();
    this.device.pushErrorScope('validation');
    const layout = this.device.createBindGroupLayout({
      label,
      entries: reflection.bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.kind } })),
    });
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout], label }),
      compute: { module, entryPoint, constants },
    });
    const error = await this.device.popErrorScope();
    if (error) throw new KernelCompileError(`pipeline ${label} (constants ${JSON.stringify(constants)}) failed: ${error.message}`);
    this.compiled++;
    this.compileLog.push({ label, constants, ms: performance.now() - t0 });
    return { label, shader, reflection, pipeline, layout };
  }
}

export type BufferResource = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface Dispatch {
  label: string;
  kernel: Kernel;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  /** Buffers this dispatch owns (its uniform buffer, an op's scratch): freed by disposeDispatch. */
  owned: GPUBuffer[];
}

export interface DispatchSpec {
  /** Values for the kernel's uniform struct, by member name (if it has one). */
  uniforms?: Record<string, number>;
  /** Storage buffers by the names the WGSL gives them; every binding must be given, and no others. */
  buffers: Record<string, BufferResource>;
  workgroups: number | [number, number, number];
  label?: string;
}

const asBinding = (r: BufferResource): GPUBufferBinding => ('buffer' in r ? r : { buffer: r });

/** Bytes a resource binds: its size, or the rest of its buffer after the offset. */
export function bindingSize(resource: BufferResource): number {
  const r = asBinding(resource);
  return r.size ?? r.buffer.size - (r.offset ?? 0);
}

/** Throws a ShapeError naming every buffer smaller than the op needs (bytes). */
export function requireBytes(label: string, needs: Record<string, [BufferResource, number]>): void {
  const short = Object.entries(needs)
    .filter(([, [resource, bytes]]) => bindingSize(resource) < bytes)
    .map(([name, [resource, bytes]]) => `${name} binds ${bindingSize(resource)} bytes but needs ${bytes}`);
  if (short.length > 0) throw new ShapeError(`${label}: ${short.join('; ')}`);
}

/** Element counts of a layer's tensors (conv2d, dense): what its backward buffers must hold. */
export interface LayerTensorSizes {
  inp: number;
  out: number;
  weight: number;
  bias: number;
}

/** The size checks every conv2d/dense backward makes before building dispatches. */
export function requireBackwardBuffers(
  op: string,
  io: { dinp?: BufferResource; dweight: BufferResource; dbias: BufferResource; dout: BufferResource; inp: BufferResource; weight: BufferResource },
  n: LayerTensorSizes,
): void {
  requireElements(op, 'dweight', io.dweight, n.weight);
  requireElements(op, 'dbias', io.dbias, n.bias);
  requireElements(op, 'dout', io.dout, n.out);
  requireElements(op, 'inp', io.inp, n.inp);
  requireElements(op, 'weight', io.weight, n.weight);
  if (io.dinp) requireElements(op, 'dinp', io.dinp, n.inp);
}

/** requireBytes for one f32 tensor of `elements` values. */
export function requireElements(op: string, name: string, r: BufferResource, elements: number): void {
  requireBytes(op, { [name]: [r, elements * 4] });
}

/** Binds buffers by name and checks workgroup counts and binding sizes against the adapter's limits. */
export function makeDispatch(device: GPUDevice, kernel: Kernel, spec: DispatchSpec): Dispatch {
  const label = spec.label ?? kernel.label;
  const counts: [number, number, number] = typeof spec.workgroups === 'number' ? [spec.workgroups, 1, 1] : spec.workgroups;
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 1) throw new GpuLimitError(`${label}: workgroup count ${counts.join('x')} is not positive`);
    if (c > maxPerDim) {
      throw new GpuLimitError(`${label}: ${counts.join('x')} workgroups exceeds this adapter's maxComputeWorkgroupsPerDimension (${maxPerDim}); use a smaller batch`);
    }
  }
  const storageNames = new Set(kernel.reflection.bindings.filter((b) => b.kind !== 'uniform').map((b) => b.name));
  for (const key of Object.keys(spec.buffers)) {
    if (!storageNames.has(key)) throw new Error(`${label}: the shader has no storage binding "${key}" (bindings: ${[...storageNames].join(', ')})`);
  }
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  let uniformBuffer: GPUBuffer | undefined;
  const entries: GPUBindGroupEntry[] = kernel.reflection.bindings.map((b) => {
    if (b.kind === 'uniform') {
      if (!spec.uniforms) throw new Error(`${label}: the shader's uniform "${b.name}" needs values`);
      uniformBuffer = createUniformBuffer(device, kernel, spec.uniforms);
      return { binding: b.binding, resource: { buffer: uniformBuffer } };
    }
    const resource = spec.buffers[b.name];
    if (!resource) throw new Error(`${label}: binding "${b.name}" was not given a buffer`);
    if (bindingSize(resource) > maxBinding) {
      throw new GpuLimitError(
        `${label}: buffer "${b.name}" binds ${bindingSize(resource)} bytes, over this adapter's maxStorageBufferBindingSize (${maxBinding}); use a smaller batch`,
      );
    }
    return { binding: b.binding, resource: asBinding(resource) };
  });
  const bindGroup = device.createBindGroup({ label, layout: kernel.layout, entries });
  return { label, kernel, bindGroup, workgroups: counts, owned: uniformBuffer ? [uniformBuffer] : [] };
}

export function disposeDispatch(d: Dispatch): void {
  for (const b of d.owned) b.destroy();
  d.owned.length = 0;
}

/** Records dispatches into one compute pass, in order. */
export function encodeDispatches(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.kernel.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
}

/** A uniform buffer for the kernel's single uniform binding, packed by member name; written once. */
export function createUniformBuffer(device: GPUDevice, kernel: Kernel, values: Record<string, number>): GPUBuffer {
  const binding = kernel.reflection.bindings.find((b) => b.kind === 'uniform');
  if (!binding?.structName) throw new Error(`${kernel.label} has no uniform binding`);
  const layout = uniformLayout(kernel.shader.name, kernel.shader.reflectFrom ?? kernel.shader.code, binding.structName);
  return createBufferFrom(device, new Uint8Array(packUniform(layout, values)), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, `${kernel.label} uniforms`);
}

/**
 * Workgroups for `invocations` threads of a 1D kernel with `workgroupSize`
 * lanes, folded into 2D when one dimension is not enough. Shaders linearise
 * with `wid.x + wid.y * nwg.x` (see shaders/common notes).
 */
export function grid1d(device: GPUDevice, invocations: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new GpuLimitError(`${invocations} invocations exceed this adapter's dispatch limits`);
  return [Math.ceil(groups / y), y, 1];
}

export { GpuValidationError };

const ELEMENT_BYTES: Record<string, number> = { f32: 4, i32: 4, u32: 4, vec2f: 8, vec4f: 16, 'vec4<f32>': 16 };

/**
 * The shader with its runtime-sized storage arrays given fixed lengths, those
 * of the buffers about to be bound (`array<f32>` becomes `array<f32, N>`,
 * N = the binding's bytes / element size). Why: for a runtime-sized array the
 * robustness transform clamps every index to arrayLength(), which
 * SwiftShader computes per access with four integer divisions; against a
 * fixed length the clamp is a compare with a constant. The name carries the
 * lengths, so each set compiles its own module.
 */
export function withBindingLengths(shader: ShaderSource, buffers: Record<string, BufferResource | undefined>): ShaderSource {
  const lengths: string[] = [];
  const code = shader.code.replace(/(var<storage,\s*read(?:_write)?>\s+)(\w+)(\s*:\s*array<)([\w<>]+)>;/g, (whole, decl: string, name: string, arr: string, type: string) => {
    const resource = buffers[name];
    const bytes = ELEMENT_BYTES[type];
    if (!resource || !bytes) return whole;
    const n = Math.floor(bindingSize(resource) / bytes);
    if (n < 1) return whole;
    lengths.push(`${name}=${n}`);
    return `${decl}${name}${arr}${type}, ${n}>;`;
  });
  return lengths.length === 0 ? shader : { name: `${shader.name}[${lengths.join(',')}]`, code, reflectFrom: shader.reflectFrom ?? shader.code };
}
