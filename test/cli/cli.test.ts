/** The CLI end to end on a small subset: train -> files -> evaluate -> predict; and its refusals. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

describe('lenet-gpu CLI', () => {
  let out = '';
  beforeAll(() => {
    mkdirSync('test-output', { recursive: true });
    out = mkdtempSync(join('test-output', 'cli-run-'));
  });

  it('train on a subset writes checkpoint, history, curves and evaluation; evaluate and predict read the checkpoint', () => {
    const train = runCli(['train', '--train-limit', '640', '--epochs', '2', '--batch-size', '32', '--test-limit', '200', '--no-early-stopping', '--out', out]);
    expect(train.status, train.stderr).toBe(0);
    expect(train.stdout).toContain('Total params: 61,706');
    expect(train.stdout).toMatch(/epoch 2\/2 {2}loss \d\.\d{4} {2}acc/);
    expect(train.stdout).toMatch(/test \(200 images\): loss [\d.]+ {2}accuracy [\d.]+% {2}macro AUC 0\.\d+/);
    for (const file of ['model.ckpt', 'history.csv', 'history.json', 'curves.svg', 'evaluation.json']) expect(existsSync(join(out, file)), file).toBe(true);
    const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,steps,seconds,samples_per_second');
    const [l1, l2] = [Number(csv[1].split(',')[1]), Number(csv[2].split(',')[1])];
    expect(l2).toBeLessThan(l1);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<polyline/);
    const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(evaluation.report.count).toBe(200);

    const evaluate = runCli(['evaluate', '--checkpoint', join(out, 'model.ckpt'), '--test-limit', '200', '--json']);
    expect(evaluate.status, evaluate.stderr).toBe(0);
    const metrics = JSON.parse(evaluate.stdout);
    // The same weights evaluated again give the same accuracy as at the end of training.
    expect(metrics.accuracy).toBe(evaluation.test.accuracy);

    const predict = runCli(['predict', '--checkpoint', join(out, 'model.ckpt'), '--index', '0,1']);
    expect(predict.status, predict.stderr).toBe(0);
    expect(predict.stdout).toMatch(/test\[0\]: predicted \d \(true 7\)/);
    expect(predict.stdout).toMatch(/test\[1\]: predicted \d \(true 2\)/);
    // Three CLI processes each compile every pipeline (5-12 s apiece on SwiftShader under load).
  }, 300_000);

  it('summary prints the Keras-style table for a preset, with no GPU work', () => {
    const run = runCli(['summary', '--preset', 'lenet5-variant']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Total params: 44,300');
  });

  it('an unknown flag exits 2 with usage', () => {
    const run = runCli(['train', '--epochz', '3']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Unknown option '--epochz'");
    expect(run.stderr).toContain('usage: lenet-gpu train');
  });

  it('an impossible spec file fails at shape inference, naming the layer, before loading data or the GPU', () => {
    const spec = join(out, 'bad-spec.json');
    writeFileSync(spec, JSON.stringify({ inputShape: [1, 28, 28], layers: [{ type: 'conv2d', filters: 6, kernelSize: 5 }, { type: 'dense', units: 10, activation: 'softmax' }] }));
    const run = runCli(['train', '--spec', spec, '--out', out]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/layer 1 'dense_1'.*\[6, 24, 24\].*flatten/);
    expect(run.stdout).not.toContain('adapter:');
  });

  it('a damaged checkpoint is refused with a clear message', () => {
    const path = join(out, 'model.ckpt');
    const bytes = new Uint8Array(readFileSync(path));
    bytes[200] ^= 0xff;
    const damaged = join(out, 'damaged.ckpt');
    writeFileSync(damaged, bytes);
    const run = runCli(['evaluate', '--checkpoint', damaged]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('damaged or truncated');
  });
});
