/**
 * The page's end (protocol.ts): a typed client for a dedicated worker that
 * runs serveTrainer, with the engine's operations as promises. Training runs
 * there, so the page's main thread only receives progress events; the models
 * and data sets stay in the worker and are named here by handles.
 *
 *   const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
 *   const trainer = await TrainerClient.connect(worker);          // WebGpuUnavailableError if none
 *   const { train, test } = await trainer.loadMnist('/mnist/');
 *   const model = await trainer.createModel(presets.lenet5, { batchSize: 64 });
 *   const run = model.fit(train, { epochs: 2, onStep: (e) => console.log(e.loss) });
 *   run.pause(); run.resume();                                    // or run.stop()
 *   const history = await run;
 *   const { accuracy } = await model.evaluate(test);
 *
 * Errors thrown in the worker are thrown here as the same class (errors.ts).
 * This module imports no engine code besides the error classes, so a page that
 * only drives a worker stays small.
 */
import type { ImageDataset, IndexRange } from '../data/dataset.ts';
import type { MnistUrls } from '../data/mnist-browser.ts';
import type { CheckpointHeader } from '../engine/checkpoint.ts';
import type { Evaluation, Prediction } from '../engine/evaluate.ts';
import type { FitOptions, History, Recovery } from '../engine/fit.ts';
import type { FitState } from '../engine/fit-state.ts';
import type { ModelOptions } from '../engine/model.ts';
import type { AdapterReport } from '../gpu/device.ts';
import type { ModelSpec } from '../model/spec.ts';
import { reviveError } from './errors.ts';
import type { DatasetInfo, ModelInfo, TrainerOp, TrainerOps, WorkerFitOptions, WorkerGpuOptions, WorkerLike, WorkerMessage } from './protocol.ts';

export interface TrainerConnectOptions extends WorkerGpuOptions {
  /** Called once if the worker's device is lost (a fit running then fails with GpuDeviceLostError). */
  onDeviceLost?: (info: { reason: string; message: string }) => void;
  /** Called for every uncaptured GPU error in the worker. */
  onGpuError?: (message: string) => void;
}

/** fit's options for a model in a worker: the same as fit's, with the callbacks called on this thread. */
export type RemoteFitOptions = WorkerFitOptions &
  Pick<FitOptions, 'onStep' | 'onEpochEnd'> & {
    /**
     * Survive a lost device (fitModelWithRecovery in the worker): a new
     * device, the model rebuilt from the last epoch checkpoint, the same
     * result. The model handle then names the rebuilt model.
     */
    recover?: boolean;
    /** Each epoch-end checkpoint, with the fit's state (its `resume` continues the run exactly): to keep it, e.g. in IndexedDB. */
    onCheckpoint?: (bytes: Uint8Array, epoch: number, state: FitState) => void;
    /** Told when the device was lost and training goes on on a new one (with recover). */
    onRecovering?: (recovery: Recovery) => void;
  };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  op: TrainerOp;
}

type RunListeners = Pick<RemoteFitOptions, 'onStep' | 'onEpochEnd' | 'onCheckpoint' | 'onRecovering'>;

/** Resolves a relative URL against the page, not the worker script's location. */
function absoluteUrl(url: string): string {
  const base = (globalThis as { document?: { baseURI?: string }; location?: { href?: string } }).document?.baseURI ?? (globalThis as { location?: { href?: string } }).location?.href;
  return base ? new URL(url, base).href : url;
}

