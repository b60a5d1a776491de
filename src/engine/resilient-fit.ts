/**
 * fit that survives a lost GPU device. After every epoch the weights and
 * optimizer state are captured into an in-memory checkpoint (and handed to
 * `onCheckpoint`, to persist on disk or in IndexedDB). When the device is
 * lost, a new one is requested, the model is rebuilt on it from the last
 * checkpoint, and training continues from that epoch: at most the steps since
 * the last epoch end are lost. The history says what happened.
 *
 * Early-stopping patience restarts after a recovery (its counters lived on
 * the lost run); the epochs already logged are kept.
 */
import type { ImageDataset } from '../data/dataset.ts';
import type { Gpu } from '../gpu/device.ts';
import { GpuDeviceLostError } from '../gpu/errors.ts';
import type { ModelSpec } from '../graph/spec.ts';
import { captureCheckpoint, restoreCheckpoint } from './checkpoint.ts';
import { fit, type FitOptions, type History } from './fit.ts';
import { Model, type ModelOptions } from './model.ts';

export interface RecoveryOptions {
  /** Gives a fresh device after a loss (e.g. () => requestGpu()). */
  requestGpu: () => Promise<Gpu>;
  /** Default 3. */
  maxRecoveries?: number;
  /** Receives each epoch-end checkpoint, to persist it. */
  onCheckpoint?: (bytes: Uint8Array, epoch: number) => Promise<void> | void;
  /** A checkpoint to start from (e.g. read back from disk after a crash). */
  initialCheckpoint?: Uint8Array;
}

export interface ResilientResult {
  model: Model;
  gpu: Gpu;
  history: History;
  recoveries: number;
}

export async function fitWithRecovery(
  gpu: Gpu,
  spec: ModelSpec,
  modelOptions: ModelOptions,
  data: ImageDataset,
  fitOptions: FitOptions,
  recovery: RecoveryOptions,
): Promise<ResilientResult> {
  const maxRecoveries = recovery.maxRecoveries ?? 3;
  const history: History = { epochs: [], stopReason: 'completed', notes: [] };
  let model = await Model.create(gpu, spec, modelOptions);
  let checkpoint = recovery.initialCheckpoint;
  let checkpointEpoch = checkpoint ? restoreCheckpoint(model, checkpoint).epoch : (fitOptions.initialEpoch ?? 0);
  checkpoint ??= await captureCheckpoint(model, checkpointEpoch);
  let recoveries = 0;
  for (;;) {
    try {
      const part = await fit(model, data, {
        ...fitOptions,
        initialEpoch: checkpointEpoch,
        afterEpoch: async (log) => {
          history.epochs.push(log);
          checkpoint = await captureCheckpoint(model, log.epoch);
          checkpointEpoch = log.epoch;
          await recovery.onCheckpoint?.(checkpoint, log.epoch);
          await fitOptions.afterEpoch?.(log);
        },
      });
      history.notes.push(...part.notes);
      history.stopReason = part.stopReason;
      history.bestEpoch = part.bestEpoch;
      return { model, gpu, history, recoveries };
    } catch (error) {
      if (!(error instanceof GpuDeviceLostError) || recoveries >= maxRecoveries) throw error;
      recoveries++;
      // Epochs logged so far are all in the checkpoint (it is taken right after each is logged).
      history.notes.push(
        `device lost during epoch ${checkpointEpoch + 1} (${error.reason}); recovery ${recoveries}/${maxRecoveries}: new device, model rebuilt from the checkpoint after epoch ${checkpointEpoch}; the steps since then were redone`,
      );
      model.dispose();
      gpu = await recovery.requestGpu();
      model = await Model.create(gpu, spec, modelOptions);
      restoreCheckpoint(model, checkpoint);
    }
  }
}
