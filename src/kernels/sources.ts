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

export { withActivations, activationFunctions };
