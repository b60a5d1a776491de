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
// see activation-functions.wgsl) into its write. The backward kernels
// OVERWRITE dinp, dweight and dbias; they never accumulate into them.
//
// Two variants of each product (KernelVariant, src/kernels/variant.ts):
//
// - *_blocked: each invocation owns a 4x4 block of C in registers (array of
//   four vec4f rows). It walks K reading 4-wide vectors from A and B, with the
//   row and column indices clamped at the matrix edges so the inner loop has
//   no branches; lanes past the edge compute garbage that is never stored.
//   No workgroup memory, no barriers: what CPU adapters such as SwiftShader
//   run fastest. Blocks are numbered row-major over C, WORKGROUP_SIZE per
//   workgroup, and the grid may be folded into 2D (linearised from
//   workgroup_id and num_workgroups, as in activation.wgsl).
// - *_tiled: a TILE x TILE workgroup computes a (4 TILE) x (4 TILE) tile of
//   C (64x64 at TILE = 16), each invocation a 4x4 register block of it. Each
//   step over K stages a 64x16 slab of A and a 16x64 slab of B in workgroup
//   memory (zero past the edges), with a barrier on either side of the multiply: the shared-memory
//   GEMM that real GPUs want (each staged value is reused 64 times).
//
// Determinism: no atomics. Every element of C is summed by one invocation
// in a fixed order: ascending K (the blocked variant adds 4 terms at a
// time). The weight gradient always takes two
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
// Blocked variant: 4x4 register blocks, no workgroup memory.

// Row i of an invocation's 4x4 block of C is block[i]; columns are lanes.
alias Block = array<vec4f, 4>;

// First row (x) and column (y) of the 4x4 block of a C with `cols` columns
// that this invocation owns. Invocations past the last block get x >= rows.
fn block_origin(wid: vec3u, nwg: vec3u, lid: u32, cols: u32) -> vec2u {
  let index = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let blocks_per_row = (cols + 3u) / 4u;
  return vec2u(index / blocks_per_row * 4u, index % blocks_per_row * 4u);
}

// Four consecutive indices starting at `first`, clamped to `last`.
fn clamped4(first: u32, last: u32) -> vec4u {
  return min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
}

fn inp4(at: u32) -> vec4f {
  return vec4f(inp[at], inp[at + 1u], inp[at + 2u], inp[at + 3u]);
}

fn dout4(at: u32) -> vec4f {
  return vec4f(dout[at], dout[at + 1u], dout[at + 2u], dout[at + 3u]);
}

fn weight4(at: u32) -> vec4f {
  return vec4f(weight[at], weight[at + 1u], weight[at + 2u], weight[at + 3u]);
}

// weight[k, cols], four (clamped) columns of one row.
fn weight_row4(k: u32, cols: vec4u) -> vec4f {
  let row = k * params.out_features;
  return vec4f(weight[row + cols.x], weight[row + cols.y], weight[row + cols.z], weight[row + cols.w]);
}

// dout[k, cols], four (clamped) columns of one row.
fn dout_row4(k: u32, cols: vec4u) -> vec4f {
  let row = k * params.out_features;
  return vec4f(dout[row + cols.x], dout[row + cols.y], dout[row + cols.z], dout[row + cols.w]);
}

