/**
 * Dense (fully connected) layer on the GPU (shaders/dense.wgsl): the forward
 * pass with fused bias and activation, and the backward pass.
 *
 * Layouts (geometry.ts): inp (B, In), weight (In, Out) as Keras stores it,
 * bias (Out), out/dout (B, Out).
 *
 * denseBackward takes dout as the gradient w.r.t. the PRE-activation output
 * and OVERWRITES dinp, dweight and dbias. Its weight gradient is two
 * dispatches: partial sums of
 * [dweight; dbias] per chunk of WEIGHT_GRAD_BATCH_CHUNK batch rows into a
 * scratch buffer owned by the first dispatch, then a sum over the chunks in
 * order, so the result is deterministic for any batch. Nothing is allocated
 * per step.
 *
 * Variants (variant.ts): 'blocked' (default) gives each invocation an 8x16
 * register block (8x8 where C has at most 8 columns) and uses no workgroup
 * memory; 'tiled' has a 16x16 workgroup compute a 64x64 tile of C from slabs
 * staged in workgroup memory. Both exist for all three products.
 *
 * For a plain matmul benchmark, denseForward with activation 'linear' and a
 * zero bias is C = A B (+0) with A (batch, In) and B (In, Out); denseFlops
 * gives its floating-point operation count.
 */
import denseCode from '../../shaders/dense.wgsl?raw';
import { STORAGE } from '../gpu/buffers.ts';
import { GpuLimitError } from '../gpu/errors.ts';
import { ShapeError } from '../geometry.ts';
import type { ActivationKind } from '../reference/activation.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { disposeDispatch, grid1d, makeDispatch, withBindingLengths, type BufferResource, type Dispatch, type KernelCache, type ShaderSource, requireElements, requireBackwardBuffers } from './kernel.ts';
import { lanePreludes, sharesLanes } from './sources.ts';
import { denseEntries } from './plan.ts';
import { wgslConstant } from './reflect.ts';
import type { KernelVariant } from './variant.ts';

const shaders = lanePreludes('dense.wgsl', denseCode);

export interface DenseDims {
  batch: number;
  inFeatures: number;
  outFeatures: number;
}

export interface DenseOptions {
  variant?: KernelVariant;
  /** The blocked kernels' columns per block (8, 16) and K steps per iteration (4, 8), instead of the rule's (tuning, benchmarks). */
  blocked?: { cols?: number; kStep?: number };
}

export interface DenseBackwardOptions extends DenseOptions {
  /**
   * The activation of the layer below (whose output is this layer's inp):
   * its derivative, computed from inp, is fused into dinp. Default linear.
   */
  belowActivation?: ActivationKind;
}

/**
 * Batch rows per partial weight-gradient sum. A fixed number, not one derived
 * from the adapter, so a given batch is always summed in the same order.
 */
export const WEIGHT_GRAD_BATCH_CHUNK = 256;
/**
 * Invocations per workgroup of the blocked kernels and the reduction. Small:
 * an 8x16 block is a lot of work, and a LeNet-sized product has only a few
 * hundred blocks, which a CPU adapter spreads over its cores a workgroup at
 * a time.
 */
const WORKGROUP_SIZE = 16;
/** Rows of C per invocation in the blocked variant (its columns: BLOCKED_COLS), and the tiled variant's block side: the WGSL's. */
const BLOCKED_ROWS = wgslConstant('dense.wgsl', denseCode, 'BLOCK_ROWS');
const BLOCK = wgslConstant('dense.wgsl', denseCode, 'SLAB');

/**
 * Columns of C per blocked invocation, and K steps per iteration (each
 * element's chain length). Measured on SwiftShader (Node, forward plus
 * backward, {8, 16} columns x {4, 8} steps): 16 columns and 4 steps the
 * fastest or level at every shape: 64x400->120 10.6 ms median against 12.7
 * for 8x4, 64x120->84 2.5 against 2.8, 256x400->120 27 against 34,
 * 256x784->512 240 against 300; 64x84->10 level. 16x8 is no faster and
 * compiles in half as long again. A product of at most 8 columns keeps
 * 8-column blocks (a 16-column block would compute half padding).
 */
const BLOCKED_COLS = 16;
const NARROW_BLOCKED_COLS = 8;
const BLOCKED_K_STEP = 4;
/** The tiled kernels' workgroup is TILE x TILE invocations, its tile of C (BLOCK TILE)². */
const TILE = 16;

/** Floating-point operations of one forward product (a multiply and an add per term). */
export function denseFlops(d: DenseDims): number {
  return 2 * d.batch * d.inFeatures * d.outFeatures;
}

function checkDims(d: DenseDims): void {
  for (const [what, v] of Object.entries({ batch: d.batch, inFeatures: d.inFeatures, outFeatures: d.outFeatures })) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`dense: ${what} must be a positive integer, got ${v}`);
  }
  // The shader indexes with u32; the scratch of a single chunk is (In+1) x Out.
  const largest = Math.max(d.batch * d.inFeatures, d.batch * d.outFeatures, (d.inFeatures + 1) * d.outFeatures);
  if (largest >= 2 ** 32) throw new GpuLimitError(`dense: a tensor of ${largest} elements is beyond 32-bit indexing; use a smaller batch`);
}

