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
// - *_blocked: each invocation owns an 8x8 block of C in registers (16
//   vec4f accumulators). It walks K loading 8 values of A and 8 of B per
//   step, with the row and column indices clamped at the matrix edges so the
//   inner loop has no branches; lanes past the edge compute garbage that is
//   never stored. No workgroup memory, no barriers: what CPU adapters such as
//   SwiftShader run fastest (there every load is a per-lane gather, so the
//   block's 4 multiply-adds per load matter more than anything else). Blocks
//   are numbered row-major over C, WORKGROUP_SIZE per workgroup, and the grid
//   may be folded into 2D (linearised from workgroup_id and num_workgroups).
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
  // Weight gradient (split-K): batch rows summed per partial block, and the
  // number of partial blocks.
  batch_chunk: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> params: DenseParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>; // (B, In)
@group(0) @binding(2) var<storage, read> weight: array<f32>; // (In, Out)
@group(0) @binding(3) var<storage, read> bias: array<f32>; // (Out)
@group(0) @binding(4) var<storage, read> dout: array<f32>; // (B, Out)
@group(0) @binding(5) var<storage, read_write> out: array<f32>; // (B, Out)
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>; // (B, In)
@group(0) @binding(7) var<storage, read_write> partials: array<f32>; // (chunks, In+1, Out): pass 1 writes
@group(0) @binding(8) var<storage, read> partials_in: array<f32>; // the same buffer: pass 2 reads
@group(0) @binding(9) var<storage, read_write> dweight: array<f32>; // (In, Out)
@group(0) @binding(10) var<storage, read_write> dbias: array<f32>; // (Out)

// ---------------------------------------------------------------------------
// Blocked variant: 8x8 register blocks, no workgroup memory.
//
// An invocation owns an 8x8 block of C: 16 vec4f accumulators, row i in
// acc[2i] (columns 0-3) and acc[2i+1] (columns 4-7). Each step over K loads
// 8 values of A and 8 of B (16 loads, gathers on a CPU adapter) for 64
// multiply-adds, all indices constant so the block stays in registers: no
// loop indexes the accumulators (a dynamically indexed array would live in
// memory). Row and column indices are clamped at the matrix edges, so the
// steps have no branches; lanes past the edge compute garbage that is never
// stored.

const BLOCK: u32 = 8u;

alias Acc = array<vec4f, 16>;

// The 8x8 block of C (rows x columns `cols`) this invocation owns: first row and column.
fn block_origin(wid: vec3u, nwg: vec3u, lid: u32, cols: u32) -> vec2u {
  let index = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let blocks_per_row = (cols + BLOCK - 1u) / BLOCK;
  let row_block = index / blocks_per_row;
  return vec2u(row_block * BLOCK, (index - row_block * blocks_per_row) * BLOCK);
}

// Indices first..first+7, clamped to last: (lo, hi).
fn clamped8(first: u32, last: u32) -> array<vec4u, 2> {
  let l = vec4u(last);
  return array<vec4u, 2>(min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), l), min(vec4u(first) + vec4u(4u, 5u, 6u, 7u), l));
}

// acc (8x8) += a (a column of 8: a_lo, a_hi) x b (a row of 8: b_lo, b_hi).
fn outer8(acc: Acc, a_lo: vec4f, a_hi: vec4f, b_lo: vec4f, b_hi: vec4f) -> Acc {
  var c = acc;
  c[0] += a_lo.x * b_lo; c[1] += a_lo.x * b_hi;
  c[2] += a_lo.y * b_lo; c[3] += a_lo.y * b_hi;
  c[4] += a_lo.z * b_lo; c[5] += a_lo.z * b_hi;
  c[6] += a_lo.w * b_lo; c[7] += a_lo.w * b_hi;
  c[8] += a_hi.x * b_lo; c[9] += a_hi.x * b_hi;
  c[10] += a_hi.y * b_lo; c[11] += a_hi.y * b_hi;
  c[12] += a_hi.z * b_lo; c[13] += a_hi.z * b_hi;
  c[14] += a_hi.w * b_lo; c[15] += a_hi.w * b_hi;
  return c;
}

fn inp_at(i: vec4u) -> vec4f {
  return vec4f(inp[i.x], inp[i.y], inp[i.z], inp[i.w]);
}

fn weight_at(i: vec4u) -> vec4f {
  return vec4f(weight[i.x], weight[i.y], weight[i.z], weight[i.w]);
}

fn dout_at(i: vec4u) -> vec4f {
  return vec4f(dout[i.x], dout[i.y], dout[i.z], dout[i.w]);
}

