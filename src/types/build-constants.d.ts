// Put into the code by every build (vite.config.ts `define`).
/** package.json's version. */
declare const __LENET_GPU_VERSION__: string;
