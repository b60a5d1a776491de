/**
 * `lenet-gpu` under Node's conditions: the browser-safe API, with the
 * requestGpu that falls back to Dawn (the `webgpu` package) where there is no
 * navigator.gpu. Everything else is the same module graph as src/index.ts.
 */
export * from './index.ts';
export { requestGpu } from './gpu/device-node.ts';
