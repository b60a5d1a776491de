/**
 * The device kit's training-step bench: src/bench/train-step.ts through
 * bench/node-bench.ts (the same code as `npm run bench`'s Node half) for each
 * batch size and kernel variant, on one device. Rewrites its JSON after every
 * row, so a run cut short by its time box keeps the rows it finished; a row
 * that throws is recorded and the next one still runs.
 *
 *   node bench.js --json FILE [--batches 64,256,1024] [--variants tiled,blocked]
 *                 [--repeat-seconds S] [--repeats N] [--warmup N] [--steps N]
 *                 [--profile-repeats N] [--resident N]
 *   node bench.js --adapter-only --json FILE     the adapter report alone
 *
 * Besides the adapter report it records which Vulkan loader the process
 * mapped (from /proc/self/maps): the kit's own copy or the system's.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AdapterReport } from '../../src/gpu/device.ts';
import { requestGpu } from '../../src/gpu/device-node.ts';
import type { StepBenchResult } from '../../src/bench/train-step.ts';
import type { KernelVariant } from '../../src/kernels/variant.ts';
import { NodeBench } from '../node-bench.ts';
import type { StepPlan } from '../protocol.ts';

export interface DeviceBenchFile {
  adapter?: AdapterReport;
  /** Path of the libvulkan the process loaded, or why it is unknown. */
  vulkanLoader: string;
  env: Record<string, string | undefined>;
  plan?: StepPlan & { batches: number[]; variants: KernelVariant[] };
  rows: StepBenchResult[];
  errors: { batch: number; variant: string; error: string }[];
  done: boolean;
}

function loadedVulkan(): string {
  try {
    const line = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .find((l) => /libvulkan\.so/.test(l));
    return line ? line.slice(line.indexOf('/')) : 'no libvulkan mapped';
  } catch (error) {
    return `unknown (${String(error)})`;
  }
}

const ENV_KEYS = ['LENET_GPU_ADAPTER', 'LENET_GPU_VK_ICD', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'LENET_GPU_DAWN_FLAGS', 'LD_LIBRARY_PATH'];

async function main(): Promise<number> {
  const { values: f } = parseArgs({
    options: {
      json: { type: 'string' },
      'adapter-only': { type: 'boolean' },
      batches: { type: 'string' },
      variants: { type: 'string' },
      'repeat-seconds': { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      steps: { type: 'string' },
      'profile-repeats': { type: 'string' },
      resident: { type: 'string' },
    },
    strict: true,
  });
  if (!f.json) throw new Error('--json FILE is required');
  const out: DeviceBenchFile = { vulkanLoader: 'not checked', env: Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]])), rows: [], errors: [], done: false };
  const write = (): void => writeFileSync(f.json!, `${JSON.stringify(out, null, 1)}\n`);

  if (f['adapter-only']) {
    const gpu = await requestGpu();
    out.adapter = gpu.report;
    out.vulkanLoader = loadedVulkan();
    out.done = true;
    write();
    gpu.destroy();
    return 0;
  }

  const int = (v: string | undefined, d: number | undefined): number | undefined => (v === undefined ? d : Number(v));
  const batches = (f.batches ?? '64,256,1024').split(',').map(Number);
  const variants = (f.variants ?? 'tiled,blocked').split(',') as KernelVariant[];
  for (const v of variants) if (v !== 'tiled' && v !== 'blocked') throw new Error(`unknown variant "${v}"`);
  const plan: StepPlan = {
    wait: 'fit',
    warmupSteps: int(f.warmup, 5),
    repeats: int(f.repeats, 3),
    steps: int(f.steps, undefined),
    repeatBudgetMs: 1000 * Number(f['repeat-seconds'] ?? 1),
    minSteps: 3,
    maxSteps: 5000,
    stepsPerSubmit: 8,
    maxSubmitsInFlight: 2,
    profileRepeats: int(f['profile-repeats'], 3),
    residentSamples: int(f.resident, undefined),
  };
  out.plan = { ...plan, batches, variants };
  write();

  const bench = await NodeBench.open({ log: (line) => console.log(line) });
  out.adapter = bench.section.adapter;
  out.vulkanLoader = loadedVulkan();
  write();
  try {
    // Batch by batch, both variants side by side: a time box that cuts the run short still leaves pairs to compare.
    for (const batch of batches) {
      for (const variant of variants) {
        try {
          const r = await bench.step(batch, { ...plan, variant });
          const k = 'gpuMsPerStep' in r.kernels ? r.kernels : undefined;
          console.log(
            `  B=${batch} ${variant}: ${r.dispatchesPerStep} dispatches and ${r.submitsPerStep} submits per step` +
              (k ? `, GPU ${k.gpuMsPerStep.toFixed(3)} ms of ${k.spanMsPerStep.toFixed(3)} ms span per step (gaps ${k.gapMsPerStep.toFixed(3)} ms)` : `, no per-kernel times (${(r.kernels as { unavailable: string }).unavailable})`),
          );
          out.rows.push(r);
        } catch (error) {
          console.log(`  B=${batch} ${variant}: FAILED ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          out.errors.push({ batch, variant, error: error instanceof Error ? error.message : String(error) });
        }
        write();
      }
    }
  } finally {
    bench.close();
  }
  out.done = true;
  write();
  return out.errors.length > 0 || out.rows.length === 0 ? 1 : 0;
}

if (!existsSync('/proc/self/maps')) console.warn('no /proc/self/maps: the Vulkan loader in use is not recorded');
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