export class TrainerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly runs = new Map<number, RunListeners>();
  private failure: Error | undefined;

  private constructor(
    private readonly worker: WorkerLike,
    private readonly options: TrainerConnectOptions,
  ) {
    worker.addEventListener('message', (event: MessageEvent) => this.receive(event.data as WorkerMessage));
    worker.addEventListener('error', (event: Event) => {
      const detail = (event as ErrorEvent).message || 'the worker script failed to load or threw outside any call';
      this.fail(new Error(`The training worker failed: ${detail}. Check that the worker file calls serveTrainer() and is started with { type: 'module' }.`));
    });
    worker.addEventListener('messageerror', () => this.fail(new Error('The training worker sent a message that could not be read.')));
  }

  /** The adapter the worker's device runs on, once requestGpu has answered. */
  adapter: AdapterReport | undefined;

  /** Takes over a worker running serveTrainer and gets its GPU device (WebGpuUnavailableError where there is none). */
  static async connect(worker: WorkerLike, options: TrainerConnectOptions = {}): Promise<TrainerClient> {
    const client = TrainerClient.start(worker, options);
    await client.requestGpu();
    return client;
  }

  /**
   * Takes over a worker without asking for a device yet: data can load while
   * requestGpu runs, and without WebGPU at all.
   */
  static start(worker: WorkerLike, options: TrainerConnectOptions = {}): TrainerClient {
    return new TrainerClient(worker, options);
  }

  /** Gets the worker its GPU device (once; later calls return the same adapter report). */
  async requestGpu(): Promise<AdapterReport> {
    this.adapter = await this.call('connect', [{ powerPreference: this.options.powerPreference, withoutFeatures: this.options.withoutFeatures }]);
    return this.adapter;
  }

  /** Loads MNIST in the worker (fetch there, parse there): the train and test splits as worker data sets. */
  async loadMnist(source: MnistUrls | string): Promise<{ train: RemoteDataset; test: RemoteDataset; seconds: number }> {
    const resolved = typeof source === 'string' ? absoluteUrl(source) : (Object.fromEntries(Object.entries(source).map(([k, v]) => [k, absoluteUrl(v)])) as unknown as MnistUrls);
    const { train, test, seconds } = await this.call('loadMnist', [resolved]);
    return { train: new RemoteDataset(this, train), test: new RemoteDataset(this, test), seconds };
  }

  /**
   * Copies a data set into the worker. With `transfer`, its pixel and label
   * buffers move instead (this thread's arrays become empty): no copy at all.
   */
  async addDataset(data: ImageDataset, options: { transfer?: boolean } = {}): Promise<RemoteDataset> {
    const transfer = options.transfer ? [data.pixels.buffer, data.labels.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer) : [];
    return new RemoteDataset(this, await this.call('addDataset', [data], transfer));
  }

  async createModel(spec: ModelSpec, options: ModelOptions = {}): Promise<RemoteModel> {
    return new RemoteModel(this, await this.call('createModel', [spec, options]));
  }

  /**
   * A model rebuilt from checkpoint bytes (spec, optimizer, seed and, from the
   * run card, the batch size), and the fit state the checkpoint holds, if any:
   * pass it as fit's `resume` to continue that run exactly.
   */
  async modelFromCheckpoint(
    bytes: Uint8Array,
    options: { source?: string; batchSize?: number; variant?: ModelOptions['variant'] } = {},
  ): Promise<{ model: RemoteModel; header: CheckpointHeader; state: FitState | undefined }> {
    const { model, header, state } = await this.call('modelFromCheckpoint', [bytes, options.source ?? 'checkpoint', { batchSize: options.batchSize, variant: options.variant }]);
    return { model: new RemoteModel(this, model), header, state };
  }

  /** Fault injection for tests: destroys the worker's device, as a driver reset would. */
  loseDeviceForTesting(): Promise<void> {
    return this.call('loseDevice', []);
  }

  /** Releases the worker's models and device, then ends the worker. Pending calls fail. */
  async close(): Promise<void> {
    if (!this.failure) await this.call('close', []).catch(() => undefined);
    this.fail(new Error('The trainer was closed.'));
    this.worker.terminate?.();
  }

  /** @internal Sends one operation and resolves with its result. */
  call<Op extends TrainerOp>(op: Op, args: TrainerOps[Op]['args'], transfer: Transferable[] = []): Promise<TrainerOps[Op]['result']> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, op });
      this.worker.postMessage({ kind: 'call', id, op, args }, transfer);
    });
  }

  /** @internal A new fit's id, with the listeners its events go to. */
  openRun(listeners: RunListeners): number {
    const id = this.nextId++;
    this.runs.set(id, listeners);
    return id;
  }

  /** @internal */
  closeRun(id: number): void {
    this.runs.delete(id);
  }

  private receive(message: WorkerMessage): void {
    switch (message.kind) {
      case 'result':
      case 'error': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.kind === 'result') pending.resolve(message.value);
        else pending.reject(reviveError(message.error, pending.op));
        return;
      }
      case 'step':
        this.runs.get(message.run)?.onStep?.(message.event);
        return;
      case 'epochEnd':
        this.runs.get(message.run)?.onEpochEnd?.(message.log);
        return;
      case 'checkpoint':
        this.runs.get(message.run)?.onCheckpoint?.(message.bytes, message.epoch, message.state);
        return;
      case 'recovering':
        this.runs.get(message.run)?.onRecovering?.(message.recovery);
        return;
      case 'deviceLost':
        this.options.onDeviceLost?.({ reason: message.reason, message: message.message });
        return;
      case 'gpuError':
        if (this.options.onGpuError) this.options.onGpuError(message.message);
        else console.error(`[lenet-gpu worker] uncaptured GPU error: ${message.message}`);
        return;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.runs.clear();
  }
}

