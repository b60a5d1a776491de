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
 * Every output element is a sum accumulated in a JS number (float64) and
 * stored once, so a Float32Array run differs from the float64 run only by the
 * rounding of its inputs and of the stored result, never by accumulation
 * order. The backward pass is written in gather form for the same reason:
 * each gradient element is one sum, computed and stored once.
 *
 * conv2dBackward OVERWRITES dinp, dweight and dbias; it never accumulates
 * into them.
 */
import type { Conv2dGeometry } from '../geometry.ts';
import type { Vec } from './vec.ts';

/**
 * Outputs o in [lo, hi) whose tap k lands inside the input:
 * 0 <= o*stride - pad + k < size.
 */
function outRange(k: number, stride: number, pad: number, size: number, outSize: number): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - k) / stride));
  const hi = Math.min(outSize, Math.floor((size - 1 + pad - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
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
  for (let kh = 0; kh < KH; kh++) {
    const [ohLo, ohHi] = outRange(kh, strideH, padTop, H, OH);
    for (let kw = 0; kw < KW; kw++) {
      const [owLo, owHi] = outRange(kw, strideW, padLeft, W, OW);
      for (let co = 0; co < Cout; co++) {
        for (let ci = 0; ci < Cin; ci++) {
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
  // dinp[b,ci,ih,iw] = sum over the (co, kh, kw) whose output position
  // oh = (ih + padTop - kh) / strideH (and likewise ow) is a whole number in range.
  for (let b = 0; b < batch; b++) {
    for (let ci = 0; ci < Cin; ci++) {
      const inBase = (b * Cin + ci) * H * W;
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          let sum = 0;
          for (let kh = 0; kh < KH; kh++) {
            const th = ih + padTop - kh;
            if (th < 0 || th % strideH !== 0) continue;
            const oh = th / strideH;
            if (oh >= OH) continue;
            for (let kw = 0; kw < KW; kw++) {
              const tw = iw + padLeft - kw;
              if (tw < 0 || tw % strideW !== 0) continue;
              const ow = tw / strideW;
              if (ow >= OW) continue;
              const outIndex = (b * Cout * OH + oh) * OW + ow;
              const wIndex = (ci * KH + kh) * KW + kw;
              for (let co = 0; co < Cout; co++) {
                sum += dout[outIndex + co * outPlane] * weight[wIndex + co * Cin * KH * KW];
              }
            }
          }
          dinp[inBase + ih * W + iw] = sum;
        }
      }
    }
  }
}
