/**
 * Output geometry of convolution and pooling, shared by the CPU reference, the
 * GPU kernels and shape inference, so all three agree on every index.
 *
 * Layout (the whole project): activations NCHW, conv weights OIHW
 * [outChannels, inChannels, kernelH, kernelW], dense weights [in, out]
 * (y = x W + b, as Keras stores them). Flatten of NCHW is channel-major.
 *
 * Padding follows Keras/TensorFlow: `valid` adds none; `same` gives
 * out = ceil(in / stride) and pads pad_total = max((out-1)*stride + k - in, 0),
 * with floor(pad_total/2) before and the rest after.
 */
export type Padding = 'same' | 'valid';

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export interface Conv2dGeometry {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  /** Zero rows added above the input (the rest of the padding goes below). */
  padTop: number;
  /** Zero columns added left of the input. */
  padLeft: number;
  outHeight: number;
  outWidth: number;
}

export interface Conv2dParams {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: Padding;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

function outAndPad(input: number, k: number, s: number, padding: Padding): [out: number, padBefore: number] {
  if (padding === 'same') {
    const out = Math.ceil(input / s);
    const padTotal = Math.max((out - 1) * s + k - input, 0);
    return [out, Math.floor(padTotal / 2)];
  }
  return [Math.floor((input - k) / s) + 1, 0];
}

function checkPositiveInt(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new ShapeError(`${what} must be a positive integer, got ${value}`);
}

export function conv2dGeometry(p: Conv2dParams): Conv2dGeometry {
  const [kernelH, kernelW] = pair(p.kernel);
  const [strideH, strideW] = pair(p.stride ?? 1);
  const padding = p.padding ?? 'valid';
  for (const [what, v] of Object.entries({ batch: p.batch, inChannels: p.inChannels, inHeight: p.inHeight, inWidth: p.inWidth, outChannels: p.outChannels, kernelH, kernelW, strideH, strideW })) {
    checkPositiveInt(what, v);
  }
  if (padding === 'valid' && (kernelH > p.inHeight || kernelW > p.inWidth)) {
    throw new ShapeError(`conv2d kernel ${kernelH}x${kernelW} is larger than its ${p.inHeight}x${p.inWidth} input with padding 'valid'; use a smaller kernel or padding 'same'`);
  }
  const [outHeight, padTop] = outAndPad(p.inHeight, kernelH, strideH, padding);
  const [outWidth, padLeft] = outAndPad(p.inWidth, kernelW, strideW, padding);
  return { batch: p.batch, inChannels: p.inChannels, inHeight: p.inHeight, inWidth: p.inWidth, outChannels: p.outChannels, kernelH, kernelW, strideH, strideW, padTop, padLeft, outHeight, outWidth };
}

export interface Pool2dGeometry {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  windowH: number;
  windowW: number;
  strideH: number;
  strideW: number;
  outHeight: number;
  outWidth: number;
}

export interface Pool2dParams {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  window: number | [number, number];
  /** Defaults to the window, as in Keras. */
  stride?: number | [number, number];
}

/** Pooling uses `valid` padding (Keras's default): windows never leave the input. */
export function pool2dGeometry(p: Pool2dParams): Pool2dGeometry {
  const [windowH, windowW] = pair(p.window);
  const [strideH, strideW] = pair(p.stride ?? p.window);
  for (const [what, v] of Object.entries({ batch: p.batch, channels: p.channels, inHeight: p.inHeight, inWidth: p.inWidth, windowH, windowW, strideH, strideW })) {
    checkPositiveInt(what, v);
  }
  if (windowH > p.inHeight || windowW > p.inWidth) {
    throw new ShapeError(`pooling window ${windowH}x${windowW} is larger than its ${p.inHeight}x${p.inWidth} input`);
  }
  return {
    batch: p.batch, channels: p.channels, inHeight: p.inHeight, inWidth: p.inWidth, windowH, windowW, strideH, strideW,
    outHeight: Math.floor((p.inHeight - windowH) / strideH) + 1,
    outWidth: Math.floor((p.inWidth - windowW) / strideW) + 1,
  };
}
