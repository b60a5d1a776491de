/**
 * Nothing lost: the real CLI process, interrupted in every way a run can be,
 * resumed with `--resume auto` (or the command it printed), ends with exactly
 * the weights, history and test metrics of an uninterrupted run with the same
 * seed. Faults come from LENET_GPU_FAULT (src/cli/faults.ts) where they must
 * land at a precise point (a SIGKILL inside epoch 1, inside epoch 2, halfway
 * through a checkpoint write; a SIGINT mid-epoch; a device lost after resuming
 * from that mid-epoch point), and from
 * outside the process where the point does not matter (two SIGTERMs once the
 * first epoch is saved: the second exits at once). And an output folder that
 * cannot be written is refused before any training.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/engine/checkpoint.ts';
import { fitStateFromCheckpoint } from '../../src/engine/fit-state.ts';
import type { EpochLog, History } from '../../src/engine/fit.ts';
import { cliScript } from '../helpers/cli.ts';

/** A small run: 480 training images in 15 steps of 32 per epoch, 3 epochs, early stopping that restores the best weights. */
const RUN = ['--train-limit', '640', '--validation-split', '0.25', '--batch-size', '32', '--epochs', '3', '--test-limit', '200', '--steps-per-submit', '2', '--restore-best'];

function cli(args: string[], fault?: string): SpawnSyncReturns<string> {
  const env = { ...process.env, LENET_GPU_FAULT: fault ?? '' };
  return spawnSync(process.execPath, [cliScript(), 'train', ...args], { encoding: 'utf8', env, timeout: 300_000 });
}

interface RunResult {
  history: History;
  test: { loss: number; accuracy: number; macroAuc: number };
  weights: Float32Array;
}

function finished(out: string): RunResult {
  const exact = (epochs: EpochLog[]): EpochLog[] => epochs.map(({ epoch, loss, accuracy, valLoss, valAccuracy, steps }) => ({ epoch, loss, accuracy, valLoss, valAccuracy, steps }) as EpochLog);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as History;
  const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as { test: RunResult['test'] };
  return { history: { ...history, epochs: exact(history.epochs) }, test: evaluation.test, weights: decodeCheckpoint(readFileSync(join(out, 'model.ckpt'))).params };
}

const lastState = (out: string): ReturnType<typeof fitStateFromCheckpoint> => fitStateFromCheckpoint(decodeCheckpoint(readFileSync(join(out, 'last.ckpt'))));

