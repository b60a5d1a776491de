/**
 * The pad's MNIST-style preprocessing (web/digit-preprocess.ts), in Node:
 * longer side of the ink's bounding box scaled to 20 px with the aspect ratio
 * kept, centre of mass at the centre of the 28x28 field, 0..255 white on black;
 * and real MNIST digits blown up 10x come back as themselves.
 */
import { describe, expect, it } from 'vitest';
import { centreOfMass, inkBoundingBox, inkFromRgba, preprocessDigit } from '../../web/digit-preprocess.ts';
import { mnistSlice } from '../helpers/mnist.ts';

const W = 280;
const H = 280;

function rect(x0: number, y0: number, w: number, h: number): Uint8Array {
  const ink = new Uint8Array(W * H);
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) ink[y * W + x] = 255;
  return ink;
}

describe('MNIST-style preprocessing of a drawing', () => {
  it('gives nothing for an empty pad', () => {
    expect(preprocessDigit(new Uint8Array(W * H), W, H)).toBeUndefined();
  });

  it('scales the longer side to 20 px, keeps the aspect ratio, centres the mass', () => {
    for (const [w, h, tw, th] of [[40, 200, 4, 20], [200, 100, 20, 10], [120, 120, 20, 20], [3, 3, 20, 20]]) {
      const out = preprocessDigit(rect(17, 33, w, h), W, H)!;
      const box = inkBoundingBox(out, 28, 28)!;
      expect([box.w, box.h]).toEqual([tw, th]);
      const [cx, cy] = centreOfMass(out);
      expect(Math.abs(cx - 14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(cy - 14)).toBeLessThanOrEqual(0.5);
      expect(Math.max(...out)).toBe(255);
    }
  });

  it('does not depend on where the digit was drawn', () => {
    expect(preprocessDigit(rect(10, 10, 50, 170), W, H)).toEqual(preprocessDigit(rect(200, 90, 50, 170), W, H));
  });

  it('reads ink from RGBA as alpha times brightness', () => {
    expect(Array.from(inkFromRgba([255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 128], 4, 1))).toEqual([255, 0, 0, 128]);
  });

  it('turns real MNIST digits enlarged 10x back into themselves', async () => {
    const test = await mnistSlice('test', 0, 50);
    const bests: number[] = [];
    for (let n = 0; n < test.count; n++) {
      const digit = test.pixels.subarray(n * 784, (n + 1) * 784);
      const big = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) big[y * W + x] = digit[Math.floor(y / 10) * 28 + Math.floor(x / 10)];
      const out = preprocessDigit(big, W, H)!;
      // MNIST placed its digits by the same rule, up to a pixel of rounding: compare at the best shift.
      let best = Infinity;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          let diff = 0;
          for (let y = 0; y < 28; y++) {
            for (let x = 0; x < 28; x++) {
              const sx = x + dx;
              const sy = y + dy;
              diff += Math.abs(out[y * 28 + x] - (sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? digit[sy * 28 + sx] : 0));
            }
          }
          best = Math.min(best, diff / 784);
        }
      }
      bests.push(best);
      expect(best, `test digit ${n}`).toBeLessThan(1);
    }
    console.log(`mean |difference| per pixel at the best shift: max ${Math.max(...bests).toFixed(2)}, mean ${(bests.reduce((a, b) => a + b, 0) / bests.length).toFixed(2)} (of 255)`);
  });
});
