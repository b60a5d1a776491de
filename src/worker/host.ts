/**
 * The worker's end (protocol.ts): one GPU device, the data sets and models the
 * page created, and the fits running on them, all driven by messages.
 *
 * Calls run concurrently: a fit awaits the GPU between submits, so a predict,
 * an evaluate or a checkpoint capture arriving meanwhile takes the model's turn
 * between two training submits (engine/model-turns.ts), exactly as on the main
 * thread, and training goes on bit-identically. Pause and stop set the fit's
 * control object, which fit reads between submits.
 *
 * Usage, in a module worker of your own (`new Worker(url, { type: 'module' })`):
 *
 *   import { serveTrainer } from 'lenet-gpu/worker';
 *   serveTrainer();
 */
import { subset, type ImageDataset } from '../data/dataset.ts';
import { loadMnistFromUrls } from '../data/mnist-browser.ts';
import { captureCheckpoint, restoreCheckpoint } from '../engine/checkpoint.ts';
import { modelFromCheckpoint } from '../engine/checkpoint-model.ts';
import { fitModelWithRecovery } from '../engine/resilient-fit.ts';
import { evaluate, predict } from '../engine/evaluate.ts';
import { fit, type EpochLog, type StepEvent, type TrainingControl } from '../engine/fit.ts';
import { Model } from '../engine/model.ts';
import { requestGpu as browserRequestGpu, type Gpu, type GpuOptions } from '../gpu/device.ts';
import { formatSummary } from '../model/summary.ts';
import { serializeError } from './errors.ts';
import type { CallMessage, DatasetInfo, HostScope, ModelInfo, TrainerOp, TrainerOps, WorkerMessage } from './protocol.ts';

export interface ServeOptions {
  /** Where messages come from and go to. Default: the worker's global scope (`self`). */
  scope?: HostScope;
  /** How the worker gets its device. Default: navigator.gpu (WebGPU in dedicated workers). */
  requestGpu?: (options: GpuOptions) => Promise<Gpu>;
}

type Handlers = { [Op in TrainerOp]: (...args: TrainerOps[Op]['args']) => Promise<TrainerOps[Op]['result']> | TrainerOps[Op]['result'] };

/** Operations whose results are arrays made for the caller alone: their buffers move to the page instead of being copied. */
const FRESH_RESULTS = new Set<TrainerOp>(['evaluate', 'predict', 'captureCheckpoint', 'readDataset', 'getWeights']);

/** The whole buffers of the typed arrays in a result (and in its fields, two levels down). */
function transferables(value: unknown): Transferable[] {
  const found = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number): void => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) found.add(v.buffer);
    } else if (v && typeof v === 'object' && depth < 2) {
      for (const inner of Object.values(v)) visit(inner, depth + 1);
    }
  };
  visit(value, 0);
  return [...found];
}

