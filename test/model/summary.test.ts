import { expect, it } from 'vitest';
import { inferShapes } from '../../src/model/infer.ts';
import { lenet5, lenet5Variant } from '../../src/model/spec.ts';
import { formatSummary } from '../../src/model/summary.ts';

it('LeNet-5 summary lists every layer, its output shape and parameters, and 61,706 in total', () => {
  const text = formatSummary(inferShapes(lenet5, 32));
  expect(text).toContain('Model: "lenet5"');
  expect(text).toMatch(/Layer \(type\)\s+Output Shape\s+Param #/);
  expect(text).toMatch(/conv2d_1 \(Conv2D\)\s+\(None, 6, 28, 28\)\s+156\n/);
  expect(text).toMatch(/average_pooling2d_1 \(AveragePooling2D\)\s+\(None, 6, 14, 14\)\s+0\n/);
  expect(text).toMatch(/conv2d_2 \(Conv2D\)\s+\(None, 16, 10, 10\)\s+2,416\n/);
  expect(text).toMatch(/flatten_1 \(Flatten\)\s+\(None, 400\)\s+0\n/);
  expect(text).toMatch(/dense_1 \(Dense\)\s+\(None, 120\)\s+48,120\n/);
  expect(text).toMatch(/dense_2 \(Dense\)\s+\(None, 84\)\s+10,164\n/);
  expect(text).toMatch(/dense_3 \(Dense\)\s+\(None, 10\)\s+850\n/);
  expect(text).toContain('Total params: 61,706');
  expect(text).toContain('Trainable params: 61,706');
});

it('the variant summary totals 44,300', () => {
  const text = formatSummary(inferShapes(lenet5Variant, 1));
  expect(text).toMatch(/conv2d_3 \(Conv2D\)\s+\(None, 120, 1, 1\)\s+30,840\n/);
  expect(text).toMatch(/max_pooling2d_2 \(MaxPooling2D\)\s+\(None, 16, 4, 4\)\s+0\n/);
  expect(text).toContain('Total params: 44,300');
});
