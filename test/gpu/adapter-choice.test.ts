/**
 * One adapter setting for Node and Chromium (src/gpu/adapter-choice.ts). The
 * expectations that depend on the machine are stated for both kinds: this
 * file passes, with meaning, on SwiftShader and on a GPU.
 */
import { describe, expect, it } from 'vitest';
import { adapterKind, chromiumWebGpuFlags, CHROMIUM_HARDWARE_FLAGS, hardwareIcds, requestedAdapterKind, swiftshaderIcd } from '../../src/gpu/adapter-choice.ts';
import { isCpuAdapter } from '../../src/gpu/device.ts';
import { CHROMIUM_WEBGPU_FLAGS } from '../../src/gpu/errors.ts';
import { chooseVulkanDrivers } from '../../src/gpu/node-webgpu.ts';
import { defaultVariant } from '../../src/kernels/variant.ts';
import { runCli } from '../helpers/cli.ts';
import { testGpu } from '../helpers/gpu.ts';

const machineHasGpu = hardwareIcds().length > 0;

describe('LENET_GPU_ADAPTER', () => {
  it('takes hardware, swiftshader or auto, and names the right values when given another', () => {
    expect(requestedAdapterKind({ LENET_GPU_ADAPTER: 'hardware' })).toBe('hardware');
    expect(requestedAdapterKind({ LENET_GPU_ADAPTER: ' SwiftShader ' })).toBe('swiftshader');
    expect(requestedAdapterKind({ LENET_GPU_ADAPTER: 'auto' })).toBeUndefined();
    expect(requestedAdapterKind({})).toBeUndefined();
    expect(() => requestedAdapterKind({ LENET_GPU_ADAPTER: 'nvidia' })).toThrow(/LENET_GPU_ADAPTER="nvidia" is not an adapter kind\. Set it to hardware, swiftshader or auto/);
  });

  it('defaults to hardware where a GPU driver is installed, else SwiftShader', () => {
    expect(adapterKind({})).toBe(machineHasGpu ? 'hardware' : 'swiftshader');
    expect(adapterKind({ LENET_GPU_ADAPTER: 'swiftshader' })).toBe('swiftshader');
  });

  it('gives Dawn only the chosen kind\'s drivers, whatever VK_ICD_FILENAMES said', () => {
    const env: NodeJS.ProcessEnv = { LENET_GPU_ADAPTER: 'swiftshader', VK_ICD_FILENAMES: '/somewhere/else.json' };
    expect(chooseVulkanDrivers(env)).toBe(swiftshaderIcd());
    expect(env.VK_ICD_FILENAMES).toBe(swiftshaderIcd());
    expect(env.VK_DRIVER_FILES).toBe(swiftshaderIcd());
    const hardware: NodeJS.ProcessEnv = { LENET_GPU_ADAPTER: 'hardware' };
    if (machineHasGpu) {
      expect(chooseVulkanDrivers(hardware)).toBe(hardwareIcds().join(':'));
    } else {
      expect(() => chooseVulkanDrivers(hardware)).toThrow(/LENET_GPU_ADAPTER=hardware, but no GPU Vulkan driver was found.*set LENET_GPU_ADAPTER=swiftshader/);
    }
    // An explicit ICD file still wins over the kind.
    expect(chooseVulkanDrivers({ LENET_GPU_VK_ICD: '/x/icd.json', LENET_GPU_ADAPTER: 'hardware' })).toBe('/x/icd.json');
  });

  it('gives Chromium the same kind: SwiftShader\'s flags, or Vulkan on the GPU', () => {
    expect(chromiumWebGpuFlags({ LENET_GPU_ADAPTER: 'swiftshader' })).toEqual(CHROMIUM_WEBGPU_FLAGS);
    expect(chromiumWebGpuFlags({ LENET_GPU_ADAPTER: 'hardware' })).toEqual(CHROMIUM_HARDWARE_FLAGS);
    expect(CHROMIUM_HARDWARE_FLAGS.join(' ')).not.toContain('swiftshader');
  });

  it('the tests run on the kind the run pinned, and a hardware adapter gets the tiled kernels by default', async () => {
    // test/global-setup.ts pins the kind for every test process.
    const pinned = requestedAdapterKind();
    expect(pinned).toBe(machineHasGpu ? 'hardware' : 'swiftshader');
    const { report } = await testGpu();
    expect(isCpuAdapter(report)).toBe(pinned === 'swiftshader');
    expect(defaultVariant(report)).toBe(pinned === 'hardware' ? 'tiled' : 'blocked');
    expect(defaultVariant({ isFallback: false, vendor: 'nvidia', architecture: 'hopper' })).toBe('tiled');
    expect(defaultVariant({ isFallback: true, vendor: 'google', architecture: 'swiftshader' })).toBe('blocked');
  });

  it('the CLI refuses a wrong value with the fix, and runs on the kind asked for', () => {
    const wrong = runCli(['smoke'], { ...process.env, LENET_GPU_ADAPTER: 'nvidia' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('LENET_GPU_ADAPTER="nvidia" is not an adapter kind');
    const hardware = runCli(['smoke'], { ...process.env, LENET_GPU_ADAPTER: 'hardware' });
    if (machineHasGpu) {
      expect(hardware.status, hardware.stderr).toBe(0);
      expect(hardware.stdout).not.toMatch(/swiftshader/i);
    } else {
      expect(hardware.status).toBe(1);
      expect(hardware.stderr).toContain('no GPU Vulkan driver was found');
    }
    const cpu = runCli(['smoke'], { ...process.env, LENET_GPU_ADAPTER: 'swiftshader' });
    expect(cpu.status, cpu.stderr).toBe(0);
    expect(cpu.stdout).toMatch(/adapter: .*swiftshader/i);
  });
});
