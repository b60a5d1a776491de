/**
 * The GPU every GPU test shares (one per test-file process). Without an
 * adapter it fails loudly with the fix, never skips: a parity suite that
 * silently skips proves nothing.
 */
import type { Gpu, GpuOptions } from '../../src/gpu/device.ts';
import { requestGpu } from '../../src/gpu/device-node.ts';

/** A device for tests: uncaptured GPU errors fail the test, a missing adapter says how to get one. */
function requestTestGpu(what: string, options: GpuOptions = {}): Promise<Gpu> {
  return requestGpu({
    ...options,
    onError: (error) => {
      throw new Error(`uncaptured GPU error during a test (${what}): ${error.message}`);
    },
  }).catch((error: unknown) => {
    throw new Error(
      `GPU tests need a WebGPU adapter and none was found: ${error instanceof Error ? error.message : String(error)}\n` +
        'Fix: as root, apt-get update && apt-get install -y chromium libvulkan1 (SwiftShader), or run on a machine with a Vulkan GPU driver.',
    );
  });
}

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= requestTestGpu('shared test device');
  return shared;
}

let withoutSubgroups: Promise<Gpu> | undefined;

/**
 * A second device on the same adapter without the 'subgroups' feature: the
 * blocked kernels' path for devices whose lanes cannot share loads.
 */
export function testGpuWithoutSubgroups(): Promise<Gpu> {
  withoutSubgroups ??= requestTestGpu('device without subgroups', { withoutFeatures: ['subgroups'] });
  return withoutSubgroups;
}