// out[m, n0..n0+7] = act(lo, hi), inside the matrix.
fn store_out_row(m: u32, n0: u32, lo: vec4f, hi: vec4f) {
  if (m >= params.batch) { return; }
  let at = m * params.out_features + n0;
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < params.out_features) { out[at + j] = activate(lo[j], ACTIVATION); }
    if (n0 + 4u + j < params.out_features) { out[at + 4u + j] = activate(hi[j], ACTIVATION); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_forward_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let batch = params.batch;
  let in_features = params.in_features;
  let out_features = params.out_features;
  let origin = block_origin(wid, nwg, lid, out_features);
  let m0 = origin.x;
  let n0 = origin.y;
  if (m0 >= batch) { return; }
  let rows = clamped8(m0, batch - 1u);
  let a_lo = rows[0] * in_features; // inp[m, k] = inp[m * In + k]
  let a_hi = rows[1] * in_features;
  let cols = clamped8(n0, out_features - 1u);
  var acc: Acc;
  // Two steps per iteration (a loop iteration costs about as much as four loads), then the odd one.
  var k = 0u;
  for (; k + 2u <= in_features; k += 2u) {
    let b = k * out_features; // weight[k, n] = weight[k * Out + n]
    acc = outer8(acc, inp_at(a_lo + k), inp_at(a_hi + k), weight_at(cols[0] + b), weight_at(cols[1] + b));
    let b1 = b + out_features;
    acc = outer8(acc, inp_at(a_lo + k + 1u), inp_at(a_hi + k + 1u), weight_at(cols[0] + b1), weight_at(cols[1] + b1));
  }
  if (k < in_features) {
    let b = k * out_features;
    acc = outer8(acc, inp_at(a_lo + k), inp_at(a_hi + k), weight_at(cols[0] + b), weight_at(cols[1] + b));
  }
  let b_lo = vec4f(bias[cols[0].x], bias[cols[0].y], bias[cols[0].z], bias[cols[0].w]);
  let b_hi = vec4f(bias[cols[1].x], bias[cols[1].y], bias[cols[1].z], bias[cols[1].w]);
  store_out_row(m0, n0, acc[0] + b_lo, acc[1] + b_hi);
  store_out_row(m0 + 1u, n0, acc[2] + b_lo, acc[3] + b_hi);
  store_out_row(m0 + 2u, n0, acc[4] + b_lo, acc[5] + b_hi);
  store_out_row(m0 + 3u, n0, acc[6] + b_lo, acc[7] + b_hi);
  store_out_row(m0 + 4u, n0, acc[8] + b_lo, acc[9] + b_hi);
  store_out_row(m0 + 5u, n0, acc[10] + b_lo, acc[11] + b_hi);
  store_out_row(m0 + 6u, n0, acc[12] + b_lo, acc[13] + b_hi);
  store_out_row(m0 + 7u, n0, acc[14] + b_lo, acc[15] + b_hi);
}

// dinp[m, n] times the derivative of the activation below (ACTIVATION in the
// input-gradient kernels; the layer below's output is inp), 1 when none.
fn below_grad(at: u32) -> f32 {
  if (ACTIVATION == 0u) { return 1.0; }
  return activation_grad_from_output(inp[at], ACTIVATION);
}

fn store_dinp_row(m: u32, n0: u32, lo: vec4f, hi: vec4f) {
  if (m >= params.batch) { return; }
  let at = m * params.in_features + n0;
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < params.in_features) { dinp[at + j] = lo[j] * below_grad(at + j); }
    if (n0 + 4u + j < params.in_features) { dinp[at + 4u + j] = hi[j] * below_grad(at + 4u + j); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_backward_input_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let batch = params.batch;
  let in_features = params.in_features;
  let out_features = params.out_features;
  let origin = block_origin(wid, nwg, lid, in_features);
  let m0 = origin.x;
  let n0 = origin.y;
  if (m0 >= batch) { return; }
  // A = dout (B, Out): dout[m, k]; B = weightᵀ: weight[n, k]. Both run along K = Out.
  let rows = clamped8(m0, batch - 1u);
  let a_lo = rows[0] * out_features;
  let a_hi = rows[1] * out_features;
  let cols = clamped8(n0, in_features - 1u);
  let b_lo = cols[0] * out_features;
  let b_hi = cols[1] * out_features;
  var acc: Acc;
  var k = 0u;
  for (; k + 2u <= out_features; k += 2u) {
    acc = outer8(acc, dout_at(a_lo + k), dout_at(a_hi + k), weight_at(b_lo + k), weight_at(b_hi + k));
    acc = outer8(acc, dout_at(a_lo + k + 1u), dout_at(a_hi + k + 1u), weight_at(b_lo + k + 1u), weight_at(b_hi + k + 1u));
  }
  if (k < out_features) {
    acc = outer8(acc, dout_at(a_lo + k), dout_at(a_hi + k), weight_at(b_lo + k), weight_at(b_hi + k));
  }
  store_dinp_row(m0, n0, acc[0], acc[1]);
  store_dinp_row(m0 + 1u, n0, acc[2], acc[3]);
  store_dinp_row(m0 + 2u, n0, acc[4], acc[5]);
  store_dinp_row(m0 + 3u, n0, acc[6], acc[7]);
  store_dinp_row(m0 + 4u, n0, acc[8], acc[9]);
  store_dinp_row(m0 + 5u, n0, acc[10], acc[11]);
  store_dinp_row(m0 + 6u, n0, acc[12], acc[13]);
  store_dinp_row(m0 + 7u, n0, acc[14], acc[15]);
}