describe('an interrupted CLI run, resumed, ends as an uninterrupted one', () => {
  let root: string;
  let reference: RunResult;
  beforeAll(() => {
    mkdirSync('test-output', { recursive: true });
    root = resolve(mkdtempSync(join('test-output', 'interrupt-')));
    const out = join(root, 'reference');
    const run = cli([...RUN, '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    reference = finished(out);
    expect(reference.history.epochs).toHaveLength(3);
  }, 300_000);

  it('SIGKILL in epoch 1, in epoch 2 and halfway through a checkpoint write, SIGINT mid-epoch, then the printed command finishes the run through a lost device', () => {
    const out = join(root, 'chain');
    const args = [...RUN, '--out', out];
    // 1. Killed in epoch 1: nothing was saved, and --resume auto starts the run afresh.
    let run = cli(args, 'kill@1:6');
    expect(run.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'last.ckpt'))).toBe(false);
    // 2. Killed in epoch 2: epoch 1's files are complete.
    run = cli([...args, '--resume', 'auto'], 'kill@2:6');
    expect(run.stdout).toContain('starting a new run');
    expect(run.signal).toBe('SIGKILL');
    expect(lastState(out)).toMatchObject({ epoch: 1, step: 0 });
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).epochs).toHaveLength(1);
    // 3. Killed halfway through writing epoch 2's last.ckpt: the half-written file is a temporary one; last.ckpt is still epoch 1's.
    run = cli([...args, '--resume', 'auto'], 'kill@checkpoint:1');
    expect(run.stdout).toContain('resuming from');
    expect(run.signal).toBe('SIGKILL');
    const partial = readdirSync(out).filter((f) => f.startsWith('last.ckpt.tmp-'));
    expect(partial).toHaveLength(1);
    expect(statSync(join(out, partial[0])).size).toBeLessThan(statSync(join(out, 'last.ckpt')).size);
    expect(() => decodeCheckpoint(readFileSync(join(out, partial[0])))).toThrow();
    expect(lastState(out)).toMatchObject({ epoch: 1, step: 0 });
    // 4. Ctrl-C in epoch 3: stops at the next submit, saves that step, prints the command that continues, exits 130.
    run = cli([...args, '--resume', 'auto'], 'sigint@3:4');
    expect(run.stdout).toContain('removed 1 temporary file(s)');
    expect(run.status, run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping at the next submit');
    const state = lastState(out)!;
    expect(state.epoch).toBe(2);
    expect(state.step).toBeGreaterThanOrEqual(4);
    expect(state.step).toBeLessThan(15);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const command = /To continue exactly where it stopped:\n {2}(.+)\n/.exec(run.stdout)?.[1];
    expect(command).toBeDefined();
    // 5. The printed command, as printed (node, the CLI script, train --resume <file>); its device is lost in epoch 3, so the
    //    recovery starts from the mid-epoch checkpoint it resumed from.
    const [node, ...rest] = command!.split(' ');
    expect(['node', process.execPath]).toContain(node);
    expect(rest.slice(1)).toEqual(['train', '--resume', join(out, 'last.ckpt')]);
    const last = spawnSync(process.execPath, rest, { encoding: 'utf8', env: { ...process.env, LENET_GPU_FAULT: 'lose-device@3:10' }, timeout: 300_000 });
    expect(last.status, last.stderr).toBe(0);
    expect(last.stdout).toMatch(/resuming from .* at step \d+ of epoch 3/);
    expect(last.stderr).toMatch(/the GPU device was lost \(destroyed\) in epoch 3; requesting a new one/);
    expect(last.stdout).toMatch(/survived 1 lost device\(s\); \d+ step\(s\) trained again/);
    const { recoveries } = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as History;
    expect(recoveries).toEqual([expect.objectContaining({ reason: 'destroyed', resumedFrom: { epoch: 2, step: state.step } })]);
    expect(recoveries![0].stepsRedone).toBeGreaterThanOrEqual(10 - state.step);
    expect(JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')).recoveries).toBe(1);
    // It continued: only epoch 3 was trained (and logged) by this process.
    expect(last.stdout).toMatch(/^epoch 3\/3 {2}loss/m);
    expect(last.stdout).not.toMatch(/^epoch [12]\/3 {2}loss/m);
    const result = finished(out);
    expect(result.history.epochs).toEqual(reference.history.epochs);
    expect(result.history.stopReason).toBe(reference.history.stopReason);
    expect(result.test).toEqual(reference.test);
    expect(result.weights).toEqual(reference.weights);
    expect(existsSync(join(out, 'best.ckpt'))).toBe(true);
  }, 300_000);

  it('SIGTERM twice from outside once epoch 1 is saved: exits at once, the last complete checkpoint intact', async () => {
    const out = join(root, 'sigterm');
    const child = spawn(process.execPath, [cliScript(), 'train', ...RUN, '--out', out], { env: { ...process.env, LENET_GPU_FAULT: '' } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((ok) => child.on('close', ok));
    while (!existsSync(join(out, 'last.ckpt'))) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('SIGTERM: stopping at the next submit');
    expect(stderr).toContain('SIGTERM again: exiting now; the last complete checkpoint is kept');
    const state = lastState(out)!; // complete and readable: its checksum holds
    expect(state.epoch).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).epochs.length).toBe(state.epoch);
  }, 300_000);

  it('refuses an output folder it cannot write before loading data or touching the GPU', () => {
    const out = join(root, 'read-only');
    mkdirSync(out);
    chmodSync(out, 0o555);
    // Root writes wherever a mode forbids it, by CAP_DAC_OVERRIDE: drop that (util-linux's setpriv), so the mode holds as for anyone.
    const command = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', process.execPath] : [process.execPath];
    const run = spawnSync(command[0], [...command.slice(1), cliScript(), 'train', ...RUN, '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/the output folder .*read-only cannot be written \(EACCES: .*\); nothing was trained\. Choose another folder with --out/);
    expect(run.stdout).not.toContain('adapter:'); // refused before the GPU was asked for
    expect(readdirSync(out)).toEqual([]);
  });
});
