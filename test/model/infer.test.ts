import { describe, expect, it } from 'vitest';
import { inferShapes, SpecError } from '../../src/model/infer.ts';
import { lenet5, lenet5Variant, presets, type LayerSpec, type ModelSpec } from '../../src/model/spec.ts';

describe('inferShapes on the presets', () => {
  it('LeNet-5: shapes, geometry and 61,706 parameters', () => {
    const plan = inferShapes(lenet5, 32);
    expect(plan.layers.map((l) => [l.name, l.outputShape, l.paramCount])).toEqual([
      ['conv2d_1', [6, 28, 28], 156],
      ['average_pooling2d_1', [6, 14, 14], 0],
      ['conv2d_2', [16, 10, 10], 2416],
      ['average_pooling2d_2', [16, 5, 5], 0],
      ['flatten_1', [400], 0],
      ['dense_1', [120], 48120],
      ['dense_2', [84], 10164],
      ['dense_3', [10], 850],
    ]);
    expect(plan.layers.map((l) => l.inputShape)).toEqual([[1, 28, 28], [6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 5, 5], [400], [120], [84]]);
    expect(plan.paramCount).toBe(61706);
    expect(plan.outputClasses).toBe(10);
    expect(plan.softmaxOutput).toBe(true);
    expect(plan.batch).toBe(32);
    // 'same' 5x5 on 28x28: pad 2 on each side.
    expect(plan.layers[0].conv).toMatchObject({ batch: 32, padTop: 2, padLeft: 2, outHeight: 28, kernelH: 5 });
    expect(plan.layers[1].pool).toMatchObject({ windowH: 2, strideH: 2, outHeight: 14 });
    expect(plan.layers[0].params.map((p) => [p.name, p.shape, p.fanIn, p.fanOut])).toEqual([
      ['kernel', [6, 1, 5, 5], 25, 150],
      ['bias', [6], 25, 150],
    ]);
    expect(plan.layers[5].params[0].shape).toEqual([400, 120]);
    expect(plan.layers[5].dense).toEqual({ inFeatures: 400, outFeatures: 120 });
    expect(plan.layers.map((l) => l.activation)).toEqual(['tanh', 'linear', 'tanh', 'linear', 'linear', 'tanh', 'tanh', 'softmax']);
  });

  it('the variant: shapes and 44,300 parameters (checked by hand)', () => {
    const plan = inferShapes(lenet5Variant, 1);
    // conv 2x2 1->6: 6*1*4 + 6 = 30; 28 -> 27; maxpool 2: 13
    // conv 5x5 6->16: 16*6*25 + 16 = 2416; 13 -> 9; maxpool 2: 4
    // conv 4x4 16->120: 120*16*16 + 120 = 30840; 4 -> 1
    // dense 120->84: 120*84 + 84 = 10164; dense 84->10: 850. Total 44,300.
    expect(plan.layers.map((l) => [l.name, l.outputShape, l.paramCount])).toEqual([
      ['conv2d_1', [6, 27, 27], 30],
      ['max_pooling2d_1', [6, 13, 13], 0],
      ['conv2d_2', [16, 9, 9], 2416],
      ['max_pooling2d_2', [16, 4, 4], 0],
      ['conv2d_3', [120, 1, 1], 30840],
      ['flatten_1', [120], 0],
      ['dense_1', [84], 10164],
      ['dense_2', [10], 850],
    ]);
    expect(plan.paramCount).toBe(30 + 2416 + 30840 + 10164 + 850);
    expect(plan.paramCount).toBe(44300);
    expect(plan.outputClasses).toBe(10);
  });

  it('every preset infers', () => {
    for (const spec of Object.values(presets)) expect(inferShapes(spec, 4).outputClasses).toBe(10);
  });

  it('strides, non-square kernels, a standalone activation layer and a non-softmax output', () => {
    const plan = inferShapes(
      {
        inputShape: [3, 11, 10],
        layers: [
          { type: 'conv2d', filters: 5, kernelSize: [4, 3], strides: [3, 2], padding: 'same' },
          { type: 'activation', activation: 'relu' },
          { type: 'maxPool2d', poolSize: 3, strides: 1 },
          { type: 'flatten' },
          { type: 'flatten' },
          { type: 'dense', units: 7 },
        ],
      },
      2,
    );
    // same: out = ceil(11/3) = 4, ceil(10/2) = 5; pad H = (3*3 + 4 - 11) = 2 -> 1 before; W = (4*2 + 3 - 10) = 1 -> 0 before.
    expect(plan.layers[0].conv).toMatchObject({ outHeight: 4, outWidth: 5, padTop: 1, padLeft: 0 });
    expect(plan.layers.map((l) => l.outputShape)).toEqual([[5, 4, 5], [5, 4, 5], [5, 2, 3], [30], [30], [7]]);
    expect(plan.layers.map((l) => l.name)).toEqual(['conv2d_1', 'activation_1', 'max_pooling2d_1', 'flatten_1', 'flatten_2', 'dense_1']);
    expect(plan.softmaxOutput).toBe(false);
    expect(plan.outputClasses).toBe(7);
    expect(plan.name).toBe('model');
  });
});

