// Dense (fully connected) layer, y = act(x W + b), and its gradients.
//
// Layout (row-major; weights as Keras stores them):
//   inp (B, In)   weight (In, Out)   bias (Out)   out (B, Out)
//   dout, dinp, dweight, dbias have the shapes of out, inp, weight, bias.
// dout is the gradient with respect to the PRE-activation: the graph applies
// the activation derivative before these kernels run.
//
// Every entry point is one matrix product C (M, N) = A (M, K) · B (K, N),
// read through a different view of the buffers:
//
//   forward          C = out (B, Out)      A = inp (B, In)        B = weight (In, Out)   K = In
//   backward_input   C = dinp (B, In)      A = dout (B, Out)      B = weightᵀ (Out, In)  K = Out
//   backward_weight  C = dweight (In, Out) A = inpᵀ (In, B)       B = dout (B, Out)      K = B
//                    plus one more row of C: dbias (Out), the column sums of
//                    dout, which is what a constant input of 1 would receive.
//                    So A gets a last row of ones and one kernel computes both.
//
// The forward pass fuses the bias and the activation (override ACTIVATION,
// see activation-functions.wgsl) into its write. The input-gradient kernels
// can fuse the derivative of the activation of the layer below (ACTIVATION
// there; that layer's output is inp): dinp = (dout · Wᵀ) * act'(inp), which
// is dL/d(the layer below's pre-activation). The backward kernels
// OVERWRITE dinp, dweight and dbias; they never accumulate into them.
//
// Two variants of each product (KernelVariant, src/kernels/variant.ts):
//
// - *_blocked: each invocation owns an 8 x BLOCK_COLS (8 or 16) block of C.
//   It walks K in steps of K_STEP (4 or 8): loads 8 x K_STEP values of A and
//   K_STEP x BLOCK_COLS of B, then adds to each element of its block one
//   chain of K_STEP multiply-adds. No workgroup memory, no barriers: what CPU adapters such as
//   SwiftShader run fastest. There every storage load is an emulated gather
//   of four lanes costing as much as 20-30 multiply-adds, so the block is as
//   large as the compiler handles quickly, and an accumulator updated by one
//   chain per step stays in a register where one updated every line would be
//   spilled. Row and column indices are clamped at the matrix edges and A's
//   steps past K masked to zero, so no branch guards a load; lanes past the
//   edge compute garbage that is never stored. Blocks are numbered with the
//   row block fastest, in groups of 4 (row_blocks4, row blocks rounded up to
//   a multiple of 4), so the four lanes of a SIMD group share their columns
//   and so B's values: with SHARED_B (a device whose subgroups are
//   SwiftShader's 4-lane groups, src/kernels/sources.ts) each lane loads a
//   quarter of them and subgroupBroadcast (bcast0..3, from the prelude) hands
//   them round. The grid may be folded into 2D (linearised from workgroup_id
//   and num_workgroups). The block's arithmetic and loads are written out
//   line by line, on purpose: SwiftShader's JIT keeps a chain in registers
//   only when it is one expression, and WGSL passes no storage buffer to a
//   function without the unrestricted_pointer_parameters extension (not
//   required here), hence one loader per buffer (load_b_weight, load_b_dout).
// - *_tiled: a TILE x TILE workgroup computes a (4 TILE) x (4 TILE) tile of
//   C (64x64 at TILE = 16), each invocation a 4x4 register block of it. Each
//   step over K stages a 64x16 slab of A and a 16x64 slab of B in workgroup
//   memory (zero past the edges), with a barrier on either side of the multiply: the shared-memory
//   GEMM that real GPUs want (each staged value is reused 64 times).
//
// Determinism: no atomics. Every element of C is summed by one invocation
// in a fixed order: ascending K. The weight gradient always takes two
// passes (split-K over the batch): pass 1 (dense_backward_weight_*) writes one
// partial (In+1, Out) block per chunk of `batch_chunk` batch rows
// (workgroup_id.z is the chunk) into a scratch buffer; pass 2
// (dense_backward_weight_reduce) adds the chunks in chunk order into dweight
// and dbias. With one chunk, pass 2 is a copy. Results are bit-identical from
// run to run whatever the batch.

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 64u;
override TILE: u32 = 16u;

struct DenseParams {
  batch: u32,
  in_features: u32,
  out_features: u32,
  // Blocked variant: row blocks of C rounded up to a multiple of 4, and column blocks.
  row_blocks4: u32,
  col_blocks: u32,
  // Weight gradient (split-K): batch rows summed per partial block, and the
  // number of partial blocks.
  batch_chunk: u32,
  chunks: u32,
}

@group(0) @binding(0) var<storage, read> inp: array<f32>; // (B, In)
@group(0) @binding(1) var<storage, read> weight: array<f32>; // (In, Out)
@group(0) @binding(2) var<storage, read> bias: array<f32>; // (Out)
@group(0) @binding(3) var<storage, read> dout: array<f32>; // (B, Out)
@group(0) @binding(4) var<storage, read> partials_in: array<f32>; // partials (below) again: pass 2 reads
@group(0) @binding(5) var<storage, read_write> out: array<f32>; // (B, Out)
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>; // (B, In)
@group(0) @binding(7) var<storage, read_write> partials: array<f32>; // (chunks, In+1, Out): pass 1 writes
@group(0) @binding(8) var<storage, read_write> dweight: array<f32>; // (In, Out)
@group(0) @binding(9) var<storage, read_write> dbias: array<f32>; // (Out)
@group(0) @binding(10) var<uniform> params: DenseParams;

// ---------------------------------------------------------------------------
// Blocked variant: 8 x BLOCK_COLS blocks, K in steps of K_STEP, no workgroup memory.
//
// The block's C is CBlock: row i, columns 4q..4q+3 in c[4i + q] (q < 2, or
// < 4 at 16 columns). A step's A is AChunk: row i, k 0-3 in a[2i], 4-7 in
// a[2i + 1]; its B is BChunk: k t, columns 4q.. in b[4t + q]. All indices are
// constants, so nothing is indexed dynamically (a dynamically indexed array
// would live in memory, lane by lane). The unrolled functions (mac_step, the
// loaders load_a_* and load_b_*, the stores store_block_*) are generated by
// scripts/wgsl/unrolled.ts between "@generated" and "@end" markers, one
// generator per shape whatever buffer it names: change the generator, then
// run npm run gen:wgsl; test/kernels/wgsl-generated.test.ts holds them to it.

override BLOCK_COLS: u32 = 8u;
override SHARED_B: bool = false;

const BLOCK_ROWS: u32 = 8u;
// Steps of K per loop iteration: 4 or 8 (the chains' length; the body's size, and so its compile time, with it).
override K_STEP: u32 = 4u;

alias AChunk = array<vec4f, 16>;
alias BChunk = array<vec4f, 32>;
alias CBlock = array<vec4f, 32>;

// The block this invocation owns: first row m0 and column n0 of C (rows x cols).
struct BlockPlace {
  m0: u32,
  n0: u32,
}

fn block_place(wid: vec3u, nwg: vec3u, lid: u32) -> BlockPlace {
  let index = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let col_block = index / params.row_blocks4;
  return BlockPlace((index - col_block * params.row_blocks4) * BLOCK_ROWS, col_block * BLOCK_COLS);
}

// Invocations past the last column block (whole SIMD groups) leave; the rest stay for the broadcasts.
fn block_in_grid(wid: vec3u, nwg: vec3u, lid: u32) -> bool {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid < params.row_blocks4 * params.col_blocks;
}

// Indices first..first+7, clamped to last: (lo, hi).
fn clamped8(first: u32, last: u32) -> array<vec4u, 2> {
  let l = vec4u(last);
  return array<vec4u, 2>(min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), l), min(vec4u(first) + vec4u(4u, 5u, 6u, 7u), l));
}

