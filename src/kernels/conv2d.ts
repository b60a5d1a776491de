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
 * rest take the general kernels of shaders/conv2d.wgsl (usesWindowKernels).
 */
import conv2dCode from '../../shaders/conv2d.wgsl?raw';
import windowCode from '../../shaders/conv2d-window.wgsl?raw';
import { STORAGE } from '../gpu/buffers.ts';
import { GpuLimitError } from '../gpu/errors.ts';
import { pool2dGeometry, ShapeError, type Conv2dGeometry, type Pool2dGeometry } from '../geometry.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { disposeDispatch, grid1d, makeDispatch, withBindingLengths, type BufferResource, type Dispatch, type KernelCache, requireElements, requireBackwardBuffers } from './kernel.ts';
import { lanePreludes, sharesLanes, withActivations } from './sources.ts';
import type { KernelVariant } from './variant.ts';

const shader = withActivations('conv2d.wgsl', conv2dCode);
const windowShaders = lanePreludes('conv2d-window.wgsl', windowCode);

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

// ---------------------------------------------------------------- sliding windows

/** Largest kernel side the window kernels unroll (KH, KW in the WGSL). */
const WINDOW_MAX_KERNEL = 5;
/** Most output rows per tile (ROWS) and channels per invocation (CH_BLOCK) the WGSL unrolls. */
const WINDOW_MAX_ROWS = 5;
const WINDOW_MAX_WEIGHT_CHANNELS = 4;
/** Workgroup size of the window kernels: small, so that a few hundred invocations still spread over every core. */
const WINDOW_WORKGROUP = 16;
/**
 * Costs in the window kernels' block choice, per SIMD group, in chained
 * multiply-adds (measured on SwiftShader's JIT: a storage load with per-lane
 * addresses is an emulated 4-lane gather; a store a 4-lane scatter; a
 * broadcast a shuffle).
 */
const GATHER_COST = 25;
const SCATTER_COST = 30;
const BROADCAST_COST = 2;
/**
 * Limits on one invocation's body, for compile time: SwiftShader's compile
 * time grows with the multiply-adds per source channel and, faster, with the
 * kernel weights live at once (25 per channel). Measured here: 2x8 tiles of
 * 6 channels (2400 multiply-adds) 5 s, 4x8 of 3 channels (the same 2400)
 * 2.2 s, 5x4 of 2 channels 1.3 s, for speed within a few percent of each
 * other; every process pays this at start-up (the CLI's evaluate and predict,
 * each test file, the page before training starts).
 */
const MAX_BODY_MACS = 1200;
const MAX_BLOCK_CHANNELS = 4;
/** The weight gradient aims for about this many invocations (chunks x blocks). */
const WINDOW_WEIGHT_INVOCATIONS = 384;

/** Smallest output height and width the window kernels take (tiles of 4 columns; tiny outputs are mostly padding). */
const WINDOW_MIN_OUTPUT = 4;

/**
 * Whether the 'blocked' variant takes the sliding-window kernels for this
 * geometry: stride 1, kernels up to 5x5, outputs of at least 4x4 (smaller
 * ones, such as a 4x4 kernel over a 4x4 input, are a dense layer in disguise
 * and run 2-5x faster on the general kernels).
 */
export function usesWindowKernels(g: Conv2dGeometry, variant: KernelVariant = 'blocked'): boolean {
  return (
    variant === 'blocked' && g.strideH === 1 && g.strideW === 1 && g.kernelH <= WINDOW_MAX_KERNEL && g.kernelW <= WINDOW_MAX_KERNEL &&
    g.outHeight >= WINDOW_MIN_OUTPUT && g.outWidth >= WINDOW_MIN_OUTPUT
  );
}

/** One sliding-window product: src (B, srcC, srcH, srcW) correlated into dst (B, dstC, dstH, dstW). */
interface WindowProduct {
  srcChannels: number;
  srcHeight: number;
  srcWidth: number;
  dstChannels: number;
  dstHeight: number;
  dstWidth: number;
  padTop: number;
  padLeft: number;
  weightDstStride: number;
  weightSrcStride: number;
  flip: boolean;
}

const forwardProduct = (g: Conv2dGeometry): WindowProduct => ({
  srcChannels: g.inChannels,
  srcHeight: g.inHeight,
  srcWidth: g.inWidth,
  dstChannels: g.outChannels,
  dstHeight: g.outHeight,
  dstWidth: g.outWidth,
  padTop: g.padTop,
  padLeft: g.padLeft,
  weightDstStride: g.inChannels * g.kernelH * g.kernelW,
  weightSrcStride: g.kernelH * g.kernelW,
  flip: false,
});

