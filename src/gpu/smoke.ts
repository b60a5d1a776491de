/**
 * The GPU smoke check: a device, a tiny compute dispatch, the result read back
 * and checked. Proves the whole path (adapter, shader compile, dispatch,
 * readback) works before anything larger is tried.
 */
import type { Gpu } from './device.ts';
import { awaitGpu } from './gpu-wait.ts';

const SMOKE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&out)) { out[id.x] = a[id.x] * 2.0 + 1.0; }
}`;

export interface SmokeResult {
  ok: boolean;
  elements: number;
  firstMismatch?: { index: number; got: number; expected: number };
}

export async function runSmokeCheck(gpu: Gpu, elements = 1000): Promise<SmokeResult> {
  const { device } = gpu;
  const input = Float32Array.from({ length: elements }, (_, i) => i * 0.5 - 7);
  const bytes = input.byteLength;
  const a = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const out = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    device.queue.writeBuffer(a, 0, input);
    device.pushErrorScope('validation');
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SMOKE_WGSL }), entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a } }, { binding: 1, resource: { buffer: out } }] });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(elements / 64));
    pass.end();
    encoder.copyBufferToBuffer(out, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`smoke check shader failed validation: ${error.message}`);
    await awaitGpu(device, staging.mapAsync(GPUMapMode.READ));
    const result = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    for (let i = 0; i < elements; i++) {
      const expected = input[i] * 2 + 1;
      if (result[i] !== expected) return { ok: false, elements, firstMismatch: { index: i, got: result[i], expected } };
    }
    return { ok: true, elements };
  } finally {
    a.destroy();
    out.destroy();
    staging.destroy();
  }
}
