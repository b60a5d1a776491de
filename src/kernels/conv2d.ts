/**
 * 2-D convolution on the GPU (shaders/conv2d.wgsl): the forward pass with
 * fused bias and activation, and the backward pass (input gradient in gather
 * form, weight and bias gradients by a deterministic split-K reduction).
 *
 * Layouts as everywhere (geometry.ts): inp (B, Cin, H, W), out/dout
 * (B, Cout, OH, OW), weight OIHW (Cout, Cin, KH, KW), bias (Cout).
 *
 * conv2dBackward takes dout as the gradient w.r.t. the PRE-activation output
 * (the graph applies the activation derivative first) and OVERWRITES dinp,
 * dweight and dbias. Its weight gradient is two dispatches: partial sums per
 * chunk of output rows into a scratch buffer owned by the first dispatch,
 * then a reduction over the chunks in order. Nothing is allocated per step.
 *
 * Variants (variant.ts): 'blocked' (default) keeps a register block per
 * invocation and no workgroup memory; 'tiled' is an implicit GEMM through
 * workgroup-memory tiles. Both variants exist for all three passes.
 */
import conv2dCode from '../../shaders/conv2d.wgsl?raw';
import { STORAGE } from '../gpu/buffers.ts';
import { GpuLimitError } from '../gpu/errors.ts';
import { ShapeError, type Conv2dGeometry } from '../geometry.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { disposeDispatch, grid1d, makeDispatch, type BufferResource, type Dispatch, type KernelCache, requireElements } from './kernel.ts';
import { withActivations } from './sources.ts';
import type { KernelVariant } from './variant.ts';

const shader = withActivations('conv2d.wgsl', conv2dCode);

/** Invocations per workgroup of the blocked kernels and the reduction. */
const WORKGROUP_SIZE = 64;
/** Positions (or taps) per register block in the blocked kernels: two vec4s. */
const POSITION_BLOCK = 8;
/** Most channels per register block (the WGSL writes out eight channel lines). */
const MAX_CHANNEL_BLOCK = 8;
/** The tiled kernels' C tile (TILE_M x TILE_N, as in the WGSL). */
const TILE_M = 16;
const TILE_N = 64;
const TILE_THREADS = 64;
/**
 * Split-K aims for about this many invocations in the weight-gradient pass
 * (enough to fill a GPU; a CPU adapter is indifferent)...
 */
const SPLIT_K_TARGET_INVOCATIONS = 8192;
/** ...without chunks of fewer output positions than this... */
const SPLIT_K_MIN_POSITIONS = 32;
/** ...or a scratch buffer larger than this. */
const SPLIT_K_MAX_SCRATCH_BYTES = 32 << 20;

export interface Conv2dOptions {
  variant?: KernelVariant;
}

/**
 * Channels per invocation (1..8) for a blocked kernel over `channels`
 * channels: the block that minimises loads per reduction step over all the
 * channels (8 position loads plus one weight load per channel, per block;
 * a partial last block costs as much as a full one).
 */
export function channelBlock(channels: number): number {
  let best = 1;
  let bestCost = Infinity;
  for (let c = MAX_CHANNEL_BLOCK; c >= 1; c--) {
    const cost = Math.ceil(channels / c) * (POSITION_BLOCK + c);
    if (cost < bestCost) {
      best = c;
      bestCost = cost;
    }
  }
  return best;
}

/** How the weight-gradient reduction over the B*OH output rows is split. */
export interface SplitK {
  chunks: number;
  /** Output rows (b, oh) per chunk; the last chunk may have fewer. */
  rowsPerChunk: number;
  /** Elements per chunk in the scratch buffer: Cout*Cin*KH*KW + Cout. */
  partialsPerChunk: number;
}

