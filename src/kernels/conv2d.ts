/**
 * 2-D convolution on the GPU: the forward pass with fused bias and
 * activation, and the backward pass (input gradient in gather form, weight
 * and bias gradients by a deterministic split-K reduction).
 *
 * Layouts as everywhere (geometry.ts): inp (B, Cin, H, W), out/dout
 * (B, Cout, OH, OW), weight OIHW (Cout, Cin, KH, KW), bias (Cout).
 *
 * conv2dBackward takes dout as the gradient w.r.t. the PRE-activation output
 * and OVERWRITES dinp, dweight and dbias. With `belowActivation` (the
 * activation of the layer that produced inp), dinp receives dL/d(that layer's
 * pre-activation) instead: the derivative is fused into the input-gradient
 * store, so the graph needs no separate activation_backward dispatch. Its
 * weight gradient is two dispatches: partial sums per chunk of output rows
 * into a scratch buffer owned by the first dispatch, then a reduction over
 * the chunks in order. Nothing is allocated per step.
 *
 * Variants (variant.ts): 'blocked' (default) keeps a register block per
 * invocation and no workgroup memory; 'tiled' is an implicit GEMM through
 * workgroup-memory tiles. Both variants exist for all three passes. Within
 * 'blocked', stride-1 convolutions with kernels up to 5x5 and outputs of at
 * least 4x4 (LeNet-5's) take the sliding-window kernels of
 * shaders/conv2d-window.wgsl, which hold a whole input tile in registers; the
 * rest take the general kernels of shaders/conv2d.wgsl. Every such decision
 * (family, tiles, split-K, fusions, entry points) is conv2d-plan.ts's; this
 * file launches what it decides.
 */
import conv2dCode from '../../shaders/conv2d.wgsl?raw';
import windowCode from '../../shaders/conv2d-window.wgsl?raw';
import { STORAGE } from '../gpu/buffers.ts';
import { GpuLimitError } from '../gpu/errors.ts';
import { pool2dGeometry, ShapeError, type Conv2dGeometry } from '../geometry.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { disposeDispatch, grid1d, makeDispatch, withBindingLengths, type BufferResource, type Dispatch, type KernelCache, requireElements, requireBackwardBuffers } from './kernel.ts';
import { lanePreludes, sharesLanes, withActivations } from './sources.ts';
import type { KernelVariant } from './variant.ts';
import {
  channelBlock,
  conv2dForwardEntry,
  conv2dFusesAvgPool,
  conv2dFusesAvgPoolBackward,
  conv2dInputEntry,
  conv2dSplitK,
  conv2dWeightEntry,
  forwardProduct,
  inputGradProduct,
  laneBatch,
  POSITION_BLOCK,
  TILE_M,
  TILE_N,
  usesWindowKernels,
  windowBlock,
  windowWeightPlan,
  type SplitK,
  type WindowBlock,
  type WindowProduct,
} from './conv2d-plan.ts';

const shader = withActivations('conv2d.wgsl', conv2dCode);
const windowShaders = lanePreludes('conv2d-window.wgsl', windowCode);

/** PASS of the tiled kernels' shared loop (conv2d.wgsl): which product it computes. */
const TILED_PASS = { forward: 0, inputGradient: 1, weightGradient: 2 } as const;

/** Invocations per workgroup of the blocked kernels and the reduction. */
const WORKGROUP_SIZE = 64;

export interface Conv2dOptions {
  variant?: KernelVariant;
  /** The window kernels' block for the forward or input-gradient product, instead of windowBlock's choice (tuning, benchmarks). */
  windowBlock?: WindowBlock;
  /** The window weight gradient's tile and channels, instead of windowWeightPlan's choice (tuning, benchmarks). */
  windowWeightBlock?: WindowBlock;
}

export interface Conv2dBackwardOptions extends Conv2dOptions {
  /**
   * The activation of the layer below (whose output is this layer's inp):
   * its derivative, computed from inp, is fused into dinp. Default linear.
   */
  belowActivation?: ActivationKind;
}

const WINDOW_WORKGROUP = 16;
function windowUniforms(g: Conv2dGeometry, p: WindowProduct, b: WindowBlock, workItems: number, chunkRows = 1, chunks = 1): Record<string, number> {
  return {
    batch: g.batch,
    lane_batch: laneBatch(g.batch),
    src_channels: p.srcChannels,
    src_height: p.srcHeight,
    src_width: p.srcWidth,
    dst_channels: p.dstChannels,
    dst_height: p.dstHeight,
    dst_width: p.dstWidth,
    pad_top: p.padTop,
    pad_left: p.padLeft,
    weight_dst_stride: p.weightDstStride,
    weight_src_stride: p.weightSrcStride,
    row_blocks: Math.ceil(p.dstHeight / b.rows),
    col_blocks: Math.ceil(p.dstWidth / b.cols),
    work_items: workItems,
    chunk_rows: chunkRows,
    chunk_count: chunks,
  };
}

