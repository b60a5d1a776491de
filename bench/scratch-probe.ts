import { requestGpu, formatAdapterReport } from '../src/gpu/device.ts';
import { loadMnistNode } from '../src/data/mnist-node.ts';
import { benchTrainStep } from '../src/bench/train-step.ts';
const gpu = await requestGpu();
console.log(formatAdapterReport(gpu.report));
const { train } = await loadMnistNode();
for (const batch of (process.env.BS ?? '32,64,128,256').split(',').map(Number)) {
  const r = await benchTrainStep(gpu, train, { batch, repeatBudgetMs: 2000, repeats: 3, profileRepeats: 2 });
  const { kernels, ...rest } = r;
  console.log(JSON.stringify({ ...rest, msPerStep: r.msPerStep.values, sps: r.samplesPerSecond.median, gf: r.gflops.median }));
  if ('perFamily' in kernels) console.log(kernels.gpuMsPerStep, kernels.perFamily.map((k) => `${k.label} ${k.ms.toFixed(2)} ${(k.share*100).toFixed(1)}%`).join('\n'));
  else console.log(kernels);
}
gpu.destroy();