/** The input gradient as a correlation of dout with the transposed, rotated kernel. */
const inputGradProduct = (g: Conv2dGeometry): WindowProduct => ({
  srcChannels: g.outChannels,
  srcHeight: g.outHeight,
  srcWidth: g.outWidth,
  dstChannels: g.inChannels,
  dstHeight: g.inHeight,
  dstWidth: g.inWidth,
  padTop: g.kernelH - 1 - g.padTop,
  padLeft: g.kernelW - 1 - g.padLeft,
  weightDstStride: g.kernelH * g.kernelW,
  weightSrcStride: g.inChannels * g.kernelH * g.kernelW,
  flip: true,
});

export interface WindowBlock {
  /** Output rows (1..5) and columns (4 or 8) per tile. */
  rows: number;
  cols: number;
  /** Destination channels per invocation. */
  channels: number;
}

/**
 * Tile rows, columns and channels per invocation for a forward or
 * input-gradient window product: the choice with the least estimated cost
 * over the whole dispatch (tile gathers, kernel loads shared by the SIMD
 * group, multiply-adds including the padding a partial tile computes,
 * stores), within the compile-time limits above. `evenRows`: tiles of an
 * even number of rows (a fused 2x2 pooling needs both rows of its windows).
 */
export function windowBlock(g: Conv2dGeometry, p: WindowProduct, options: { evenRows?: boolean } = {}): WindowBlock {
  const taps = g.kernelH * g.kernelW;
  // Shared kernel loads: one gather per 4 tap slots (slot 5 kh + kw), a broadcast per tap.
  const kernelCost = Math.ceil((5 * (g.kernelH - 1) + g.kernelW) / 4) * GATHER_COST + taps * BROADCAST_COST;
  let best: WindowBlock = { rows: options.evenRows ? 2 : 1, cols: 4, channels: 1 };
  let bestCost = Infinity;
  for (const cols of [4, 8]) {
    for (let rows = options.evenRows ? 2 : 1; rows <= WINDOW_MAX_ROWS; rows += options.evenRows ? 2 : 1) {
      for (let channels = 1; channels <= Math.min(MAX_BLOCK_CHANNELS, p.dstChannels); channels++) {
        if (channels * rows * cols * taps > MAX_BODY_MACS && !(rows === 1 && cols === 4 && channels === 1)) continue;
        const invocations = laneBatch(g.batch) * Math.ceil(p.dstHeight / rows) * Math.ceil(p.dstWidth / cols) * Math.ceil(p.dstChannels / channels);
        const perSource = (rows + g.kernelH - 1) * (cols + 4) * GATHER_COST + channels * kernelCost + channels * rows * cols * taps;
        const cost = invocations * (p.srcChannels * perSource + channels * rows * cols * SCATTER_COST);
        if (cost < bestCost) {
          best = { rows, cols, channels };
          bestCost = cost;
        }
      }
    }
  }
  return best;
}

/** The weight gradient's window plan: tile rows, output channels per invocation, chunks of tile rows. */
export interface WindowWeightPlan extends WindowBlock {
  /** Tile rows (ROWS output rows of one image) per chunk, and chunks. */
  chunkRows: number;
  chunks: number;
  partialsPerChunk: number;
}

export function windowWeightPlan(g: Conv2dGeometry, block?: WindowBlock): WindowWeightPlan {
  const taps = g.kernelH * g.kernelW;
  if (block) return { ...block, ...weightChunks(g, block) };
  // Rows: the least padding in the last tile row; columns: the least padding, then the wider.
  let rows = 1;
  for (let r = 2; r <= WINDOW_MAX_ROWS; r++) {
    if (Math.ceil(g.outHeight / r) * r - g.outHeight <= Math.ceil(g.outHeight / rows) * rows - g.outHeight) rows = r;
  }
  const cols = Math.ceil(g.outWidth / 8) * 8 - g.outWidth <= Math.ceil(g.outWidth / 4) * 4 - g.outWidth ? 8 : 4;
  // Channels: the fewest blocks, then the least padding in the last one, within the body's compile-time limit
  // (measured: 5x4 tiles of 2 channels as fast as 4 channels, compiled in a quarter of the time).
  let channels = 1;
  const maxChannels = Math.max(1, Math.min(WINDOW_MAX_WEIGHT_CHANNELS, g.outChannels, Math.floor(MAX_BODY_MACS / (rows * cols * taps))));
  for (let c = 2; c <= maxChannels; c++) {
    const blocks = Math.ceil(g.outChannels / c);
    const best = Math.ceil(g.outChannels / channels);
    if (blocks < best || (blocks === best && blocks * c < best * channels)) channels = c;
  }
  return { rows, cols, channels, ...weightChunks(g, { rows, cols, channels }) };
}