// Row m of one chunk's [dweight; dbias] partial sums (In+1 rows).
fn store_partials_row(base: u32, m: u32, n0: u32, lo: vec4f, hi: vec4f) {
  if (m > params.in_features) { return; }
  let at = base + m * params.out_features + n0;
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < params.out_features) { partials[at + j] = lo[j]; }
    if (n0 + 4u + j < params.out_features) { partials[at + 4u + j] = hi[j]; }
  }
}

// One step over the batch (K) of the weight gradient: A's column k is inp's row k (ones for the bias row).
fn weight_grad_step(acc: Acc, k: u32, rows: array<vec4u, 2>, cols: array<vec4u, 2>, one_lo: vec4<bool>, one_hi: vec4<bool>) -> Acc {
  let a = k * params.in_features;
  let d = k * params.out_features;
  let a_lo = select(inp_at(rows[0] + a), vec4f(1.0), one_lo);
  let a_hi = select(inp_at(rows[1] + a), vec4f(1.0), one_hi);
  return outer8(acc, a_lo, a_hi, dout_at(cols[0] + d), dout_at(cols[1] + d));
}

// Pass 1 of the weight gradient, for batch chunk workgroup_id.z:
// C = [inpᵀ; 1] (In+1, B) · dout (B, Out), A's last row all ones (dbias).
@compute @workgroup_size(WORKGROUP_SIZE)
fn dense_backward_weight_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let in_features = params.in_features;
  let out_features = params.out_features;
  let rows_c = in_features + 1u; // dweight rows, then the dbias row
  let origin = block_origin(wid, nwg, lid, out_features);
  let m0 = origin.x;
  let n0 = origin.y;
  if (m0 >= rows_c) { return; }
  let chunk = wid.z;
  let k_begin = chunk * params.batch_chunk;
  let k_end = min(k_begin + params.batch_chunk, params.batch);
  // A[m, k] = inp[k, m] (m < In), 1 for m >= In.
  let rows = clamped8(m0, in_features - 1u);
  let one_lo = vec4u(m0) + vec4u(0u, 1u, 2u, 3u) >= vec4u(in_features);
  let one_hi = vec4u(m0) + vec4u(4u, 5u, 6u, 7u) >= vec4u(in_features);
  let cols = clamped8(n0, out_features - 1u);
  var acc: Acc;
  var k = k_begin;
  for (; k + 2u <= k_end; k += 2u) {
    acc = weight_grad_step(acc, k, rows, cols, one_lo, one_hi);
    acc = weight_grad_step(acc, k + 1u, rows, cols, one_lo, one_hi);
  }
  if (k < k_end) { acc = weight_grad_step(acc, k, rows, cols, one_lo, one_hi); }
  let base = chunk * rows_c * out_features;
  store_partials_row(base, m0, n0, acc[0], acc[1]);
  store_partials_row(base, m0 + 1u, n0, acc[2], acc[3]);
  store_partials_row(base, m0 + 2u, n0, acc[4], acc[5]);
  store_partials_row(base, m0 + 3u, n0, acc[6], acc[7]);
  store_partials_row(base, m0 + 4u, n0, acc[8], acc[9]);
  store_partials_row(base, m0 + 5u, n0, acc[10], acc[11]);
  store_partials_row(base, m0 + 6u, n0, acc[12], acc[13]);
  store_partials_row(base, m0 + 7u, n0, acc[14], acc[15]);
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
