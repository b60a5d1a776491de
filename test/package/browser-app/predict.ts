// A page that only loads a checkpoint and predicts, on the main thread, with the browser build of
// lenet-gpu: its bundle is the package's smallest useful one (no training, no ONNX or protobuf).
// The test serves a checkpoint trained by the Node consumer and the digits it predicted.
// #region readme-predict
// predict.ts: a checkpoint's model classifies images on this page.
import { requestGpu, modelFromCheckpoint, predict } from 'lenet-gpu';

const gpu = await requestGpu();
const bytes = new Uint8Array(await (await fetch('model.ckpt')).arrayBuffer());
const { model } = await modelFromCheckpoint(gpu, bytes); // spec, weights and batch size from the file
const pixels = new Uint8Array(await (await fetch('digits.bin')).arrayBuffer()); // 28x28 bytes per image
const { probabilities, classes } = await predict(model, pixels, pixels.length / 784);
// #endregion readme-predict

(window as unknown as { __testResult: unknown }).__testResult = { adapter: gpu.report.runtime, classes: [...classes], probabilities: [...probabilities] };