/** The weight gradient's split over chunks of tile rows, for a tile and channel block. */
function weightChunks(g: Conv2dGeometry, b: WindowBlock): { chunkRows: number; chunks: number; partialsPerChunk: number } {
  const blocks = Math.ceil(g.outChannels / b.channels) * g.inChannels;
  const tileRows = g.batch * Math.ceil(g.outHeight / b.rows);
  const partialsPerChunk = g.outChannels * g.inChannels * g.kernelH * g.kernelW + g.outChannels;
  const byScratch = Math.max(1, Math.floor(SPLIT_K_MAX_SCRATCH_BYTES / (4 * partialsPerChunk)));
  const target = Math.max(1, Math.min(Math.ceil(WINDOW_WEIGHT_INVOCATIONS / blocks), tileRows, byScratch));
  const chunkRows = Math.ceil(tileRows / target);
  return { chunkRows, chunks: Math.ceil(tileRows / chunkRows), partialsPerChunk };
}

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

/** The batch rounded up to a multiple of 4: images in the invocation order, so each SIMD group shares its tile (conv2d-window.wgsl). */
const laneBatch = (batch: number): number => Math.ceil(batch / 4) * 4;

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

/** How the weight-gradient reduction over the output rows is split. */
export interface SplitK {
  chunks: number;
  /**
   * The rows split: output rows (b, oh), B*OH of them; for the window
   * kernels, tile rows (rows of one image's tiles), B*ceil(OH/tile rows).
   */
  rows: number;
  /** Rows per chunk; the last chunk may have fewer. */
  rowsPerChunk: number;
  /** Elements per chunk in the scratch buffer: Cout*Cin*KH*KW + Cout. */
  partialsPerChunk: number;
}