/** SHARED_WEIGHTS where the SIMD group can share its kernel loads (sources.ts sharesLanes). */
const sharedWeights = (device: GPUDevice): Record<string, number> => (sharesLanes(device) ? { SHARED_WEIGHTS: 1 } : {});

/** Invocations of a forward or input-gradient window product. */
const windowItems = (g: Conv2dGeometry, p: WindowProduct, b: WindowBlock): number =>
  laneBatch(g.batch) * Math.ceil(p.dstHeight / b.rows) * Math.ceil(p.dstWidth / b.cols) * Math.ceil(p.dstChannels / b.channels);

const windowConstants = (g: Conv2dGeometry, b: WindowBlock, extra: Record<string, number> = {}): Record<string, number> => ({
  WORKGROUP_SIZE: WINDOW_WORKGROUP,
  KH: g.kernelH,
  KW: g.kernelW,
  ROWS: b.rows,
  COLS: b.cols,
  CH_BLOCK: b.channels,
  ...extra,
});

function checkGeometry(g: Conv2dGeometry): void {
  const { batch, inChannels, inHeight, inWidth, outChannels, kernelH, kernelW, strideH, strideW, outHeight, outWidth } = g;
  for (const [what, v] of Object.entries({ batch, inChannels, inHeight, inWidth, outChannels, kernelH, kernelW, strideH, strideW, outHeight, outWidth })) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`conv2d: ${what} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(g.padTop) || g.padTop < 0 || !Number.isInteger(g.padLeft) || g.padLeft < 0) {
    throw new ShapeError(`conv2d: padTop/padLeft must be non-negative integers, got ${g.padTop}/${g.padLeft}`);
  }
  // The shader indexes with i32.
  const largest = Math.max(batch * inChannels * inHeight * inWidth, batch * outChannels * outHeight * outWidth, outChannels * inChannels * kernelH * kernelW);
  if (largest >= 2 ** 31) throw new GpuLimitError(`conv2d: a tensor of ${largest} elements is beyond 32-bit indexing; use a smaller batch`);
}

const sizes = (g: Conv2dGeometry) => ({
  inp: g.batch * g.inChannels * g.inHeight * g.inWidth,
  out: g.batch * g.outChannels * g.outHeight * g.outWidth,
  weight: g.outChannels * g.inChannels * g.kernelH * g.kernelW,
  bias: g.outChannels,
});

/** The uniform struct: the geometry plus what this dispatch covers. */
function conv2dUniforms(g: Conv2dGeometry, workItems: number, split: SplitK = { chunks: 1, rows: 1, rowsPerChunk: 1, partialsPerChunk: 0 }): Record<string, number> {
  return {
    batch: g.batch,
    in_channels: g.inChannels,
    in_height: g.inHeight,
    in_width: g.inWidth,
    out_channels: g.outChannels,
    kernel_h: g.kernelH,
    kernel_w: g.kernelW,
    stride_h: g.strideH,
    stride_w: g.strideW,
    pad_top: g.padTop,
    pad_left: g.padLeft,
    out_height: g.outHeight,
    out_width: g.outWidth,
    work_items: workItems,
    chunk_count: split.chunks,
    chunk_rows: split.rowsPerChunk,
  };
}

const describeGeometry = (g: Conv2dGeometry): string =>
  `${g.batch}x${g.inChannels}x${g.inHeight}x${g.inWidth} -> ${g.outChannels}x${g.outHeight}x${g.outWidth}, k${g.kernelH}x${g.kernelW} s${g.strideH}x${g.strideW}`;

/** Tiles of the tiled kernels' C = A B (M x N), linearised into a folded grid. */
const gemmTiles = (m: number, n: number): number => Math.ceil(m / TILE_M) * Math.ceil(n / TILE_N);

/** Blocked work items: channel blocks x blocks of 8 flattened positions. */
const blockedItems = (channels: number, positions: number): number =>
  Math.ceil(channels / channelBlock(channels)) * Math.ceil(positions / POSITION_BLOCK);

/**
 * One dispatch: out (B, Cout, OH, OW) = act(conv(inp, weight) + bias), only
 * the post-activation output written; with io.pooled (see conv2dFusesAvgPool)
 * also pooled (B, Cout, OH/2, OW/2), its 2x2 stride-2 average pooling.
 */
export async function conv2dForward(
  cache: KernelCache,
  g: Conv2dGeometry,
  activation: ActivationKind,
  io: { out: BufferResource; inp: BufferResource; weight: BufferResource; bias: BufferResource; pooled?: BufferResource },
  opts?: Conv2dOptions,
): Promise<Dispatch[]> {
  checkGeometry(g);
  const n = sizes(g);
  for (const name of ['out', 'inp', 'weight', 'bias'] as const) requireElements('conv2d_forward', name, io[name], n[name]);
  const variant = opts?.variant ?? 'blocked';
  const entry = conv2dForwardEntry(g, variant, Boolean(io.pooled));
  const label = `conv2d_forward[${variant}](${describeGeometry(g)}, ${activation})`;
  const buffers = { out: io.out, inp: io.inp, weight: io.weight, bias: io.bias };
  if (io.pooled) {
    const pool = pool2dGeometry({ batch: g.batch, channels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth, window: 2, stride: 2 });
    if (!conv2dFusesAvgPool(g, pool, variant)) throw new ShapeError(`${label}: cannot fuse the 2x2 average pooling here (see conv2dFusesAvgPool)`);
    requireElements('conv2d_forward', 'pooled', io.pooled, (n.out / 4));
  }
  if (variant === 'tiled') {
    const tiles = gemmTiles(g.outChannels, g.batch * g.outHeight * g.outWidth);
    const kernel = await cache.get(shader, entry, { ACTIVATION: ACTIVATION_CODES[activation], PASS: TILED_PASS.forward });
    // The tiled passes share one loop that names inp, weight and dout: dout is bound to inp, read only, never read here.
    return [makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, tiles), buffers: { ...buffers, dout: io.inp }, workgroups: grid1d(cache.device, tiles, 1), label })];
  }
  if (usesWindowKernels(g, variant)) {
    const p = forwardProduct(g);
    const b = opts?.windowBlock ?? windowBlock(g, p, { evenRows: Boolean(io.pooled) });
    if (io.pooled && b.rows % 2 !== 0) throw new ShapeError(`${label}: a fused 2x2 pooling needs tiles of an even number of rows, got ${b.rows}`);
    const items = windowItems(g, p, b);
    // The window body reads its source through `dout` too (the input gradient's source): bound to inp, read only.
    const bound = io.pooled ? { ...buffers, dout: io.inp, pooled: io.pooled } : { ...buffers, dout: io.inp };
    const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), bound), entry, windowConstants(g, b, { ACTIVATION: ACTIVATION_CODES[activation], ...sharedWeights(cache.device) }));
    return [
      makeDispatch(cache.device, kernel, {
        uniforms: windowUniforms(g, p, b, items),
        buffers: bound,
        workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
        label: `conv2d_forward[blocked](${describeGeometry(g)}, ${activation}, window ${b.rows}x${b.cols}x${b.channels}${io.pooled ? ', then avg-pool 2x2' : ''})`,
      }),
    ];
  }
  const items = blockedItems(g.outChannels, g.batch * g.outHeight * g.outWidth);
  const kernel = await cache.get(shader, entry, { ACTIVATION: ACTIVATION_CODES[activation], WORKGROUP_SIZE, CH_BLOCK: channelBlock(g.outChannels) });
  return [makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, items), buffers, workgroups: grid1d(cache.device, items, WORKGROUP_SIZE), label })];
}

/** The weight gradient's dout, or how to compute it from a following average pooling's gradient. */
type WeightGradSource = { dout: BufferResource } | { through: { dpool: BufferResource; out: BufferResource; activation: ActivationKind } };

async function weightGradDispatches(
  cache: KernelCache,
  g: Conv2dGeometry,
  io: { dweight: BufferResource; dbias: BufferResource; inp: BufferResource } & WeightGradSource,
  variant: KernelVariant,
  windowWeightBlock?: WindowBlock,
): Promise<Dispatch[]> {
  const split = conv2dSplitK(g, variant, windowWeightBlock);
  const entry = conv2dWeightEntry(g, variant, 'through' in io);
  const taps = g.inChannels * g.kernelH * g.kernelW;
  const scratchBytes = split.chunks * split.partialsPerChunk * 4;
  const partials = cache.device.createBuffer({ size: scratchBytes, usage: STORAGE(), label: `conv2d split-K partials (${split.chunks} chunks)` });
  try {
    const geometry = describeGeometry(g);
    let first: Dispatch;
    if ('through' in io) {
      const w = windowWeightPlan(g, windowWeightBlock);
      const items = split.chunks * Math.ceil(g.outChannels / w.channels) * g.inChannels;
      const bound = { inp: io.inp, dpool: io.through.dpool, fwd_out: io.through.out, partials };
      const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), bound), entry, windowConstants(g, w, { ACTIVATION: ACTIVATION_CODES[io.through.activation] }));
      first = makeDispatch(cache.device, kernel, {
        uniforms: windowUniforms(g, forwardProduct(g), w, items, w.chunkRows, w.chunks),
        buffers: bound,
        workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
        label: `conv2d_backward_weight[blocked](${geometry}, ${split.chunks} chunks, window ${w.rows}x${w.cols}x${w.channels}, through avg-pool 2x2 and ${io.through.activation}')`,
      });
    } else if (variant === 'tiled') {
      const tiles = gemmTiles(g.outChannels, taps + 1) * split.chunks;
      const kernel = await cache.get(shader, entry, { PASS: TILED_PASS.weightGradient });
      first = makeDispatch(cache.device, kernel, {
        uniforms: conv2dUniforms(g, tiles, split),
        // The shared tiled loop names weight too: bound to inp, read only, never read in this pass.
        buffers: { dout: io.dout, inp: io.inp, weight: io.inp, partials },
        workgroups: grid1d(cache.device, tiles, 1),
        label: `conv2d_backward_weight[tiled](${geometry}, ${split.chunks} chunks)`,
      });
    } else if (usesWindowKernels(g, variant)) {
      const w = windowWeightPlan(g, windowWeightBlock);
      const items = split.chunks * Math.ceil(g.outChannels / w.channels) * g.inChannels;
      const bound = { dout: io.dout, inp: io.inp, partials };
      const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), bound), entry, windowConstants(g, w));
      first = makeDispatch(cache.device, kernel, {
        uniforms: windowUniforms(g, forwardProduct(g), w, items, w.chunkRows, w.chunks),
        buffers: bound,
        workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
        label: `conv2d_backward_weight[blocked](${geometry}, ${split.chunks} chunks, window ${w.rows}x${w.cols}x${w.channels})`,
      });
    } else {
      const block = channelBlock(g.outChannels);
      const items = split.chunks * Math.ceil(g.outChannels / block) * Math.ceil((taps + 1) / POSITION_BLOCK);
      const kernel = await cache.get(shader, entry, { WORKGROUP_SIZE, CH_BLOCK: block });
      first = makeDispatch(cache.device, kernel, {
        uniforms: conv2dUniforms(g, items, split),
        buffers: { dout: io.dout, inp: io.inp, partials },
        workgroups: grid1d(cache.device, items, WORKGROUP_SIZE),
        label: `conv2d_backward_weight[blocked](${geometry}, ${split.chunks} chunks)`,
      });
    }
    first.owned.push(partials);
    const reduce = await cache.get(shader, 'conv2d_backward_weight_reduce', { WORKGROUP_SIZE });
    const second = makeDispatch(cache.device, reduce, {
      uniforms: conv2dUniforms(g, split.partialsPerChunk, split),
      buffers: { partials_in: partials, dweight: io.dweight, dbias: io.dbias },
      workgroups: grid1d(cache.device, split.partialsPerChunk, WORKGROUP_SIZE),
      label: `conv2d_backward_weight_reduce(${geometry}, ${split.chunks} chunks)`,
    });
    return [first, second];
  } catch (error) {
    partials.destroy();
    throw error;
  }
}

