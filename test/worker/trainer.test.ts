/**
 * The worker API (lenet-gpu/worker) end to end in Node: serveTrainer on one
 * end of a MessageChannel with the Node device, TrainerClient on the other,
 * so every call, event, transfer and error crosses structured clone exactly as
 * it does between a page and its worker (the browser itself is covered by the
 * page's e2e test and the packaged consumer app).
 *
 * What must hold: training through the worker gives bit-identical weights to
 * fit on this thread; progress events arrive while it runs; a predict issued
 * during a fit returns before the fit ends and changes nothing; pause holds
 * the run and stop ends it; checkpoint bytes round-trip; errors thrown in the
 * worker come back as the engine's own classes with their fields.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { CheckpointError, decodeCheckpoint } from '../../src/engine/checkpoint.ts';
import { evaluate } from '../../src/engine/evaluate.ts';
import { fit, type EpochLog, type FitOptions, type StepEvent } from '../../src/engine/fit.ts';
import { Model } from '../../src/engine/model.ts';
import { ModelBusyError } from '../../src/engine/model-turns.ts';
import { requestGpu } from '../../src/gpu/device-node.ts';
import { GpuDeviceLostError } from '../../src/gpu/errors.ts';
import { SpecError } from '../../src/model/infer.ts';
import { lenet5, type ModelSpec } from '../../src/model/spec.ts';
import { TrainerClient, type RemoteDataset } from '../../src/worker/client.ts';
import { reviveError, serializeError } from '../../src/worker/errors.ts';
import { serveTrainer } from '../../src/worker/host.ts';
import type { HostScope, WorkerLike } from '../../src/worker/protocol.ts';
import { testGpu } from '../helpers/gpu.ts';
import { mnistSlice } from '../helpers/mnist.ts';

const BATCH = 32;
const FIT: FitOptions = { epochs: 2, validationSplit: 0.2, stepsPerSubmit: 2 };

/** A MessagePort that starts delivering once a listener is added (as a Worker does). */
function started(port: MessagePort): MessagePort {
  const add = port.addEventListener.bind(port);
  (port as unknown as { addEventListener: typeof add }).addEventListener = ((type: string, listener: (event: Event) => void) => {
    add(type as 'message', listener as never);
    port.start();
  }) as typeof add;
  return port;
}

/** fit on this thread with seed 3 (the first test trains it; the recovery test compares with it). */
const localReference: { weights?: Float32Array } = {};

