/**
 * `npm run bench` at smoke size: the Node path (training step with warm-up,
 * fixed steps and repeats, timestamp profile, matmul ceiling), assembled
 * into the JSON report and its markdown, on a tiny configuration. Checks
 * that the numbers are sane and agree with each other, and the report's
 * shape; not how fast anything is.
 */
import { describe, expect, it } from 'vitest';
import { loadavg } from 'node:os';
import { countFlops } from '../../src/model/flops.ts';
import { inferShapes } from '../../src/model/infer.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { runNodeBench } from '../../bench/node-bench.ts';
import { buildReport, formatMarkdown, SCHEMA } from '../../bench/report.ts';
import { realMnist } from '../helpers/mnist.ts';

describe('npm run bench, Node path, smoke size', () => {
  it('counts LeNet-5 FLOPs from the plan', () => {
    const f = countFlops(inferShapes(lenet5, 8));
    expect(f.forwardMacs).toBe(117_600 + 240_000 + 48_000 + 10_080 + 840);
    expect(f.trainFlops).toBe(6 * f.forwardMacs);
    expect(f.exactTrainFlops).toBe(f.trainFlops - 2 * 117_600);
  });

  it('times a few batch-8 steps and reports sane numbers in the JSON shape', async () => {
    const started = new Date();
    const loadStart = loadavg();
    const batch = 8;
    const node = await runNodeBench({
      batches: [batch],
      step: { warmupSteps: 1, steps: 3, repeats: 2, profileRepeats: 1, residentSamples: 64 },
      ceiling: { sizes: [[64, 64, 64]], timing: { budgetMs: 5, repeats: 2, maxReps: 2 } },
      data: await realMnist(),
    });

    expect(node.steps).toHaveLength(1);
    const s = node.steps[0];
    expect(s.batch).toBe(batch);
    expect(s.stepsPerRepeat).toBe(3);
    expect(s.msPerStep.n).toBe(2);
    expect(s.msPerStep.min).toBeGreaterThan(0);
    expect(s.msPerStep.min).toBeLessThanOrEqual(s.msPerStep.median);
    expect(s.msPerStep.median).toBeLessThanOrEqual(s.msPerStep.max);
    // samples/s and GFLOP/s follow from ms/step, repeat by repeat.
    s.msPerStep.values.forEach((ms, i) => {
      expect(s.samplesPerSecond.values[i] * ms).toBeCloseTo(batch * 1000, 3);
      expect(s.gflops.values[i]).toBeCloseTo((s.trainFlopsPerSample * batch) / (ms * 1e6), 6);
    });
    // Real training ran: a finite loss near ln(10) at the start, an accuracy in [0, 1].
    expect(Number.isFinite(s.meanLoss)).toBe(true);
    expect(s.meanLoss).toBeGreaterThan(0);
    expect(s.meanLoss).toBeLessThan(5);
    expect(s.meanAccuracy).toBeGreaterThanOrEqual(0);
    expect(s.meanAccuracy).toBeLessThanOrEqual(1);
    if (node.adapter.timestampQuery) {
      expect('perFamily' in s.kernels).toBe(true);
      if ('perFamily' in s.kernels) {
        expect(s.kernels.perDispatch.length).toBeGreaterThan(10);
        expect(s.kernels.perFamily.reduce((a, k) => a + k.share, 0)).toBeCloseTo(1, 6);
        expect(s.kernels.perFamily.map((k) => k.label)).toEqual(expect.arrayContaining(['conv2d forward', 'conv2d backward', 'dense forward', 'optimizer']));
        expect(s.kernels.gpuMsPerStep).toBeGreaterThan(0);
      }
    } else {
      expect('unavailable' in s.kernels).toBe(true);
    }
    expect(node.ceiling?.results.map((r) => r.variant).sort()).toEqual(['blocked', 'tiled']);
    expect(node.ceiling!.best.gflops).toBeGreaterThan(0);

    const plan = inferShapes(lenet5, 1);
    const report = buildReport({ started, loadStart, model: { name: plan.name, paramCount: plan.paramCount, flops: countFlops(plan) }, config: {}, batches: [batch], node });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json.schema).toBe(SCHEMA);
    expect(json.model.paramCount).toBe(61_706);
    expect(json.machine.cpus).toBeGreaterThan(0);
    expect(json.versions.node).toBe(process.version);
    expect(json.node?.steps[0].samplesPerSecond.values).toHaveLength(2);
    expect(json.comparison).toEqual([expect.objectContaining({ batch, oursNode: s.samplesPerSecond.median })]);
    const markdown = formatMarkdown(report);
    expect(markdown).toContain('| batch | ours Node |');
    expect(markdown).toContain('2,499,120');
  });
});
