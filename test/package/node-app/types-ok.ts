// Type-checked against the installed declarations (strict, no skipLibCheck): the API as a TypeScript
// program sees it, Node and worker entry points included. It is never run.
import {
  CheckpointError,
  evaluate,
  fit,
  GpuDeviceLostError,
  Model,
  ModelBusyError,
  NumericalError,
  presets,
  requestGpu,
  SpecError,
  WebGpuUnavailableError,
  type EpochLog,
  type FitOptions,
  type History,
  type ImageDataset,
  type ModelSpec,
} from 'lenet-gpu';
import { loadMnistNode, saveCheckpointFile } from 'lenet-gpu/node';
import { serveTrainer, TrainerClient, type RemoteFit, type RemoteModel, type WorkerLike } from 'lenet-gpu/worker';

const options: FitOptions = {
  epochs: 3,
  validationSplit: 0.2,
  earlyStopping: { monitor: 'valLoss', patience: 2, restoreBestWeights: true },
  onEpochEnd: (log: EpochLog) => console.log(log.epoch, log.valAccuracy ?? 'no validation'),
};

export async function trainHere(spec: ModelSpec = presets.lenet5): Promise<number> {
  try {
    const gpu = await requestGpu();
    const model = await Model.create(gpu, spec, { batchSize: 32, seed: 7, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 } });
    const { train, test }: { train: ImageDataset; test: ImageDataset } = await loadMnistNode();
    const history: History = await fit(model, train, options);
    await saveCheckpointFile(model, 'model.ckpt', history.epochs.length);
    return (await evaluate(model, test)).accuracy;
  } catch (error) {
    if (error instanceof WebGpuUnavailableError || error instanceof SpecError || error instanceof NumericalError) return -1;
    if (error instanceof GpuDeviceLostError) return error.reason === 'destroyed' ? -2 : -3;
    if (error instanceof ModelBusyError || error instanceof CheckpointError) return -4;
    throw error;
  }
}

export async function trainInWorker(worker: WorkerLike): Promise<Float32Array> {
  const trainer = await TrainerClient.connect(worker, { onDeviceLost: ({ reason }) => console.error(reason) });
  const { train } = await trainer.loadMnist('mnist/');
  const model: RemoteModel = await trainer.createModel(presets.lenet5, { batchSize: 64 });
  const run: RemoteFit = model.fit(train, { epochs: 1, onStep: (e) => console.log(e.loss, e.samplesPerSecond) });
  await run.pause();
  await run.resume();
  const history: History = await run;
  const bytes: Uint8Array = await model.captureCheckpoint(history.epochs.length, { note: 'typed' });
  console.log(bytes.length, (await model.predict(new Uint8Array(784), 1)).classes[0]);
  return model.getWeights();
}

export const serve = (): (() => void) => serveTrainer();
