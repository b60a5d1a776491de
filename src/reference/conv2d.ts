/**
 * 2-D convolution (cross-correlation, as in Keras/TensorFlow): CPU reference.
 *
 * Layout: inp (B, Cin, H, W) and out (B, Cout, OH, OW) are NCHW; weight is
 * OIHW (Cout, Cin, KH, KW); bias is (Cout). With geometry g (geometry.ts):
 *
 *   out[b,co,oh,ow] = bias[co] + sum_{ci,kh,kw} weight[co,ci,kh,kw] *
 *                     inp[b, ci, oh*strideH - padTop + kh, ow*strideW - padLeft + kw]
 *
 * where reads outside the input are zero. That is all 'same' padding is (for
 * an even kernel Keras pads more after than before, which padTop/padLeft
 * already encode).
 *
 * Algorithm: im2col. For each image, the receptive field of every output
 * position p = oh*OW + ow is copied into row p of a patch matrix
 * (OH*OW, K = Cin*KH*KW), in (ci, kh, kw) order, with zeros where a tap
 * falls in the padding; im2col is the only place padding exists. A weight
 * row weight[co, :] is in the same (ci, kh, kw) order, so:
 *   forward:  out[co, p]     = bias[co] + dot(weight[co, :], patch[p, :])
 *   dweight:  dweight[co, :] = sum_{b,p} dout[b, co, p] * patch_b[p, :]
 *   dinp:     dpatch[p, :]   = sum_co dout[b, co, p] * weight[co, :], then
 *             col2im adds each dpatch entry back to the input element it was
 *             copied from (entries that came from padding are dropped), which
 *             sums the contributions of overlapping windows.
 *   dbias:    dbias[co]      = sum_{b,p} dout[b, co, p]
 * The inner loops are then contiguous dot products and axpys, which is what
 * makes this plain-loop reference fast enough to train LeNet-5 on a few
 * thousand images inside a test. Scratch (one image's patch matrix) is
 * allocated once per call, never per element.
 *
 * Patches and all accumulators are float64, and each result is stored once,
 * so a Float32Array run differs from a float64 run only by the rounding of
 * its inputs and of the stored results, never by accumulation order.
 *
 * conv2dBackward OVERWRITES dinp, dweight and dbias; it never accumulates
 * into them.
 */
import type { Conv2dGeometry } from '../geometry.ts';
import type { Vec } from '../util/vec.ts';

/**
 * patch (OH*OW, Cin*KH*KW) of image b: patch[p, (ci*KH + kh)*KW + kw] =
 * inp[b, ci, oh*strideH - padTop + kh, ow*strideW - padLeft + kw], 0 outside the input.
 */
function im2col(patch: Float64Array, inp: Vec, b: number, g: Conv2dGeometry): void {
  const { inChannels: Cin, inHeight: H, inWidth: W, kernelH: KH, kernelW: KW } = g;
  const { strideH, strideW, padTop, padLeft, outHeight: OH, outWidth: OW } = g;
  let k = 0;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      for (let ci = 0; ci < Cin; ci++) {
        const inBase = (b * Cin + ci) * H * W;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * strideH - padTop + kh;
          const rowInside = ih >= 0 && ih < H;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * strideW - padLeft + kw;
            patch[k++] = rowInside && iw >= 0 && iw < W ? inp[inBase + ih * W + iw] : 0;
          }
        }
      }
    }
  }
}

/** The transpose of im2col for one image: acc (Cin, H, W) += each dpatch entry at the input element it came from. */
function col2im(acc: Float64Array, dpatch: Float64Array, g: Conv2dGeometry): void {
  const { inChannels: Cin, inHeight: H, inWidth: W, kernelH: KH, kernelW: KW } = g;
  const { strideH, strideW, padTop, padLeft, outHeight: OH, outWidth: OW } = g;
  let k = 0;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      for (let ci = 0; ci < Cin; ci++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * strideH - padTop + kh;
          const rowInside = ih >= 0 && ih < H;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * strideW - padLeft + kw;
            if (rowInside && iw >= 0 && iw < W) acc[(ci * H + ih) * W + iw] += dpatch[k];
            k++;
          }
        }
      }
    }
  }
}

export function conv2dForward(
  out: Vec, // (B, Cout, OH, OW)
  inp: Vec, // (B, Cin, H, W)
  weight: Vec, // (Cout, Cin, KH, KW)
  bias: Vec, // (Cout)
  g: Conv2dGeometry,
): void {
  const { batch, outChannels: Cout, outHeight: OH, outWidth: OW } = g;
  const K = g.inChannels * g.kernelH * g.kernelW;
  const P = OH * OW;
  const patch = new Float64Array(P * K); // (OH*OW, Cin*KH*KW)
  for (let b = 0; b < batch; b++) {
    im2col(patch, inp, b, g);
    for (let co = 0; co < Cout; co++) {
      const wRow = co * K;
      const outBase = (b * Cout + co) * P;
      for (let p = 0; p < P; p++) {
        const pRow = p * K;
        let sum = bias[co];
        for (let k = 0; k < K; k++) sum += weight[wRow + k] * patch[pRow + k];
        out[outBase + p] = sum;
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
  const { batch, inChannels: Cin, inHeight: H, inWidth: W, outChannels: Cout, outHeight: OH, outWidth: OW } = g;
  const K = Cin * g.kernelH * g.kernelW;
  const P = OH * OW;
  const patch = new Float64Array(P * K); // (OH*OW, K): patches of image b, then their gradient
  const dw = new Float64Array(Cout * K); // (Cout, K) accumulated over the batch
  const db = new Float64Array(Cout);
  const dimage = dinp ? new Float64Array(Cin * H * W) : null; // (Cin, H, W) of image b

  for (let b = 0; b < batch; b++) {
    im2col(patch, inp, b, g);
    for (let co = 0; co < Cout; co++) {
      const wRow = co * K;
      const outBase = (b * Cout + co) * P;
      for (let p = 0; p < P; p++) {
        const d = dout[outBase + p];
        db[co] += d;
        const pRow = p * K;
        for (let k = 0; k < K; k++) dw[wRow + k] += d * patch[pRow + k];
      }
    }
    if (dinp === null || dimage === null) continue;
    // The patches are no longer needed: reuse the buffer for dpatch.
    patch.fill(0);
    for (let p = 0; p < P; p++) {
      const pRow = p * K;
      for (let co = 0; co < Cout; co++) {
        const d = dout[(b * Cout + co) * P + p];
        const wRow = co * K;
        for (let k = 0; k < K; k++) patch[pRow + k] += d * weight[wRow + k];
      }
    }
    dimage.fill(0);
    col2im(dimage, patch, g);
    dinp.set(dimage, b * Cin * H * W);
  }
  dweight.set(dw);
  dbias.set(db);
}
