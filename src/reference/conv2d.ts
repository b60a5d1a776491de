/**
 * 2-D convolution (cross-correlation, as in Keras/TensorFlow): CPU reference.
 *
 * Layout: inp (B, Cin, H, W) and out (B, Cout, OH, OW) are NCHW; weight is
 * OIHW (Cout, Cin, KH, KW); bias is (Cout). With geometry g (geometry.ts):
 *
 *   out[b,co,oh,ow] = bias[co] + sum_{ci,kh,kw} weight[co,ci,kh,kw] *
 *                     inp[b, ci, oh*strideH - padTop + kh, ow*strideW - padLeft + kw]
 *
 * where reads outside the input are zero. That is all 'same' padding is: no
 * padded copy of the input is made, the loops just skip taps that fall
 * outside (for an even kernel Keras pads more after than before, which
 * padTop/padLeft already encode).
 *
 * Loop order: the forward pass is the definition, one output element at a
 * time, looping only over the kernel rows/columns that land inside the
 * input. The weight gradient is a gather: for each weight, a sum over batch
 * and the output positions whose tap reads inside the input. The input
 * gradient is the forward loop transposed: for each tap (ci, kh, kw), the
 * output-gradient plane scaled by that weight is added into a float64
 * scratch input plane at the positions the tap read. Inner loops run along
 * rows with the weight held in a local, fast enough to train LeNet-5 on a few
 * thousand images inside a test (no allocation inside the loops).
 *
 * All sums are accumulated in float64 and stored once, so a Float32Array run
 * differs from the float64 run only by the rounding of its inputs and of the
 * stored results, never by accumulation order.
 *
 * conv2dBackward OVERWRITES dinp, dweight and dbias; it never accumulates
 * into them.
 */
import type { Conv2dGeometry } from '../geometry.ts';
import type { Vec } from './vec.ts';

/**
 * For every kernel offset k in [0, K): the outputs o in [lo, hi) whose tap k
 * lands inside the input, 0 <= o*stride - pad + k < size. Outside that range
 * the tap reads padding (zero) and is skipped.
 */
function tapRanges(K: number, stride: number, pad: number, size: number, outSize: number): Int32Array {
  const ranges = new Int32Array(2 * K);
  for (let k = 0; k < K; k++) {
    const lo = Math.max(0, Math.ceil((pad - k) / stride));
    const hi = Math.min(outSize, Math.floor((size - 1 + pad - k) / stride) + 1);
    ranges[2 * k] = lo;
    ranges[2 * k + 1] = Math.max(lo, hi);
  }
  return ranges;
}

export function conv2dForward(
  out: Vec, // (B, Cout, OH, OW)
  inp: Vec, // (B, Cin, H, W)
  weight: Vec, // (Cout, Cin, KH, KW)
  bias: Vec, // (Cout)
  g: Conv2dGeometry,
): void {
  const { batch, inChannels: Cin, inHeight: H, inWidth: W, outChannels: Cout, kernelH: KH, kernelW: KW } = g;
  const { strideH, strideW, padTop, padLeft, outHeight: OH, outWidth: OW } = g;
  for (let b = 0; b < batch; b++) {
    for (let co = 0; co < Cout; co++) {
      const outBase = (b * Cout + co) * OH * OW;
      for (let oh = 0; oh < OH; oh++) {
        const ih0 = oh * strideH - padTop;
        // Only the kernel rows/columns that land inside the input contribute.
        const khLo = Math.max(0, -ih0);
        const khHi = Math.min(KH, H - ih0);
        for (let ow = 0; ow < OW; ow++) {
          const iw0 = ow * strideW - padLeft;
          const kwLo = Math.max(0, -iw0);
          const kwHi = Math.min(KW, W - iw0);
          let sum = bias[co];
          for (let ci = 0; ci < Cin; ci++) {
            const inBase = (b * Cin + ci) * H * W;
            const wBase = (co * Cin + ci) * KH * KW;
            for (let kh = khLo; kh < khHi; kh++) {
              const inRow = inBase + (ih0 + kh) * W + iw0;
              const wRow = wBase + kh * KW;
              for (let kw = kwLo; kw < kwHi; kw++) sum += inp[inRow + kw] * weight[wRow + kw];
            }
          }
          out[outBase + oh * OW + ow] = sum;
        }
      }
    }
  }
}

