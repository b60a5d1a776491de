/**
 * 2-D average and max pooling on the GPU (shaders/pool.wgsl).
 *
 * Layouts (geometry.ts): inp/dinp (B, C, H, W), out/dout (B, C, OH, OW).
 * Pooling is 'valid' and the stride defaults to the window (pool2dGeometry);
 * windows may overlap or leave gaps.
 *
 * Each op is one dispatch; each invocation writes a segment of up to 4
 * consecutive elements of one row of its output. The backward pass is in
 * gather form (each dinp element sums the windows that cover it), so
 * overlapping windows need no atomics, and it OVERWRITES dinp.
 * Max pooling recomputes each window's argmax from the forward input (the
 * first maximum in row-major window order, as the CPU reference does)
 * instead of storing indices. Average pooling with windows that never
 * overlap (stride >= window, LeNet-5's 2x2 stride 2) takes a kernel that
 * finds each element's window by division rather than a search.
 *
 * With `belowActivation` (the activation of the layer that produced inp), the
 * backward pass multiplies dinp by that activation's derivative at inp, so
 * it writes dL/d(that layer's pre-activation) and the graph needs no
 * activation_backward dispatch.
 */
import poolCode from '../../shaders/pool.wgsl?raw';
import { GpuLimitError } from '../gpu/errors.ts';
import { pool2dGeometry, ShapeError, type Pool2dGeometry } from '../geometry.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { grid1d, makeDispatch, type BufferResource, type Dispatch, type KernelCache, requireElements } from './kernel.ts';
import { poolBackwardEntry } from './plan.ts';
import { wgslConstant } from './reflect.ts';
import { withActivations } from './sources.ts';

const shader = withActivations('pool.wgsl', poolCode);

export type PoolMode = 'avg' | 'max';

const WORKGROUP_SIZE = 64;
/** Elements of one row each invocation writes (a vec4f), read from the WGSL. */
const SEGMENT = wgslConstant('pool.wgsl', poolCode, 'SEGMENT');

/** Invocations for tensors of `rows` rows (all planes) of `width` elements. */
const segments = (rows: number, width: number): number => rows * Math.ceil(width / SEGMENT);

/** Throws unless `g` is a geometry pool2dGeometry would produce (positive sizes, consistent output). */
function checkGeometry(g: Pool2dGeometry): void {
  const expected = pool2dGeometry({
    batch: g.batch,
    channels: g.channels,
    inHeight: g.inHeight,
    inWidth: g.inWidth,
    window: [g.windowH, g.windowW],
    stride: [g.strideH, g.strideW],
  });
  if (expected.outHeight !== g.outHeight || expected.outWidth !== g.outWidth) {
    throw new ShapeError(`pool: output ${g.outHeight}x${g.outWidth} does not match the geometry, which gives ${expected.outHeight}x${expected.outWidth}`);
  }
  const inputs = g.batch * g.channels * g.inHeight * g.inWidth;
  if (inputs >= 2 ** 32) throw new GpuLimitError(`pool: a tensor of ${inputs} elements is beyond 32-bit indexing; use a smaller batch`);
}

const sizes = (g: Pool2dGeometry) => ({
  inp: g.batch * g.channels * g.inHeight * g.inWidth,
  out: g.batch * g.channels * g.outHeight * g.outWidth,
});

/** The uniform struct: the geometry plus the number of segments this dispatch writes. */
function poolUniforms(g: Pool2dGeometry, count: number): Record<string, number> {
  return {
    count,
    in_height: g.inHeight,
    in_width: g.inWidth,
    window_h: g.windowH,
    window_w: g.windowW,
    stride_h: g.strideH,
    stride_w: g.strideW,
    out_height: g.outHeight,
    out_width: g.outWidth,
  };
}

const describeGeometry = (g: Pool2dGeometry): string =>
  `${g.batch}x${g.channels}x${g.inHeight}x${g.inWidth} -> ${g.outHeight}x${g.outWidth}, window ${g.windowH}x${g.windowW} stride ${g.strideH}x${g.strideW}`;

/** out (B, C, OH, OW) = the mean or max of each window of inp (B, C, H, W). One dispatch. */
export async function poolForward(cache: KernelCache, mode: PoolMode, g: Pool2dGeometry, io: { out: BufferResource; inp: BufferResource }): Promise<Dispatch[]> {
  checkGeometry(g);
  const n = sizes(g);
  const entry = `${mode}_pool_forward`;
  requireElements(entry, 'out', io.out, n.out);
  requireElements(entry, 'inp', io.inp, n.inp);
  const count = segments(g.batch * g.channels * g.outHeight, g.outWidth);
  const kernel = await cache.get(shader, entry, { WORKGROUP_SIZE });
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: poolUniforms(g, count),
      buffers: { out: io.out, inp: io.inp },
      workgroups: grid1d(cache.device, count, WORKGROUP_SIZE),
      label: `${entry}(${describeGeometry(g)})`,
    }),
  ];
}

/**
 * dinp (B, C, H, W) from dout (B, C, OH, OW), overwritten. Max pooling reads
 * the forward input `inp` to find each window's argmax; both read it for a
 * fused `belowActivation` derivative. One dispatch.
 */
export async function poolBackward(
  cache: KernelCache,
  mode: PoolMode,
  g: Pool2dGeometry,
  io: { dinp: BufferResource; dout: BufferResource; inp: BufferResource },
  opts?: { belowActivation?: ActivationKind },
): Promise<Dispatch[]> {
  checkGeometry(g);
  const n = sizes(g);
  const entry = poolBackwardEntry(mode, g);
  requireElements(entry, 'dinp', io.dinp, n.inp);
  requireElements(entry, 'dout', io.dout, n.out);
  requireElements(entry, 'inp', io.inp, n.inp);
  const below = opts?.belowActivation ?? 'linear';
  const count = segments(g.batch * g.channels * g.inHeight, g.inWidth);
  const kernel = await cache.get(shader, entry, { WORKGROUP_SIZE, ACTIVATION: ACTIVATION_CODES[below] });
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: poolUniforms(g, count),
      buffers: { dinp: io.dinp, dout: io.dout, inp: io.inp },
      workgroups: grid1d(cache.device, count, WORKGROUP_SIZE),
      label: `${entry}(${describeGeometry(g)}${below === 'linear' ? '' : `, then ${below}'`})`,
    }),
  ];
}