async function inputGradDispatch(
  cache: KernelCache,
  g: Conv2dGeometry,
  io: { dinp: BufferResource; dout: BufferResource; weight: BufferResource; inp: BufferResource },
  variant: KernelVariant,
  below: ActivationKind,
  block?: WindowBlock,
): Promise<Dispatch> {
  const fused = below === 'linear' ? '' : `, then ${below}'`;
  const label = `conv2d_backward_input[${variant}](${describeGeometry(g)}${fused})`;
  const buffers = { dinp: io.dinp, dout: io.dout, weight: io.weight, inp: io.inp };
  const ACTIVATION = ACTIVATION_CODES[below];
  const entry = conv2dInputEntry(g, variant);
  if (variant === 'tiled') {
    const tiles = gemmTiles(g.inChannels, g.batch * g.inHeight * g.inWidth);
    const kernel = await cache.get(shader, entry, { ACTIVATION, PASS: TILED_PASS.inputGradient });
    return makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, tiles), buffers, workgroups: grid1d(cache.device, tiles, 1), label });
  }
  if (usesWindowKernels(g, variant)) {
    const p = inputGradProduct(g);
    const b = block ?? windowBlock(g, p);
    const items = windowItems(g, p, b);
    const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), buffers), entry, windowConstants(g, b, { ACTIVATION, FLIP: 1, ...sharedWeights(cache.device) }));
    return makeDispatch(cache.device, kernel, {
      uniforms: windowUniforms(g, p, b, items),
      buffers,
      workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
      label: `conv2d_backward_input[blocked](${describeGeometry(g)}${fused}, window ${b.rows}x${b.cols}x${b.channels})`,
    });
  }
  const items = blockedItems(g.inChannels, g.batch * g.inHeight * g.inWidth);
  const kernel = await cache.get(shader, entry, { WORKGROUP_SIZE, CH_BLOCK: channelBlock(g.inChannels), ACTIVATION });
  return makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, items), buffers, workgroups: grid1d(cache.device, items, WORKGROUP_SIZE), label });
}