describe('training through the worker API', () => {
  let client: TrainerClient;
  let stopHost: () => void;
  let train: ImageDataset;
  let test: ImageDataset;
  let remoteTrain: RemoteDataset;
  let remoteTest: RemoteDataset;
  const lost: { reason: string }[] = [];

  beforeAll(async () => {
    const { port1, port2 } = new MessageChannel();
    stopHost = serveTrainer({ scope: started(port1) as unknown as HostScope, requestGpu: (o) => requestGpu(o) });
    client = await TrainerClient.connect(started(port2) as unknown as WorkerLike, { onDeviceLost: (info) => lost.push(info) });
    train = await mnistSlice('train', 0, 800);
    test = await mnistSlice('test', 0, 300);
    // A copy moved into the "worker": the transfer empties this side's arrays, never the test's originals.
    const copy = { ...train, pixels: train.pixels.slice(), labels: train.labels.slice() };
    remoteTrain = await client.addDataset(copy, { transfer: true });
    expect(copy.pixels.length).toBe(0);
    remoteTest = await client.addDataset(test);
  });
  afterAll(async () => {
    await client?.close();
    stopHost?.();
  });

  it('reports the adapter and keeps data sets by handle', async () => {
    expect(client.adapter?.runtime).toMatch(/^node/);
    expect(remoteTrain).toMatchObject({ count: 800, rows: 28, cols: 28 });
    const part = await remoteTest.subset({ start: 10, end: 13 });
    const back = await part.read();
    expect(back.count).toBe(3);
    expect(back.pixels).toEqual(test.pixels.subarray(10 * 784, 13 * 784));
    expect(back.labels).toEqual(test.labels.subarray(10, 13));
  });

  it('trains bit-identically to fit on this thread, with events, and predicts during the run', async () => {
    const gpu = await testGpu();
    const local = await Model.create(gpu, lenet5, { batchSize: BATCH, seed: 3 });
    const localHistory = await fit(local, train, FIT);
    const localWeights = await local.getWeights();
    const localEval = await evaluate(local, test);
    local.dispose();
    localReference.weights = localWeights;

    const model = await client.createModel(lenet5, { batchSize: BATCH, seed: 3 });
    expect(model).toMatchObject({ name: 'lenet5', paramCount: 61_706, batchSize: BATCH, outputClasses: 10, inputShape: [1, 28, 28] });
    expect(model.summary()).toContain('61,706');
    const steps: StepEvent[] = [];
    const epochs: EpochLog[] = [];
    let firstStep!: () => void;
    const running = new Promise<void>((r) => (firstStep = r));
    let fitDone = false;
    const run = model.fit(remoteTrain, { ...FIT, onStep: (e) => (steps.push(e), firstStep()), onEpochEnd: (log) => epochs.push(log) });
    void Promise.resolve(run).finally(() => (fitDone = true));
    await running;
    const during = await model.predict(test.pixels.subarray(0, 2 * 784), 2);
    const predictedDuringFit = !fitDone;
    const history = await run;

    expect(predictedDuringFit).toBe(true);
    expect(during.probabilities).toHaveLength(20);
    expect(during.probabilities.subarray(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(history.epochs.map((e) => e.loss)).toEqual(localHistory.epochs.map((e) => e.loss));
    expect(history.epochs.map((e) => e.valAccuracy)).toEqual(localHistory.epochs.map((e) => e.valAccuracy));
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(steps.length).toBeGreaterThan(4);
    expect(steps.at(-1)!.step).toBe(steps.at(-1)!.stepsPerEpoch);
    expect(await model.getWeights()).toEqual(localWeights);

    const evaluation = await model.evaluate(remoteTest);
    expect(evaluation.accuracy).toBe(localEval.accuracy);
    expect(evaluation.probabilities).toEqual(localEval.probabilities);
    expect(evaluation.report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);

    // Checkpoint bytes come over whole; a model rebuilt from them predicts identically.
    const bytes = await model.captureCheckpoint(history.epochs.length, { batchSize: BATCH, trainedIn: 'test' });
    expect(decodeCheckpoint(bytes).header.epoch).toBe(2);
    const { model: rebuilt, header } = await client.modelFromCheckpoint(bytes, { source: 'trained.ckpt' });
    expect(header.spec.name).toBe('lenet5');
    expect(rebuilt.batchSize).toBe(BATCH);
    expect(await rebuilt.getWeights()).toEqual(localWeights);
    const images = test.pixels.subarray(0, 5 * 784);
    expect((await rebuilt.predict(images, 5)).probabilities).toEqual((await model.predict(images, 5)).probabilities);
    await rebuilt.dispose();
    await model.dispose();
    await expect(model.predict(images, 5)).rejects.toThrow(/model \d+ is not in the training worker/);
  });

  it('pauses, resumes and stops a run from this thread', async () => {
    const model = await client.createModel(lenet5, { batchSize: BATCH, seed: 4 });
    const steps: StepEvent[] = [];
    let firstStep!: () => void;
    const running = new Promise<void>((r) => (firstStep = r));
    const run = model.fit(remoteTrain, { epochs: 20, validationSplit: 0, stepsPerSubmit: 1, onStep: (e) => (steps.push(e), firstStep()) });
    await running;
    await run.pause();
    expect(run.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // submits already queued land
    const held = steps.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(steps.length).toBe(held);
    await run.resume();
    await new Promise((r) => setTimeout(r, 1000));
    expect(steps.length).toBeGreaterThan(held);
    await run.stop();
    const history = await run;
    expect(history.stopReason).toBe('stopped');
    expect(history.epochs.length).toBeLessThan(20);
    await model.dispose();
  });

  it('throws the engine errors thrown in the worker as their own classes', async () => {
    const bad: ModelSpec = { ...lenet5, layers: [{ type: 'conv2d', filters: 6, kernelSize: 40 }, ...lenet5.layers.slice(1)] } as ModelSpec;
    const specError = await client.createModel(bad).catch((e: unknown) => e);
    expect(specError).toBeInstanceOf(SpecError);
    expect((specError as Error).name).toBe('SpecError');
    expect((specError as Error).message).toMatch(/conv2d_1/);
    expect((specError as Error).stack).toContain('in the training worker');

    const model = await client.createModel(lenet5, { batchSize: BATCH, seed: 5 });
    const garbage = new Uint8Array(64).fill(7);
    const checkpointError = await model.restoreCheckpoint(garbage, 'garbage.ckpt').catch((e: unknown) => e);
    expect(checkpointError).toBeInstanceOf(CheckpointError);
    expect((checkpointError as Error).message).toContain('garbage.ckpt');

    const first = model.fit(remoteTrain, { epochs: 1, validationSplit: 0, maxStepsPerEpoch: 6 });
    const second = await Promise.resolve(model.fit(remoteTrain, { epochs: 1 })).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ModelBusyError);
    await first;
    await expect(model.predict(new Uint8Array(10), 1)).rejects.toThrow(/predict got 10 pixel bytes/);
    await model.dispose();
    expect(lost).toEqual([]);
  });

  it('survives a lost device in the worker with recover: same weights, checkpoints sent over, the recovery reported', async () => {
    const model = await client.createModel(lenet5, { batchSize: BATCH, seed: 3 });
    const checkpoints: number[] = [];
    const recoveries: unknown[] = [];
    let lost = false;
    const history = await model.fit(remoteTrain, {
      ...FIT,
      recover: true,
      onStep: (e) => {
        if (e.epoch === 2 && e.step >= 4 && !lost) {
          lost = true;
          void client.loseDeviceForTesting();
        }
      },
      onCheckpoint: (bytes, epoch, state) => {
        expect(decodeCheckpoint(bytes).header.epoch).toBe(epoch);
        expect(state.epoch).toBe(epoch);
        checkpoints.push(epoch);
      },
      onRecovering: (r) => recoveries.push(r),
    });
    expect(lost).toBe(true);
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]).toMatchObject({ reason: 'destroyed', resumedFrom: { epoch: 1, step: 0 } });
    expect(history.recoveries).toHaveLength(1);
    expect(checkpoints).toEqual([1, 2]);
    // The handle names the model rebuilt on the new device, which ended as fit on this thread did (first test).
    expect(await model.getWeights()).toEqual(localReference.weights);
    await model.dispose();
  });

  it('revives error fields (GpuDeviceLostError.reason) and unknown classes as named Errors', () => {
    const revived = reviveError(serializeError(new GpuDeviceLostError('the GPU device was lost', 'unknown')), 'fit');
    expect(revived).toBeInstanceOf(GpuDeviceLostError);
    expect((revived as GpuDeviceLostError).reason).toBe('unknown');
    const custom = new Error('odd');
    custom.name = 'SomethingElse';
    const other = reviveError(serializeError(custom), 'fit');
    expect(other).toBeInstanceOf(Error);
    expect(other.name).toBe('SomethingElse');
    expect(reviveError(serializeError('a string'), 'x').message).toBe('a string');
  });

  it('fails pending and later calls clearly once the trainer is closed', async () => {
    const { port1, port2 } = new MessageChannel();
    const stop = serveTrainer({ scope: started(port1) as unknown as HostScope, requestGpu: (o) => requestGpu(o) });
    const other = await TrainerClient.connect(started(port2) as unknown as WorkerLike);
    await other.close();
    await expect(other.createModel(lenet5)).rejects.toThrow(/closed/);
    stop();
  });
});
