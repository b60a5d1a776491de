/**
 * The messages between a page (TrainerClient, client.ts) and the dedicated
 * worker that trains (serveTrainer, host.ts). Types only, shared by both ends.
 *
 * Every request is a call: `{ kind: 'call', id, op, args }`, answered once by
 * a result or an error with the same id. Calls run concurrently in the worker
 * (a predict during a fit takes its turn between two training submits, as on
 * the main thread). Training also sends events tagged with its run id, and the
 * device sends one event when it is lost. Errors travel as their class name,
 * message, stack and own fields, and are rebuilt as the same class
 * (errors.ts). Large arrays (probabilities, checkpoint bytes, pixels read
 * back) are transferred, not copied.
 */
import type { ImageDataset, IndexRange } from '../data/dataset.ts';
import type { MnistUrls } from '../data/mnist-browser.ts';
import type { CheckpointHeader } from '../engine/checkpoint.ts';
import type { Evaluation, Prediction } from '../engine/evaluate.ts';
import type { EpochLog, FitOptions, History, Recovery, StepEvent } from '../engine/fit.ts';
import type { FitState } from '../engine/fit-state.ts';
import type { ModelOptions } from '../engine/model.ts';
import type { AdapterReport, GpuOptions } from '../gpu/device.ts';
import type { ModelSpec } from '../model/spec.ts';
import type { KernelVariant } from '../kernels/variant.ts';

/** What a page can ask of the worker's GPU (GpuOptions without its callbacks). */
export type WorkerGpuOptions = Pick<GpuOptions, 'powerPreference' | 'withoutFeatures'>;

/** A data set held in the worker. */
export interface DatasetInfo {
  id: number;
  count: number;
  rows: number;
  cols: number;
}

/** A model held in the worker: what a page needs to describe it and to feed it. */
export interface ModelInfo {
  id: number;
  name: string;
  spec: ModelSpec;
  paramCount: number;
  batchSize: number;
  seed: number;
  variant: KernelVariant;
  inputShape: [number, number, number];
  outputClasses: number;
  /** The layer table (formatSummary). */
  summary: string;
}

/** fit's options that can cross to the worker: everything but the callbacks and the control object. */
export type WorkerFitOptions = Omit<FitOptions, 'onStep' | 'onEpochEnd' | 'afterEpoch' | 'control'>;

/** The operations, their arguments and results. */
export interface TrainerOps {
  connect: { args: [options: WorkerGpuOptions]; result: AdapterReport };
  loadMnist: { args: [source: MnistUrls | string]; result: { train: DatasetInfo; test: DatasetInfo; seconds: number } };
  addDataset: { args: [data: ImageDataset]; result: DatasetInfo };
  subset: { args: [dataset: number, range: IndexRange]; result: DatasetInfo };
  readDataset: { args: [dataset: number, range: IndexRange | undefined]; result: ImageDataset };
  releaseDataset: { args: [dataset: number]; result: void };
  createModel: { args: [spec: ModelSpec, options: ModelOptions]; result: ModelInfo };
  modelFromCheckpoint: { args: [bytes: Uint8Array, source: string, options: ModelOptions]; result: { model: ModelInfo; header: CheckpointHeader; state: FitState | undefined } };
  fit: { args: [model: number, dataset: number, run: number, options: WorkerFitOptions, events: FitEvents]; result: History };
  controlFit: { args: [run: number, control: { paused?: boolean; stopRequested?: boolean }]; result: void };
  evaluate: { args: [model: number, dataset: number]; result: Evaluation };
  predict: { args: [model: number, pixels: Uint8Array, count: number]; result: Prediction };
  captureCheckpoint: { args: [model: number, epoch: number, runCard: Record<string, unknown> | undefined]; result: Uint8Array };
  restoreCheckpoint: { args: [model: number, bytes: Uint8Array, source: string]; result: CheckpointHeader };
  getWeights: { args: [model: number]; result: Float32Array };
  disposeModel: { args: [model: number]; result: void };
  /** Fault injection for tests: destroys the worker's device as a driver reset would. */
  loseDevice: { args: []; result: void };
  close: { args: []; result: void };
}

/** What a fit reports back, and whether it survives a lost device. */
export interface FitEvents {
  step: boolean;
  epochEnd: boolean;
  /** Train through fitModelWithRecovery: after a lost device, a new one and the last checkpoint. */
  recover: boolean;
  /** Send each epoch-end checkpoint (with the fit state) to the page. */
  checkpoints: boolean;
}

export type TrainerOp = keyof TrainerOps;

export interface CallMessage<Op extends TrainerOp = TrainerOp> {
  kind: 'call';
  id: number;
  op: Op;
  args: TrainerOps[Op]['args'];
}

/** An error as it crosses the boundary (errors.ts). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own fields besides name, message and stack (GpuDeviceLostError.reason, IdxError.fileName...). */
  fields: Record<string, unknown>;
}

export type WorkerMessage =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'step'; run: number; event: StepEvent }
  | { kind: 'epochEnd'; run: number; log: EpochLog }
  | { kind: 'checkpoint'; run: number; epoch: number; bytes: Uint8Array; state: FitState }
  | { kind: 'recovering'; run: number; recovery: Recovery }
  | { kind: 'deviceLost'; reason: string; message: string }
  | { kind: 'gpuError'; message: string };

/** The part of Worker (or a MessagePort) the client uses. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate?(): void;
}

/** The part of a worker's global scope (or a MessagePort) the host uses. */
export interface HostScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close?(): void;
}
