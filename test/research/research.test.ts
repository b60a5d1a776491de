/**
 * The research workflow: variants derived from a base spec, the grid, the
 * efficiency report (LeNet-5's counts by hand), run cards, and one tiny real
 * sweep on the GPU (2 variants, 2 epochs of 5 steps, 640 images) whose table,
 * CSV and SVG are checked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointHeader } from '../../src/engine/checkpoint.ts';
import { inferShapes } from '../../src/model/infer.ts';
import { lenet5, lenet5Variant } from '../../src/model/spec.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { efficiencyCsv, efficiencyReport, formatEfficiency } from '../../src/research/efficiency.ts';
import { buildRunCard, isRunCard, PACKAGE_VERSION, runCardFromCheckpoint } from '../../src/engine/run-card.ts';
import { deriveSpec, sweep, sweepCsv, sweepCurvesSvg, sweepMarkdown, sweepVariants, type SweepResult } from '../../src/research/sweep.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

describe('variants and grids', () => {
  it('deriveSpec replaces hidden activations and pooling, keeping the output softmax', () => {
    const relu = deriveSpec(lenet5, { activation: 'relu', pool: 'max' });
    const plan = inferShapes(relu, 1);
    expect(plan.layers.map((l) => l.activation)).toEqual(['relu', 'linear', 'relu', 'linear', 'linear', 'relu', 'relu', 'softmax']);
    expect(relu.layers.map((l) => l.type)).toEqual(['conv2d', 'maxPool2d', 'conv2d', 'maxPool2d', 'flatten', 'dense', 'dense', 'dense']);
    expect(plan.paramCount).toBe(61706);
    // The base is untouched.
    expect(lenet5.layers[1].type).toBe('avgPool2d');
  });

  it('the grid is the product of the axes given, named by those axes', () => {
    const v = sweepVariants({ activations: ['tanh', 'relu'], pools: ['avg', 'max'] });
    expect(v.map((x) => x.name)).toEqual(['tanh avg-pool', 'tanh max-pool', 'relu avg-pool', 'relu max-pool']);
    expect(v.every((x) => x.batchSize === 64 && x.optimizer.kind === 'adam')).toBe(true);
    const both = sweepVariants({ presets: ['lenet5', 'lenet5-variant'], optimizers: ['adam', 'sgd'], learningRates: [0.01], batchSizes: [32] });
    expect(both.map((x) => x.name)).toEqual(['lenet5 adam lr 0.01 batch 32', 'lenet5 sgd lr 0.01 batch 32', 'lenet5-variant adam lr 0.01 batch 32', 'lenet5-variant sgd lr 0.01 batch 32']);
    expect(both[1].optimizer).toEqual({ kind: 'sgd', learningRate: 0.01, momentum: 0.9 });
    expect(sweepVariants({ presets: ['lenet5', 'lenet5-variant'] }).map((x) => x.name)).toEqual(['lenet5', 'lenet5-variant']);
    expect(() => sweepVariants({ presets: ['lenet6'] })).toThrow(/unknown preset "lenet6"/);
    expect(() => sweepVariants({ activations: ['relu', 'relu'] })).toThrow(/repeats a variant/);
  });
});

describe('efficiency report', () => {
  it('counts LeNet-5 by hand: 61,706 parameters, 833,040 forward FLOPs', () => {
    const r = efficiencyReport(lenet5, { accuracy: 0.9876, macroAuc: 0.9991, count: 10000, source: 'runs/lenet5/model.ckpt' });
    expect(r.parameters).toBe(61706);
    expect(r.forwardFlops).toBe(833040);
    expect(r.layers.map((l) => [l.name, l.parameters, l.forwardFlops])).toEqual([
      ['conv2d_1', 156, 235200],
      ['average_pooling2d_1', 0, 0],
      ['conv2d_2', 2416, 480000],
      ['average_pooling2d_2', 0, 0],
      ['flatten_1', 0, 0],
      ['dense_1', 48120, 96000],
      ['dense_2', 10164, 20160],
      ['dense_3', 850, 1680],
    ]);
    const md = formatEfficiency(r);
    expect(md).toContain('| conv2d_2 | Conv2D | 16x10x10 | 2,416 | 3.9% | 480,000 | 57.6% |');
    expect(md).toContain('| **total** | | | **61,706** | 100% | **833,040** | 100% |');
    expect(md).toContain('Test accuracy 98.76% on 10,000 test images, macro AUC 0.9991 (runs/lenet5/model.ckpt)');
    expect(efficiencyCsv(r).trim().split('\n').at(-1)).toBe('total,,,61706,416520,833040');
    // The variant: 44,300 parameters (summary test), its 120@4x4 conv holds most of them.
    const v = efficiencyReport(lenet5Variant);
    expect(v.parameters).toBe(44300);
    expect(v.layers.find((l) => l.name === 'conv2d_3')!.parameters).toBe(30840);
  });
});

describe('run cards', () => {
  it('carry spec, seed, hyper-parameters, split, versions and metrics; old checkpoint cards convert', () => {
    const card = buildRunCard({ spec: lenet5, seed: 4, batchSize: 64, optimizer: { kind: 'adam', learningRate: 0.001 }, epochs: 3, validationSplit: 0.2, trainImages: 1000, date: new Date('2024-01-02T03:04:05Z') });
    expect(isRunCard(card)).toBe(true);
    expect(card.parameters).toBe(61706);
    expect(card.data).toMatchObject({ trainImages: 1000, validationImages: 200 });
    expect(card.data.split).toContain('the last 200 validate');
    expect(card.versions.lenetGpu).toBe(PACKAGE_VERSION);
    expect(card.versions.runtime).toMatch(/^node v\d+/);
    expect(card.date).toBe('2024-01-02T03:04:05.000Z');
    const header = { spec: lenet5, optimizer: { kind: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, seed: 9, epoch: 2, parameterCount: 61706, slots: 2, stateBytes: 16, savedAt: '2024-05-06T00:00:00.000Z' } as CheckpointHeader;
    const bare = runCardFromCheckpoint(header);
    expect(bare.seed).toBe(9);
    expect(bare.metrics.epochs).toBe(2);
    expect(bare.notes![0]).toContain('carried no run card');
    const old = runCardFromCheckpoint({ ...header, runCard: { seed: 3, batchSize: 32, trainImages: 640, validationSplit: 0.2, epochs: 2, test: { loss: 0.3, accuracy: 0.9, macroAuc: 0.99 }, date: '2024-05-05T00:00:00.000Z' } });
    expect(old).toMatchObject({ seed: 3, hyperParameters: { batchSize: 32 }, metrics: { epochs: 2, test: { accuracy: 0.9 } }, date: '2024-05-05T00:00:00.000Z' });
    expect(runCardFromCheckpoint({ ...header, runCard: card as unknown as Record<string, unknown> })).toBe(card);
  });
});

describe('sweep on the GPU (tiny)', () => {
  let gpu: Gpu;
  let result: SweepResult;
  beforeAll(async () => {
    gpu = await testGpu();
    const train = await mnistSlice('train', 0, 640);
    const test = await mnistSlice('test', 0, 200);
    const variants = sweepVariants({ activations: ['tanh', 'relu'], batchSizes: [32] });
    result = await sweep(gpu, train, test, variants, { epochs: 2, maxStepsPerEpoch: 5, validationSplit: 0.2, seed: 2 });
  });

  it('trains every variant and fills its row', () => {
    expect(result.rows.map((r) => r.variant)).toEqual(['tanh batch 32', 'relu batch 32']);
    for (const r of result.rows) {
      expect(r.epochs).toBe(2);
      expect(r.history).toHaveLength(2);
      expect(r.history[0].steps).toBe(5);
      expect(r.parameters).toBe(61706);
      expect(r.flopsPerSample).toBe(833040);
      expect(r.testAccuracy).toBeGreaterThan(0.1);
      expect(r.macroAuc).toBeGreaterThan(0.5);
      expect(r.samplesPerSecond).toBeGreaterThan(0);
      expect(r.runCard.metrics.test!.count).toBe(200);
      expect(r.runCard.hyperParameters.batchSize).toBe(32);
    }
    expect(result.rows[1].runCard.spec.layers[0]).toMatchObject({ activation: 'relu' });
  });

  it('writes the table, the CSV and the SVG chart', () => {
    const md = sweepMarkdown(result).split('\n');
    expect(md[0]).toBe('| variant | activation | pool | optimizer | lr | batch | test acc | macro AUC | params | FLOPs/sample | epochs | time (s) | samples/s |');
    expect(md[2]).toMatch(/^\| tanh batch 32 \| tanh \| avg \| adam \| 0\.001 \| 32 \| \d+\.\d\d% \| 0\.\d{4} \| 61,706 \| 833,040 \| 2 \| \d+\.\d \| [\d,]+ \|$/);
    expect(md[3]).toMatch(/^\| relu batch 32 \| relu \| avg \| adam \|/);
    expect(md.join('\n')).toContain('640 MNIST training images (512 train / 128 validation, the last 20%), up to 2 epochs of at most 5 steps, no early stopping, seed 2; test on the first 200 MNIST test images');
    const csv = sweepCsv(result).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toBe('variant,base,activation,pool,optimizer,learning_rate,batch_size,test_accuracy,test_loss,macro_auc,parameters,flops_per_sample,epochs,stop_reason,best_val_accuracy,train_seconds,samples_per_second');
    const cells = csv[2].split(',');
    expect(cells.slice(0, 7)).toEqual(['relu batch 32', 'lenet5', 'relu', 'avg', 'adam', '0.001', '32']);
    expect(Number(cells[7])).toBe(result.rows[1].testAccuracy);
    expect(cells.slice(10, 14)).toEqual(['61706', '833040', '2', 'completed']);
    const svg = sweepCurvesSvg(result);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('>tanh batch 32</text>');
    expect(svg).toContain('>relu batch 32</text>');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});