const sizes = (d: DenseDims) => ({
  inp: d.batch * d.inFeatures,
  out: d.batch * d.outFeatures,
  weight: d.inFeatures * d.outFeatures,
  bias: d.outFeatures,
});

const weightGradChunks = (d: DenseDims): number => Math.ceil(d.batch / WEIGHT_GRAD_BATCH_CHUNK);

/** A product C (rows x cols), and the blocked variant's columns of C per invocation: the options', else the rule's (BLOCKED_COLS). */
interface Product {
  rows: number;
  cols: number;
  blockCols: number;
}

const product = (rows: number, cols: number, opts?: DenseOptions): Product => ({
  rows,
  cols,
  // 'compact' takes narrow blocks everywhere: half the unrolled body, compiled in about half the time.
  blockCols: opts?.blocked?.cols ?? (cols > NARROW_BLOCKED_COLS && opts?.variant !== 'compact' ? BLOCKED_COLS : NARROW_BLOCKED_COLS),
});

/** The blocked grid of a product: row blocks rounded up to a multiple of 4 (a SIMD group's lanes share columns), column blocks. */
function blockedGrid(p: Product): { rowBlocks4: number; colBlocks: number } {
  return { rowBlocks4: Math.ceil(Math.ceil(p.rows / BLOCKED_ROWS) / 4) * 4, colBlocks: Math.ceil(p.cols / p.blockCols) };
}

function denseUniforms(d: DenseDims, p: Product): Record<string, number> {
  const grid = blockedGrid(p);
  return {
    batch: d.batch,
    in_features: d.inFeatures,
    out_features: d.outFeatures,
    row_blocks4: grid.rowBlocks4,
    col_blocks: grid.colBlocks,
    batch_chunk: WEIGHT_GRAD_BATCH_CHUNK,
    chunks: weightGradChunks(d),
  };
}

const describeDims = (d: DenseDims): string => `${d.batch}x${d.inFeatures} -> ${d.outFeatures}`;

/**
 * The shader a product compiles: with its bindings' lengths fixed (a module
 * per set of lengths: faster clamps on SwiftShader), except in 'compact',
 * where one module serves every layer (fewer modules to compile).
 */
const sourceFor = (device: GPUDevice, variant: KernelVariant, buffers: Record<string, BufferResource | undefined>): ShaderSource =>
  variant === 'compact' ? shaders.for(device) : withBindingLengths(shaders.for(device), buffers);

/** Override constants of a product's entry point of the given variant. */
const variantConstants = (device: GPUDevice, variant: KernelVariant, p: Product, opts?: DenseOptions): Record<string, number> =>
  variant === 'tiled'
    ? { TILE }
    : { WORKGROUP_SIZE, BLOCK_COLS: p.blockCols, K_STEP: opts?.blocked?.kStep ?? BLOCKED_K_STEP, ...(sharesLanes(device) ? { SHARED_B: 1 } : {}) };

/**
 * Workgroups for a product, `depth` times over (the weight gradient's batch
 * chunks, workgroup_id.z): blocked numbers its blocks and folds them into
 * x/y; tiled lays its tiles of C out as columns x rows.
 */
function productGrid(device: GPUDevice, variant: KernelVariant, p: Product, depth = 1): [number, number, number] {
  if (variant === 'tiled') return [Math.ceil(p.cols / (BLOCK * TILE)), Math.ceil(p.rows / (BLOCK * TILE)), depth];
  const grid = blockedGrid(p);
  const [x, y] = grid1d(device, grid.rowBlocks4 * grid.colBlocks, WORKGROUP_SIZE);
  return [x, y, depth];
}

/** out (B, Out) = act(inp (B, In) · weight (In, Out) + bias). One dispatch. */
export async function denseForward(
  cache: KernelCache,
  d: DenseDims,
  activation: ActivationKind,
  io: { out: BufferResource; inp: BufferResource; weight: BufferResource; bias: BufferResource },
  opts?: DenseOptions,
): Promise<Dispatch[]> {
  checkDims(d);
  const n = sizes(d);
  for (const name of ['out', 'inp', 'weight', 'bias'] as const) requireElements('dense_forward', name, io[name], n[name]);
  const variant = opts?.variant ?? 'blocked';
  const buffers = { out: io.out, inp: io.inp, weight: io.weight, bias: io.bias };
  const c = product(d.batch, d.outFeatures, opts);
  const kernel = await cache.get(sourceFor(cache.device, variant, buffers), denseEntries(variant).forward, { ...variantConstants(cache.device, variant, c, opts), ACTIVATION: ACTIVATION_CODES[activation] });
  return [
    makeDispatch(cache.device, kernel, {
      uniforms: denseUniforms(d, c),
      buffers,
      workgroups: productGrid(cache.device, variant, c),
      label: `dense_forward[${variant}](${describeDims(d)}, ${activation})`,
    }),
  ];
}

