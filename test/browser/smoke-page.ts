// Browser half of the GPU smoke test: the same requestGpu/runSmokeCheck as Node.
import { formatAdapterReport, requestGpu } from '../../src/gpu/device.ts';
import { runSmokeCheck } from '../../src/gpu/smoke.ts';

declare global {
  interface Window { __testResult?: unknown }
}

async function run(): Promise<unknown> {
  const gpu = await requestGpu();
  const result = await runSmokeCheck(gpu);
  const report = gpu.report;
  gpu.destroy();
  document.getElementById('out')!.textContent = formatAdapterReport(report);
  return { ...result, report };
}

run().then(
  (result) => { window.__testResult = result; },
  (error: unknown) => { window.__testResult = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }; },
);
