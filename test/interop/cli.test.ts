/**
 * The export, import, report and sweep commands end to end, through a real
 * CLI bundle (src/cli/main.ts, built by test/helpers/cli.ts): a checkpoint
 * with a run card -> export all three formats -> import the TF.js folder and
 * the safetensors file back into checkpoints (same weights bit for bit) ->
 * efficiency report; a tiny sweep; refusals exit 2 with usage.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureCheckpoint, decodeCheckpoint } from '../../src/engine/checkpoint.ts';
import { Model } from '../../src/engine/model.ts';
import { lenet5 } from '../../src/model/spec.ts';
import { writeFileAtomic } from '../../src/util/node-files.ts';
import { buildRunCard } from '../../src/engine/run-card.ts';
import { runCli } from '../helpers/cli.ts';
import { testGpu } from '../helpers/gpu.ts';

const run = (args: string[]) => runCli(args);

describe('export / import / report / sweep commands', () => {
  let out = '';
  let ckpt = '';
  let weights: Float32Array;
  beforeAll(async () => {
    mkdirSync('test-output', { recursive: true });
    out = mkdtempSync(join('test-output', 'interop-cli-'));
    const gpu = await testGpu();
    const model = await Model.create(gpu, lenet5, { seed: 21, batchSize: 32 });
    weights = await model.getWeights();
    const card = buildRunCard({ spec: lenet5, seed: 21, batchSize: 32, optimizer: model.optimizer.config, trainImages: 0, adapter: gpu.report });
    ckpt = join(out, 'model.ckpt');
    writeFileAtomic(ckpt, await captureCheckpoint(model, 0, card as unknown as Record<string, unknown>));
    model.dispose();
  });

  it('export all writes the TF.js folder, the ONNX file and the safetensors file', () => {
    const r = run(['export', '--checkpoint', ckpt, '--format', 'all', '--out', join(out, 'exported')]);
    expect(r.status, r.stderr).toBe(0);
    for (const file of ['tfjs/model.json', 'tfjs/group1-shard1of1.bin', 'model.onnx', 'model.safetensors']) expect(existsSync(join(out, 'exported', file)), file).toBe(true);
    expect(r.stdout).toContain('exported lenet5 (61,706 parameters, epoch 0)');
    const json = JSON.parse(readFileSync(join(out, 'exported', 'tfjs', 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.lenetGpu.runCard.seed).toBe(21);
  });

  it.each(['tfjs', 'model.safetensors'])('import reads %s back into a checkpoint holding the same weights', (name) => {
    const target = join(out, `imported-${name === 'tfjs' ? 'tfjs' : 'st'}.ckpt`);
    const r = run(['import', '--from', join(out, 'exported', name), '--out', target, '--test-limit', '64']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('read 61,706 parameters');
    expect(r.stdout).toMatch(/test \(64 images\): loss [\d.]+ {2}accuracy [\d.]+%/);
    const { header, params } = decodeCheckpoint(new Uint8Array(readFileSync(target)));
    expect(Buffer.from(params.buffer).equals(Buffer.from(weights.buffer))).toBe(true);
    expect((header.runCard as { notes: string[] }).notes.some((n) => n.startsWith('imported from'))).toBe(true);
  });

  it('report prints parameters and FLOPs per layer, with the accuracy the run card holds', () => {
    const r = run(['report', '--checkpoint', join(out, 'imported-tfjs.ckpt')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('| **total** | | | **61,706** | 100% | **833,040** | 100% |');
    expect(r.stdout).toMatch(/Test accuracy \d+\.\d\d% on 64 test images/);
    const csv = run(['report', '--preset', 'lenet5-variant', '--csv']);
    expect(csv.stdout.trim().split('\n').at(-1)).toMatch(/^total,,,44300,/);
  });

  it('a tiny sweep writes its table, CSV, chart and JSON', () => {
    const dir = join(out, 'sweep');
    const r = run(['sweep', '--pools', 'avg,max', '--batch-sizes', '32', '--epochs', '1', '--max-steps-per-epoch', '3', '--train-limit', '320', '--test-limit', '64', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'sweep.md'), 'utf8')).toMatch(/\| avg-pool batch 32 \| tanh \| avg \|[\s\S]*\| max-pool batch 32 \| tanh \| max \|/);
    expect(readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(readFileSync(join(dir, 'sweep-curves.svg'), 'utf8')).toContain('<svg');
    expect(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).rows).toHaveLength(2);
  });

  it('refuses bad usage with exit code 2 and says why', () => {
    const noFormat = run(['export', '--checkpoint', ckpt]);
    expect(noFormat.status).toBe(2);
    expect(noFormat.stderr).toContain('--format must be tfjs, onnx, safetensors or all');
    const badAxis = run(['sweep', '--pools', 'avg,min']);
    expect(badAxis.status).toBe(2);
    expect(badAxis.stderr).toContain('--pools: "min" is not one of avg, max');
    const wrongModel = run(['import', '--from', join(out, 'exported', 'model.safetensors'), '--preset', 'lenet5-variant', '--no-evaluate', '--out', join(out, 'x.ckpt')]);
    expect(wrongModel.status).toBe(1);
    expect(wrongModel.stderr).toMatch(/does not fit lenet5-variant/);
  });
});