/** [dweight; dbias] in two passes: per-chunk partial sums into scratch (owned by the first dispatch), then their ordered sum. */
async function weightGradDispatches(
  cache: KernelCache,
  d: DenseDims,
  io: { dweight: BufferResource; dbias: BufferResource; dout: BufferResource; inp: BufferResource },
  variant: KernelVariant,
  opts?: DenseOptions,
): Promise<Dispatch[]> {
  const { device } = cache;
  const chunks = weightGradChunks(d);
  const partialsPerChunk = (d.inFeatures + 1) * d.outFeatures;
  const scratchBytes = chunks * partialsPerChunk * 4;
  if (scratchBytes > device.limits.maxStorageBufferBindingSize) {
    throw new GpuLimitError(
      `dense_backward(${describeDims(d)}): the weight-gradient scratch needs ${scratchBytes} bytes, over this adapter's maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize}); use a smaller batch`,
    );
  }
  const partials = device.createBuffer({ size: scratchBytes, usage: STORAGE(), label: `dense weight-gradient partials (${chunks} chunks)` });
  try {
    const bound = { inp: io.inp, dout: io.dout, partials };
    // C = [inpᵀ; 1] · dout per batch chunk: (In + 1) x Out, its last row dbias.
    const c = product(d.inFeatures + 1, d.outFeatures, opts);
    const [productKernel, reduceKernel] = await Promise.all([
      cache.get(sourceFor(device, variant, bound), denseEntries(variant).weight, variantConstants(device, variant, c, opts)),
      cache.get(shaders.for(device), 'dense_backward_weight_reduce', { WORKGROUP_SIZE }),
    ]);
    const uniforms = denseUniforms(d, c);
    const first = makeDispatch(device, productKernel, {
      uniforms,
      buffers: bound,
      workgroups: productGrid(device, variant, c, chunks),
      label: `dense_backward_weight[${variant}](${describeDims(d)}, ${chunks} chunks)`,
    });
    first.owned.push(partials);
    const second = makeDispatch(device, reduceKernel, {
      uniforms,
      buffers: { partials_in: partials, dweight: io.dweight, dbias: io.dbias },
      workgroups: grid1d(device, partialsPerChunk, WORKGROUP_SIZE),
      label: `dense_backward_weight_reduce(${describeDims(d)}, ${chunks} chunks)`,
    });
    return [first, second];
  } catch (error) {
    partials.destroy();
    throw error;
  }
}

async function inputGradDispatch(
  cache: KernelCache,
  d: DenseDims,
  io: { dinp: BufferResource; dout: BufferResource; weight: BufferResource; inp: BufferResource },
  variant: KernelVariant,
  below: ActivationKind,
  opts?: DenseOptions,
): Promise<Dispatch> {
  const buffers = { dinp: io.dinp, dout: io.dout, weight: io.weight, inp: io.inp };
  const c = product(d.batch, d.inFeatures, opts);
  const kernel = await cache.get(sourceFor(cache.device, variant, buffers), denseEntries(variant).input, { ...variantConstants(cache.device, variant, c, opts), ACTIVATION: ACTIVATION_CODES[below] });
  return makeDispatch(cache.device, kernel, {
    uniforms: denseUniforms(d, c),
    buffers,
    workgroups: productGrid(cache.device, variant, c),
    label: `dense_backward_input[${variant}](${describeDims(d)}${below === 'linear' ? '' : `, then ${below}'`})`,
  });
}

/**
 * Dispatches, in order: weight-gradient partials (owns the scratch buffer),
 * their sum into dweight/dbias, then dinp (B, In) = dout · weightᵀ unless
 * dinp is omitted (a first layer needs no input gradient). With
 * opts.belowActivation, dinp is multiplied by that activation's derivative
 * at inp: dL/d(pre-activation of the layer below).
 */
export async function denseBackward(
  cache: KernelCache,
  d: DenseDims,
  io: { dinp?: BufferResource; dweight: BufferResource; dbias: BufferResource; dout: BufferResource; inp: BufferResource; weight: BufferResource },
  opts?: DenseBackwardOptions,
): Promise<Dispatch[]> {
  checkDims(d);
  const n = sizes(d);
  requireBackwardBuffers('dense_backward', io, n);
  const variant = opts?.variant ?? 'blocked';
  const dispatches = await weightGradDispatches(cache, d, io, variant, opts);
  if (io.dinp) {
    try {
      dispatches.push(await inputGradDispatch(cache, d, { dinp: io.dinp, dout: io.dout, weight: io.weight, inp: io.inp }, variant, opts?.belowActivation ?? 'linear', opts));
    } catch (error) {
      dispatches.forEach(disposeDispatch);
      throw error;
    }
  }
  return dispatches;
}
