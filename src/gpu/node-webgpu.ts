/**
 * Node's WebGPU: the `webgpu` npm package (Dawn) over a Vulkan driver.
 *
 * Driver choice, in order: LENET_GPU_VK_ICD (one ICD file, wins);
 * LENET_GPU_ADAPTER=hardware|swiftshader (adapter-choice.ts: only that kind's
 * drivers, the same choice Chromium gets); VK_ICD_FILENAMES / VK_DRIVER_FILES
 * if the user set them; otherwise every hardware ICD found followed by
 * SwiftShader, so a real GPU is used where present (Dawn ranks
 * discrete/integrated above CPU adapters) and SwiftShader otherwise. The
 * variable must be set before create(): Dawn's Vulkan loader reads it once, in
 * this process (not from a worker thread's copy of process.env).
 *
 * The object create() returns must stay referenced while its devices live, or
 * Dawn aborts the process when it is collected; we keep it in a module global.
 *
 * A quiet start: while Dawn enumerates adapters, the Vulkan stack probes for a
 * Wayland display, and libwayland prints "error: XDG_RUNTIME_DIR is invalid or
 * not set in the environment." twice wherever that variable is unset (root
 * shells, containers, CI). Nothing is wrong then (there is no display to find
 * either way), but it reads as a failure; quietWaylandProbe gives such a
 * session an empty private runtime folder, where the probe fails silently.
 */
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hardwareIcds, icdsFor, requestedAdapterKind, swiftshaderIcd } from './adapter-choice.ts';
import { NODE_HELP, WebGpuUnavailableError } from './errors.ts';

let keptAlive: { gpu: GPU; icd: string } | undefined;

/** Chooses the ICD list (see the header) and returns what was chosen, for reports. */
export function chooseVulkanDrivers(env: NodeJS.ProcessEnv = process.env): string {
  // Both names when we choose: the loader reads VK_DRIVER_FILES first, and a parent process may have set it.
  if (env.LENET_GPU_VK_ICD) {
    env.VK_ICD_FILENAMES = env.VK_DRIVER_FILES = env.LENET_GPU_VK_ICD;
    return env.LENET_GPU_VK_ICD;
  }
  const requested = requestedAdapterKind(env);
  if (requested) {
    env.VK_ICD_FILENAMES = env.VK_DRIVER_FILES = icdsFor(requested).join(':');
    return env.VK_ICD_FILENAMES;
  }
  if (env.VK_ICD_FILENAMES) return env.VK_ICD_FILENAMES;
  if (env.VK_DRIVER_FILES) return env.VK_DRIVER_FILES;
  const swiftshader = swiftshaderIcd();
  const list = [...hardwareIcds(), ...(swiftshader ? [swiftshader] : [])];
  if (list.length > 0) env.VK_ICD_FILENAMES = list.join(':');
  return list.join(':');
}

/**
 * Where XDG_RUNTIME_DIR is unset (or not an absolute path) and no Wayland
 * display is named, points it at a private empty folder (0700, ours), so the
 * Wayland probe during adapter enumeration prints nothing. Returns the folder
 * set, or undefined when the environment was left as it was.
 */
export function quietWaylandProbe(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.XDG_RUNTIME_DIR?.startsWith('/') || env.WAYLAND_DISPLAY || env.WAYLAND_SOCKET) return undefined;
  const uid = process.getuid?.();
  if (uid === undefined) return undefined; // not POSIX: no libwayland
  const dir = join(tmpdir(), `lenet-gpu-runtime-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    // Someone else's folder, or one others can write to, is no private runtime folder.
    if (st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
  } catch {
    return undefined;
  }
  env.XDG_RUNTIME_DIR = dir;
  return dir;
}

/** Returns Node's `GPU` object (navigator.gpu's equivalent), creating it once. */
export async function nodeGpu(): Promise<{ gpu: GPU; icd: string }> {
  if (keptAlive) return keptAlive;
  const icd = chooseVulkanDrivers();
  quietWaylandProbe();
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    const name = 'webgpu';
    mod = await import(/* @vite-ignore */ name);
  } catch (cause) {
    throw new WebGpuUnavailableError(`The npm package "webgpu" (Dawn), which gives Node its WebGPU, could not be loaded (${String(cause)}). Install it beside lenet-gpu: npm install webgpu. ${NODE_HELP}`);
  }
  // GPUBufferUsage and friends are globals in browsers; Dawn hands them over.
  for (const [key, value] of Object.entries(mod.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }
  // Dawn's own options, space-separated, e.g. 'enable-dawn-features=disable_robustness adapter=NVIDIA'.
  const dawnFlags = (process.env.LENET_GPU_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean);
  keptAlive = { gpu: mod.create(dawnFlags), icd };
  return keptAlive;
}