/**
 * Pass `dinp = null` to skip the input gradient (the first layer of a network
 * does not need it, and it costs as much as the forward pass).
 */
export function conv2dBackward(
  dinp: Vec | null, // (B, Cin, H, W)
  dweight: Vec, // (Cout, Cin, KH, KW)
  dbias: Vec, // (Cout)
  dout: Vec, // (B, Cout, OH, OW)
  inp: Vec, // (B, Cin, H, W)
  weight: Vec, // (Cout, Cin, KH, KW)
  g: Conv2dGeometry,
): void {
  const { batch, inChannels: Cin, inHeight: H, inWidth: W, outChannels: Cout, kernelH: KH, kernelW: KW } = g;
  const { strideH, strideW, padTop, padLeft, outHeight: OH, outWidth: OW } = g;
  const rows = tapRanges(KH, strideH, padTop, H, OH);
  const cols = tapRanges(KW, strideW, padLeft, W, OW);
  const outPlane = OH * OW;

  // dbias[co] = sum over batch and positions of dout.
  for (let co = 0; co < Cout; co++) {
    let sum = 0;
    for (let b = 0; b < batch; b++) {
      const base = (b * Cout + co) * outPlane;
      for (let i = 0; i < outPlane; i++) sum += dout[base + i];
    }
    dbias[co] = sum;
  }

  // dweight[co,ci,kh,kw] = sum_{b,oh,ow} dout[b,co,oh,ow] * inp[b,ci,ih,iw], over
  // the output positions whose tap (kh,kw) reads inside the input.
  for (let co = 0; co < Cout; co++) {
    for (let ci = 0; ci < Cin; ci++) {
      for (let kh = 0; kh < KH; kh++) {
        const ohLo = rows[2 * kh];
        const ohHi = rows[2 * kh + 1];
        for (let kw = 0; kw < KW; kw++) {
          const owLo = cols[2 * kw];
          const owHi = cols[2 * kw + 1];
          let sum = 0;
          for (let b = 0; b < batch; b++) {
            const outBase = (b * Cout + co) * outPlane;
            const inBase = (b * Cin + ci) * H * W;
            for (let oh = ohLo; oh < ohHi; oh++) {
              const outRow = outBase + oh * OW;
              const inRow = inBase + (oh * strideH - padTop + kh) * W - padLeft + kw;
              for (let ow = owLo; ow < owHi; ow++) sum += dout[outRow + ow] * inp[inRow + ow * strideW];
            }
          }
          dweight[((co * Cin + ci) * KH + kh) * KW + kw] = sum;
        }
      }
    }
  }

  if (dinp === null) return;
  // dinp is the forward loop transposed: every output gradient, scaled by the
  // weight of tap (kh, kw), flows back to the input element that tap read.
  const acc = new Float64Array(H * W); // one input plane
  for (let b = 0; b < batch; b++) {
    for (let ci = 0; ci < Cin; ci++) {
      acc.fill(0);
      for (let co = 0; co < Cout; co++) {
        const outBase = (b * Cout + co) * outPlane;
        for (let kh = 0; kh < KH; kh++) {
          const ohLo = rows[2 * kh];
          const ohHi = rows[2 * kh + 1];
          for (let kw = 0; kw < KW; kw++) {
            const owLo = cols[2 * kw];
            const owHi = cols[2 * kw + 1];
            const w = weight[((co * Cin + ci) * KH + kh) * KW + kw];
            for (let oh = ohLo; oh < ohHi; oh++) {
              const inRow = (oh * strideH - padTop + kh) * W - padLeft + kw;
              const outRow = outBase + oh * OW;
              for (let ow = owLo; ow < owHi; ow++) acc[inRow + ow * strideW] += w * dout[outRow + ow];
            }
          }
        }
      }
      dinp.set(acc, (b * Cin + ci) * H * W);
    }
  }
}
