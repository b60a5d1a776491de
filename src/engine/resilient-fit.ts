/**
 * fit that survives a lost GPU device. After every epoch the weights, the
 * optimizer state and the fit's state (fit-state.ts) are captured into a
 * checkpoint (and handed to `onCheckpoint`, to persist on disk or in
 * IndexedDB). When the device is lost, a new one is requested, the model is
 * rebuilt on it from the last checkpoint, and the fit continues from exactly
 * where that checkpoint was taken (an epoch end, or the mid-epoch point of
 * `initialCheckpoint`): at most the steps since then are trained again, and
 * because every kernel is deterministic the run ends as an undisturbed one
 * would. The history lists each recovery (History.recoveries).
 */
import type { ImageDataset } from '../data/dataset.ts';
import type { Gpu } from '../gpu/device.ts';
import { GpuDeviceLostError } from '../gpu/errors.ts';
import type { ModelSpec } from '../model/spec.ts';
import { captureCheckpoint, decodeCheckpoint, restoreCheckpoint } from './checkpoint.ts';
import { fitStateFromCheckpoint, type FitState } from './fit-state.ts';
import { fit, type FitOptions, type History, type Recovery } from './fit.ts';
import { Model, type ModelOptions } from './model.ts';

export interface RecoveryOptions {
  /** Gives a fresh device after a loss (e.g. () => requestGpu()). */
  requestGpu: () => Promise<Gpu>;
  /** Default 3. */
  maxRecoveries?: number;
  /** Receives each epoch-end checkpoint (with the fit's state), to persist it. */
  onCheckpoint?: (bytes: Uint8Array, epoch: number, state: FitState) => Promise<void> | void;
  /** A checkpoint to start from (e.g. read back from disk after a crash); with a fit state it continues that fit exactly. */
  initialCheckpoint?: Uint8Array;
  /** Written into every checkpoint's header. */
  runCard?: Record<string, unknown>;
  /** Called when a device is lost, before the recovery starts (to tell the user). */
  onDeviceLost?: (recovery: Recovery) => void;
  /** Called with the model rebuilt on the new device, before training goes on (whoever held the old one switches to it). */
  onRebuilt?: (model: Model, gpu: Gpu) => void;
}

export interface ResilientResult {
  model: Model;
  gpu: Gpu;
  history: History;
  /** How many devices were lost and recovered from (history.recoveries has the details). */
  recoveries: number;
}

/** Builds a model of `spec` on `gpu` and trains it with fitModelWithRecovery. */
export async function fitWithRecovery(
  gpu: Gpu,
  spec: ModelSpec,
  modelOptions: ModelOptions,
  data: ImageDataset,
  fitOptions: FitOptions,
  recovery: RecoveryOptions,
): Promise<ResilientResult> {
  return fitModelWithRecovery(await Model.create(gpu, spec, modelOptions), data, fitOptions, recovery);
}

/**
 * Trains `model` as fit does, surviving lost devices: after a loss the
 * returned model is a new one (same spec, seed, batch, optimizer and kernel
 * variant) on the new device, and `model` is disposed.
 */
export async function fitModelWithRecovery(model: Model, data: ImageDataset, fitOptions: FitOptions, recovery: RecoveryOptions): Promise<ResilientResult> {
  const maxRecoveries = recovery.maxRecoveries ?? 3;
  const recoveries: Recovery[] = [];
  const modelOptions: ModelOptions = { seed: model.seed, batchSize: model.batchSize, optimizer: model.optimizer.config, variant: model.variant };
  let gpu = model.gpu;
  let checkpoint = recovery.initialCheckpoint;
  let state = checkpoint ? fitStateFromCheckpoint(decodeCheckpoint(checkpoint), 'the initial checkpoint') : fitOptions.resume;
  const startEpoch = checkpoint ? restoreCheckpoint(model, checkpoint, 'the initial checkpoint').epoch : (state?.epoch ?? fitOptions.initialEpoch ?? 0);
  checkpoint ??= await captureCheckpoint(model, startEpoch, recovery.runCard, state);
  // The last step known done, and the epoch length, for the report of what a loss cost.
  let reached = { epoch: state?.epoch ?? startEpoch, step: state?.step ?? 0 };
  let stepsPerEpoch = state?.stepsPerEpoch ?? 0;
  for (;;) {
    try {
      const history = await fit(model, data, {
        ...fitOptions,
        resume: state,
        initialEpoch: startEpoch,
        onStep: (e) => {
          reached = { epoch: e.epoch - 1, step: e.step };
          stepsPerEpoch = e.stepsPerEpoch;
          fitOptions.onStep?.(e);
        },
        afterEpoch: async (log, getState) => {
          const epochState = await getState();
          checkpoint = await captureCheckpoint(model, log.epoch, recovery.runCard, epochState);
          state = epochState;
          reached = { epoch: log.epoch, step: 0 };
          await recovery.onCheckpoint?.(checkpoint, log.epoch, epochState);
          await fitOptions.afterEpoch?.(log, getState);
        },
      });
      if (recoveries.length > 0) {
        history.recoveries = recoveries;
        recoveries.forEach((r, i) =>
          history.notes.push(
            `device lost during epoch ${r.lostAfter.epoch} after step ${r.lostAfter.step} (${r.reason}); recovery ${i + 1}/${maxRecoveries}: new device, ` +
              `model rebuilt from the checkpoint ${r.resumedFrom.step > 0 ? `at step ${r.resumedFrom.step} of epoch ${r.resumedFrom.epoch + 1}` : `after epoch ${r.resumedFrom.epoch}`}; ${r.stepsRedone} step(s) trained again`,
          ),
        );
      }
      return { model, gpu, history, recoveries: recoveries.length };
    } catch (error) {
      if (!(error instanceof GpuDeviceLostError) || recoveries.length >= maxRecoveries) throw error;
      const resumedFrom = { epoch: state?.epoch ?? startEpoch, step: state?.step ?? 0 };
      const lost: Recovery = {
        reason: error.reason,
        lostAfter: { epoch: reached.epoch + 1, step: reached.step },
        resumedFrom,
        stepsRedone: Math.max(0, (reached.epoch - resumedFrom.epoch) * stepsPerEpoch + reached.step - resumedFrom.step),
      };
      recoveries.push(lost);
      recovery.onDeviceLost?.(lost);
      model.dispose();
      gpu = await recovery.requestGpu();
      model = await Model.create(gpu, model.spec, modelOptions);
      restoreCheckpoint(model, checkpoint);
      recovery.onRebuilt?.(model, gpu);
    }
  }
}