/** Chunks for the weight gradient: from the work per chunk, never empty, scratch bounded. */
export function conv2dSplitK(g: Conv2dGeometry, variant: KernelVariant = 'blocked'): SplitK {
  const taps = g.inChannels * g.kernelH * g.kernelW;
  const partialsPerChunk = g.outChannels * taps + g.outChannels;
  const rows = g.batch * g.outHeight;
  const invocationsPerChunk =
    variant === 'tiled'
      ? Math.ceil(g.outChannels / TILE_M) * Math.ceil((taps + 1) / TILE_N) * TILE_THREADS
      : Math.ceil(g.outChannels / channelBlock(g.outChannels)) * Math.ceil((taps + 1) / POSITION_BLOCK);
  const wanted = Math.ceil(SPLIT_K_TARGET_INVOCATIONS / invocationsPerChunk);
  const byPositions = Math.max(1, Math.floor((rows * g.outWidth) / SPLIT_K_MIN_POSITIONS));
  const byScratch = Math.max(1, Math.floor(SPLIT_K_MAX_SCRATCH_BYTES / (4 * partialsPerChunk)));
  const target = Math.max(1, Math.min(wanted, byPositions, byScratch, rows));
  const rowsPerChunk = Math.ceil(rows / target);
  return { chunks: Math.ceil(rows / rowsPerChunk), rowsPerChunk, partialsPerChunk };
}

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
function conv2dUniforms(g: Conv2dGeometry, workItems: number, split: SplitK = { chunks: 1, rowsPerChunk: 1, partialsPerChunk: 0 }): Record<string, number> {
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

/** One dispatch: out (B, Cout, OH, OW) = act(conv(inp, weight) + bias), only the post-activation output written. */
export async function conv2dForward(
  cache: KernelCache,
  g: Conv2dGeometry,
  activation: ActivationKind,
  io: { out: BufferResource; inp: BufferResource; weight: BufferResource; bias: BufferResource },
  opts?: Conv2dOptions,
): Promise<Dispatch[]> {
  checkGeometry(g);
  const n = sizes(g);
  for (const name of ['out', 'inp', 'weight', 'bias'] as const) requireElements('conv2d_forward', name, io[name], n[name]);
  const variant = opts?.variant ?? 'blocked';
  const label = `conv2d_forward[${variant}](${describeGeometry(g)}, ${activation})`;
  const buffers = { out: io.out, inp: io.inp, weight: io.weight, bias: io.bias };
  if (variant === 'tiled') {
    const tiles = gemmTiles(g.outChannels, g.batch * g.outHeight * g.outWidth);
    const kernel = await cache.get(shader, 'conv2d_forward_tiled', { ACTIVATION: ACTIVATION_CODES[activation] });
    return [makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, tiles), buffers, workgroups: grid1d(cache.device, tiles, 1), label })];
  }
  const items = blockedItems(g.outChannels, g.batch * g.outHeight * g.outWidth);
  const kernel = await cache.get(shader, 'conv2d_forward', { ACTIVATION: ACTIVATION_CODES[activation], WORKGROUP_SIZE, CH_BLOCK: channelBlock(g.outChannels) });
  return [makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, items), buffers, workgroups: grid1d(cache.device, items, WORKGROUP_SIZE), label })];
}