/** A data set held in the worker. */
export class RemoteDataset implements DatasetInfo {
  declare readonly id: number;
  declare readonly count: number;
  declare readonly rows: number;
  declare readonly cols: number;

  constructor(
    private readonly client: TrainerClient,
    info: DatasetInfo,
  ) {
    Object.assign(this, info);
  }

  /** Samples [start, end) as another worker data set (no copy in the worker). */
  async subset(range: IndexRange): Promise<RemoteDataset> {
    return new RemoteDataset(this.client, await this.client.call('subset', [this.id, range]));
  }

  /** A copy of the samples (all, or [start, end)) on this thread. */
  read(range?: IndexRange): Promise<ImageDataset> {
    return this.client.call('readDataset', [this.id, range]);
  }

  release(): Promise<void> {
    return this.client.call('releaseDataset', [this.id]);
  }
}

/** A fit running in the worker: await it for the History; pause, resume or stop it meanwhile. */
export class RemoteFit implements PromiseLike<History> {
  private readonly result: Promise<History>;
  private pausedNow = false;

  constructor(
    private readonly client: TrainerClient,
    private readonly run: number,
    start: () => Promise<History>,
  ) {
    this.result = start().finally(() => client.closeRun(run));
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  /** Training waits between submits until resume(). Time paused is not counted in samples/s. */
  pause(): Promise<void> {
    this.pausedNow = true;
    return this.client.call('controlFit', [this.run, { paused: true }]);
  }

  resume(): Promise<void> {
    this.pausedNow = false;
    return this.client.call('controlFit', [this.run, { paused: false }]);
  }

  /** Ends the fit after the current submit; it resolves with the history so far (stopReason 'stopped'). */
  stop(): Promise<void> {
    this.pausedNow = false;
    return this.client.call('controlFit', [this.run, { stopRequested: true, paused: false }]);
  }

  then<A = History, B = never>(onFulfilled?: ((value: History) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(onFulfilled, onRejected);
  }
}

/** A model held in the worker, with the main-thread Model's operations. */
export class RemoteModel implements Omit<ModelInfo, 'summary'> {
  declare readonly id: number;
  declare readonly name: string;
  declare readonly spec: ModelSpec;
  declare readonly paramCount: number;
  declare readonly batchSize: number;
  declare readonly seed: number;
  declare readonly variant: ModelInfo['variant'];
  declare readonly inputShape: [number, number, number];
  declare readonly outputClasses: number;
  private readonly summaryText: string;

  constructor(
    private readonly client: TrainerClient,
    { summary, ...info }: ModelInfo,
  ) {
    Object.assign(this, info);
    this.summaryText = summary;
  }

  /** The layer table, as Model.summary() gives it. */
  summary(): string {
    return this.summaryText;
  }

  /** Trains on a worker data set; onStep and onEpochEnd are called here as the worker reports. */
  fit(data: RemoteDataset, options: RemoteFitOptions = {}): RemoteFit {
    const { onStep, onEpochEnd, onCheckpoint, onRecovering, recover, ...rest } = options;
    const run = this.client.openRun({ onStep, onEpochEnd, onCheckpoint, onRecovering });
    const events = { step: Boolean(onStep), epochEnd: Boolean(onEpochEnd), recover: Boolean(recover), checkpoints: Boolean(onCheckpoint) };
    return new RemoteFit(this.client, run, () => this.client.call('fit', [this.id, data.id, run, rest, events]));
  }

  evaluate(data: RemoteDataset): Promise<Evaluation> {
    return this.client.call('evaluate', [this.id, data.id]);
  }

  /** Class probabilities for `count` images given as u8 pixels; during a fit it runs between two training submits. */
  predict(pixels: Uint8Array, count: number): Promise<Prediction> {
    return this.client.call('predict', [this.id, pixels, count]);
  }

  /** Checkpoint bytes (the CLI's .ckpt format), moved here from the worker. */
  captureCheckpoint(epoch: number, runCard?: Record<string, unknown>): Promise<Uint8Array> {
    return this.client.call('captureCheckpoint', [this.id, epoch, runCard]);
  }

  restoreCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Promise<CheckpointHeader> {
    return this.client.call('restoreCheckpoint', [this.id, bytes, source]);
  }

  getWeights(): Promise<Float32Array> {
    return this.client.call('getWeights', [this.id]);
  }

  dispose(): Promise<void> {
    return this.client.call('disposeModel', [this.id]);
  }
}
