import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../src/model/infer.ts';
import { initParameters, layerTensors, parameterLayout } from '../../src/model/params.ts';
import { lenet5, lenet5Variant } from '../../src/model/spec.ts';

describe('parameterLayout', () => {
  it('LeNet-5: kernel then bias per layer, packed, 61,706 in all', () => {
    const layout = parameterLayout(inferShapes(lenet5, 1));
    expect(layout.tensors.map((t) => [t.layer, t.name, t.shape, t.offset, t.size])).toEqual([
      [0, 'kernel', [6, 1, 5, 5], 0, 150],
      [0, 'bias', [6], 150, 6],
      [2, 'kernel', [16, 6, 5, 5], 156, 2400],
      [2, 'bias', [16], 2556, 16],
      [5, 'kernel', [400, 120], 2572, 48000],
      [5, 'bias', [120], 50572, 120],
      [6, 'kernel', [120, 84], 50692, 10080],
      [6, 'bias', [84], 60772, 84],
      [7, 'kernel', [84, 10], 60856, 840],
      [7, 'bias', [10], 61696, 10],
    ]);
    expect(layout.total).toBe(61706);
    expect(layerTensors(layout, 2)?.kernel.fanIn).toBe(150);
    expect(layerTensors(layout, 2)?.kernel.fanOut).toBe(400);
    expect(layerTensors(layout, 1)).toBeUndefined();
  });

  it('align rounds every offset up to a multiple', () => {
    const layout = parameterLayout(inferShapes(lenet5, 1), 64);
    for (const t of layout.tensors) expect(t.offset % 64).toBe(0);
    expect(layout.tensors[1].offset).toBe(192);
    expect(layout.total).toBeGreaterThan(61706);
  });
});

describe('initParameters', () => {
  const plan = inferShapes(lenet5, 1);
  const layout = parameterLayout(plan);

  it('same seed gives identical weights, a different seed different ones', () => {
    const a = initParameters(plan, 42);
    const b = initParameters(plan, 42);
    const c = initParameters(plan, 43);
    expect(a.length).toBe(61706);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const kernel = layout.tensors[0];
    let differ = 0;
    for (let i = 0; i < kernel.size; i++) if (a[i] !== c[i]) differ++;
    expect(differ).toBe(kernel.size);
  });

  it('biases are zero and kernels fill the glorot range', () => {
    const params = initParameters(plan, 7);
    for (const t of layout.tensors) {
      const values = params.subarray(t.offset, t.offset + t.size);
      if (t.name === 'bias') {
        expect(values.every((v) => v === 0)).toBe(true);
        continue;
      }
      const limit = Math.sqrt(6 / (t.fanIn + t.fanOut));
      let max = 0;
      let sum = 0;
      let sum2 = 0;
      for (const v of values) {
        max = Math.max(max, Math.abs(v));
        sum += v;
        sum2 += v * v;
      }
      expect(max).toBeLessThanOrEqual(limit);
      // Filled, not clumped: the extremes come near the limit and the variance is limit^2 / 3.
      expect(max).toBeGreaterThan(0.9 * limit);
      expect(Math.abs(sum / t.size)).toBeLessThan(0.15 * limit);
      const variance = sum2 / t.size - (sum / t.size) ** 2;
      expect(variance / (limit * limit / 3)).toBeGreaterThan(0.6);
      expect(variance / (limit * limit / 3)).toBeLessThan(1.4);
    }
  });

  it('the draws do not depend on alignment', () => {
    const packed = initParameters(plan, 5);
    const aligned = initParameters(plan, 5, 64);
    const alignedLayout = parameterLayout(plan, 64);
    layout.tensors.forEach((t, k) => {
      const u = alignedLayout.tensors[k];
      expect(Array.from(aligned.subarray(u.offset, u.offset + u.size))).toEqual(Array.from(packed.subarray(t.offset, t.offset + t.size)));
    });
  });

  it('the variant initialises 44,300 values', () => {
    expect(initParameters(inferShapes(lenet5Variant, 1), 1).length).toBe(44300);
  });
});