async function weightGradDispatches(
  cache: KernelCache,
  g: Conv2dGeometry,
  io: { dweight: BufferResource; dbias: BufferResource; dout: BufferResource; inp: BufferResource },
  variant: KernelVariant,
): Promise<Dispatch[]> {
  const split = conv2dSplitK(g, variant);
  const taps = g.inChannels * g.kernelH * g.kernelW;
  const scratchBytes = split.chunks * split.partialsPerChunk * 4;
  const partials = cache.device.createBuffer({ size: scratchBytes, usage: STORAGE(), label: `conv2d split-K partials (${split.chunks} chunks)` });
  try {
    const geometry = describeGeometry(g);
    let first: Dispatch;
    if (variant === 'tiled') {
      const tiles = gemmTiles(g.outChannels, taps + 1) * split.chunks;
      const kernel = await cache.get(shader, 'conv2d_backward_weight_tiled');
      first = makeDispatch(cache.device, kernel, {
        uniforms: conv2dUniforms(g, tiles, split),
        buffers: { dout: io.dout, inp: io.inp, partials },
        workgroups: grid1d(cache.device, tiles, 1),
        label: `conv2d_backward_weight[tiled](${geometry}, ${split.chunks} chunks)`,
      });
    } else {
      const block = channelBlock(g.outChannels);
      const items = split.chunks * Math.ceil(g.outChannels / block) * Math.ceil((taps + 1) / POSITION_BLOCK);
      const kernel = await cache.get(shader, 'conv2d_backward_weight', { WORKGROUP_SIZE, CH_BLOCK: block });
      first = makeDispatch(cache.device, kernel, {
        uniforms: conv2dUniforms(g, items, split),
        buffers: { dout: io.dout, inp: io.inp, partials },
        workgroups: grid1d(cache.device, items, WORKGROUP_SIZE),
        label: `conv2d_backward_weight[blocked](${geometry}, ${split.chunks} chunks)`,
      });
    }
    first.owned.push(partials);
    const reduce = await cache.get(shader, 'conv2d_reduce_partials', { WORKGROUP_SIZE });
    const second = makeDispatch(cache.device, reduce, {
      uniforms: conv2dUniforms(g, split.partialsPerChunk, split),
      buffers: { partials_in: partials, dweight: io.dweight, dbias: io.dbias },
      workgroups: grid1d(cache.device, split.partialsPerChunk, WORKGROUP_SIZE),
      label: `conv2d_reduce_partials(${geometry}, ${split.chunks} chunks)`,
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
  io: { dinp: BufferResource; dout: BufferResource; weight: BufferResource },
  variant: KernelVariant,
): Promise<Dispatch> {
  const label = `conv2d_backward_input[${variant}](${describeGeometry(g)})`;
  const buffers = { dinp: io.dinp, dout: io.dout, weight: io.weight };
  if (variant === 'tiled') {
    const tiles = gemmTiles(g.inChannels, g.batch * g.inHeight * g.inWidth);
    const kernel = await cache.get(shader, 'conv2d_backward_input_tiled');
    return makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, tiles), buffers, workgroups: grid1d(cache.device, tiles, 1), label });
  }
  const items = blockedItems(g.inChannels, g.batch * g.inHeight * g.inWidth);
  const kernel = await cache.get(shader, 'conv2d_backward_input', { WORKGROUP_SIZE, CH_BLOCK: channelBlock(g.inChannels) });
  return makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, items), buffers, workgroups: grid1d(cache.device, items, WORKGROUP_SIZE), label });
}

/**
 * Dispatches, in order: weight-gradient partials (owns the scratch buffer),
 * their reduction into dweight/dbias, then dinp unless it is omitted (a first
 * layer needs no input gradient).
 */
export async function conv2dBackward(
  cache: KernelCache,
  g: Conv2dGeometry,
  io: { dinp?: BufferResource; dweight: BufferResource; dbias: BufferResource; dout: BufferResource; inp: BufferResource; weight: BufferResource },
  opts?: Conv2dOptions,
): Promise<Dispatch[]> {
  checkGeometry(g);
  const n = sizes(g);
  const op = 'conv2d_backward';
  requireElements(op, 'dweight', io.dweight, n.weight);
  requireElements(op, 'dbias', io.dbias, n.bias);
  requireElements(op, 'dout', io.dout, n.out);
  requireElements(op, 'inp', io.inp, n.inp);
  requireElements(op, 'weight', io.weight, n.weight);
  if (io.dinp) requireElements(op, 'dinp', io.dinp, n.inp);
  const variant = opts?.variant ?? 'blocked';
  const dispatches = await weightGradDispatches(cache, g, io, variant);
  if (io.dinp) {
    try {
      dispatches.push(await inputGradDispatch(cache, g, { dinp: io.dinp, dout: io.dout, weight: io.weight }, variant));
    } catch (error) {
      dispatches.forEach(disposeDispatch);
      throw error;
    }
  }
  return dispatches;
}
