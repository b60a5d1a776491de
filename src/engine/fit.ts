/**
 * fit: the Keras-style training loop, entirely on the GPU.
 *
 * Per epoch the CPU uploads one index buffer (the shuffled order) and resets
 * the GPU cursor; then it records `stepsPerSubmit` replays of the train pass
 * per command buffer and submits. Metrics stay on the GPU as running totals
 * and reach the CPU through a ring of staging buffers, read asynchronously.
 * The CPU runs at most `maxSubmitsInFlight` command buffers ahead of the GPU,
 * so pause and stop take effect within a few steps rather than after a whole
 * queued epoch; that is the only wait inside an epoch.
 *
 * Validation (Keras's validation_split: the last fraction of the samples,
 * before shuffling) and the epoch-end totals are the two synchronous reads.
 */
import type { ImageDataset } from '../data/dataset.ts';
import { shuffledIndices } from '../data/dataset.ts';
import { GpuDeviceLostError } from '../gpu/errors.ts';
import type { Totals } from '../kernels/metrics.ts';
import { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.ts';
import type { Model } from './model.ts';
import { recordEvalPass, recordTrainPass, type RecordedPass } from './passes.ts';
import { BatchCursor, batchOrder, ResidentDataset } from './resident-dataset.ts';
import { AugmentedInput, recordAugmentedTrainPass } from './augmented-pass.ts';
import type { AugmentOptions } from '../reference/augment.ts';
import { GpuSnapshot } from './snapshot.ts';
import type { FitState } from './fit-state.ts';
import { readBytes } from '../gpu/buffers.ts';
import { alignParams, packParams } from '../graph/param-packing.ts';
import { TotalsRing } from './totals-ring.ts';
import { NumericalError } from './errors.ts';
import { ModelBusyError } from './model-turns.ts';
import { pacerFor, type SubmitWait } from './submit-pacer.ts';
import { gpuIdle } from '../gpu/gpu-wait.ts';

export interface StepEvent {
  epoch: number;
  /** Steps completed in this epoch when the totals were captured. */
  step: number;
  stepsPerEpoch: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  etaSeconds: number;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  steps: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface History {
  epochs: EpochLog[];
  /** Each lost device fitWithRecovery (resilient-fit.ts) survived: where, from where it resumed, steps redone. */
  recoveries?: Recovery[];
  stopReason: 'completed' | 'early-stopping' | 'stopped';
  /** Epoch whose weights the model holds at the end when restoreBestWeights is on. */
  bestEpoch?: number;
  notes: string[];
  /**
   * Where the fit ended, to continue it exactly: save it with the weights
   * (captureCheckpoint's fitState) and pass it back as `resume`. After a stop
   * in mid-epoch it holds the step reached, and its history leaves out the
   * partial epoch that this history logs last.
   */
  endState?: FitState;
}

export interface Recovery {
  /** 'destroyed', 'unknown', ... as the device reported it. */
  reason: string;
  /** The last step known done when the device was lost (epoch 1-based, step within it). */
  lostAfter: { epoch: number; step: number };
  /** The checkpoint training continued from: epochs completed, steps into the next. */
  resumedFrom: { epoch: number; step: number };
  /** Steps trained again (at least; the device may have finished more before it was lost). */
  stepsRedone: number;
}

export interface TrainingControl {
  /** Set to stop after the current submit; fit returns the history so far. */
  stopRequested?: boolean;
  /** While set, fit waits between submits. */
  paused?: boolean;
}

export interface FitOptions {
  /** Total epochs, counting any already done (see initialEpoch), as in Keras. */
  epochs?: number;
  /** Epochs already completed (resuming from a checkpoint). Default 0. */
  initialEpoch?: number;
  /** Fraction of the samples held out for validation (Keras: the last ones). Default 0.2. */
  validationSplit?: number;
  /** Shuffle each epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Default: the model's seed. */
  shuffleSeed?: number;
  /** Caps steps per epoch (quick runs, tests). */
  maxStepsPerEpoch?: number;
  stepsPerSubmit?: number;
  maxSubmitsInFlight?: number;
  /** How the CPU waits for the GPU (see submit-pacer.ts); default: 'timer' in Node, 'promise' in browsers. */
  submitWait?: SubmitWait;
  earlyStopping?: EarlyStoppingOptions;
  onStep?: (event: StepEvent) => void;
  onEpochEnd?: (log: EpochLog) => void;
  /**
   * Awaited after each epoch and its early-stopping bookkeeping (and, when
   * early stopping ends the run, after the best weights are back): e.g. to
   * take a checkpoint with `state()`, which continues the run exactly.
   */
  afterEpoch?: (log: EpochLog, state: () => Promise<FitState>) => Promise<void> | void;
  /** Continues a fit from its state (History.endState, or a checkpoint's): epoch, step, shuffle, totals, early stopping. The model must hold the weights of that moment. */
  resume?: FitState;
  control?: TrainingControl;
  /** On-GPU random rotation/scaling/shift of each training batch; off by default. */
  augment?: AugmentOptions;
}

export { NumericalError };

const now = (): number => performance.now();

/** Per-epoch seeds that differ for every epoch yet follow from one seed. */
const epochSeed = (seed: number, epoch: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(epoch + 1, 0xc2b2ae35)) >>> 0;

export async function fit(model: Model, data: ImageDataset, options: FitOptions = {}): Promise<History> {
  const epochs = options.epochs ?? 10;
  const split = options.validationSplit ?? 0.2;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  if (!(split >= 0 && split < 1)) throw new RangeError(`validationSplit must be in [0, 1), got ${split}`);
  const B = model.batchSize;
  const valCount = Math.round(data.count * split);
  const trainCount = data.count - valCount;
  if (trainCount < 1) throw new RangeError(`no training samples left after holding out ${valCount} of ${data.count} for validation`);
  const stepsPerSubmit = options.stepsPerSubmit ?? 8;
  const trainPacer = pacerFor(model, 'train', options.maxSubmitsInFlight ?? 2, options.submitWait);
  const evalPacer = pacerFor(model, 'eval', 2, options.submitWait);
  const stepsPerEpoch = Math.min(Math.ceil(trainCount / B), options.maxStepsPerEpoch ?? Infinity);
  const { device } = model;
  const stopper = options.earlyStopping ? new EarlyStopping(options.earlyStopping) : undefined;
  const resume = options.resume;
  if (resume && resume.stepsPerEpoch !== stepsPerEpoch) {
    throw new RangeError(
      `the fit being resumed ran ${resume.stepsPerEpoch} steps per epoch, this one would run ${stepsPerEpoch} (another data count, validation split, batch size or maxStepsPerEpoch): resume with the interrupted run's settings`,
    );
  }
  const seed = resume?.shuffleSeed ?? options.shuffleSeed ?? model.seed;
  const history: History = resume
    ? { epochs: [...resume.history.epochs], stopReason: resume.history.stopReason, bestEpoch: resume.history.bestEpoch, notes: [...resume.history.notes] }
    : { epochs: [], stopReason: 'completed', notes: [] };
  if (resume?.earlyStopping) stopper?.restore(resume.earlyStopping);

  model.assertUsable('fit');
  model.gpu.assertAlive();
  if (model.fitting) {
    throw new ModelBusyError(
      `fit is already running on this ${model.plan.name} model; await it (or stop it through its control object) before starting another, or create a second Model to train in parallel`,
    );
  }
  if (resume?.finished) return { ...history, endState: resume }; // nothing left to run
  const resident = new ResidentDataset(device, data, 'training data');
  const trainCursor = new BatchCursor(device, Math.ceil(trainCount / B) * B, 'train');
  const valCursor = valCount > 0 ? new BatchCursor(device, Math.ceil(valCount / B) * B, 'validation') : undefined;
  const trainRing = new TotalsRing(device, model.trainTotals);
  const evalRing = new TotalsRing(device, model.evalTotals);
  // Epoch-start weights and optimizer state: what a numerical failure rolls back to.
  const epochStart = new GpuSnapshot(device, [model.graph.params, ...model.optimizer.slots, model.optimizer.state], 'epoch start');
  const best = stopper?.restoreBestWeights ? new GpuSnapshot(device, [model.graph.params], 'best weights') : undefined;
  if (best && resume?.bestWeights) best.load(0, alignParams(model.graph.layout, resume.bestWeights));
  const augment = options.augment
    ? new AugmentedInput(device, { ...options.augment, seed: options.augment.seed ?? options.shuffleSeed ?? model.seed }, B, resident.imageSize)
    : undefined;
  /** The state after `epochsDone` epochs and `step` steps of the next (read between submits, so nothing moves meanwhile). */
  const stateAt = async (epochsDone: number, step: number, epochSeconds: number, finished: boolean): Promise<FitState> => ({
    epoch: epochsDone,
    step,
    stepsPerEpoch,
    shuffleSeed: seed,
    trainTotals: step > 0 ? new Uint8Array(await readBytes(device, model.trainTotals)) : undefined,
    epochSeconds: step > 0 ? epochSeconds : undefined,
    earlyStopping: stopper?.state,
    bestWeights: best && stopper && stopper.state.bestEpoch >= 0 ? packParams(model.graph.layout, new Float32Array(await best.read(0))) : undefined,
    history: { epochs: [...history.epochs], stopReason: history.stopReason, bestEpoch: history.bestEpoch, notes: [...history.notes] },
    finished,
  });
  const passes: RecordedPass[] = [];
  model.fitting = true;
  try {
    const trainPass = augment ? await recordAugmentedTrainPass(model, resident, trainCursor, augment) : await recordTrainPass(model, resident, trainCursor);
    passes.push(trainPass);
    const valPass = valCursor ? await recordEvalPass(model, resident, valCursor) : undefined;
    if (valPass) passes.push(valPass);
    const valOrder = Uint32Array.from({ length: valCount }, (_, i) => trainCount + i);

    for (let epoch = resume?.epoch ?? options.initialEpoch ?? 0; epoch < epochs; epoch++) {
      // A resumed fit starts its first epoch at the step it reached, with that epoch's running totals.
      const firstStep = resume && epoch === resume.epoch ? resume.step : 0;
      const order = options.shuffle === false ? Uint32Array.from({ length: trainCount }, (_, i) => i) : shuffledIndices(trainCount, epochSeed(seed, epoch));
      trainCursor.load(batchOrder(order, B, 'wrap'), firstStep);
      if (firstStep > 0 && resume?.trainTotals) device.queue.writeBuffer(model.trainTotals, 0, resume.trainTotals as Uint8Array<ArrayBuffer>);
      // Transforms follow from the seed and the global step alone, so resume and rollback reproduce them.
      augment?.setStep(epoch * stepsPerEpoch + firstStep);
      epochStart.save();
      let started = now() - (firstStep > 0 ? (resume?.epochSeconds ?? 0) * 1000 : 0);
      let done = firstStep;
      let badLossBy: number | undefined;
      while (done < stepsPerEpoch) {
        if (options.control?.stopRequested || badLossBy !== undefined) break;
        if (options.control?.paused) {
          // Paused time is not training time: leave it out of the epoch's seconds and samples/s.
          const pausedAt = now();
          while (options.control.paused && !options.control.stopRequested) await new Promise((r) => setTimeout(r, 50));
          started += now() - pausedAt;
          if (options.control.stopRequested) break;
        }
        const steps = Math.min(stepsPerSubmit, stepsPerEpoch - done);
        // One submit per turn: a predict or evaluate asked for meanwhile runs between two submits.
        const release = await model.turns.acquire();
        let read: ReturnType<TotalsRing['capture']>;
        try {
          model.assertUsable(`fit (epoch ${epoch + 1}, step ${done})`);
          model.gpu.assertAlive();
          const encoder = device.createCommandEncoder({ label: `epoch ${epoch} steps ${done}+${steps}` });
          trainPass.encode(encoder, steps, done === 0 ? model.resetTrainTotals : []);
          read = trainRing.capture(encoder);
          device.queue.submit([encoder.finish()]);
        } finally {
          release();
        }
        done += steps;
        const stepAtCapture = done;
        // The totals are mapped once their submit has completed, so no map waits on the GPU.
        await trainPacer.submitted(steps, () =>
          read?.().then(
            (t) => {
              if (!Number.isFinite(t.lossSum)) badLossBy ??= stepAtCapture;
              else options.onStep?.(stepEvent(epoch, stepAtCapture, stepsPerEpoch, t, B, (now() - started) / 1000));
            },
            () => undefined, // a lost device surfaces through assertAlive on the next submit
          ),
        );
      }
      await trainPacer.drain();
      if (done === firstStep && done < stepsPerEpoch && badLossBy === undefined) {
        // Stopped before this epoch trained a step: nothing to log (the totals are not this epoch's yet).
        history.endState = firstStep > 0 && resume ? resume : await stateAt(epoch, 0, 0, false);
        history.stopReason = 'stopped';
        history.notes.push(`stopped by request before step ${done + 1} of epoch ${epoch + 1}`);
        break;
      }
      const totals = await trainRing.readNow();
      const seconds = (now() - started) / 1000;
      model.gpu.assertAlive();
      if (!Number.isFinite(totals.lossSum)) {
        const culprit = await model.firstNonFiniteLayer();
        epochStart.restore();
        const by = badLossBy ?? done;
        throw new NumericalError(
          `the training loss became ${totals.lossSum} in epoch ${epoch + 1} by step ${by}; the first bad values are in ${culprit}. ` +
            `Training stopped; weights and optimizer state were restored to the start of epoch ${epoch + 1}, the last known good. Lower the learning rate.`,
        );
      }
      // Stopped in mid-epoch: the state to continue from is this very step (taken before the partial epoch is logged).
      const midEpochState = done < stepsPerEpoch ? await stateAt(epoch, done, seconds, false) : undefined;
      const log: EpochLog = {
        epoch: epoch + 1,
        loss: totals.lossSum / Math.max(1, totals.samples),
        accuracy: totals.correct / Math.max(1, totals.samples),
        steps: done,
        seconds,
        samplesPerSecond: (done * B) / seconds,
      };
      if (valPass && valCursor) {
        const v = await model.turns.run(async () => {
          model.assertUsable(`fit (validation after epoch ${epoch + 1})`);
          valCursor.load(batchOrder(valOrder, B, 'padding'));
          const valSteps = valCursor.capacity / B;
          const encoder = device.createCommandEncoder({ label: `epoch ${epoch} validation` });
          valPass.encode(encoder, valSteps, model.resetEvalTotals);
          device.queue.submit([encoder.finish()]);
          try {
            await evalPacer.submitted(valSteps);
            await evalPacer.drain();
          } catch (error) {
            evalPacer.discard(); // shared with evaluate(): leave it empty for the next turn
            throw error;
          }
          return evalRing.readNow();
        });
        log.valLoss = v.lossSum / valCount;
        log.valAccuracy = v.correct / valCount;
      }
      history.epochs.push(log);
      options.onEpochEnd?.(log);
      if (midEpochState) {
        // Keras logs the partial epoch of a stopped run; the state leaves it out, so a resumed run logs it whole.
        history.stopReason = 'stopped';
        history.notes.push(`stopped by request in epoch ${epoch + 1} after ${done} of ${stepsPerEpoch} steps`);
        history.endState = midEpochState;
        break;
      }
      const decision = stopper?.update(epoch + 1, log[stopper.monitor]);
      if (decision?.improved) best?.save();
      if (decision?.stop) {
        history.stopReason = 'early-stopping';
        history.notes.push(`early stopping: ${stopper!.monitor} did not improve for ${decision.epochsWithoutImprovement} epoch(s); best ${decision.bestValue.toFixed(4)} at epoch ${decision.bestEpoch}`);
        if (best) {
          await model.turns.run(async () => best.restore()); // not in the middle of an evaluate
          history.bestEpoch = decision.bestEpoch;
          history.notes.push(`restored the weights of epoch ${decision.bestEpoch}`);
        }
      }
      // Early stopping ends the run for good; the last epoch only ends this call (a resume with more epochs goes on).
      const earlyStopped = Boolean(decision?.stop);
      // Read back once, however often afterEpoch and the end of the run ask for it.
      let epochEndState: Promise<FitState> | undefined;
      const state = (): Promise<FitState> => (epochEndState ??= stateAt(epoch + 1, 0, 0, earlyStopped));
      await options.afterEpoch?.(log, state);
      if (earlyStopped || epoch + 1 >= epochs) {
        history.endState = await state();
        break;
      }
      if (options.control?.stopRequested) {
        // The state first: a resumed run's history must read as if it had never stopped.
        history.endState = await state();
        history.stopReason = 'stopped';
        history.notes.push(`stopped by request after epoch ${epoch + 1}`);
        break;
      }
    }
    // A resumed run with no epoch left to train ends where it was.
    history.endState ??= resume;
    await trainPacer.drain();
    await gpuIdle(device);
    return history;
  } catch (error) {
    // A lost device shows up as whatever call failed first (a map, a submit); name the real cause.
    if (!(error instanceof GpuDeviceLostError) && (await deviceLostSoon(model))) {
      const info = model.gpu.lostInfo!;
      throw new GpuDeviceLostError(`the GPU device was lost during training (${info.reason}: ${info.message || 'no message'})`, info.reason);
    }
    throw error;
  } finally {
    model.fitting = false;
    trainPacer.discard();
    passes.forEach((p) => p.dispose());
    resident.dispose();
    trainCursor.dispose();
    valCursor?.dispose();
    trainRing.dispose();
    evalRing.dispose();
    epochStart.dispose();
    best?.dispose();
    augment?.dispose();
  }
}

/** Whether the device is lost, or is reported lost within a moment (loss is reported asynchronously). */
async function deviceLostSoon(model: Model): Promise<boolean> {
  if (model.gpu.lostInfo) return true;
  const lost = await Promise.race([model.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
  return lost && model.gpu.lostInfo !== undefined;
}

function stepEvent(epoch: number, step: number, stepsPerEpoch: number, t: Totals, batch: number, elapsed: number): StepEvent {
  const samplesPerSecond = (step * batch) / Math.max(elapsed, 1e-9);
  return {
    epoch: epoch + 1,
    step,
    stepsPerEpoch,
    loss: t.lossSum / Math.max(1, t.samples),
    accuracy: t.correct / Math.max(1, t.samples),
    samplesPerSecond,
    etaSeconds: ((stepsPerEpoch - step) * batch) / Math.max(samplesPerSecond, 1e-9),
  };
}