describe('impossible specs throw SpecError naming the layer', () => {
  const base = (layers: LayerSpec[], inputShape: [number, number, number] = [1, 28, 28]): ModelSpec => ({ inputShape, layers });
  const softmaxHead: LayerSpec[] = [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }];
  const cases: [string, ModelSpec, RegExp[]][] = [
    ['no layers', base([]), [/no layers/]],
    ['bad input shape', { inputShape: [1, 0, 28], layers: softmaxHead } as ModelSpec, [/inputShape/, /\[1, 28, 28\]/]],
    ['unknown layer type', base([{ type: 'conv3d' } as unknown as LayerSpec, ...softmaxHead]), [/layer 0/, /conv3d/, /use one of/]],
    ['non-integer filters', base([{ type: 'conv2d', filters: 2.5, kernelSize: 3 }, ...softmaxHead]), [/layer 0 'conv2d_1'/, /filters/, /2\.5/]],
    ['zero kernel', base([{ type: 'conv2d', filters: 4, kernelSize: 0 }, ...softmaxHead]), [/layer 0 'conv2d_1'/, /kernelSize/]],
    ['negative stride', base([{ type: 'conv2d', filters: 4, kernelSize: 3, strides: -1 }, ...softmaxHead]), [/layer 0 'conv2d_1'/, /strides/]],
    ['bad padding', base([{ type: 'conv2d', filters: 4, kernelSize: 3, padding: 'full' as 'same' }, ...softmaxHead]), [/layer 0 'conv2d_1'/, /padding/]],
    [
      'kernel larger than its input',
      base([{ type: 'conv2d', filters: 4, kernelSize: 5 }, { type: 'conv2d', filters: 4, kernelSize: 5 }, ...softmaxHead], [1, 8, 8]),
      [/layer 1 'conv2d_2'/, /\[4, 4, 4\]/, /5x5/, /padding 'same'/],
    ],
    [
      'pool larger than its input',
      base([{ type: 'avgPool2d', poolSize: 2 }, { type: 'maxPool2d', poolSize: 3 }, ...softmaxHead], [2, 5, 4]),
      [/layer 1 'max_pooling2d_1'/, /\[2, 2, 2\]/, /3x3/],
    ],
    ['zero pool', base([{ type: 'avgPool2d', poolSize: 0 }, ...softmaxHead]), [/layer 0 'average_pooling2d_1'/, /poolSize/]],
    ['unknown activation', base([{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'gelu' as 'tanh' }, ...softmaxHead]), [/layer 0 'conv2d_1'/, /gelu/, /use one of/]],
    ['activation layer without activation', base([{ type: 'activation' } as LayerSpec, ...softmaxHead]), [/layer 0 'activation_1'/, /activation/]],
    [
      'dense on a spatial input',
      base([{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'dense', units: 10, activation: 'softmax' }], [1, 6, 6]),
      [/layer 1 'dense_1'/, /\[4, 4, 4\]/, /flatten/, /\[64\]/],
    ],
    ['dense on [C, 1, 1] still needs a flatten', base([{ type: 'dense', units: 10 }], [5, 1, 1]), [/layer 0 'dense_1'/, /\[5, 1, 1\]/, /flatten/]],
    ['conv on a flat input', base([{ type: 'flatten' }, { type: 'conv2d', filters: 2, kernelSize: 1 }, ...softmaxHead]), [/layer 1 'conv2d_1'/, /\[784\]/, /spatial/]],
    ['pool on a flat input', base([{ type: 'flatten' }, { type: 'maxPool2d', poolSize: 2 }, ...softmaxHead]), [/layer 1 'max_pooling2d_1'/, /\[784\]/]],
    ['zero units', base([{ type: 'flatten' }, { type: 'dense', units: 0, activation: 'softmax' }]), [/layer 1 'dense_1'/, /units/]],
    [
      'softmax before the last layer',
      base([{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'softmax' }, { type: 'dense', units: 10 }]),
      [/layer 1 'dense_1'/, /softmax/, /last layer/],
    ],
    ['softmax on a spatial output', base([{ type: 'conv2d', filters: 3, kernelSize: 3, activation: 'softmax' }]), [/layer 0 'conv2d_1'/, /softmax/, /flat/]],
  ];

  it.each(cases)('%s', (_label, spec, patterns) => {
    let error: unknown;
    try {
      inferShapes(spec, 8);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    const message = (error as Error).message;
    for (const p of patterns) expect(message).toMatch(p);
  });

  it('a non-positive batch', () => {
    expect(() => inferShapes(lenet5, 0)).toThrow(SpecError);
    expect(() => inferShapes(lenet5, 1.5)).toThrow(/batch/);
  });
});
