import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { formatAdapterReport } from '../../src/gpu/device.ts';
import { quietWaylandProbe } from '../../src/gpu/node-webgpu.ts';
import { runSmokeCheck } from '../../src/gpu/smoke.ts';
import { runCli } from '../helpers/cli.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('requestGpu in Node', () => {
  it('returns a device with the limits the engine asked for, and the smoke check passes', async () => {
    const gpu = await testGpu();
    const r = gpu.report;
    expect(r.runtime).toMatch(/^node/);
    // We ask for the adapter's own limits, not WebGPU's 128 MiB default.
    expect(r.limits.maxStorageBufferBindingSize).toBe(gpu.adapter.limits.maxStorageBufferBindingSize);
    expect(r.limits.maxStorageBuffersPerShaderStage).toBe(gpu.adapter.limits.maxStorageBuffersPerShaderStage);
    expect(r.timestampQuery).toBe(gpu.adapter.features.has('timestamp-query'));
    expect(formatAdapterReport(r)).toContain('timestamp-query');
    const smoke = await runSmokeCheck(gpu, 4097);
    expect(smoke).toEqual({ ok: true, elements: 4097 });
  });

  it('surfaces uncaptured validation errors instead of swallowing them', async () => {
    const gpu = await testGpu();
    const before = gpu.uncapturedErrors.length;
    const seen: string[] = [];
    gpu.device.addEventListener('uncapturederror', (e) => seen.push((e as GPUUncapturedErrorEvent).error.message), { once: true });
    // A storage buffer that is not a multiple of 4 bytes with MAP_READ|STORAGE is invalid.
    gpu.device.pushErrorScope('validation');
    gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    const scoped = await gpu.device.popErrorScope();
    expect(scoped?.message).toBeTruthy();
    expect(gpu.uncapturedErrors.length).toBe(before);
    expect(seen).toEqual([]);
  });
});

describe('quietWaylandProbe', () => {
  it('gives a session without XDG_RUNTIME_DIR a private empty folder, and leaves a set one alone', () => {
    const bare: NodeJS.ProcessEnv = {};
    const dir = quietWaylandProbe(bare);
    expect(dir).toBeDefined();
    expect(bare.XDG_RUNTIME_DIR).toBe(dir);
    const st = statSync(dir!);
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o077).toBe(0);
    expect(st.uid).toBe(process.getuid!());
    for (const env of [{ XDG_RUNTIME_DIR: '/run/user/1000' }, { WAYLAND_DISPLAY: 'wayland-0' }]) {
      const copy: NodeJS.ProcessEnv = { ...env };
      expect(quietWaylandProbe(copy)).toBeUndefined();
      expect(copy).toEqual(env);
    }
    // A relative path is as invalid to libwayland as none.
    expect(quietWaylandProbe({ XDG_RUNTIME_DIR: 'relative' })).toBe(dir);
  });
});

describe('the CLI smoke command', () => {
  it('prints the adapter and passes on the machine adapter', () => {
    const run = runCli(['smoke']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/adapter: /);
    expect(run.stdout).toMatch(/smoke check passed: 1000 elements/);
  });

  it('starts quietly in a session without XDG_RUNTIME_DIR (no Wayland warnings from the Vulkan stack)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.XDG_RUNTIME_DIR;
    delete env.WAYLAND_DISPLAY;
    const run = runCli(['smoke'], env);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('XDG_RUNTIME_DIR');
    expect(run.stderr).toBe('');
  });

  it('without a usable Vulkan driver fails with the cause and the fix, not a crash', () => {
    const run = runCli(['smoke'], { ...process.env, LENET_GPU_VK_ICD: '/nonexistent/no_such_icd.json', VK_ICD_FILENAMES: '' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('No WebGPU adapter was found');
    expect(run.stderr).toContain('apt-get install -y chromium libvulkan1');
    expect(run.stderr).not.toMatch(/TypeError|Cannot read properties/);
  });

  it('rejects an unknown command with usage and exit 2', () => {
    const run = runCli(['frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stderr).toContain('usage: lenet-gpu');
  });
});
