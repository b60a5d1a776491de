// Browser half of the Node-vs-browser training comparison: the same runParity,
// on MNIST fetched from the dev server's /mnist/ route (the page's loader).
import { loadMnistFromUrls } from '../../src/data/mnist-browser.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { runParity } from './fit-parity-run.ts';

declare global {
  interface Window { __testResult?: unknown }
}

async function run(): Promise<unknown> {
  const gpu = await requestGpu();
  const { train } = await loadMnistFromUrls('/mnist/');
  const result = await runParity(gpu, train);
  gpu.destroy();
  document.getElementById('out')!.textContent = JSON.stringify(result.runningLoss);
  return { ...result, adapter: `${gpu.report.vendor} / ${gpu.report.architecture}` };
}

run().then(
  (result) => { window.__testResult = result; },
  (error: unknown) => { window.__testResult = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }; },
);