// A = [inpᵀ; 1] of the weight gradient at four rows m and column (batch
// row) k: inp[k, m] for m < In, 1 for the bias row m == In (and past it).
fn inp_or_one4(k: u32, rows: vec4u) -> vec4f {
  let in_features = params.in_features;
  let row = k * in_features;
  let at = row + min(rows, vec4u(in_features - 1u));
  let x = vec4f(inp[at.x], inp[at.y], inp[at.z], inp[at.w]);
  return select(vec4f(1.0), x, rows < vec4u(in_features));
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
  let rows = clamped4(m0, batch - 1u) * in_features; // start of each inp row
  let cols = clamped4(n0, out_features - 1u);
  var acc: Block;
  var k = 0u;
  for (; k + 4u <= in_features; k += 4u) {
    let w0 = weight_row4(k, cols);
    let w1 = weight_row4(k + 1u, cols);
    let w2 = weight_row4(k + 2u, cols);
    let w3 = weight_row4(k + 3u, cols);
    for (var i = 0u; i < 4u; i++) {
      let x = inp4(rows[i] + k);
      acc[i] += x.x * w0 + x.y * w1 + x.z * w2 + x.w * w3;
    }
  }
  for (; k < in_features; k++) {
    let w = weight_row4(k, cols);
    for (var i = 0u; i < 4u; i++) { acc[i] += inp[rows[i] + k] * w; }
  }
  let b = vec4f(bias[cols.x], bias[cols.y], bias[cols.z], bias[cols.w]);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (m < batch && n < out_features) { out[m * out_features + n] = activate(acc[i][j] + b[j], ACTIVATION); }
    }
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
  // A row of dout and a row of weight (a column of weightᵀ) both run along
  // K = Out, so each step is sixteen 4-wide dot products.
  let rows = clamped4(m0, batch - 1u) * out_features;
  let wrows = clamped4(n0, in_features - 1u) * out_features;
  var acc: Block;
  var k = 0u;
  for (; k + 4u <= out_features; k += 4u) {
    let w0 = weight4(wrows.x + k);
    let w1 = weight4(wrows.y + k);
    let w2 = weight4(wrows.z + k);
    let w3 = weight4(wrows.w + k);
    for (var i = 0u; i < 4u; i++) {
      let d = dout4(rows[i] + k);
      acc[i] += vec4f(dot(d, w0), dot(d, w1), dot(d, w2), dot(d, w3));
    }
  }
  for (; k < out_features; k++) {
    let w = vec4f(weight[wrows.x + k], weight[wrows.y + k], weight[wrows.z + k], weight[wrows.w + k]);
    for (var i = 0u; i < 4u; i++) { acc[i] += dout[rows[i] + k] * w; }
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (m < batch && n < in_features) { dinp[m * in_features + n] = acc[i][j]; }
    }
  }
}

// Pass 1 of the weight gradient, for batch chunk workgroup_id.z.
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
  let rows = clamped4(m0, in_features);
  let cols = clamped4(n0, out_features - 1u);
  var acc: Block;
  var k = k_begin;
  for (; k + 4u <= k_end; k += 4u) {
    let a0 = inp_or_one4(k, rows);
    let a1 = inp_or_one4(k + 1u, rows);
    let a2 = inp_or_one4(k + 2u, rows);
    let a3 = inp_or_one4(k + 3u, rows);
    let d0 = dout_row4(k, cols);
    let d1 = dout_row4(k + 1u, cols);
    let d2 = dout_row4(k + 2u, cols);
    let d3 = dout_row4(k + 3u, cols);
    for (var i = 0u; i < 4u; i++) { acc[i] += a0[i] * d0 + a1[i] * d1 + a2[i] * d2 + a3[i] * d3; }
  }
  for (; k < k_end; k++) {
    let a = inp_or_one4(k, rows);
    let d = dout_row4(k, cols);
    for (var i = 0u; i < 4u; i++) { acc[i] += a[i] * d; }
  }
  let base = chunk * rows_c * out_features;
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (m < rows_c && n < out_features) { partials[base + m * out_features + n] = acc[i][j]; }
    }
  }
}

// ---------------------------------------------------------------------------
// Tiled variant: a TILE x TILE workgroup computes a (4 TILE) x (4 TILE) tile
// of C, each invocation a 4x4 block of it with stride TILE (rows ly + TILE i,
// columns lx + TILE j). Each step over K stages a (4 TILE) x TILE slab of A
// and a TILE x (4 TILE) slab of B in workgroup memory, four elements per
// invocation, zero past the matrix edges.

const SLAB: u32 = 4u; // elements each invocation stages per slab, and its block side

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
      if (m < batch && n < in_features) { dinp[m * in_features + n] = acc[i][j]; }
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