/** Starts answering a page's TrainerClient. Returns a function that stops and releases everything. */
export function serveTrainer(options: ServeOptions = {}): () => void {
  const scope = options.scope ?? (globalThis as unknown as HostScope);
  const getGpu = options.requestGpu ?? browserRequestGpu;
  const post = (message: WorkerMessage, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

  let gpu: Gpu | undefined;
  let gpuRequest: Promise<Gpu> | undefined;
  let gpuOptions: GpuOptions = {};
  /** Fits running with recovery: a lost device is theirs to report, as a recovery, not as the end. */
  let recovering = 0;
  let nextId = 1;
  const datasets = new Map<number, ImageDataset>();
  const models = new Map<number, Model>();
  const controls = new Map<number, TrainingControl>();

  const useGpu = (): Gpu => {
    if (!gpu) throw new Error('the training worker has no GPU device yet: call TrainerClient.connect first');
    return gpu;
  };
  const useDataset = (id: number): ImageDataset => {
    const data = datasets.get(id);
    if (!data) throw new RangeError(`data set ${id} is not in the training worker (released, or made by another client)`);
    return data;
  };
  const useModel = (id: number): Model => {
    const model = models.get(id);
    if (!model) throw new RangeError(`model ${id} is not in the training worker (disposed, or made by another client)`);
    return model;
  };
  const keepDataset = (data: ImageDataset): DatasetInfo => {
    const id = nextId++;
    datasets.set(id, data);
    return { id, count: data.count, rows: data.rows, cols: data.cols };
  };
  const keepModel = (model: Model): ModelInfo => {
    const id = nextId++;
    models.set(id, model);
    const { plan } = model;
    return {
      id,
      name: plan.name,
      spec: model.spec,
      paramCount: plan.paramCount,
      batchSize: model.batchSize,
      seed: model.seed,
      variant: model.variant,
      inputShape: plan.inputShape,
      outputClasses: plan.outputClasses,
      summary: formatSummary(plan),
    };
  };
  const release = (): void => {
    for (const control of controls.values()) control.stopRequested = true;
    for (const model of models.values()) model.dispose();
    models.clear();
    datasets.clear();
    gpu?.destroy();
    gpu = undefined;
    gpuRequest = undefined;
  };

  const handlers: Handlers = {
    async connect(requested) {
      gpuOptions = {
        ...requested,
        onLost: (info) => {
          if (recovering === 0) post({ kind: 'deviceLost', reason: info.reason, message: info.message });
        },
        onError: (error) => post({ kind: 'gpuError', message: error.message }),
      };
      // One device per worker, also when two calls race; a failed request may be retried.
      gpuRequest ??= getGpu(gpuOptions).catch((error: unknown) => {
        gpuRequest = undefined;
        throw error;
      });
      gpu = await gpuRequest;
      return gpu.report;
    },
    async loadMnist(source) {
      const started = performance.now();
      const { train, test } = await loadMnistFromUrls(source);
      return { train: keepDataset(train), test: keepDataset(test), seconds: (performance.now() - started) / 1000 };
    },
    addDataset: (data) => keepDataset(data),
    subset: (id, range) => keepDataset(subset(useDataset(id), range)),
    readDataset(id, range) {
      const data = useDataset(id);
      const part = range ? subset(data, range) : data;
      // Copies of exactly the part asked for, so they can be transferred whole.
      return { ...part, pixels: part.pixels.slice(), labels: part.labels.slice() };
    },
    releaseDataset: (id) => void datasets.delete(id),
    createModel: async (spec, modelOptions) => keepModel(await Model.create(useGpu(), spec, modelOptions)),
    async modelFromCheckpoint(bytes, source, modelOptions) {
      const { model, header, state } = await modelFromCheckpoint(useGpu(), bytes, { source, batchSize: modelOptions.batchSize, variant: modelOptions.variant });
      return { model: keepModel(model), header, state };
    },
    async fit(modelId, datasetId, run, fitOptions, events) {
      const control: TrainingControl = { paused: false, stopRequested: false };
      controls.set(run, control);
      const options = {
        ...fitOptions,
        control,
        onStep: events.step ? (event: StepEvent) => post({ kind: 'step', run, event }) : undefined,
        onEpochEnd: events.epochEnd ? (log: EpochLog) => post({ kind: 'epochEnd', run, log }) : undefined,
      };
      try {
        if (!events.recover) return await fit(useModel(modelId), useDataset(datasetId), options);
        recovering++;
        const result = await fitModelWithRecovery(useModel(modelId), useDataset(datasetId), options, {
          requestGpu: async () => {
            gpu = await getGpu(gpuOptions);
            gpuRequest = Promise.resolve(gpu);
            return gpu;
          },
          onDeviceLost: (recovery) => post({ kind: 'recovering', run, recovery }),
          // Predictions during the rest of the run go to the rebuilt model.
          onRebuilt: (model) => models.set(modelId, model),
          // A copy moves to the page; the recovery keeps its own.
          onCheckpoint: events.checkpoints
            ? (bytes, epoch, state) => {
                const copy = bytes.slice();
                post({ kind: 'checkpoint', run, epoch, bytes: copy, state }, [copy.buffer]);
              }
            : undefined,
        });
        return result.history;
      } finally {
        if (events.recover) recovering--;
        controls.delete(run);
      }
    },
    controlFit(run, change) {
      const control = controls.get(run);
      if (control) Object.assign(control, change); // a run that already ended has nothing to change
    },
    evaluate: (modelId, datasetId) => evaluate(useModel(modelId), useDataset(datasetId)),
    predict: (modelId, pixels, count) => predict(useModel(modelId), pixels, count),
    captureCheckpoint: (modelId, epoch, runCard) => captureCheckpoint(useModel(modelId), epoch, runCard),
    restoreCheckpoint: (modelId, bytes, source) => restoreCheckpoint(useModel(modelId), bytes, source),
    getWeights: (modelId) => useModel(modelId).getWeights(),
    loseDevice() {
      useGpu().device.destroy();
    },
    disposeModel(modelId) {
      models.get(modelId)?.dispose();
      models.delete(modelId);
    },
    close: () => release(), // the scope closes once this call is answered (onMessage)
  };

  const onMessage = (event: MessageEvent): void => {
    const message = event.data as CallMessage;
    if (message?.kind !== 'call') return;
    const handler = handlers[message.op] as ((...args: unknown[]) => unknown) | undefined;
    void (async () => {
      try {
        if (!handler) throw new TypeError(`the training worker has no operation "${String(message.op)}" (client and worker from different lenet-gpu versions?)`);
        const value = await handler(...(message.args as unknown[]));
        post({ kind: 'result', id: message.id, value }, FRESH_RESULTS.has(message.op) ? transferables(value) : []);
        if (message.op === 'close') scope.close?.();
      } catch (error) {
        post({ kind: 'error', id: message.id, error: serializeError(error) });
      }
    })();
  };
  scope.addEventListener('message', onMessage);
  return release;
}
