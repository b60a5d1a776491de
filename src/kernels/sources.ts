/**
 * Every WGSL file, imported whole at build time (Vite `?raw`), so the Node
 * CLI, the page and embedders carry their shaders with them and nothing is
 * fetched from the source tree at run time. Shaders that fuse an activation get
 * the shared activation functions prepended (WGSL has no #include).
 */
import type { ShaderSource } from './kernel.ts';
import activationFunctions from '../../shaders/activation-functions.wgsl?raw';
import activation from '../../shaders/activation.wgsl?raw';

const withActivations = (name: string, code: string): ShaderSource => ({ name, code: `${activationFunctions}\n${code}` });

export const shaders = {
  activation: withActivations('activation.wgsl', activation),
} satisfies Record<string, ShaderSource>;

/**
 * Whether a device's subgroups are groups of 4 consecutive invocations, as
 * SwiftShader's SIMD lanes are: the kernels that share loads between the
 * lanes of a group (SHARED_WEIGHTS in conv2d-window.wgsl) rely on exactly
 * that, and are used only where the adapter reports subgroups of size 4.
 */
export function sharesLanes(device: GPUDevice): boolean {
  const info = (device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
  return device.features.has('subgroups') && info?.subgroupMinSize === 4 && info?.subgroupMaxSize === 4;
}

/**
 * A shader in two builds: with the 'subgroups' extension, whose bcast0..3(v)
 * broadcast lane 0..3's v to its SIMD group, or with identity stubs of them
 * (devices without subgroups, where the shader never takes that path).
 * Both carry the activation functions.
 */
export function lanePreludes(name: string, code: string): { for(device: GPUDevice): ShaderSource } {
  const bcast = (body: (lane: number) => string): string => [0, 1, 2, 3].map((lane) => `fn bcast${lane}(v: f32) -> f32 { return ${body(lane)}; }`).join('\n');
  // The broadcasts run where lanes may have diverged (early returns); the lanes that share loads never do.
  const shared: ShaderSource = {
    name: `${name}+subgroups`,
    code: `enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n${activationFunctions}\n${bcast((lane) => `subgroupBroadcast(v, ${lane}u)`)}\n${code}`,
  };
  const plain: ShaderSource = { name, code: `${activationFunctions}\n${bcast(() => 'v')}\n${code}` };
  return { for: (device) => (sharesLanes(device) ? shared : plain) };
}

export { withActivations, activationFunctions };