/**
 * The weight and bias gradients of a convolution whose output `out` (after
 * `activation`) feeds only a 2x2 stride-2 average pooling, from that
 * pooling's output gradient dpool (B, Cout, OH/2, OW/2): the pooling's
 * backward pass and the activation's derivative are fused into the weight
 * gradient, so neither the pooling nor the activation needs a backward
 * dispatch. No input gradient: for a first layer. Two dispatches, as
 * conv2dBackward's first two; OVERWRITES dweight and dbias.
 */
export async function conv2dBackwardThroughAvgPool(
  cache: KernelCache,
  g: Conv2dGeometry,
  activation: ActivationKind,
  io: { dweight: BufferResource; dbias: BufferResource; dpool: BufferResource; out: BufferResource; inp: BufferResource },
  opts?: Conv2dOptions,
): Promise<Dispatch[]> {
  checkGeometry(g);
  const variant = opts?.variant ?? 'blocked';
  const pool = pool2dGeometry({ batch: g.batch, channels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth, window: 2, stride: 2 });
  if (!conv2dFusesAvgPoolBackward(g, pool, variant)) {
    throw new ShapeError(`conv2d_backward(${describeGeometry(g)}): cannot fuse the 2x2 average pooling's backward pass here (see conv2dFusesAvgPoolBackward)`);
  }
  const n = sizes(g);
  const op = 'conv2d_backward';
  requireElements(op, 'dweight', io.dweight, n.weight);
  requireElements(op, 'dbias', io.dbias, n.bias);
  requireElements(op, 'dpool', io.dpool, n.out / 4);
  requireElements(op, 'out', io.out, n.out);
  requireElements(op, 'inp', io.inp, n.inp);
  return weightGradDispatches(cache, g, { dweight: io.dweight, dbias: io.dbias, inp: io.inp, through: { dpool: io.dpool, out: io.out, activation } }, variant, opts?.windowWeightBlock);
}