// c += a (8 x 8) b (8 x BLOCK_COLS): each element one chain of 8 multiply-adds.
// @generated mac_step: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn mac_step(c: CBlock, a: AChunk, b: BChunk) -> CBlock {
  var r = c;
  r[0] += vec4f(a[0].x * b[0].x + a[0].y * b[4].x + a[0].z * b[8].x + a[0].w * b[12].x, a[0].x * b[0].y + a[0].y * b[4].y + a[0].z * b[8].y + a[0].w * b[12].y, a[0].x * b[0].z + a[0].y * b[4].z + a[0].z * b[8].z + a[0].w * b[12].z, a[0].x * b[0].w + a[0].y * b[4].w + a[0].z * b[8].w + a[0].w * b[12].w);
  if (K_STEP > 4u) { r[0] += vec4f(a[1].x * b[16].x + a[1].y * b[20].x + a[1].z * b[24].x + a[1].w * b[28].x, a[1].x * b[16].y + a[1].y * b[20].y + a[1].z * b[24].y + a[1].w * b[28].y, a[1].x * b[16].z + a[1].y * b[20].z + a[1].z * b[24].z + a[1].w * b[28].z, a[1].x * b[16].w + a[1].y * b[20].w + a[1].z * b[24].w + a[1].w * b[28].w); }
  r[1] += vec4f(a[0].x * b[1].x + a[0].y * b[5].x + a[0].z * b[9].x + a[0].w * b[13].x, a[0].x * b[1].y + a[0].y * b[5].y + a[0].z * b[9].y + a[0].w * b[13].y, a[0].x * b[1].z + a[0].y * b[5].z + a[0].z * b[9].z + a[0].w * b[13].z, a[0].x * b[1].w + a[0].y * b[5].w + a[0].z * b[9].w + a[0].w * b[13].w);
  if (K_STEP > 4u) { r[1] += vec4f(a[1].x * b[17].x + a[1].y * b[21].x + a[1].z * b[25].x + a[1].w * b[29].x, a[1].x * b[17].y + a[1].y * b[21].y + a[1].z * b[25].y + a[1].w * b[29].y, a[1].x * b[17].z + a[1].y * b[21].z + a[1].z * b[25].z + a[1].w * b[29].z, a[1].x * b[17].w + a[1].y * b[21].w + a[1].z * b[25].w + a[1].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[2] += vec4f(a[0].x * b[2].x + a[0].y * b[6].x + a[0].z * b[10].x + a[0].w * b[14].x, a[0].x * b[2].y + a[0].y * b[6].y + a[0].z * b[10].y + a[0].w * b[14].y, a[0].x * b[2].z + a[0].y * b[6].z + a[0].z * b[10].z + a[0].w * b[14].z, a[0].x * b[2].w + a[0].y * b[6].w + a[0].z * b[10].w + a[0].w * b[14].w);
    if (K_STEP > 4u) { r[2] += vec4f(a[1].x * b[18].x + a[1].y * b[22].x + a[1].z * b[26].x + a[1].w * b[30].x, a[1].x * b[18].y + a[1].y * b[22].y + a[1].z * b[26].y + a[1].w * b[30].y, a[1].x * b[18].z + a[1].y * b[22].z + a[1].z * b[26].z + a[1].w * b[30].z, a[1].x * b[18].w + a[1].y * b[22].w + a[1].z * b[26].w + a[1].w * b[30].w); }
    r[3] += vec4f(a[0].x * b[3].x + a[0].y * b[7].x + a[0].z * b[11].x + a[0].w * b[15].x, a[0].x * b[3].y + a[0].y * b[7].y + a[0].z * b[11].y + a[0].w * b[15].y, a[0].x * b[3].z + a[0].y * b[7].z + a[0].z * b[11].z + a[0].w * b[15].z, a[0].x * b[3].w + a[0].y * b[7].w + a[0].z * b[11].w + a[0].w * b[15].w);
    if (K_STEP > 4u) { r[3] += vec4f(a[1].x * b[19].x + a[1].y * b[23].x + a[1].z * b[27].x + a[1].w * b[31].x, a[1].x * b[19].y + a[1].y * b[23].y + a[1].z * b[27].y + a[1].w * b[31].y, a[1].x * b[19].z + a[1].y * b[23].z + a[1].z * b[27].z + a[1].w * b[31].z, a[1].x * b[19].w + a[1].y * b[23].w + a[1].z * b[27].w + a[1].w * b[31].w); }
  }
  r[4] += vec4f(a[2].x * b[0].x + a[2].y * b[4].x + a[2].z * b[8].x + a[2].w * b[12].x, a[2].x * b[0].y + a[2].y * b[4].y + a[2].z * b[8].y + a[2].w * b[12].y, a[2].x * b[0].z + a[2].y * b[4].z + a[2].z * b[8].z + a[2].w * b[12].z, a[2].x * b[0].w + a[2].y * b[4].w + a[2].z * b[8].w + a[2].w * b[12].w);
  if (K_STEP > 4u) { r[4] += vec4f(a[3].x * b[16].x + a[3].y * b[20].x + a[3].z * b[24].x + a[3].w * b[28].x, a[3].x * b[16].y + a[3].y * b[20].y + a[3].z * b[24].y + a[3].w * b[28].y, a[3].x * b[16].z + a[3].y * b[20].z + a[3].z * b[24].z + a[3].w * b[28].z, a[3].x * b[16].w + a[3].y * b[20].w + a[3].z * b[24].w + a[3].w * b[28].w); }
  r[5] += vec4f(a[2].x * b[1].x + a[2].y * b[5].x + a[2].z * b[9].x + a[2].w * b[13].x, a[2].x * b[1].y + a[2].y * b[5].y + a[2].z * b[9].y + a[2].w * b[13].y, a[2].x * b[1].z + a[2].y * b[5].z + a[2].z * b[9].z + a[2].w * b[13].z, a[2].x * b[1].w + a[2].y * b[5].w + a[2].z * b[9].w + a[2].w * b[13].w);
  if (K_STEP > 4u) { r[5] += vec4f(a[3].x * b[17].x + a[3].y * b[21].x + a[3].z * b[25].x + a[3].w * b[29].x, a[3].x * b[17].y + a[3].y * b[21].y + a[3].z * b[25].y + a[3].w * b[29].y, a[3].x * b[17].z + a[3].y * b[21].z + a[3].z * b[25].z + a[3].w * b[29].z, a[3].x * b[17].w + a[3].y * b[21].w + a[3].z * b[25].w + a[3].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[6] += vec4f(a[2].x * b[2].x + a[2].y * b[6].x + a[2].z * b[10].x + a[2].w * b[14].x, a[2].x * b[2].y + a[2].y * b[6].y + a[2].z * b[10].y + a[2].w * b[14].y, a[2].x * b[2].z + a[2].y * b[6].z + a[2].z * b[10].z + a[2].w * b[14].z, a[2].x * b[2].w + a[2].y * b[6].w + a[2].z * b[10].w + a[2].w * b[14].w);
    if (K_STEP > 4u) { r[6] += vec4f(a[3].x * b[18].x + a[3].y * b[22].x + a[3].z * b[26].x + a[3].w * b[30].x, a[3].x * b[18].y + a[3].y * b[22].y + a[3].z * b[26].y + a[3].w * b[30].y, a[3].x * b[18].z + a[3].y * b[22].z + a[3].z * b[26].z + a[3].w * b[30].z, a[3].x * b[18].w + a[3].y * b[22].w + a[3].z * b[26].w + a[3].w * b[30].w); }
    r[7] += vec4f(a[2].x * b[3].x + a[2].y * b[7].x + a[2].z * b[11].x + a[2].w * b[15].x, a[2].x * b[3].y + a[2].y * b[7].y + a[2].z * b[11].y + a[2].w * b[15].y, a[2].x * b[3].z + a[2].y * b[7].z + a[2].z * b[11].z + a[2].w * b[15].z, a[2].x * b[3].w + a[2].y * b[7].w + a[2].z * b[11].w + a[2].w * b[15].w);
    if (K_STEP > 4u) { r[7] += vec4f(a[3].x * b[19].x + a[3].y * b[23].x + a[3].z * b[27].x + a[3].w * b[31].x, a[3].x * b[19].y + a[3].y * b[23].y + a[3].z * b[27].y + a[3].w * b[31].y, a[3].x * b[19].z + a[3].y * b[23].z + a[3].z * b[27].z + a[3].w * b[31].z, a[3].x * b[19].w + a[3].y * b[23].w + a[3].z * b[27].w + a[3].w * b[31].w); }
  }
  r[8] += vec4f(a[4].x * b[0].x + a[4].y * b[4].x + a[4].z * b[8].x + a[4].w * b[12].x, a[4].x * b[0].y + a[4].y * b[4].y + a[4].z * b[8].y + a[4].w * b[12].y, a[4].x * b[0].z + a[4].y * b[4].z + a[4].z * b[8].z + a[4].w * b[12].z, a[4].x * b[0].w + a[4].y * b[4].w + a[4].z * b[8].w + a[4].w * b[12].w);
  if (K_STEP > 4u) { r[8] += vec4f(a[5].x * b[16].x + a[5].y * b[20].x + a[5].z * b[24].x + a[5].w * b[28].x, a[5].x * b[16].y + a[5].y * b[20].y + a[5].z * b[24].y + a[5].w * b[28].y, a[5].x * b[16].z + a[5].y * b[20].z + a[5].z * b[24].z + a[5].w * b[28].z, a[5].x * b[16].w + a[5].y * b[20].w + a[5].z * b[24].w + a[5].w * b[28].w); }
  r[9] += vec4f(a[4].x * b[1].x + a[4].y * b[5].x + a[4].z * b[9].x + a[4].w * b[13].x, a[4].x * b[1].y + a[4].y * b[5].y + a[4].z * b[9].y + a[4].w * b[13].y, a[4].x * b[1].z + a[4].y * b[5].z + a[4].z * b[9].z + a[4].w * b[13].z, a[4].x * b[1].w + a[4].y * b[5].w + a[4].z * b[9].w + a[4].w * b[13].w);
  if (K_STEP > 4u) { r[9] += vec4f(a[5].x * b[17].x + a[5].y * b[21].x + a[5].z * b[25].x + a[5].w * b[29].x, a[5].x * b[17].y + a[5].y * b[21].y + a[5].z * b[25].y + a[5].w * b[29].y, a[5].x * b[17].z + a[5].y * b[21].z + a[5].z * b[25].z + a[5].w * b[29].z, a[5].x * b[17].w + a[5].y * b[21].w + a[5].z * b[25].w + a[5].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[10] += vec4f(a[4].x * b[2].x + a[4].y * b[6].x + a[4].z * b[10].x + a[4].w * b[14].x, a[4].x * b[2].y + a[4].y * b[6].y + a[4].z * b[10].y + a[4].w * b[14].y, a[4].x * b[2].z + a[4].y * b[6].z + a[4].z * b[10].z + a[4].w * b[14].z, a[4].x * b[2].w + a[4].y * b[6].w + a[4].z * b[10].w + a[4].w * b[14].w);
    if (K_STEP > 4u) { r[10] += vec4f(a[5].x * b[18].x + a[5].y * b[22].x + a[5].z * b[26].x + a[5].w * b[30].x, a[5].x * b[18].y + a[5].y * b[22].y + a[5].z * b[26].y + a[5].w * b[30].y, a[5].x * b[18].z + a[5].y * b[22].z + a[5].z * b[26].z + a[5].w * b[30].z, a[5].x * b[18].w + a[5].y * b[22].w + a[5].z * b[26].w + a[5].w * b[30].w); }
    r[11] += vec4f(a[4].x * b[3].x + a[4].y * b[7].x + a[4].z * b[11].x + a[4].w * b[15].x, a[4].x * b[3].y + a[4].y * b[7].y + a[4].z * b[11].y + a[4].w * b[15].y, a[4].x * b[3].z + a[4].y * b[7].z + a[4].z * b[11].z + a[4].w * b[15].z, a[4].x * b[3].w + a[4].y * b[7].w + a[4].z * b[11].w + a[4].w * b[15].w);
    if (K_STEP > 4u) { r[11] += vec4f(a[5].x * b[19].x + a[5].y * b[23].x + a[5].z * b[27].x + a[5].w * b[31].x, a[5].x * b[19].y + a[5].y * b[23].y + a[5].z * b[27].y + a[5].w * b[31].y, a[5].x * b[19].z + a[5].y * b[23].z + a[5].z * b[27].z + a[5].w * b[31].z, a[5].x * b[19].w + a[5].y * b[23].w + a[5].z * b[27].w + a[5].w * b[31].w); }
  }
  r[12] += vec4f(a[6].x * b[0].x + a[6].y * b[4].x + a[6].z * b[8].x + a[6].w * b[12].x, a[6].x * b[0].y + a[6].y * b[4].y + a[6].z * b[8].y + a[6].w * b[12].y, a[6].x * b[0].z + a[6].y * b[4].z + a[6].z * b[8].z + a[6].w * b[12].z, a[6].x * b[0].w + a[6].y * b[4].w + a[6].z * b[8].w + a[6].w * b[12].w);
  if (K_STEP > 4u) { r[12] += vec4f(a[7].x * b[16].x + a[7].y * b[20].x + a[7].z * b[24].x + a[7].w * b[28].x, a[7].x * b[16].y + a[7].y * b[20].y + a[7].z * b[24].y + a[7].w * b[28].y, a[7].x * b[16].z + a[7].y * b[20].z + a[7].z * b[24].z + a[7].w * b[28].z, a[7].x * b[16].w + a[7].y * b[20].w + a[7].z * b[24].w + a[7].w * b[28].w); }
  r[13] += vec4f(a[6].x * b[1].x + a[6].y * b[5].x + a[6].z * b[9].x + a[6].w * b[13].x, a[6].x * b[1].y + a[6].y * b[5].y + a[6].z * b[9].y + a[6].w * b[13].y, a[6].x * b[1].z + a[6].y * b[5].z + a[6].z * b[9].z + a[6].w * b[13].z, a[6].x * b[1].w + a[6].y * b[5].w + a[6].z * b[9].w + a[6].w * b[13].w);
  if (K_STEP > 4u) { r[13] += vec4f(a[7].x * b[17].x + a[7].y * b[21].x + a[7].z * b[25].x + a[7].w * b[29].x, a[7].x * b[17].y + a[7].y * b[21].y + a[7].z * b[25].y + a[7].w * b[29].y, a[7].x * b[17].z + a[7].y * b[21].z + a[7].z * b[25].z + a[7].w * b[29].z, a[7].x * b[17].w + a[7].y * b[21].w + a[7].z * b[25].w + a[7].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[14] += vec4f(a[6].x * b[2].x + a[6].y * b[6].x + a[6].z * b[10].x + a[6].w * b[14].x, a[6].x * b[2].y + a[6].y * b[6].y + a[6].z * b[10].y + a[6].w * b[14].y, a[6].x * b[2].z + a[6].y * b[6].z + a[6].z * b[10].z + a[6].w * b[14].z, a[6].x * b[2].w + a[6].y * b[6].w + a[6].z * b[10].w + a[6].w * b[14].w);
    if (K_STEP > 4u) { r[14] += vec4f(a[7].x * b[18].x + a[7].y * b[22].x + a[7].z * b[26].x + a[7].w * b[30].x, a[7].x * b[18].y + a[7].y * b[22].y + a[7].z * b[26].y + a[7].w * b[30].y, a[7].x * b[18].z + a[7].y * b[22].z + a[7].z * b[26].z + a[7].w * b[30].z, a[7].x * b[18].w + a[7].y * b[22].w + a[7].z * b[26].w + a[7].w * b[30].w); }
    r[15] += vec4f(a[6].x * b[3].x + a[6].y * b[7].x + a[6].z * b[11].x + a[6].w * b[15].x, a[6].x * b[3].y + a[6].y * b[7].y + a[6].z * b[11].y + a[6].w * b[15].y, a[6].x * b[3].z + a[6].y * b[7].z + a[6].z * b[11].z + a[6].w * b[15].z, a[6].x * b[3].w + a[6].y * b[7].w + a[6].z * b[11].w + a[6].w * b[15].w);
    if (K_STEP > 4u) { r[15] += vec4f(a[7].x * b[19].x + a[7].y * b[23].x + a[7].z * b[27].x + a[7].w * b[31].x, a[7].x * b[19].y + a[7].y * b[23].y + a[7].z * b[27].y + a[7].w * b[31].y, a[7].x * b[19].z + a[7].y * b[23].z + a[7].z * b[27].z + a[7].w * b[31].z, a[7].x * b[19].w + a[7].y * b[23].w + a[7].z * b[27].w + a[7].w * b[31].w); }
  }
  r[16] += vec4f(a[8].x * b[0].x + a[8].y * b[4].x + a[8].z * b[8].x + a[8].w * b[12].x, a[8].x * b[0].y + a[8].y * b[4].y + a[8].z * b[8].y + a[8].w * b[12].y, a[8].x * b[0].z + a[8].y * b[4].z + a[8].z * b[8].z + a[8].w * b[12].z, a[8].x * b[0].w + a[8].y * b[4].w + a[8].z * b[8].w + a[8].w * b[12].w);
  if (K_STEP > 4u) { r[16] += vec4f(a[9].x * b[16].x + a[9].y * b[20].x + a[9].z * b[24].x + a[9].w * b[28].x, a[9].x * b[16].y + a[9].y * b[20].y + a[9].z * b[24].y + a[9].w * b[28].y, a[9].x * b[16].z + a[9].y * b[20].z + a[9].z * b[24].z + a[9].w * b[28].z, a[9].x * b[16].w + a[9].y * b[20].w + a[9].z * b[24].w + a[9].w * b[28].w); }
  r[17] += vec4f(a[8].x * b[1].x + a[8].y * b[5].x + a[8].z * b[9].x + a[8].w * b[13].x, a[8].x * b[1].y + a[8].y * b[5].y + a[8].z * b[9].y + a[8].w * b[13].y, a[8].x * b[1].z + a[8].y * b[5].z + a[8].z * b[9].z + a[8].w * b[13].z, a[8].x * b[1].w + a[8].y * b[5].w + a[8].z * b[9].w + a[8].w * b[13].w);
  if (K_STEP > 4u) { r[17] += vec4f(a[9].x * b[17].x + a[9].y * b[21].x + a[9].z * b[25].x + a[9].w * b[29].x, a[9].x * b[17].y + a[9].y * b[21].y + a[9].z * b[25].y + a[9].w * b[29].y, a[9].x * b[17].z + a[9].y * b[21].z + a[9].z * b[25].z + a[9].w * b[29].z, a[9].x * b[17].w + a[9].y * b[21].w + a[9].z * b[25].w + a[9].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[18] += vec4f(a[8].x * b[2].x + a[8].y * b[6].x + a[8].z * b[10].x + a[8].w * b[14].x, a[8].x * b[2].y + a[8].y * b[6].y + a[8].z * b[10].y + a[8].w * b[14].y, a[8].x * b[2].z + a[8].y * b[6].z + a[8].z * b[10].z + a[8].w * b[14].z, a[8].x * b[2].w + a[8].y * b[6].w + a[8].z * b[10].w + a[8].w * b[14].w);
    if (K_STEP > 4u) { r[18] += vec4f(a[9].x * b[18].x + a[9].y * b[22].x + a[9].z * b[26].x + a[9].w * b[30].x, a[9].x * b[18].y + a[9].y * b[22].y + a[9].z * b[26].y + a[9].w * b[30].y, a[9].x * b[18].z + a[9].y * b[22].z + a[9].z * b[26].z + a[9].w * b[30].z, a[9].x * b[18].w + a[9].y * b[22].w + a[9].z * b[26].w + a[9].w * b[30].w); }
    r[19] += vec4f(a[8].x * b[3].x + a[8].y * b[7].x + a[8].z * b[11].x + a[8].w * b[15].x, a[8].x * b[3].y + a[8].y * b[7].y + a[8].z * b[11].y + a[8].w * b[15].y, a[8].x * b[3].z + a[8].y * b[7].z + a[8].z * b[11].z + a[8].w * b[15].z, a[8].x * b[3].w + a[8].y * b[7].w + a[8].z * b[11].w + a[8].w * b[15].w);
    if (K_STEP > 4u) { r[19] += vec4f(a[9].x * b[19].x + a[9].y * b[23].x + a[9].z * b[27].x + a[9].w * b[31].x, a[9].x * b[19].y + a[9].y * b[23].y + a[9].z * b[27].y + a[9].w * b[31].y, a[9].x * b[19].z + a[9].y * b[23].z + a[9].z * b[27].z + a[9].w * b[31].z, a[9].x * b[19].w + a[9].y * b[23].w + a[9].z * b[27].w + a[9].w * b[31].w); }
  }
  r[20] += vec4f(a[10].x * b[0].x + a[10].y * b[4].x + a[10].z * b[8].x + a[10].w * b[12].x, a[10].x * b[0].y + a[10].y * b[4].y + a[10].z * b[8].y + a[10].w * b[12].y, a[10].x * b[0].z + a[10].y * b[4].z + a[10].z * b[8].z + a[10].w * b[12].z, a[10].x * b[0].w + a[10].y * b[4].w + a[10].z * b[8].w + a[10].w * b[12].w);
  if (K_STEP > 4u) { r[20] += vec4f(a[11].x * b[16].x + a[11].y * b[20].x + a[11].z * b[24].x + a[11].w * b[28].x, a[11].x * b[16].y + a[11].y * b[20].y + a[11].z * b[24].y + a[11].w * b[28].y, a[11].x * b[16].z + a[11].y * b[20].z + a[11].z * b[24].z + a[11].w * b[28].z, a[11].x * b[16].w + a[11].y * b[20].w + a[11].z * b[24].w + a[11].w * b[28].w); }
  r[21] += vec4f(a[10].x * b[1].x + a[10].y * b[5].x + a[10].z * b[9].x + a[10].w * b[13].x, a[10].x * b[1].y + a[10].y * b[5].y + a[10].z * b[9].y + a[10].w * b[13].y, a[10].x * b[1].z + a[10].y * b[5].z + a[10].z * b[9].z + a[10].w * b[13].z, a[10].x * b[1].w + a[10].y * b[5].w + a[10].z * b[9].w + a[10].w * b[13].w);
  if (K_STEP > 4u) { r[21] += vec4f(a[11].x * b[17].x + a[11].y * b[21].x + a[11].z * b[25].x + a[11].w * b[29].x, a[11].x * b[17].y + a[11].y * b[21].y + a[11].z * b[25].y + a[11].w * b[29].y, a[11].x * b[17].z + a[11].y * b[21].z + a[11].z * b[25].z + a[11].w * b[29].z, a[11].x * b[17].w + a[11].y * b[21].w + a[11].z * b[25].w + a[11].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[22] += vec4f(a[10].x * b[2].x + a[10].y * b[6].x + a[10].z * b[10].x + a[10].w * b[14].x, a[10].x * b[2].y + a[10].y * b[6].y + a[10].z * b[10].y + a[10].w * b[14].y, a[10].x * b[2].z + a[10].y * b[6].z + a[10].z * b[10].z + a[10].w * b[14].z, a[10].x * b[2].w + a[10].y * b[6].w + a[10].z * b[10].w + a[10].w * b[14].w);
    if (K_STEP > 4u) { r[22] += vec4f(a[11].x * b[18].x + a[11].y * b[22].x + a[11].z * b[26].x + a[11].w * b[30].x, a[11].x * b[18].y + a[11].y * b[22].y + a[11].z * b[26].y + a[11].w * b[30].y, a[11].x * b[18].z + a[11].y * b[22].z + a[11].z * b[26].z + a[11].w * b[30].z, a[11].x * b[18].w + a[11].y * b[22].w + a[11].z * b[26].w + a[11].w * b[30].w); }
    r[23] += vec4f(a[10].x * b[3].x + a[10].y * b[7].x + a[10].z * b[11].x + a[10].w * b[15].x, a[10].x * b[3].y + a[10].y * b[7].y + a[10].z * b[11].y + a[10].w * b[15].y, a[10].x * b[3].z + a[10].y * b[7].z + a[10].z * b[11].z + a[10].w * b[15].z, a[10].x * b[3].w + a[10].y * b[7].w + a[10].z * b[11].w + a[10].w * b[15].w);
    if (K_STEP > 4u) { r[23] += vec4f(a[11].x * b[19].x + a[11].y * b[23].x + a[11].z * b[27].x + a[11].w * b[31].x, a[11].x * b[19].y + a[11].y * b[23].y + a[11].z * b[27].y + a[11].w * b[31].y, a[11].x * b[19].z + a[11].y * b[23].z + a[11].z * b[27].z + a[11].w * b[31].z, a[11].x * b[19].w + a[11].y * b[23].w + a[11].z * b[27].w + a[11].w * b[31].w); }
  }
  r[24] += vec4f(a[12].x * b[0].x + a[12].y * b[4].x + a[12].z * b[8].x + a[12].w * b[12].x, a[12].x * b[0].y + a[12].y * b[4].y + a[12].z * b[8].y + a[12].w * b[12].y, a[12].x * b[0].z + a[12].y * b[4].z + a[12].z * b[8].z + a[12].w * b[12].z, a[12].x * b[0].w + a[12].y * b[4].w + a[12].z * b[8].w + a[12].w * b[12].w);
  if (K_STEP > 4u) { r[24] += vec4f(a[13].x * b[16].x + a[13].y * b[20].x + a[13].z * b[24].x + a[13].w * b[28].x, a[13].x * b[16].y + a[13].y * b[20].y + a[13].z * b[24].y + a[13].w * b[28].y, a[13].x * b[16].z + a[13].y * b[20].z + a[13].z * b[24].z + a[13].w * b[28].z, a[13].x * b[16].w + a[13].y * b[20].w + a[13].z * b[24].w + a[13].w * b[28].w); }
  r[25] += vec4f(a[12].x * b[1].x + a[12].y * b[5].x + a[12].z * b[9].x + a[12].w * b[13].x, a[12].x * b[1].y + a[12].y * b[5].y + a[12].z * b[9].y + a[12].w * b[13].y, a[12].x * b[1].z + a[12].y * b[5].z + a[12].z * b[9].z + a[12].w * b[13].z, a[12].x * b[1].w + a[12].y * b[5].w + a[12].z * b[9].w + a[12].w * b[13].w);
  if (K_STEP > 4u) { r[25] += vec4f(a[13].x * b[17].x + a[13].y * b[21].x + a[13].z * b[25].x + a[13].w * b[29].x, a[13].x * b[17].y + a[13].y * b[21].y + a[13].z * b[25].y + a[13].w * b[29].y, a[13].x * b[17].z + a[13].y * b[21].z + a[13].z * b[25].z + a[13].w * b[29].z, a[13].x * b[17].w + a[13].y * b[21].w + a[13].z * b[25].w + a[13].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[26] += vec4f(a[12].x * b[2].x + a[12].y * b[6].x + a[12].z * b[10].x + a[12].w * b[14].x, a[12].x * b[2].y + a[12].y * b[6].y + a[12].z * b[10].y + a[12].w * b[14].y, a[12].x * b[2].z + a[12].y * b[6].z + a[12].z * b[10].z + a[12].w * b[14].z, a[12].x * b[2].w + a[12].y * b[6].w + a[12].z * b[10].w + a[12].w * b[14].w);
    if (K_STEP > 4u) { r[26] += vec4f(a[13].x * b[18].x + a[13].y * b[22].x + a[13].z * b[26].x + a[13].w * b[30].x, a[13].x * b[18].y + a[13].y * b[22].y + a[13].z * b[26].y + a[13].w * b[30].y, a[13].x * b[18].z + a[13].y * b[22].z + a[13].z * b[26].z + a[13].w * b[30].z, a[13].x * b[18].w + a[13].y * b[22].w + a[13].z * b[26].w + a[13].w * b[30].w); }
    r[27] += vec4f(a[12].x * b[3].x + a[12].y * b[7].x + a[12].z * b[11].x + a[12].w * b[15].x, a[12].x * b[3].y + a[12].y * b[7].y + a[12].z * b[11].y + a[12].w * b[15].y, a[12].x * b[3].z + a[12].y * b[7].z + a[12].z * b[11].z + a[12].w * b[15].z, a[12].x * b[3].w + a[12].y * b[7].w + a[12].z * b[11].w + a[12].w * b[15].w);
    if (K_STEP > 4u) { r[27] += vec4f(a[13].x * b[19].x + a[13].y * b[23].x + a[13].z * b[27].x + a[13].w * b[31].x, a[13].x * b[19].y + a[13].y * b[23].y + a[13].z * b[27].y + a[13].w * b[31].y, a[13].x * b[19].z + a[13].y * b[23].z + a[13].z * b[27].z + a[13].w * b[31].z, a[13].x * b[19].w + a[13].y * b[23].w + a[13].z * b[27].w + a[13].w * b[31].w); }
  }
  r[28] += vec4f(a[14].x * b[0].x + a[14].y * b[4].x + a[14].z * b[8].x + a[14].w * b[12].x, a[14].x * b[0].y + a[14].y * b[4].y + a[14].z * b[8].y + a[14].w * b[12].y, a[14].x * b[0].z + a[14].y * b[4].z + a[14].z * b[8].z + a[14].w * b[12].z, a[14].x * b[0].w + a[14].y * b[4].w + a[14].z * b[8].w + a[14].w * b[12].w);
  if (K_STEP > 4u) { r[28] += vec4f(a[15].x * b[16].x + a[15].y * b[20].x + a[15].z * b[24].x + a[15].w * b[28].x, a[15].x * b[16].y + a[15].y * b[20].y + a[15].z * b[24].y + a[15].w * b[28].y, a[15].x * b[16].z + a[15].y * b[20].z + a[15].z * b[24].z + a[15].w * b[28].z, a[15].x * b[16].w + a[15].y * b[20].w + a[15].z * b[24].w + a[15].w * b[28].w); }
  r[29] += vec4f(a[14].x * b[1].x + a[14].y * b[5].x + a[14].z * b[9].x + a[14].w * b[13].x, a[14].x * b[1].y + a[14].y * b[5].y + a[14].z * b[9].y + a[14].w * b[13].y, a[14].x * b[1].z + a[14].y * b[5].z + a[14].z * b[9].z + a[14].w * b[13].z, a[14].x * b[1].w + a[14].y * b[5].w + a[14].z * b[9].w + a[14].w * b[13].w);
  if (K_STEP > 4u) { r[29] += vec4f(a[15].x * b[17].x + a[15].y * b[21].x + a[15].z * b[25].x + a[15].w * b[29].x, a[15].x * b[17].y + a[15].y * b[21].y + a[15].z * b[25].y + a[15].w * b[29].y, a[15].x * b[17].z + a[15].y * b[21].z + a[15].z * b[25].z + a[15].w * b[29].z, a[15].x * b[17].w + a[15].y * b[21].w + a[15].z * b[25].w + a[15].w * b[29].w); }
  if (BLOCK_COLS > 8u) {
    r[30] += vec4f(a[14].x * b[2].x + a[14].y * b[6].x + a[14].z * b[10].x + a[14].w * b[14].x, a[14].x * b[2].y + a[14].y * b[6].y + a[14].z * b[10].y + a[14].w * b[14].y, a[14].x * b[2].z + a[14].y * b[6].z + a[14].z * b[10].z + a[14].w * b[14].z, a[14].x * b[2].w + a[14].y * b[6].w + a[14].z * b[10].w + a[14].w * b[14].w);
    if (K_STEP > 4u) { r[30] += vec4f(a[15].x * b[18].x + a[15].y * b[22].x + a[15].z * b[26].x + a[15].w * b[30].x, a[15].x * b[18].y + a[15].y * b[22].y + a[15].z * b[26].y + a[15].w * b[30].y, a[15].x * b[18].z + a[15].y * b[22].z + a[15].z * b[26].z + a[15].w * b[30].z, a[15].x * b[18].w + a[15].y * b[22].w + a[15].z * b[26].w + a[15].w * b[30].w); }
    r[31] += vec4f(a[14].x * b[3].x + a[14].y * b[7].x + a[14].z * b[11].x + a[14].w * b[15].x, a[14].x * b[3].y + a[14].y * b[7].y + a[14].z * b[11].y + a[14].w * b[15].y, a[14].x * b[3].z + a[14].y * b[7].z + a[14].z * b[11].z + a[14].w * b[15].z, a[14].x * b[3].w + a[14].y * b[7].w + a[14].z * b[11].w + a[14].w * b[15].w);
    if (K_STEP > 4u) { r[31] += vec4f(a[15].x * b[19].x + a[15].y * b[23].x + a[15].z * b[27].x + a[15].w * b[31].x, a[15].x * b[19].y + a[15].y * b[23].y + a[15].z * b[27].y + a[15].w * b[31].y, a[15].x * b[19].z + a[15].y * b[23].z + a[15].z * b[27].z + a[15].w * b[31].z, a[15].x * b[19].w + a[15].y * b[23].w + a[15].z * b[27].w + a[15].w * b[31].w); }
  }
  return r;
}
// @end mac_step

// Where this lane's share of a BChunk lies (SHARED_B): for step t and
// quarter q, lane l loads column n0 + 4q + l.
fn lane_of(lid: u32) -> u32 { return lid % 4u; }

// B's 8 x BLOCK_COLS values for steps k0.. from element index b_at(k, n) =
// k * b_k + n * b_n of `src` (0: weight, 1: dout), columns clamped to `last_n`.
// Steps past K read step K - 1 (A is zero there).
// @generated load_b_weight: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn load_b_weight(k0: u32, n0: u32, k_last: u32, last_n: u32, b_k: u32, b_n: u32, lane: u32) -> BChunk {
  var b: BChunk;
  if (SHARED_B) {
    { let v = weight[min(k0 + 0u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[0] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = weight[min(k0 + 0u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[1] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 0u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[2] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 0u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[3] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    { let v = weight[min(k0 + 1u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[4] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = weight[min(k0 + 1u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[5] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 1u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[6] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 1u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[7] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    { let v = weight[min(k0 + 2u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[8] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = weight[min(k0 + 2u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[9] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 2u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[10] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 2u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[11] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    { let v = weight[min(k0 + 3u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[12] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = weight[min(k0 + 3u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[13] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 3u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[14] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = weight[min(k0 + 3u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[15] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 4u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[16] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 4u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[17] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 4u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[18] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 4u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[19] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 5u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[20] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 5u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[21] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 5u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[22] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 5u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[23] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 6u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[24] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 6u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[25] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 6u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[26] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 6u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[27] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 7u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[28] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = weight[min(k0 + 7u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[29] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 7u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[30] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = weight[min(k0 + 7u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[31] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
  } else {
    { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[0] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[1] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[2] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[3] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[4] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[5] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[6] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[7] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[8] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[9] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[10] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[11] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[12] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[13] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[14] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[15] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[16] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[17] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[18] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[19] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[20] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[21] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[22] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[23] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[24] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[25] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[26] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[27] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[28] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[29] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[30] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[31] = vec4f(weight[k + n.x], weight[k + n.y], weight[k + n.z], weight[k + n.w]); } } }
  }
  return b;
}
// @end load_b_weight

// @generated load_b_dout: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn load_b_dout(k0: u32, n0: u32, k_last: u32, last_n: u32, b_k: u32, b_n: u32, lane: u32) -> BChunk {
  var b: BChunk;
  if (SHARED_B) {
    { let v = dout[min(k0 + 0u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[0] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = dout[min(k0 + 0u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[1] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 0u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[2] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 0u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[3] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    { let v = dout[min(k0 + 1u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[4] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = dout[min(k0 + 1u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[5] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 1u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[6] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 1u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[7] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    { let v = dout[min(k0 + 2u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[8] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = dout[min(k0 + 2u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[9] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 2u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[10] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 2u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[11] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    { let v = dout[min(k0 + 3u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[12] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    { let v = dout[min(k0 + 3u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[13] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 3u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[14] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { { let v = dout[min(k0 + 3u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[15] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 4u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[16] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 4u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[17] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 4u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[18] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 4u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[19] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 5u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[20] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 5u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[21] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 5u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[22] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 5u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[23] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 6u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[24] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 6u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[25] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 6u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[26] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 6u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[27] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 7u, k_last) * b_k + min(n0 + 0u + lane, last_n) * b_n]; b[28] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (K_STEP > 4u) { { let v = dout[min(k0 + 7u, k_last) * b_k + min(n0 + 4u + lane, last_n) * b_n]; b[29] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 7u, k_last) * b_k + min(n0 + 8u + lane, last_n) * b_n]; b[30] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let v = dout[min(k0 + 7u, k_last) * b_k + min(n0 + 12u + lane, last_n) * b_n]; b[31] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); } } }
  } else {
    { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[0] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[1] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[2] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 0u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[3] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[4] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[5] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[6] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 1u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[7] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[8] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[9] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[10] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 2u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[11] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[12] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[13] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[14] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { { let k = min(k0 + 3u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[15] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[16] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[17] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[18] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 4u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[19] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[20] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[21] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[22] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 5u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[23] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[24] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[25] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[26] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 6u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[27] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 0u, last_n) * b_n; b[28] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 4u, last_n) * b_n; b[29] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 8u, last_n) * b_n; b[30] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
    if (BLOCK_COLS > 8u) { if (K_STEP > 4u) { { let k = min(k0 + 7u, k_last) * b_k; let n = clamped_n(n0 + 12u, last_n) * b_n; b[31] = vec4f(dout[k + n.x], dout[k + n.y], dout[k + n.z], dout[k + n.w]); } } }
  }
  return b;
}
// @end load_b_dout

// Columns first..first+3, clamped to last.
fn clamped_n(first: u32, last: u32) -> vec4u {
  return min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
}

// A's 8 x 8 values for steps k0..: element a_at(m, k) = m * a_m + k * a_k of
// `src` for the rows `rows` (clamped), zero for steps at or past k_end.
// @generated load_a_inp: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn load_a_inp(rows: array<vec4u, 2>, k0: u32, k_end: u32, a_m: u32, a_k: u32) -> AChunk {
  let k_lo = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  let k_hi = k_lo + 4u;
  let ok_lo = k_lo < vec4u(k_end);
  let ok_hi = k_hi < vec4u(k_end);
  let kl = min(k_lo, vec4u(k_end - 1u)) * a_k;
  let kh = min(k_hi, vec4u(k_end - 1u)) * a_k;
  var a: AChunk;
  { let m = rows[0].x * a_m; a[0] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[1] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[0].y * a_m; a[2] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[3] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[0].z * a_m; a[4] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[5] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[0].w * a_m; a[6] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[7] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[1].x * a_m; a[8] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[9] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[1].y * a_m; a[10] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[11] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[1].z * a_m; a[12] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[13] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  { let m = rows[1].w * a_m; a[14] = select(vec4f(0.0), vec4f(inp[m + kl.x], inp[m + kl.y], inp[m + kl.z], inp[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[15] = select(vec4f(0.0), vec4f(inp[m + kh.x], inp[m + kh.y], inp[m + kh.z], inp[m + kh.w]), ok_hi); } }
  return a;
}
// @end load_a_inp

// @generated load_a_dout: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn load_a_dout(rows: array<vec4u, 2>, k0: u32, k_end: u32, a_m: u32, a_k: u32) -> AChunk {
  let k_lo = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  let k_hi = k_lo + 4u;
  let ok_lo = k_lo < vec4u(k_end);
  let ok_hi = k_hi < vec4u(k_end);
  let kl = min(k_lo, vec4u(k_end - 1u)) * a_k;
  let kh = min(k_hi, vec4u(k_end - 1u)) * a_k;
  var a: AChunk;
  { let m = rows[0].x * a_m; a[0] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[1] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[0].y * a_m; a[2] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[3] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[0].z * a_m; a[4] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[5] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[0].w * a_m; a[6] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[7] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[1].x * a_m; a[8] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[9] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[1].y * a_m; a[10] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[11] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[1].z * a_m; a[12] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[13] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  { let m = rows[1].w * a_m; a[14] = select(vec4f(0.0), vec4f(dout[m + kl.x], dout[m + kl.y], dout[m + kl.z], dout[m + kl.w]), ok_lo);
    if (K_STEP > 4u) { a[15] = select(vec4f(0.0), vec4f(dout[m + kh.x], dout[m + kh.y], dout[m + kh.z], dout[m + kh.w]), ok_hi); } }
  return a;
}
// @end load_a_dout

// dinp[m, n] times the derivative of the activation below (ACTIVATION in the
// input-gradient kernels; the layer below's output is inp), 1 when none.
fn below_grad(at: u32) -> f32 {
  if (ACTIVATION == 0u) { return 1.0; }
  return activation_grad_from_output(inp[at], ACTIVATION);
}

// Four consecutive values of a row of C at element `at` (column n), those inside the N columns:
// out = act(v + bias), dinp = v * act'(inp) (the layer below's), partials = v.
fn store4_out(at: u32, n: u32, N: u32, v: vec4f) {
  if (n < N) { out[at] = activate(v.x + bias[n], ACTIVATION); }
  if (n + 1u < N) { out[at + 1u] = activate(v.y + bias[n + 1u], ACTIVATION); }
  if (n + 2u < N) { out[at + 2u] = activate(v.z + bias[n + 2u], ACTIVATION); }
  if (n + 3u < N) { out[at + 3u] = activate(v.w + bias[n + 3u], ACTIVATION); }
}

fn store4_dinp(at: u32, n: u32, N: u32, v: vec4f) {
  if (n < N) { dinp[at] = v.x * below_grad(at); }
  if (n + 1u < N) { dinp[at + 1u] = v.y * below_grad(at + 1u); }
  if (n + 2u < N) { dinp[at + 2u] = v.z * below_grad(at + 2u); }
  if (n + 3u < N) { dinp[at + 3u] = v.w * below_grad(at + 3u); }
}

fn store4_partials(at: u32, n: u32, N: u32, v: vec4f) {
  if (n < N) { partials[at] = v.x; }
  if (n + 1u < N) { partials[at + 1u] = v.y; }
  if (n + 2u < N) { partials[at + 2u] = v.z; }
  if (n + 3u < N) { partials[at + 3u] = v.w; }
}

// The block at rows m0.. of C (M rows, N columns, row stride N, from element `base`), into out.
// @generated store_block_out: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn store_block_out(c: CBlock, m0: u32, n0: u32, M: u32, N: u32, base: u32) {
  if (m0 + 0u < M) {
    let at = base + (m0 + 0u) * N + n0;
    store4_out(at, n0, N, c[0]);
    store4_out(at + 4u, n0 + 4u, N, c[1]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[2]); store4_out(at + 12u, n0 + 12u, N, c[3]); }
  }
  if (m0 + 1u < M) {
    let at = base + (m0 + 1u) * N + n0;
    store4_out(at, n0, N, c[4]);
    store4_out(at + 4u, n0 + 4u, N, c[5]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[6]); store4_out(at + 12u, n0 + 12u, N, c[7]); }
  }
  if (m0 + 2u < M) {
    let at = base + (m0 + 2u) * N + n0;
    store4_out(at, n0, N, c[8]);
    store4_out(at + 4u, n0 + 4u, N, c[9]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[10]); store4_out(at + 12u, n0 + 12u, N, c[11]); }
  }
  if (m0 + 3u < M) {
    let at = base + (m0 + 3u) * N + n0;
    store4_out(at, n0, N, c[12]);
    store4_out(at + 4u, n0 + 4u, N, c[13]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[14]); store4_out(at + 12u, n0 + 12u, N, c[15]); }
  }
  if (m0 + 4u < M) {
    let at = base + (m0 + 4u) * N + n0;
    store4_out(at, n0, N, c[16]);
    store4_out(at + 4u, n0 + 4u, N, c[17]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[18]); store4_out(at + 12u, n0 + 12u, N, c[19]); }
  }
  if (m0 + 5u < M) {
    let at = base + (m0 + 5u) * N + n0;
    store4_out(at, n0, N, c[20]);
    store4_out(at + 4u, n0 + 4u, N, c[21]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[22]); store4_out(at + 12u, n0 + 12u, N, c[23]); }
  }
  if (m0 + 6u < M) {
    let at = base + (m0 + 6u) * N + n0;
    store4_out(at, n0, N, c[24]);
    store4_out(at + 4u, n0 + 4u, N, c[25]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[26]); store4_out(at + 12u, n0 + 12u, N, c[27]); }
  }
  if (m0 + 7u < M) {
    let at = base + (m0 + 7u) * N + n0;
    store4_out(at, n0, N, c[28]);
    store4_out(at + 4u, n0 + 4u, N, c[29]);
    if (BLOCK_COLS > 8u) { store4_out(at + 8u, n0 + 8u, N, c[30]); store4_out(at + 12u, n0 + 12u, N, c[31]); }
  }
}
// @end store_block_out

// The block at rows m0.. of C (M rows, N columns, row stride N, from element `base`), into dinp.
// @generated store_block_dinp: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn store_block_dinp(c: CBlock, m0: u32, n0: u32, M: u32, N: u32, base: u32) {
  if (m0 + 0u < M) {
    let at = base + (m0 + 0u) * N + n0;
    store4_dinp(at, n0, N, c[0]);
    store4_dinp(at + 4u, n0 + 4u, N, c[1]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[2]); store4_dinp(at + 12u, n0 + 12u, N, c[3]); }
  }
  if (m0 + 1u < M) {
    let at = base + (m0 + 1u) * N + n0;
    store4_dinp(at, n0, N, c[4]);
    store4_dinp(at + 4u, n0 + 4u, N, c[5]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[6]); store4_dinp(at + 12u, n0 + 12u, N, c[7]); }
  }
  if (m0 + 2u < M) {
    let at = base + (m0 + 2u) * N + n0;
    store4_dinp(at, n0, N, c[8]);
    store4_dinp(at + 4u, n0 + 4u, N, c[9]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[10]); store4_dinp(at + 12u, n0 + 12u, N, c[11]); }
  }
  if (m0 + 3u < M) {
    let at = base + (m0 + 3u) * N + n0;
    store4_dinp(at, n0, N, c[12]);
    store4_dinp(at + 4u, n0 + 4u, N, c[13]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[14]); store4_dinp(at + 12u, n0 + 12u, N, c[15]); }
  }
  if (m0 + 4u < M) {
    let at = base + (m0 + 4u) * N + n0;
    store4_dinp(at, n0, N, c[16]);
    store4_dinp(at + 4u, n0 + 4u, N, c[17]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[18]); store4_dinp(at + 12u, n0 + 12u, N, c[19]); }
  }
  if (m0 + 5u < M) {
    let at = base + (m0 + 5u) * N + n0;
    store4_dinp(at, n0, N, c[20]);
    store4_dinp(at + 4u, n0 + 4u, N, c[21]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[22]); store4_dinp(at + 12u, n0 + 12u, N, c[23]); }
  }
  if (m0 + 6u < M) {
    let at = base + (m0 + 6u) * N + n0;
    store4_dinp(at, n0, N, c[24]);
    store4_dinp(at + 4u, n0 + 4u, N, c[25]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[26]); store4_dinp(at + 12u, n0 + 12u, N, c[27]); }
  }
  if (m0 + 7u < M) {
    let at = base + (m0 + 7u) * N + n0;
    store4_dinp(at, n0, N, c[28]);
    store4_dinp(at + 4u, n0 + 4u, N, c[29]);
    if (BLOCK_COLS > 8u) { store4_dinp(at + 8u, n0 + 8u, N, c[30]); store4_dinp(at + 12u, n0 + 12u, N, c[31]); }
  }
}
// @end store_block_dinp

// The block at rows m0.. of C (M rows, N columns, row stride N, from element `base`), into partials.
// @generated store_block_partials: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
fn store_block_partials(c: CBlock, m0: u32, n0: u32, M: u32, N: u32, base: u32) {
  if (m0 + 0u < M) {
    let at = base + (m0 + 0u) * N + n0;
    store4_partials(at, n0, N, c[0]);
    store4_partials(at + 4u, n0 + 4u, N, c[1]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[2]); store4_partials(at + 12u, n0 + 12u, N, c[3]); }
  }
  if (m0 + 1u < M) {
    let at = base + (m0 + 1u) * N + n0;
    store4_partials(at, n0, N, c[4]);
    store4_partials(at + 4u, n0 + 4u, N, c[5]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[6]); store4_partials(at + 12u, n0 + 12u, N, c[7]); }
  }
  if (m0 + 2u < M) {
    let at = base + (m0 + 2u) * N + n0;
    store4_partials(at, n0, N, c[8]);
    store4_partials(at + 4u, n0 + 4u, N, c[9]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[10]); store4_partials(at + 12u, n0 + 12u, N, c[11]); }
  }
  if (m0 + 3u < M) {
    let at = base + (m0 + 3u) * N + n0;
    store4_partials(at, n0, N, c[12]);
    store4_partials(at + 4u, n0 + 4u, N, c[13]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[14]); store4_partials(at + 12u, n0 + 12u, N, c[15]); }
  }
  if (m0 + 4u < M) {
    let at = base + (m0 + 4u) * N + n0;
    store4_partials(at, n0, N, c[16]);
    store4_partials(at + 4u, n0 + 4u, N, c[17]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[18]); store4_partials(at + 12u, n0 + 12u, N, c[19]); }
  }
  if (m0 + 5u < M) {
    let at = base + (m0 + 5u) * N + n0;
    store4_partials(at, n0, N, c[20]);
    store4_partials(at + 4u, n0 + 4u, N, c[21]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[22]); store4_partials(at + 12u, n0 + 12u, N, c[23]); }
  }
  if (m0 + 6u < M) {
    let at = base + (m0 + 6u) * N + n0;
    store4_partials(at, n0, N, c[24]);
    store4_partials(at + 4u, n0 + 4u, N, c[25]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[26]); store4_partials(at + 12u, n0 + 12u, N, c[27]); }
  }
  if (m0 + 7u < M) {
    let at = base + (m0 + 7u) * N + n0;
    store4_partials(at, n0, N, c[28]);
    store4_partials(at + 4u, n0 + 4u, N, c[29]);
    if (BLOCK_COLS > 8u) { store4_partials(at + 8u, n0 + 8u, N, c[30]); store4_partials(at + 12u, n0 + 12u, N, c[31]); }
  }
}
// @end store_block_partials

@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_forward_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (!block_in_grid(wid, nwg, lid)) { return; }
  let place = block_place(wid, nwg, lid);
  let K = params.in_features;
  let N = params.out_features;
  // A = inp (B, In): inp[m * In + k]; B = weight (In, Out): weight[k * Out + n].
  let rows = clamped8(place.m0, params.batch - 1u);
  let lane = lane_of(lid);
  var c: CBlock;
  for (var k0 = 0u; k0 < K; k0 += K_STEP) {
    c = mac_step(c, load_a_inp(rows, k0, K, K, 1u), load_b_weight(k0, place.n0, K - 1u, N - 1u, N, 1u, lane));
  }
  store_block_out(c, place.m0, place.n0, params.batch, N, 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_backward_input_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (!block_in_grid(wid, nwg, lid)) { return; }
  let place = block_place(wid, nwg, lid);
  let K = params.out_features;
  let N = params.in_features;
  // A = dout (B, Out): dout[m * Out + k]; B = weightᵀ: weight[n * Out + k].
  let rows = clamped8(place.m0, params.batch - 1u);
  let lane = lane_of(lid);
  var c: CBlock;
  for (var k0 = 0u; k0 < K; k0 += K_STEP) {
    c = mac_step(c, load_a_dout(rows, k0, K, K, 1u), load_b_weight(k0, place.n0, K - 1u, N - 1u, 1u, K, lane));
  }
  store_block_dinp(c, place.m0, place.n0, params.batch, N, 0u);
}

// Pass 1 of the weight gradient, for batch chunk workgroup_id.z:
// C = [inpᵀ; 1] (In+1, B) · dout (B, Out), A's last row all ones (dbias).
@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_backward_weight_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (!block_in_grid(wid, nwg, lid)) { return; }
  let place = block_place(wid, nwg, lid);
  let In = params.in_features;
  let N = params.out_features;
  let chunk = wid.z;
  let k_begin = chunk * params.batch_chunk;
  let k_end = min(k_begin + params.batch_chunk, params.batch);
  // A[m, k] = inp[k * In + m] (m < In), 1 for m = In (the bias row); B = dout (B, Out): dout[k * Out + n].
  let rows = clamped8(place.m0, In - 1u);
  let one_lo = vec4u(place.m0) + vec4u(0u, 1u, 2u, 3u) >= vec4u(In);
  let one_hi = vec4u(place.m0) + vec4u(4u, 5u, 6u, 7u) >= vec4u(In);
  let lane = lane_of(lid);
  var c: CBlock;
  for (var k0 = k_begin; k0 < k_end; k0 += K_STEP) {
    var a = load_a_inp(rows, k0, k_end, 1u, In);
    let ones = ones_chunk(k0, k_end);
    if (one_lo.x) { a[0] = ones[0]; a[1] = ones[1]; }
    if (one_lo.y) { a[2] = ones[0]; a[3] = ones[1]; }
    if (one_lo.z) { a[4] = ones[0]; a[5] = ones[1]; }
    if (one_lo.w) { a[6] = ones[0]; a[7] = ones[1]; }
    if (one_hi.x) { a[8] = ones[0]; a[9] = ones[1]; }
    if (one_hi.y) { a[10] = ones[0]; a[11] = ones[1]; }
    if (one_hi.z) { a[12] = ones[0]; a[13] = ones[1]; }
    if (one_hi.w) { a[14] = ones[0]; a[15] = ones[1]; }
    c = mac_step(c, a, load_b_dout(k0, place.n0, k_end - 1u, N - 1u, N, 1u, lane));
  }
  let base = chunk * (In + 1u) * N;
  store_block_partials(c, place.m0, place.n0, In + 1u, N, base);
}

// The bias row's A values for steps k0..: 1 before k_end, 0 after.
fn ones_chunk(k0: u32, k_end: u32) -> array<vec4f, 2> {
  let k = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  return array<vec4f, 2>(select(vec4f(0.0), vec4f(1.0), k < vec4u(k_end)), select(vec4f(0.0), vec4f(1.0), k + 4u < vec4u(k_end)));
}

// ---------------------------------------------------------------------------
// Tiled variant: a TILE x TILE workgroup computes a (4 TILE) x (4 TILE) tile
// of C, each invocation a 4x4 block of it with stride TILE (rows ly + TILE i,
// columns lx + TILE j). Each step over K stages a (4 TILE) x TILE slab of A
// and a TILE x (4 TILE) slab of B in workgroup memory, four elements per
// invocation, zero past the matrix edges.

const SLAB: u32 = 4u; // elements each invocation stages per slab, and its block side

// Row i of an invocation's 4x4 block of C is block[i]; columns are lanes.
alias Block = array<vec4f, 4>;

var<workgroup> tile_a: array<f32, TILE * TILE * SLAB>; // [row of the C tile][k], row-major
var<workgroup> tile_b: array<f32, TILE * TILE * SLAB>; // [k][column of the C tile], row-major

// The (outer, k) coordinates of staging slot `r` of invocation `t` in a slab
// of (4 TILE) outer x TILE k. With k_fastest, consecutive invocations take
// consecutive k; otherwise consecutive outer indices. Each product picks the
// order in which its operand is contiguous in memory, so neighbouring
// invocations read neighbouring addresses.
fn slab_slot(t: u32, r: u32, k_fastest: bool) -> vec2u {
  let e = t + r * TILE * TILE;
  if (k_fastest) { return vec2u(e / TILE, e % TILE); }
  return vec2u(e % (SLAB * TILE), e / (SLAB * TILE));
}

fn stage_a(outer: u32, k: u32, value: f32) { tile_a[outer * TILE + k] = value; }
fn stage_b(outer: u32, k: u32, value: f32) { tile_b[k * SLAB * TILE + outer] = value; }

// Adds this invocation's share of the staged slabs' product to its block, in k order.
fn multiply_slabs(acc: Block, ly: u32, lx: u32) -> Block {
  var sum = acc;
  let row = SLAB * TILE;
  for (var k = 0u; k < TILE; k++) {
    let a = vec4f(tile_a[ly * TILE + k], tile_a[(ly + TILE) * TILE + k], tile_a[(ly + 2u * TILE) * TILE + k], tile_a[(ly + 3u * TILE) * TILE + k]);
    let b = vec4f(tile_b[k * row + lx], tile_b[k * row + lx + TILE], tile_b[k * row + lx + 2u * TILE], tile_b[k * row + lx + 3u * TILE]);
    for (var i = 0u; i < 4u; i++) { sum[i] += a[i] * b; }
  }
  return sum;
}

@compute @workgroup_size(TILE, TILE)
fn dense_forward_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let batch = params.batch;
  let in_features = params.in_features;
  let out_features = params.out_features;
  let m_tile = wid.y * SLAB * TILE;
  let n_tile = wid.x * SLAB * TILE;
  var acc: Block;
  for (var k0 = 0u; k0 < in_features; k0 += TILE) {
    for (var r = 0u; r < SLAB; r++) {
      let sa = slab_slot(t, r, true); // inp (B, In) runs along k
      let m = m_tile + sa.x;
      let ka = k0 + sa.y;
      var a = 0.0;
      if (m < batch && ka < in_features) { a = inp[m * in_features + ka]; }
      stage_a(sa.x, sa.y, a);
      let sb = slab_slot(t, r, false); // weight (In, Out) runs along n
      let n = n_tile + sb.x;
      let kb = k0 + sb.y;
      var b = 0.0;
      if (kb < in_features && n < out_features) { b = weight[kb * out_features + n]; }
      stage_b(sb.x, sb.y, b);
    }
    workgroupBarrier();
    acc = multiply_slabs(acc, lid.y, lid.x);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m_tile + lid.y + i * TILE;
    for (var j = 0u; j < 4u; j++) {
      let n = n_tile + lid.x + j * TILE;
      if (m < batch && n < out_features) { out[m * out_features + n] = activate(acc[i][j] + bias[n], ACTIVATION); }
    }
  }
}

@compute @workgroup_size(TILE, TILE)
fn dense_backward_input_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let batch = params.batch;
  let in_features = params.in_features;
  let out_features = params.out_features;
  let m_tile = wid.y * SLAB * TILE;
  let n_tile = wid.x * SLAB * TILE;
  var acc: Block;
  for (var k0 = 0u; k0 < out_features; k0 += TILE) {
    for (var r = 0u; r < SLAB; r++) {
      let sa = slab_slot(t, r, true); // dout (B, Out) runs along k
      let m = m_tile + sa.x;
      let ka = k0 + sa.y;
      var a = 0.0;
      if (m < batch && ka < out_features) { a = dout[m * out_features + ka]; }
      stage_a(sa.x, sa.y, a);
      let sb = slab_slot(t, r, true); // weightᵀ[k, n] = weight[n, k] runs along k
      let n = n_tile + sb.x;
      let kb = k0 + sb.y;
      var b = 0.0;
      if (kb < out_features && n < in_features) { b = weight[n * out_features + kb]; }
      stage_b(sb.x, sb.y, b);
    }
    workgroupBarrier();
    acc = multiply_slabs(acc, lid.y, lid.x);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m_tile + lid.y + i * TILE;
    for (var j = 0u; j < 4u; j++) {
      let n = n_tile + lid.x + j * TILE;
      if (m < batch && n < in_features) { dinp[m * in_features + n] = acc[i][j] * below_grad(m * in_features + n); }
    }
  }
}

// Pass 1 of the weight gradient, for batch chunk workgroup_id.z.
@compute @workgroup_size(TILE, TILE)
fn dense_backward_weight_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let in_features = params.in_features;
  let out_features = params.out_features;
  let rows_c = in_features + 1u; // dweight rows, then the dbias row
  let m_tile = wid.y * SLAB * TILE;
  let n_tile = wid.x * SLAB * TILE;
  let chunk = wid.z;
  let k_begin = chunk * params.batch_chunk;
  let k_end = min(k_begin + params.batch_chunk, params.batch);
  var acc: Block;
  for (var k0 = k_begin; k0 < k_end; k0 += TILE) {
    for (var r = 0u; r < SLAB; r++) {
      let sa = slab_slot(t, r, false); // inpᵀ[m, k] = inp[k, m] runs along m
      let m = m_tile + sa.x;
      let ka = k0 + sa.y;
      var a = 0.0;
      if (ka < k_end) {
        if (m < in_features) { a = inp[ka * in_features + m]; } else if (m == in_features) { a = 1.0; }
      }
      stage_a(sa.x, sa.y, a);
      let sb = slab_slot(t, r, false); // dout (B, Out) runs along n
      let n = n_tile + sb.x;
      let kb = k0 + sb.y;
      var b = 0.0;
      if (kb < k_end && n < out_features) { b = dout[kb * out_features + n]; }
      stage_b(sb.x, sb.y, b);
    }
    workgroupBarrier();
    acc = multiply_slabs(acc, lid.y, lid.x);
    workgroupBarrier();
  }
  let base = chunk * rows_c * out_features;
  for (var i = 0u; i < 4u; i++) {
    let m = m_tile + lid.y + i * TILE;
    for (var j = 0u; j < 4u; j++) {
      let n = n_tile + lid.x + j * TILE;
      if (m < rows_c && n < out_features) { partials[base + m * out_features + n] = acc[i][j]; }
    }
  }
}

// ---------------------------------------------------------------------------
// Pass 2 of the weight gradient (both variants): one invocation per element
// of [dweight; dbias], adding the chunks' partial sums in chunk order.

@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_backward_weight_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let weights = params.in_features * params.out_features;
  let per_chunk = weights + params.out_features;
  if (i >= per_chunk) { return; }
  var sum = partials_in[i];
  for (var c = 1u; c < params.chunks; c++) { sum += partials_in[c * per_chunk + i]; }
  // Row-major [dweight; dbias]: the first In*Out elements are dweight's own.
  if (i < weights) { dweight[i] = sum; } else { dbias[i - weights] = sum; }
}
