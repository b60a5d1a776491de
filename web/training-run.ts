/**
 * One training run, start to finish, with no DOM: take the first
 * `trainLimit` training and `testLimit` test samples, build the model from the
 * spec, fit it on the GPU (the engine's own fit, as in Node), then evaluate it
 * on the test samples. The caller owns the returned model.
 */
import { evaluate, fit, Model, subset, type EpochLog, type Evaluation, type Gpu, type History, type ImageDataset, type MnistSplits, type ModelSpec, type StepEvent, type TrainingControl } from '../src/index.ts';
import { fitOptions, optimizerConfig, type TrainSettings } from './settings.ts';

/** Steps per command buffer: small enough for smooth curves and prompt pause/stop, large enough to keep the GPU fed. */
const STEPS_PER_SUBMIT = 4;

export interface RunHooks {
  control: TrainingControl;
  onStep: (e: StepEvent) => void;
  onEpochEnd: (log: EpochLog) => void;
  onEvaluating: () => void;
}

export interface RunResult {
  model: Model;
  history: History;
  evaluation: Evaluation;
  test: ImageDataset;
}

export async function runTraining(gpu: Gpu, spec: ModelSpec, s: TrainSettings, data: MnistSplits, hooks: RunHooks): Promise<RunResult> {
  const train = subset(data.train, { start: 0, end: Math.min(s.trainLimit, data.train.count) });
  const test = subset(data.test, { start: 0, end: Math.min(s.testLimit, data.test.count) });
  const model = await Model.create(gpu, spec, { batchSize: s.batch, optimizer: optimizerConfig(s), seed: s.seed });
  try {
    const history = await fit(model, train, { ...fitOptions(s), stepsPerSubmit: STEPS_PER_SUBMIT, control: hooks.control, onStep: hooks.onStep, onEpochEnd: hooks.onEpochEnd });
    hooks.onEvaluating();
    const evaluation = await evaluate(model, test);
    return { model, history, evaluation, test };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
