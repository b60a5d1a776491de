/**
 * Which adapter a Node process and the Chromium it launches use: one setting
 * for both, so a comparison between them (browser-vs-Node parity, the bench's
 * engine-vs-TF.js runs) is always made on one adapter.
 *
 *   LENET_GPU_ADAPTER=hardware     a GPU's own Vulkan driver (fails if none is installed)
 *   LENET_GPU_ADAPTER=swiftshader  SwiftShader, the CPU Vulkan driver from Chromium's package
 *   unset (or auto)                hardware where a GPU driver is installed, else SwiftShader
 *
 * Node-only (reads the file system): node-webgpu.ts turns the choice into the
 * Vulkan ICD list Dawn loads; chromiumWebGpuFlags() into Chromium's flags.
 * Hardware drivers count only where a GPU device node exists, and Mesa's
 * lavapipe is skipped (Debian's is too old for Dawn).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_WEBGPU_FLAGS, WebGpuUnavailableError } from './errors.ts';

export type AdapterKind = 'hardware' | 'swiftshader';

export const ADAPTER_KINDS: readonly AdapterKind[] = ['hardware', 'swiftshader'];

const ICD_DIRS = ['/usr/local/nvidia/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

export const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/**
 * Chromium on a GPU: Vulkan through ANGLE, no window surface (headless).
 * The flag set Chrome's team gives for WebGPU in headless Chrome on Linux.
 */
export const CHROMIUM_HARDWARE_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan', '--disable-vulkan-surface', '--ignore-gpu-blocklist'];

/** Hardware Vulkan drivers worth trying: only where a GPU device node exists. */
export function hardwareIcds(): string[] {
  const hasGpuNode = existsSync('/dev/dri') || existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
  if (!hasGpuNode) return [];
  const found: string[] = [];
  for (const dir of ICD_DIRS) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.json') && !name.startsWith('lvp_')) found.push(join(dir, name));
    }
  }
  return found;
}

export function swiftshaderIcd(): string | undefined {
  return SWIFTSHADER_ICDS.find((p) => existsSync(p));
}

/** LENET_GPU_ADAPTER as given: a kind, or undefined for the default. A wrong value is an error naming the right ones. */
export function requestedAdapterKind(env: NodeJS.ProcessEnv = process.env): AdapterKind | undefined {
  const value = env.LENET_GPU_ADAPTER?.trim().toLowerCase();
  if (!value || value === 'auto') return undefined;
  if ((ADAPTER_KINDS as readonly string[]).includes(value)) return value as AdapterKind;
  throw new WebGpuUnavailableError(`LENET_GPU_ADAPTER="${env.LENET_GPU_ADAPTER}" is not an adapter kind. Set it to hardware, swiftshader or auto (the default: hardware where a GPU driver is installed, else swiftshader).`);
}

/** The kind this machine uses: the one asked for, else hardware where a GPU driver is installed, else SwiftShader. */
export function adapterKind(env: NodeJS.ProcessEnv = process.env): AdapterKind {
  return requestedAdapterKind(env) ?? (hardwareIcds().length > 0 ? 'hardware' : 'swiftshader');
}

/** The Vulkan ICD files for a kind; a kind with no driver installed is an error that says how to get one. */
export function icdsFor(kind: AdapterKind): string[] {
  if (kind === 'hardware') {
    const found = hardwareIcds();
    if (found.length === 0) {
      throw new WebGpuUnavailableError(
        `LENET_GPU_ADAPTER=hardware, but no GPU Vulkan driver was found (no GPU device node in /dev, or no ICD file in ${ICD_DIRS.join(', ')}). ` +
          'Install the GPU vendor\'s Vulkan driver, or set LENET_GPU_ADAPTER=swiftshader to run on the CPU.',
      );
    }
    return found;
  }
  const swiftshader = swiftshaderIcd();
  if (!swiftshader) {
    throw new WebGpuUnavailableError(`LENET_GPU_ADAPTER=swiftshader, but SwiftShader's Vulkan driver was not found (looked for ${SWIFTSHADER_ICDS.join(', ')}). Fix: as root, apt-get update && apt-get install -y chromium libvulkan1.`);
  }
  return [swiftshader];
}

/** Chromium's WebGPU flags for the adapter kind this machine uses (see the header). */
export function chromiumWebGpuFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return adapterKind(env) === 'hardware' ? [...CHROMIUM_HARDWARE_FLAGS] : [...CHROMIUM_WEBGPU_FLAGS];
}
