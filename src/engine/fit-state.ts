/**
 * Where a fit stands: everything besides the weights and the optimizer
 * state that it needs to continue exactly as if it had never stopped. The
 * epoch order follows from the shuffle seed and the epoch, the batch from the
 * step within it (the GPU cursor starts there), the epoch's running loss and
 * accuracy from its totals, early stopping from its counters and the best
 * weights so far; augmentation draws from the global step. So a run stopped
 * mid-epoch (Ctrl-C, a lost device) and resumed from a checkpoint holding
 * this state ends with the weights, history and metrics of an undisturbed run.
 *
 * In a checkpoint (checkpoint.ts), the JSON part is `header.training` and the
 * byte arrays are the sections `fit.trainTotals` and `fit.bestWeights`.
 */
import { CheckpointError } from './errors.ts';
import type { EarlyStoppingState } from './early-stopping.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { History } from './fit.ts';

export const FIT_STATE_SCHEMA = 'lenet-gpu/fit-state@1';

export interface FitState {
  /** Epochs completed. */
  epoch: number;
  /** Steps completed in the epoch after those (0 at an epoch boundary). */
  step: number;
  /** Steps in each epoch of this run (data count, batch and maxStepsPerEpoch fix it). */
  stepsPerEpoch: number;
  /** The seed of every epoch's shuffle. */
  shuffleSeed: number;
  /** The epoch's running totals so far (the GPU buffer's 16 bytes), when step > 0. */
  trainTotals?: Uint8Array;
  /** Training time of the epoch so far, when step > 0 (its samples/s then counts the whole epoch). */
  epochSeconds?: number;
  earlyStopping?: EarlyStoppingState;
  /** Packed weights of the best epoch so far, when early stopping restores them. */
  bestWeights?: Float32Array;
  /** The epochs logged and the notes so far. */
  history: Omit<History, 'endState'>;
  /** Early stopping ended the run: resuming it trains nothing more. */
  finished: boolean;
}

const SECTION_TOTALS = 'fit.trainTotals';
const SECTION_BEST = 'fit.bestWeights';

function floatsToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function bytesToFloats(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** The state as a checkpoint stores it: JSON for the header, byte arrays for sections. */
export function fitStateToCheckpoint(state: FitState): { training: Record<string, unknown>; sections: Record<string, Uint8Array> } {
  const { trainTotals, bestWeights, ...rest } = state;
  const sections: Record<string, Uint8Array> = {};
  if (trainTotals) sections[SECTION_TOTALS] = trainTotals;
  if (bestWeights) sections[SECTION_BEST] = floatsToBytes(bestWeights);
  return { training: { schema: FIT_STATE_SCHEMA, ...rest }, sections };
}

const isWhole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** The fit state a checkpoint holds, checked; undefined for a checkpoint without one (saved outside a fit, or by an older version). */
export function fitStateFromCheckpoint(c: Checkpoint, source = 'checkpoint'): FitState | undefined {
  const t = c.header.training;
  if (!t) return undefined;
  const fail = (problem: string): never => {
    throw new CheckpointError(`${source}: its training state ${problem}; it cannot be resumed exactly (load it without resuming, or use an earlier checkpoint)`);
  };
  if (t.schema !== FIT_STATE_SCHEMA) fail(`has schema ${String(t.schema)}, this build reads ${FIT_STATE_SCHEMA}`);
  const { epoch, step, stepsPerEpoch, shuffleSeed, history, finished, earlyStopping, epochSeconds } = t as Partial<FitState>;
  if (!isWhole(epoch) || !isWhole(step) || !isWhole(stepsPerEpoch) || !isWhole(shuffleSeed) || stepsPerEpoch < 1 || step >= stepsPerEpoch) {
    fail(`has impossible counters (epoch ${String(epoch)}, step ${String(step)} of ${String(stepsPerEpoch)}, seed ${String(shuffleSeed)})`);
  }
  // A run resumed from a checkpoint without a fit state has no log of the epochs before it: fewer, never more.
  if (!history || !Array.isArray(history.epochs) || history.epochs.length > (epoch as number)) fail(`logs ${history?.epochs?.length ?? 'no'} epochs but counts ${String(epoch)}`);
  const totals = c.sections[SECTION_TOTALS];
  if ((step as number) > 0 && totals?.length !== 16) fail(`stops mid-epoch (step ${String(step)}) without the epoch's running totals`);
  const best = c.sections[SECTION_BEST];
  if (best && best.length !== c.params.length * 4) fail(`holds best weights of ${best.length / 4} values for a model of ${c.params.length}`);
  return {
    epoch: epoch as number,
    step: step as number,
    stepsPerEpoch: stepsPerEpoch as number,
    shuffleSeed: shuffleSeed as number,
    trainTotals: totals,
    epochSeconds,
    earlyStopping,
    bestWeights: best ? bytesToFloats(best) : undefined,
    history: history as FitState['history'],
    finished: Boolean(finished),
  };
}