/** Chunks for the weight gradient: from the work per chunk, never empty, scratch bounded. */
export function conv2dSplitK(g: Conv2dGeometry, variant: KernelVariant = 'blocked', windowWeightBlock?: WindowBlock): SplitK {
  if (usesWindowKernels(g, variant)) {
    const w = windowWeightPlan(g, windowWeightBlock);
    return { chunks: w.chunks, rows: g.batch * Math.ceil(g.outHeight / w.rows), rowsPerChunk: w.chunkRows, partialsPerChunk: w.partialsPerChunk };
  }
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
  return { chunks: Math.ceil(rows / rowsPerChunk), rows, rowsPerChunk, partialsPerChunk };
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
 * Whether conv2dForward can also write the 2x2 stride-2 average pooling of its
 * output (io.pooled): the 'blocked' window kernels, an even output height and
 * width, and a tile of an even number of rows (each invocation then holds
 * both rows of its windows).
 */
export function conv2dFusesAvgPool(g: Conv2dGeometry, pool: Pool2dGeometry, variant: KernelVariant = 'blocked'): boolean {
  const poolMatches =
    pool.windowH === 2 && pool.windowW === 2 && pool.strideH === 2 && pool.strideW === 2 &&
    pool.batch === g.batch && pool.channels === g.outChannels && pool.inHeight === g.outHeight && pool.inWidth === g.outWidth;
  return poolMatches && usesWindowKernels(g, variant) && g.outHeight % 2 === 0 && g.outWidth % 2 === 0;
}

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
  const label = `conv2d_forward[${variant}](${describeGeometry(g)}, ${activation})`;
  const buffers = { out: io.out, inp: io.inp, weight: io.weight, bias: io.bias };
  if (io.pooled) {
    const pool = pool2dGeometry({ batch: g.batch, channels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth, window: 2, stride: 2 });
    if (!conv2dFusesAvgPool(g, pool, variant)) throw new ShapeError(`${label}: cannot fuse the 2x2 average pooling here (see conv2dFusesAvgPool)`);
    requireElements('conv2d_forward', 'pooled', io.pooled, (n.out / 4));
  }
  if (variant === 'tiled') {
    const tiles = gemmTiles(g.outChannels, g.batch * g.outHeight * g.outWidth);
    const kernel = await cache.get(shader, 'conv2d_forward_tiled', { ACTIVATION: ACTIVATION_CODES[activation] });
    return [makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, tiles), buffers, workgroups: grid1d(cache.device, tiles, 1), label })];
  }
  if (usesWindowKernels(g, variant)) {
    const p = forwardProduct(g);
    const b = opts?.windowBlock ?? windowBlock(g, p, { evenRows: Boolean(io.pooled) });
    if (io.pooled && b.rows % 2 !== 0) throw new ShapeError(`${label}: a fused 2x2 pooling needs tiles of an even number of rows, got ${b.rows}`);
    const items = windowItems(g, p, b);
    const entry = io.pooled ? 'conv2d_forward_window_pooled' : 'conv2d_forward_window';
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
  const kernel = await cache.get(shader, 'conv2d_forward', { ACTIVATION: ACTIVATION_CODES[activation], WORKGROUP_SIZE, CH_BLOCK: channelBlock(g.outChannels) });
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
      const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), bound), 'conv2d_backward_weight_window_pooled', windowConstants(g, w, { ACTIVATION: ACTIVATION_CODES[io.through.activation] }));
      first = makeDispatch(cache.device, kernel, {
        uniforms: windowUniforms(g, forwardProduct(g), w, items, w.chunkRows, w.chunks),
        buffers: bound,
        workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
        label: `conv2d_backward_weight[blocked](${geometry}, ${split.chunks} chunks, window ${w.rows}x${w.cols}x${w.channels}, through avg-pool 2x2 and ${io.through.activation}')`,
      });
    } else if (variant === 'tiled') {
      const tiles = gemmTiles(g.outChannels, taps + 1) * split.chunks;
      const kernel = await cache.get(shader, 'conv2d_backward_weight_tiled');
      first = makeDispatch(cache.device, kernel, {
        uniforms: conv2dUniforms(g, tiles, split),
        buffers: { dout: io.dout, inp: io.inp, partials },
        workgroups: grid1d(cache.device, tiles, 1),
        label: `conv2d_backward_weight[tiled](${geometry}, ${split.chunks} chunks)`,
      });
    } else if (usesWindowKernels(g, variant)) {
      const w = windowWeightPlan(g, windowWeightBlock);
      const items = split.chunks * Math.ceil(g.outChannels / w.channels) * g.inChannels;
      const bound = { dout: io.dout, inp: io.inp, partials };
      const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), bound), 'conv2d_backward_weight_window', windowConstants(g, w));
      first = makeDispatch(cache.device, kernel, {
        uniforms: windowUniforms(g, forwardProduct(g), w, items, w.chunkRows, w.chunks),
        buffers: bound,
        workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
        label: `conv2d_backward_weight[blocked](${geometry}, ${split.chunks} chunks, window ${w.rows}x${w.cols}x${w.channels})`,
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
  io: { dinp: BufferResource; dout: BufferResource; weight: BufferResource; inp: BufferResource },
  variant: KernelVariant,
  below: ActivationKind,
  block?: WindowBlock,
): Promise<Dispatch> {
  const fused = below === 'linear' ? '' : `, then ${below}'`;
  const label = `conv2d_backward_input[${variant}](${describeGeometry(g)}${fused})`;
  const buffers = { dinp: io.dinp, dout: io.dout, weight: io.weight, inp: io.inp };
  const ACTIVATION = ACTIVATION_CODES[below];
  if (variant === 'tiled') {
    const tiles = gemmTiles(g.inChannels, g.batch * g.inHeight * g.inWidth);
    const kernel = await cache.get(shader, 'conv2d_backward_input_tiled', { ACTIVATION });
    return makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, tiles), buffers, workgroups: grid1d(cache.device, tiles, 1), label });
  }
  if (usesWindowKernels(g, variant)) {
    const p = inputGradProduct(g);
    const b = block ?? windowBlock(g, p);
    const items = windowItems(g, p, b);
    const kernel = await cache.get(withBindingLengths(windowShaders.for(cache.device), buffers), 'conv2d_backward_input_window', windowConstants(g, b, { ACTIVATION, FLIP: 1, ...sharedWeights(cache.device) }));
    return makeDispatch(cache.device, kernel, {
      uniforms: windowUniforms(g, p, b, items),
      buffers,
      workgroups: grid1d(cache.device, items, WINDOW_WORKGROUP),
      label: `conv2d_backward_input[blocked](${describeGeometry(g)}${fused}, window ${b.rows}x${b.cols}x${b.channels})`,
    });
  }
  const items = blockedItems(g.inChannels, g.batch * g.inHeight * g.inWidth);
  const kernel = await cache.get(shader, 'conv2d_backward_input', { WORKGROUP_SIZE, CH_BLOCK: channelBlock(g.inChannels), ACTIVATION });
  return makeDispatch(cache.device, kernel, { uniforms: conv2dUniforms(g, items), buffers, workgroups: grid1d(cache.device, items, WORKGROUP_SIZE), label });
}

/**
 * Whether conv2dBackwardThroughAvgPool applies: the 'blocked' window kernels,
 * a following 2x2 stride-2 average pooling over an even output, and a weight
 * gradient tiled by an even number of rows.
 */
export function conv2dFusesAvgPoolBackward(g: Conv2dGeometry, pool: Pool2dGeometry, variant: KernelVariant = 'blocked'): boolean {
  const poolMatches =
    pool.windowH === 2 && pool.windowW === 2 && pool.strideH === 2 && pool.strideW === 2 &&
    pool.batch === g.batch && pool.channels === g.outChannels && pool.inHeight === g.outHeight && pool.inWidth === g.outWidth;
  return poolMatches && usesWindowKernels(g, variant) && g.outHeight % 2 === 0 && g.outWidth % 2 === 0 && windowWeightPlan(g).rows % 2 === 0;
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
