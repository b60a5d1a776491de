/**
 * One training run, start to finish, with no DOM: take the first
 * `trainLimit` training and `testLimit` test samples, build the model from the
 * spec in the training worker (or from a saved run's checkpoint, to continue
 * it exactly), fit it there (the engine's own fit, as in Node; a lost device
 * is recovered from), then evaluate it on the test samples. The caller owns
 * the returned model.
 */
import { subset, type EpochLog, type Evaluation, type FitState, type History, type ImageDataset, type ModelSpec, type Recovery, type StepEvent } from '../src/index.ts';
import type { RemoteFit, RemoteModel, TrainerClient } from '../src/worker/index.ts';
import type { PageData } from './data-panel.ts';
import { fitOptions, optimizerConfig, type TrainSettings } from './settings.ts';

/** Steps per command buffer: small enough for smooth curves and prompt pause/stop, large enough to keep the GPU fed. */
const STEPS_PER_SUBMIT = 4;

export interface RunHooks {
  /** The model is built and its fit started: pause/stop go to `fit`, predictions may use `model`. */
  onStarted: (model: RemoteModel, fit: RemoteFit) => void;
  onStep: (e: StepEvent) => void;
  onEpochEnd: (log: EpochLog) => void;
  /** Each epoch-end checkpoint, with the fit state: what a reload continues from. */
  onCheckpoint: (bytes: Uint8Array, state: FitState) => void;
  /** The device was lost; training goes on on a new one from the last checkpoint. */
  onRecovering: (recovery: Recovery) => void;
  onEvaluating: () => void;
}

export interface RunResult {
  model: RemoteModel;
  history: History;
  evaluation: Evaluation;
  /** The test samples evaluated, on this thread (for the misclassified digits). */
  test: ImageDataset;
}

export async function runTraining(
  trainer: TrainerClient,
  spec: ModelSpec,
  s: TrainSettings,
  data: PageData,
  hooks: RunHooks,
  /** A saved run's last checkpoint: the run continues from it. */
  resumeFrom?: Uint8Array,
): Promise<RunResult> {
  const testCount = Math.min(s.testLimit, data.test.count);
  const [train, test] = await Promise.all([
    data.train.subset({ start: 0, end: Math.min(s.trainLimit, data.train.count) }),
    data.test.subset({ start: 0, end: testCount }),
  ]);
  const { model, state } = resumeFrom
    ? await trainer.modelFromCheckpoint(resumeFrom, { source: 'the run saved in this browser', batchSize: s.batch })
    : { model: await trainer.createModel(spec, { batchSize: s.batch, optimizer: optimizerConfig(s), seed: s.seed }), state: undefined };
  try {
    const fit = model.fit(train, {
      ...fitOptions(s),
      resume: state,
      stepsPerSubmit: STEPS_PER_SUBMIT,
      recover: true,
      onStep: hooks.onStep,
      onEpochEnd: hooks.onEpochEnd,
      onCheckpoint: (bytes, _epoch, fitState) => hooks.onCheckpoint(bytes, fitState),
      onRecovering: hooks.onRecovering,
    });
    hooks.onStarted(model, fit);
    const history = await fit;
    hooks.onEvaluating();
    const evaluation = await model.evaluate(test);
    return { model, history, evaluation, test: subset(data.testImages, { start: 0, end: testCount }) };
  } catch (error) {
    void model.dispose().catch(() => undefined);
    throw error;
  } finally {
    void train.release().catch(() => undefined);
    void test.release().catch(() => undefined);
  }
}
