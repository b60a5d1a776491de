/** `lenet-gpu smoke`: prints the adapter and runs the GPU smoke check. */
import { formatAdapterReport } from '../gpu/device.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { runSmokeCheck } from '../gpu/smoke.ts';

export async function runSmokeCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write(`smoke takes no options, got: ${args.join(' ')}\n`);
    return 2;
  }
  const gpu = await requestGpu();
  try {
    process.stdout.write(`${formatAdapterReport(gpu.report)}\n`);
    const result = await runSmokeCheck(gpu);
    if (!result.ok) {
      const m = result.firstMismatch!;
      process.stderr.write(`smoke check FAILED: element ${m.index} is ${m.got}, expected ${m.expected}\n`);
      return 1;
    }
    process.stdout.write(`smoke check passed: ${result.elements} elements computed on the GPU and verified\n`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
