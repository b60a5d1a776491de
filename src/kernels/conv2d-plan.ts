/**
 * How a convolution runs, decided without a device: which kernel family
 * (tiled GEMM, the blocked variant's sliding-window kernels, or its general
 * kernels), the window tiles and channel blocks from a cost model measured on
 * SwiftShader, the split of the weight gradient's reduction (split-K), the
 * fusions with a following 2x2 average pooling, and the entry point each pass
 * dispatches. The launchers (conv2d.ts) and the kernel plan (plan.ts) both
 * take their decisions from here, so the printed plan is what runs.
 */
import type { Conv2dGeometry, Pool2dGeometry } from '../geometry.ts';
import conv2dCode from '../../shaders/conv2d.wgsl?raw';
import { wgslConstant } from './reflect.ts';
import type { KernelVariant } from './variant.ts';

/** Positions (or taps) per register block in the blocked kernels: two vec4s. */
export const POSITION_BLOCK = 8;
/** Most channels per register block (the WGSL writes out eight channel lines). */
const MAX_CHANNEL_BLOCK = 8;
/** The tiled kernels' C tile (TILE_M x TILE_N) and threads, read from shaders/conv2d.wgsl. */
export const TILE_M = wgslConstant('conv2d.wgsl', conv2dCode, 'TILE_M');
export const TILE_N = wgslConstant('conv2d.wgsl', conv2dCode, 'TILE_N');
const TILE_THREADS = wgslConstant('conv2d.wgsl', conv2dCode, 'TILE_THREADS');
/**
 * Split-K aims for about this many invocations in the weight-gradient pass
 * (enough to fill a GPU; a CPU adapter is indifferent)...
 */
const SPLIT_K_TARGET_INVOCATIONS = 8192;
/** ...without chunks of fewer output positions than this... */
const SPLIT_K_MIN_POSITIONS = 32;
/** ...or a scratch buffer larger than this. */
const SPLIT_K_MAX_SCRATCH_BYTES = 32 << 20;

// ---------------------------------------------------------------- sliding windows (the blocked variant)

/** Largest kernel side the window kernels unroll (KH, KW in the WGSL). */
const WINDOW_MAX_KERNEL = 5;
/** Most output rows per tile (ROWS) and channels per invocation (CH_BLOCK) the WGSL unrolls. */
const WINDOW_MAX_ROWS = 5;
const WINDOW_MAX_WEIGHT_CHANNELS = 4;
/** Workgroup size of the window kernels: small, so that a few hundred invocations still spread over every core. */
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
export interface WindowProduct {
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

export const forwardProduct = (g: Conv2dGeometry): WindowProduct => ({
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
export const inputGradProduct = (g: Conv2dGeometry): WindowProduct => ({
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

/** The batch rounded up to a multiple of 4: images in the invocation order, so each SIMD group shares its tile (conv2d-window.wgsl). */
export const laneBatch = (batch: number): number => Math.ceil(batch / 4) * 4;

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


/** The forward entry point: the tiled GEMM, a window kernel (also writing the pooling when `pooled`), or the general kernel. */
export function conv2dForwardEntry(g: Conv2dGeometry, variant: KernelVariant, pooled = false): string {
  if (variant === 'tiled') return 'conv2d_forward_tiled';
  if (usesWindowKernels(g, variant)) return pooled ? 'conv2d_forward_window_pooled' : 'conv2d_forward_window';
  return 'conv2d_forward_blocked';
}

/** The weight gradient's partial-sums entry point (its reduction is conv2d_backward_weight_reduce); `throughPool`: from a following pooling's gradient. */
export function conv2dWeightEntry(g: Conv2dGeometry, variant: KernelVariant, throughPool = false): string {
  if (throughPool) return 'conv2d_backward_weight_window_pooled';
  if (variant === 'tiled') return 'conv2d_backward_weight_tiled';
  return usesWindowKernels(g, variant) ? 'conv2d_backward_weight_window' : 'conv2d_backward_weight_blocked';
}

export function conv2dInputEntry(g: Conv2dGeometry, variant: KernelVariant): string {
  if (variant === 'tiled') return 'conv2d_backward_input_tiled';
  return usesWindowKernels(g, variant) ? 'conv2d_backward_input_window' : 'conv2d_backward_input_blocked';
}
