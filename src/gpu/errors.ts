/**
 * Errors the GPU layer raises. Each names the cause and the fix, because the
 * people who hit them are setting up a machine, not debugging our code.
 */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

export class GpuDeviceLostError extends Error {
  override name = 'GpuDeviceLostError';
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
}

export class GpuLimitError extends Error {
  override name = 'GpuLimitError';
}

/** Chromium flags that give WebGPU on a Linux machine with no GPU (SwiftShader). */
export const CHROMIUM_WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];

export const BROWSER_HELP =
  'Use a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows), on a page served over https or from http://localhost / 127.0.0.1. ' +
  `On Linux, Chromium needs --enable-unsafe-webgpu --enable-features=Vulkan; with no GPU, add ${CHROMIUM_WEBGPU_FLAGS.slice(2).join(' ')} to run it on the CPU (SwiftShader).`;

export const NODE_HELP =
  'In Node, WebGPU comes from the npm package "webgpu" (Dawn) and a Vulkan driver: a real GPU\'s driver, or with no GPU the SwiftShader driver in Debian\'s chromium package ' +
  '(as root: apt-get update && apt-get install -y chromium libvulkan1). Set VK_ICD_FILENAMES (or LENET_GPU_VK_ICD) to a driver\'s ICD .json to choose one.';