/**
 * Dispatches, in order: weight-gradient partials (owns the scratch buffer),
 * their reduction into dweight/dbias, then dinp unless it is omitted (a first
 * layer needs no input gradient). With opts.belowActivation, dinp is
 * dL/d(pre-activation of the layer below): dL/d inp times that activation's
 * derivative at inp.
 */
export async function conv2dBackward(
  cache: KernelCache,
  g: Conv2dGeometry,
  io: { dinp?: BufferResource; dweight: BufferResource; dbias: BufferResource; dout: BufferResource; inp: BufferResource; weight: BufferResource },
  opts?: Conv2dBackwardOptions,
): Promise<Dispatch[]> {
  checkGeometry(g);
  const n = sizes(g);
  requireBackwardBuffers('conv2d_backward', io, n);
  const variant = opts?.variant ?? 'blocked';
  const dispatches = await weightGradDispatches(cache, g, { dweight: io.dweight, dbias: io.dbias, inp: io.inp, dout: io.dout }, variant, opts?.windowWeightBlock);
  if (io.dinp) {
    try {
      dispatches.push(await inputGradDispatch(cache, g, { dinp: io.dinp, dout: io.dout, weight: io.weight, inp: io.inp }, variant, opts?.belowActivation ?? 'linear', opts?.windowBlock));
    } catch (error) {
      dispatches.forEach(disposeDispatch);
      throw error;
    }
  }
  return dispatches;
}
