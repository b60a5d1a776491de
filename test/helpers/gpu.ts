/**
 * The GPU every GPU test shares (one per test-file process). Without an
 * adapter it fails loudly with the fix, never skips: a parity suite that
 * silently skips proves nothing.
 */
import { requestGpu, type Gpu } from '../../src/gpu/device.ts';

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= requestGpu({
    onError: (error) => {
      throw new Error(`uncaptured GPU error during a test: ${error.message}`);
    },
  }).catch((error: unknown) => {
    throw new Error(
      `GPU tests need a WebGPU adapter and none was found: ${error instanceof Error ? error.message : String(error)}\n` +
        'Fix: as root, apt-get update && apt-get install -y chromium libvulkan1 (SwiftShader), or run on a machine with a Vulkan GPU driver.',
    );
  });
  return shared;
}

let withoutSubgroups: Promise<Gpu> | undefined;

/**
 * A second device on the same adapter without the 'subgroups' feature: the
 * blocked kernels' path for devices whose lanes cannot share loads.
 */
export function testGpuWithoutSubgroups(): Promise<Gpu> {
  withoutSubgroups ??= requestGpu({
    withoutFeatures: ['subgroups'],
    onError: (error) => {
      throw new Error(`uncaptured GPU error during a test (device without subgroups): ${error.message}`);
    },
  });
  return withoutSubgroups;
}
