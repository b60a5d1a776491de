/**
 * The kernel plan (src/kernels/plan.ts) of both presets on both variants,
 * printed and held to what each must take: the blocked variant's window
 * kernels and its fusions (LeNet-5's average pooling written by both
 * convolutions, the first convolution's weight gradient taken through the
 * pooling), the first layer's skipped input gradient, activation derivatives
 * applied by the layer above. test/engine/gradient-parity.test.ts checks that
 * a recorded training step dispatches exactly this plan.
 */
import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../src/model/infer.ts';
import { lenet5, lenet5Variant } from '../../src/model/spec.ts';
import { formatKernelPlan, planKernels } from '../../src/kernels/plan.ts';
import type { KernelVariant } from '../../src/kernels/variant.ts';
import { runCli } from '../helpers/cli.ts';

/** Per preset and variant: how often each entry point runs in one training step (forward + backward). */
const STEP_ENTRIES: Record<string, Record<KernelVariant, Record<string, number>>> = {
  'lenet5': {
    blocked: {
      conv2d_forward_window_pooled: 2, avg_pool_forward: 0, // pooling written by both convolutions
      conv2d_backward_weight_window_pooled: 1, // conv1's weight gradient straight from the pooled gradient
      conv2d_backward_weight_window: 1, conv2d_backward_input_window: 1, // conv2; conv1 has no input gradient
      avg_pool_backward_disjoint: 1, conv2d_backward_weight_reduce: 2, activation_backward: 0,
      dense_forward_blocked: 3, dense_backward_weight_blocked: 3, dense_backward_input_blocked: 3,
    },
    tiled: {
      conv2d_forward_tiled: 2, avg_pool_forward: 2, conv2d_backward_weight_tiled: 2, conv2d_backward_input_tiled: 1,
      avg_pool_backward_disjoint: 2, conv2d_backward_weight_reduce: 2, activation_backward: 0,
      dense_forward_tiled: 3, dense_backward_weight_tiled: 3, dense_backward_input_tiled: 3,
    },
    compact: {
      conv2d_forward_blocked: 2, avg_pool_forward: 2, conv2d_backward_weight_blocked: 2, conv2d_backward_input_blocked: 1, // no window kernels, no fusion
      avg_pool_backward_disjoint: 2, conv2d_backward_weight_reduce: 2, activation_backward: 0,
      dense_forward_blocked: 3, dense_backward_weight_blocked: 3, dense_backward_input_blocked: 3,
    },
  },
  'lenet5-variant': {
    blocked: {
      conv2d_forward_window: 2, conv2d_forward_blocked: 1, // the 4x4 conv on a 4x4 input takes the general kernel
      max_pool_forward: 2, max_pool_backward: 2,
      conv2d_backward_weight_window: 2, conv2d_backward_input_window: 1, conv2d_backward_weight_blocked: 1, conv2d_backward_input_blocked: 1,
      activation_backward: 0, dense_forward_blocked: 2, dense_backward_weight_blocked: 2, dense_backward_input_blocked: 2,
    },
    tiled: {
      conv2d_forward_tiled: 3, max_pool_forward: 2, max_pool_backward: 2, conv2d_backward_weight_tiled: 3, conv2d_backward_input_tiled: 2,
      activation_backward: 0, dense_forward_tiled: 2, dense_backward_weight_tiled: 2, dense_backward_input_tiled: 2,
    },
    compact: {
      conv2d_forward_blocked: 3, max_pool_forward: 2, max_pool_backward: 2, conv2d_backward_weight_blocked: 3, conv2d_backward_input_blocked: 2,
      activation_backward: 0, dense_forward_blocked: 2, dense_backward_weight_blocked: 2, dense_backward_input_blocked: 2,
    },
  },
};

describe.each([
  ['lenet5', lenet5],
  ['lenet5-variant', lenet5Variant],
])('%s kernel plan', (name, spec) => {
  for (const variant of ['blocked', 'tiled', 'compact'] as const) {
    it(`${variant}: the entry points and fusions the preset must take`, () => {
      const kp = planKernels(inferShapes(spec, 64), variant);
      console.log(formatKernelPlan(kp));
      const all = kp.layers.flatMap((l) => [...l.forward.entries, ...l.backward.entries]);
      const expected = STEP_ENTRIES[name]![variant];
      const counts = Object.fromEntries(Object.keys(expected).map((e) => [e, all.filter((x) => x === e).length]));
      expect(counts).toEqual(expected);
      // Nothing outside the expected set: every entry a step runs is accounted for.
      expect(all.filter((e) => !(e in expected) && !/reduce/.test(e))).toEqual([]);
      // The first layer never computes an input gradient.
      expect(kp.layers[0].backward.entries.some((e) => /input/.test(e))).toBe(false);
      // Every non-linear activation is differentiated exactly once: fused into the layer above, never a separate dispatch.
      for (const l of kp.layers.filter((l) => (l.layer.type === 'conv2d' || l.layer.type === 'dense') && l.ownActivation !== 'linear')) {
        expect(l.derivativeFusedBelow || l.weightGradThroughPool, `${l.layer.name}'s ${l.ownActivation}' is applied by a kernel`).toBe(true);
      }
    });
  }
});

describe('lenet-gpu summary --kernels', () => {
  it('prints the model summary and the kernel plan of the asked variant, or both', () => {
    const one = runCli(['summary', '--preset', 'lenet5', '--kernels', '--variant', 'tiled']);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toContain('Total params: 61,706');
    expect(one.stdout).toContain('Kernels (variant tiled):');
    expect(one.stdout).not.toContain('Kernels (variant blocked):');
    expect(one.stdout).toMatch(/conv2d_1 +conv2d_forward_tiled/);
    const both = runCli(['summary', '--preset', 'lenet5', '--kernels']);
    expect(both.stdout).toContain('Kernels (variant blocked):');
    expect(both.stdout).toMatch(/conv2d_1 +conv2d_forward_window_pooled .*\+ the 2x2 average pooling after it/);
    const wrong = runCli(['summary', '--variant', 'tiled']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('--variant applies to the kernel plan: add --kernels');
  });
});

describe('numbers the WGSL fixes are read from it, not copied', () => {
  it('reads module-scope integer constants and refuses a missing one', async () => {
    const { wgslConstant } = await import('../../src/kernels/reflect.ts');
    const { ACTIVATION_CODES } = await import('../../src/kernels/activation.ts');
    const { TILE_M, TILE_N } = await import('../../src/kernels/conv2d-plan.ts');
    const code = 'const A: u32 = 7u;\n  const B: i32 = 12; // note\nconst C: f32 = 1.0;';
    expect(wgslConstant('x.wgsl', code, 'A')).toBe(7);
    expect(wgslConstant('x.wgsl', code, 'B')).toBe(12);
    expect(() => wgslConstant('x.wgsl', code, 'C')).toThrow('shaders/x.wgsl defines no integer constant C');
    expect(ACTIVATION_CODES).toEqual({ linear: 0, tanh: 1, sigmoid: 2, relu: 3 });
    expect([TILE_M, TILE_N]).toEqual([16, 64]);
  });
});
