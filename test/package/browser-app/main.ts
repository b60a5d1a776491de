// A page that trains in a Web Worker with lenet-gpu/worker, built from the installed package.
// The region is the README's browser example; after it, the page publishes what it measured on
// window.__testResult for test/package/consumers.test.ts (errors reach the test as page errors).
// #region readme-page
// main.ts: the page drives the worker; models and data sets stay there.
import { presets } from 'lenet-gpu';
import { TrainerClient } from 'lenet-gpu/worker';

const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
const trainer = await TrainerClient.connect(worker); // WebGpuUnavailableError, with the fix, if there is no WebGPU
const { train, test } = await trainer.loadMnist('mnist/'); // served by lenet-gpu/vite's mnistFiles()
const model = await trainer.createModel(presets.lenet5, { batchSize: 32, seed: 1 });
const run = model.fit(await train.subset({ start: 0, end: 9600 }), {
  epochs: 1,
  validationSplit: 0,
  onStep: (e) => (document.querySelector('#status')!.textContent = `step ${e.step}/${e.stepsPerEpoch}, loss ${e.loss.toFixed(3)}`),
});
// run.pause(), run.resume() and run.stop() take effect between two submits.
const history = await run;
const { accuracy, report } = await model.evaluate(await test.subset({ start: 0, end: 1000 }));
const digits = await test.read({ start: 0, end: 10 }); // a copy on this thread
const { classes } = await model.predict(digits.pixels, 10);
const checkpoint = await model.captureCheckpoint(history.epochs.length); // .ckpt bytes, the CLI's format
// #endregion readme-page

(window as unknown as { __testResult: unknown }).__testResult = {
  adapter: trainer.adapter,
  history,
  accuracy,
  macroAuc: report.macroAuc,
  confusionTotal: report.confusion.flat().reduce((a, b) => a + b, 0),
  classes: [...classes],
  labels: [...digits.labels],
  checkpointBytes: checkpoint.length,
  checkpointMagic: new TextDecoder().decode(checkpoint.subarray(0, 8)),
};
