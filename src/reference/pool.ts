/**
 * 2-D average and max pooling: CPU reference.
 *
 * Layout: inp (B, C, H, W), out (B, C, OH, OW), NCHW. Pooling is 'valid'
 * (windows never leave the input; geometry.ts), window windowH x windowW
 * moved by strideH/strideW.
 *
 *   avg: out[b,c,oh,ow] = mean of inp over the window at (oh*strideH, ow*strideW)
 *   max: out[b,c,oh,ow] = max  of inp over that window
 *
 * Max pooling routes each window's gradient to ONE element: the first maximal
 * one in row-major window order (a strict `>` scan), so ties have a single
 * well-defined winner the GPU kernel can reproduce. The backward pass
 * recomputes that argmax from the forward input instead of storing indices.
 *
 * Windows may overlap (stride < window); an input element then receives the
 * SUM of the contributions of every window that covers it.
 *
 * The backward functions OVERWRITE dinp (zero it, then scatter each window's
 * gradient into it); they never accumulate into what was there.
 */
import type { Pool2dGeometry } from '../geometry.ts';
import type { Vec } from '../util/vec.ts';

export function avgPoolForward(
  out: Vec, // (B, C, OH, OW)
  inp: Vec, // (B, C, H, W)
  g: Pool2dGeometry,
): void {
  const { batch, channels, inHeight: H, inWidth: W, windowH, windowW, strideH, strideW, outHeight: OH, outWidth: OW } = g;
  const scale = 1 / (windowH * windowW);
  for (let bc = 0; bc < batch * channels; bc++) {
    const inBase = bc * H * W;
    const outBase = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let sum = 0;
        for (let kh = 0; kh < windowH; kh++) {
          const row = inBase + (oh * strideH + kh) * W + ow * strideW;
          for (let kw = 0; kw < windowW; kw++) sum += inp[row + kw];
        }
        out[outBase + oh * OW + ow] = sum * scale;
      }
    }
  }
}

export function avgPoolBackward(
  dinp: Vec, // (B, C, H, W)
  dout: Vec, // (B, C, OH, OW)
  g: Pool2dGeometry,
): void {
  const { batch, channels, inHeight: H, inWidth: W, windowH, windowW, strideH, strideW, outHeight: OH, outWidth: OW } = g;
  const scale = 1 / (windowH * windowW);
  dinp.fill(0, 0, batch * channels * H * W);
  for (let bc = 0; bc < batch * channels; bc++) {
    const inBase = bc * H * W;
    const outBase = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const d = dout[outBase + oh * OW + ow] * scale;
        for (let kh = 0; kh < windowH; kh++) {
          const row = inBase + (oh * strideH + kh) * W + ow * strideW;
          for (let kw = 0; kw < windowW; kw++) dinp[row + kw] += d;
        }
      }
    }
  }
}

/** Flat index into inp of the first maximal element of one window (row-major scan, strict `>`). */
function argmaxWindow(inp: Vec, row0: number, W: number, windowH: number, windowW: number): number {
  let best = row0;
  let bestValue = inp[row0];
  for (let kh = 0; kh < windowH; kh++) {
    const row = row0 + kh * W;
    for (let kw = 0; kw < windowW; kw++) {
      if (inp[row + kw] > bestValue) {
        bestValue = inp[row + kw];
        best = row + kw;
      }
    }
  }
  return best;
}

export function maxPoolForward(
  out: Vec, // (B, C, OH, OW)
  inp: Vec, // (B, C, H, W)
  g: Pool2dGeometry,
): void {
  const { batch, channels, inHeight: H, inWidth: W, windowH, windowW, strideH, strideW, outHeight: OH, outWidth: OW } = g;
  for (let bc = 0; bc < batch * channels; bc++) {
    const inBase = bc * H * W;
    const outBase = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const at = argmaxWindow(inp, inBase + oh * strideH * W + ow * strideW, W, windowH, windowW);
        out[outBase + oh * OW + ow] = inp[at];
      }
    }
  }
}

export function maxPoolBackward(
  dinp: Vec, // (B, C, H, W)
  dout: Vec, // (B, C, OH, OW)
  inp: Vec, // (B, C, H, W): the forward input, to find each window's argmax again
  g: Pool2dGeometry,
): void {
  const { batch, channels, inHeight: H, inWidth: W, windowH, windowW, strideH, strideW, outHeight: OH, outWidth: OW } = g;
  dinp.fill(0, 0, batch * channels * H * W);
  for (let bc = 0; bc < batch * channels; bc++) {
    const inBase = bc * H * W;
    const outBase = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const at = argmaxWindow(inp, inBase + oh * strideH * W + ow * strideW, W, windowH, windowW);
        dinp[at] += dout[outBase + oh * OW + ow];
      }
    }
  }
}
