/**
 * `lenet-gpu predict`: class probabilities for MNIST test images by index, or
 * for an image file: a PGM (P5, 8-bit grayscale, any size is refused unless
 * it matches the model's input) or raw 28x28 u8 bytes. Pixels as MNIST:
 * white digit on black.
 */
import { readFileSync } from 'node:fs';
import { loadMnistNode } from '../data/mnist-node.ts';
import { predict } from '../engine/evaluate.ts';
import { isCpuAdapter } from '../gpu/device.ts';
import { requestGpu } from '../gpu/device-node.ts';
import { modelFromCheckpoint } from './load-model.ts';
import { parseFlags, UsageError } from './options.ts';

export const PREDICT_USAGE = `usage: lenet-gpu predict --checkpoint FILE (--index N[,N...] | --image FILE)

  --index N,M,...   MNIST test images by index (their true labels are shown)
  --image FILE      a binary PGM (P5) or raw bytes of one image of the model's input size
  --invert          the image is dark ink on a light background: invert it first
`;

function parsePgmOrRaw(bytes: Uint8Array, size: number, path: string): Uint8Array {
  if (bytes[0] === 0x50 && bytes[1] === 0x35) {
    // P5 header: magic, width, height, maxval, each separated by whitespace (comments allowed).
    const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 512)));
    const tokens = text.replace(/#[^\n]*/g, ' ').match(/\S+/g) ?? [];
    const [w, h, max] = [Number(tokens[1]), Number(tokens[2]), Number(tokens[3])];
    if (!(w > 0 && h > 0 && max > 0 && max < 256)) throw new UsageError(`${path}: not an 8-bit binary PGM`);
    if (w * h !== size) throw new UsageError(`${path} is ${w}x${h}; the model takes ${size} pixels (28x28 for MNIST)`);
    const data = bytes.subarray(bytes.length - w * h);
    return Uint8Array.from(data, (v) => Math.round((v * 255) / max));
  }
  if (bytes.length !== size) throw new UsageError(`${path} is ${bytes.length} bytes; expected a P5 PGM or ${size} raw pixel bytes`);
  return bytes;
}

export async function runPredictCommand(args: string[]): Promise<number> {
  const { values: f, positionals } = parseFlags(
    args,
    { checkpoint: { type: 'string' }, index: { type: 'string' }, image: { type: 'string' }, invert: { type: 'boolean' } } as const,
    PREDICT_USAGE,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${PREDICT_USAGE}`);
  if (!f.checkpoint) throw new UsageError(`--checkpoint is required\n\n${PREDICT_USAGE}`);
  if (!f.index === !f.image) throw new UsageError(`give exactly one of --index or --image\n\n${PREDICT_USAGE}`);
  const size = 28 * 28;
  let pixels: Uint8Array;
  let names: string[];
  let truth: (number | undefined)[];
  if (f.index) {
    const { test } = await loadMnistNode();
    const indices = f.index.split(',').map((s) => Number(s.trim()));
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= test.count) throw new UsageError(`--index ${i} is not a test image index (0..${test.count - 1})`);
    }
    pixels = new Uint8Array(indices.length * size);
    indices.forEach((i, k) => pixels.set(test.pixels.subarray(i * size, (i + 1) * size), k * size));
    names = indices.map((i) => `test[${i}]`);
    truth = indices.map((i) => test.labels[i]);
  } else {
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(readFileSync(f.image!));
    } catch (error) {
      throw new UsageError(`could not read ${f.image}: ${error instanceof Error ? error.message : String(error)}`);
    }
    pixels = parsePgmOrRaw(raw, size, f.image!);
    if (f.invert) pixels = pixels.map((v) => 255 - v);
    names = [f.image!];
    truth = [undefined];
  }
  const gpu = await requestGpu();
  // One batch of images on a CPU adapter: compiling is most of the run, so take the kernels that compile fastest.
  const variant = names.length <= 64 && isCpuAdapter(gpu.report) ? 'compact' : undefined;
  const model = await modelFromCheckpoint(gpu, f.checkpoint, Math.min(64, names.length), variant);
  try {
    const p = await predict(model, pixels, names.length);
    const K = model.plan.outputClasses;
    names.forEach((name, i) => {
      const probs = Array.from(p.probabilities.subarray(i * K, (i + 1) * K));
      const label = truth[i] === undefined ? '' : ` (true ${truth[i]})`;
      process.stdout.write(`${name}: predicted ${p.classes[i]}${label}\n${probs.map((v, k) => `  ${k}: ${v.toFixed(4)} ${'#'.repeat(Math.round(v * 40))}`).join('\n')}\n`);
    });
    return 0;
  } finally {
    model.dispose();
    gpu.destroy();
  }
}
