// 2-D convolution (cross-correlation, as Keras computes it): forward with
// fused bias and activation, and the two backward passes.
//
//   out[b,co,oh,ow] = act(bias[co] + sum_{ci,kh,kw} weight[co,ci,kh,kw] *
//                         inp[b, ci, oh*stride_h - pad_top + kh, ow*stride_w - pad_left + kw])
//
// Layout: inp (B, Cin, H, W) and out (B, Cout, OH, OW) are NCHW; weight is
// OIHW (Cout, Cin, KH, KW), so weight row co is one contiguous run of
// K = Cin*KH*KW values; bias is (Cout). Reads that fall outside the input are
// zero: no padded copy of the input exists, every load is bounds-checked
// (index clamped into range, value selected to 0). pad_top/pad_left carry
// Keras 'same' padding, including the extra row/column after for even kernels.
//
// Every sum is accumulated in registers in a fixed order and stored once, so
// results are bit-identical run to run. The backward entry points OVERWRITE
// their gradient outputs (dinp, dweight, dbias, the partial sums); nothing
// accumulates across dispatches.
//
// Two variants of each pass (the TypeScript side picks one):
//
// 'blocked' (fast on CPU adapters such as SwiftShader, where barriers are
// costly): no workgroup memory. Each invocation owns a register block of
// 4 consecutive columns x CH_BLOCK (1..4) channels, held in up to four vec4
// accumulators, so every input load feeds CH_BLOCK multiply-adds and every
// weight load feeds four.
//   conv2d_forward:          4 output columns of row (b, oh), CH_BLOCK output channels.
//   conv2d_backward_input:   4 input columns of row (b, ih), CH_BLOCK input channels;
//                            gather form: each dinp element sums the outputs its
//                            taps reached (oh = (ih + pad_top - kh) / stride_h when
//                            that divides), so there is no scatter and no atomics.
//   conv2d_backward_weight:  4 consecutive "taps" n = (ci, kh, kw) flattened, plus a
//                            virtual tap n = K whose input is 1 (that column is dbias),
//                            x CH_BLOCK output channels, summed over one chunk of
//                            output rows (b, oh): split-K, see below.
//
// 'tiled' (for real GPUs): implicit GEMM with workgroup-memory tiles, as in
// tfjs-backend-webgpu. A 64-invocation workgroup computes a TILE_M x TILE_N
// = 16 x 64 block of C = A B, stepping through K in TILE_K = 16 slices: it
// stages an A slice [TILE_K][TILE_M] and a B slice [TILE_K][TILE_N] in
// workgroup memory, then each invocation multiplies its 4x4 register block
// (rows tm + 4i, columns tn + 16j: strided so neighbouring invocations read
// neighbouring words). B is never materialised: its loader is the im2col
// read, whose bounds check gives the zero padding.
//   forward:         C (Cout x B*OH*OW) = weight (Cout x Cin*KH*KW) . im2col(inp)
//   backward_input:  C (Cin x B*H*W) = weight^T (Cin x Cout*KH*KW) . col2im-gather(dout)
//   backward_weight: C (Cout x Cin*KH*KW+1) = dout (Cout x positions) . im2col(inp)^T,
//                    positions restricted to one chunk; the extra column is dbias.
//
// Split-K for the weight gradient: the reduction over the N = B*OH*OW output
// positions is cut into chunk_count chunks of chunk_rows output rows (b, oh)
// each. The first pass writes one partial sum per chunk into
// partials [chunk][Cout*K + Cout] (dweight then dbias); conv2d_reduce_partials
// then sums the chunks in chunk order into dweight and dbias. No atomics, one
// fixed order: deterministic.
//
// Large grids are folded into 2D (workgroup counts <= 65535 per dimension) and
// linearised from workgroup_id and num_workgroups.

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 64u;
// Channels per invocation in the blocked kernels, 1..4.
override CH_BLOCK: u32 = 4u;

struct Conv2dParams {
  batch: i32,
  in_channels: i32,
  in_height: i32,
  in_width: i32,
  out_channels: i32,
  kernel_h: i32,
  kernel_w: i32,
  stride_h: i32,
  stride_w: i32,
  pad_top: i32,
  pad_left: i32,
  out_height: i32,
  out_width: i32,
  // Invocations (blocked kernels, reduce) or workgroup tiles (tiled kernels) this dispatch covers.
  work_items: i32,
  // Split-K of the weight gradient: chunk_count chunks of chunk_rows output rows (b, oh).
  chunk_count: i32,
  chunk_rows: i32,
}

@group(0) @binding(0) var<uniform> params: Conv2dParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>;          // (B, Cin, H, W)
@group(0) @binding(2) var<storage, read> weight: array<f32>;       // (Cout, Cin, KH, KW)
@group(0) @binding(3) var<storage, read> bias: array<f32>;         // (Cout)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // (B, Cout, OH, OW)
@group(0) @binding(5) var<storage, read> dout: array<f32>;         // (B, Cout, OH, OW), pre-activation gradient
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;   // (B, Cin, H, W)
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;   // (chunk_count, Cout*K + Cout), written
@group(0) @binding(8) var<storage, read> partials_in: array<f32>;      // the same buffer, read by the reduction
@group(0) @binding(9) var<storage, read_write> dweight: array<f32>;    // (Cout, Cin, KH, KW)
@group(0) @binding(10) var<storage, read_write> dbias: array<f32>;     // (Cout)

const LANES = vec4i(0, 1, 2, 3);

fn linear_invocation(wid: vec3u, nwg: vec3u, lid: u32) -> i32 {
  return i32((wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid);
}

fn gather_inp(at: vec4i) -> vec4f {
  return vec4f(inp[at.x], inp[at.y], inp[at.z], inp[at.w]);
}

fn gather_dout(at: vec4i) -> vec4f {
  return vec4f(dout[at.x], dout[at.y], dout[at.z], dout[at.w]);
}

// ---------------------------------------------------------------- blocked

// Stores act(acc + bias[co]) into the (up to) 4 columns ow0.. of output row (b, co, oh).
fn store_output_block(acc: vec4f, b: i32, co: i32, oh: i32, ow0: i32) {
  if (co >= params.out_channels) { return; }
  let OW = params.out_width;
  let row = ((b * params.out_channels + co) * params.out_height + oh) * OW;
  let bias_co = bias[co];
  for (var j = 0; j < 4; j++) {
    if (ow0 + j < OW) { out[row + ow0 + j] = activate(acc[j] + bias_co, ACTIVATION); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  // item = ((co_block * B + b) * OH + oh) * col_blocks + col_block: neighbours share weights.
  let col_blocks = (params.out_width + 3) / 4;
  let ow0 = (item % col_blocks) * 4;
  let row_item = item / col_blocks;
  let oh = row_item % params.out_height;
  let b = (row_item / params.out_height) % params.batch;
  let co0 = (row_item / params.out_height / params.batch) * i32(CH_BLOCK);

  let H = params.in_height;
  let W = params.in_width;
  let Cin = params.in_channels;
  let KW = params.kernel_w;
  let plane = H * W;
  let taps = params.kernel_h * KW;
  // Weight rows of the block's channels; a partial last block re-reads the last
  // channel and its results are never stored.
  let last = params.out_channels - 1;
  let w0 = min(co0, last) * Cin * taps;
  let w1 = min(co0 + 1, last) * Cin * taps;
  let w2 = min(co0 + 2, last) * Cin * taps;
  let w3 = min(co0 + 3, last) * Cin * taps;
  let iw_first = (LANES + ow0) * params.stride_w - params.pad_left;
  let ih_first = oh * params.stride_h - params.pad_top;
  let image = b * Cin * plane;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kh = 0; kh < params.kernel_h; kh++) {
    let ih = ih_first + kh;
    if (ih < 0 || ih >= H) { continue; }
    let row = image + ih * W;
    for (var kw = 0; kw < KW; kw++) {
      let iw = iw_first + kw;
      let inside = (iw >= vec4i(0)) & (iw < vec4i(W));
      let cols = clamp(iw, vec4i(0), vec4i(W - 1)) + row;
      let tap = kh * KW + kw;
      for (var ci = 0; ci < Cin; ci++) {
        let x = select(vec4f(0.0), gather_inp(cols + ci * plane), inside);
        let wt = ci * taps + tap;
        acc0 += weight[w0 + wt] * x;
        if (CH_BLOCK > 1u) { acc1 += weight[w1 + wt] * x; }
        if (CH_BLOCK > 2u) { acc2 += weight[w2 + wt] * x; }
        if (CH_BLOCK > 3u) { acc3 += weight[w3 + wt] * x; }
      }
    }
  }
  store_output_block(acc0, b, co0, oh, ow0);
  if (CH_BLOCK > 1u) { store_output_block(acc1, b, co0 + 1, oh, ow0); }
  if (CH_BLOCK > 2u) { store_output_block(acc2, b, co0 + 2, oh, ow0); }
  if (CH_BLOCK > 3u) { store_output_block(acc3, b, co0 + 3, oh, ow0); }
}

fn store_dinp_block(acc: vec4f, b: i32, ci: i32, ih: i32, iw0: i32) {
  if (ci >= params.in_channels) { return; }
  let W = params.in_width;
  let row = ((b * params.in_channels + ci) * params.in_height + ih) * W;
  for (var j = 0; j < 4; j++) {
    if (iw0 + j < W) { dinp[row + iw0 + j] = acc[j]; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  // item = ((ci_block * B + b) * H + ih) * col_blocks + col_block.
  let col_blocks = (params.in_width + 3) / 4;
  let iw0 = (item % col_blocks) * 4;
  let row_item = item / col_blocks;
  let ih = row_item % params.in_height;
  let b = (row_item / params.in_height) % params.batch;
  let ci0 = (row_item / params.in_height / params.batch) * i32(CH_BLOCK);

  let Cout = params.out_channels;
  let OH = params.out_height;
  let OW = params.out_width;
  let KW = params.kernel_w;
  let sh = params.stride_h;
  let sw = params.stride_w;
  let out_plane = OH * OW;
  let taps = params.kernel_h * KW;
  let co_stride = params.in_channels * taps;
  let last = params.in_channels - 1;
  let w0 = min(ci0, last) * taps;
  let w1 = min(ci0 + 1, last) * taps;
  let w2 = min(ci0 + 2, last) * taps;
  let w3 = min(ci0 + 3, last) * taps;
  // Output column reached by tap kw from input column iw is (iw + pad_left - kw) / stride_w.
  let tw_first = LANES + iw0 + params.pad_left;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kh = 0; kh < params.kernel_h; kh++) {
    let th = ih + params.pad_top - kh;
    if (th < 0 || th % sh != 0 || th / sh >= OH) { continue; }
    let out_row = (b * Cout * OH + th / sh) * OW;
    for (var kw = 0; kw < KW; kw++) {
      let tw = tw_first - kw;
      let hit = (tw >= vec4i(0)) & (tw % vec4i(sw) == vec4i(0)) & (tw < vec4i(OW * sw));
      if (!any(hit)) { continue; }
      let cols = clamp(tw / vec4i(sw), vec4i(0), vec4i(OW - 1)) + out_row;
      let tap = kh * KW + kw;
      for (var co = 0; co < Cout; co++) {
        let d = select(vec4f(0.0), gather_dout(cols + co * out_plane), hit);
        let wt = co * co_stride + tap;
        acc0 += weight[w0 + wt] * d;
        if (CH_BLOCK > 1u) { acc1 += weight[w1 + wt] * d; }
        if (CH_BLOCK > 2u) { acc2 += weight[w2 + wt] * d; }
        if (CH_BLOCK > 3u) { acc3 += weight[w3 + wt] * d; }
      }
    }
  }
  store_dinp_block(acc0, b, ci0, ih, iw0);
  if (CH_BLOCK > 1u) { store_dinp_block(acc1, b, ci0 + 1, ih, iw0); }
  if (CH_BLOCK > 2u) { store_dinp_block(acc2, b, ci0 + 2, ih, iw0); }
  if (CH_BLOCK > 3u) { store_dinp_block(acc3, b, ci0 + 3, ih, iw0); }
}

// One chunk's partial sum for output channel co and taps n0..n0+3 (tap K is dbias).
fn store_partial_block(acc: vec4f, chunk: i32, co: i32, n0: i32) {
  let Cout = params.out_channels;
  if (co >= Cout) { return; }
  let K = params.in_channels * params.kernel_h * params.kernel_w;
  let base = chunk * (Cout * K + Cout);
  for (var j = 0; j < 4; j++) {
    let n = n0 + j;
    if (n < K) { partials[base + co * K + n] = acc[j]; }
    else if (n == K) { partials[base + Cout * K + co] = acc[j]; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  let H = params.in_height;
  let W = params.in_width;
  let OH = params.out_height;
  let OW = params.out_width;
  let Cout = params.out_channels;
  let KW = params.kernel_w;
  let taps = params.kernel_h * KW;
  let K = params.in_channels * taps;
  // item = (chunk * co_blocks + co_block) * tap_blocks + tap_block: neighbours share dout.
  let tap_blocks = (K + 1 + 3) / 4;
  let co_blocks = (Cout + i32(CH_BLOCK) - 1) / i32(CH_BLOCK);
  let n0 = (item % tap_blocks) * 4;
  let co0 = ((item / tap_blocks) % co_blocks) * i32(CH_BLOCK);
  let chunk = item / tap_blocks / co_blocks;

  // This invocation's four taps, decomposed once; tap K reads the constant 1.
  let n = LANES + n0;
  let is_bias = n == vec4i(K);
  let nc = min(n, vec4i(K - 1));
  let kh = (nc % taps) / KW;
  let kw = nc % KW;
  let channel = (nc / taps) * (H * W);
  let last = Cout - 1;
  let out_plane = OH * OW;
  let d0 = min(co0, last) * out_plane;
  let d1 = min(co0 + 1, last) * out_plane;
  let d2 = min(co0 + 2, last) * out_plane;
  let d3 = min(co0 + 3, last) * out_plane;

  let row_begin = chunk * params.chunk_rows;
  let row_end = min(row_begin + params.chunk_rows, params.batch * OH);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var r = row_begin; r < row_end; r++) {
    let b = r / OH;
    let oh = r % OH;
    let ih = oh * params.stride_h - params.pad_top + kh;
    let row_inside = (ih >= vec4i(0)) & (ih < vec4i(H));
    let in_row = b * params.in_channels * H * W + channel + clamp(ih, vec4i(0), vec4i(H - 1)) * W;
    let out_row = b * Cout * out_plane + oh * OW;
    var iw = kw - params.pad_left;
    for (var ow = 0; ow < OW; ow++) {
      let inside = row_inside & (iw >= vec4i(0)) & (iw < vec4i(W));
      let x = select(select(vec4f(0.0), gather_inp(in_row + clamp(iw, vec4i(0), vec4i(W - 1))), inside), vec4f(1.0), is_bias);
      let at = out_row + ow;
      acc0 += dout[at + d0] * x;
      if (CH_BLOCK > 1u) { acc1 += dout[at + d1] * x; }
      if (CH_BLOCK > 2u) { acc2 += dout[at + d2] * x; }
      if (CH_BLOCK > 3u) { acc3 += dout[at + d3] * x; }
      iw += vec4i(params.stride_w);
    }
  }
  store_partial_block(acc0, chunk, co0, n0);
  if (CH_BLOCK > 1u) { store_partial_block(acc1, chunk, co0 + 1, n0); }
  if (CH_BLOCK > 2u) { store_partial_block(acc2, chunk, co0 + 2, n0); }
  if (CH_BLOCK > 3u) { store_partial_block(acc3, chunk, co0 + 3, n0); }
}

// Sums the chunks' partial sums in chunk order: one invocation per dweight/dbias element.
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_reduce_partials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid);
  let weights = params.out_channels * params.in_channels * params.kernel_h * params.kernel_w;
  let per_chunk = weights + params.out_channels;
  if (i >= per_chunk) { return; }
  var sum = 0.0;
  for (var c = 0; c < params.chunk_count; c++) { sum += partials_in[c * per_chunk + i]; }
  if (i < weights) { dweight[i] = sum; } else { dbias[i - weights] = sum; }
}

// ---------------------------------------------------------------- tiled

const TILE_M: i32 = 16;
const TILE_N: i32 = 64;
const TILE_K: i32 = 16;
const TILE_THREADS: u32 = 64u;

var<workgroup> tile_a: array<f32, 256>;   // [TILE_K][TILE_M]
var<workgroup> tile_b: array<f32, 1024>;  // [TILE_K][TILE_N]

// Kept apart from the tile index, which must stay workgroup-uniform (it bounds
// the loops that contain barriers).
struct Lanes {
  tm: i32,   // this invocation's rows of C: tm + 4i
  tn: i32,   // this invocation's columns of C: tn + 16j
  a_m: i32,  // the A elements it stages: row a_m, slice rows a_k + 4s
  a_k: i32,
  b_n: i32,  // the B column it stages, every slice row
}

fn lanes_of(lid: u32) -> Lanes {
  let l = i32(lid);
  return Lanes(l / 16, l % 16, l % TILE_M, l / TILE_M, l);
}

fn linear_tile(wid: vec3u, nwg: vec3u) -> i32 {
  return i32(wid.x + wid.y * nwg.x);
}

// acc[i][j] += sum_k A[tm + 4i][k] * B[k][tn + 16j] over the staged slice.
fn multiply_tiles(tm: i32, tn: i32, acc: ptr<function, array<vec4f, 4>>) {
  for (var k = 0; k < TILE_K; k++) {
    let a = vec4f(tile_a[k * TILE_M + tm], tile_a[k * TILE_M + tm + 4], tile_a[k * TILE_M + tm + 8], tile_a[k * TILE_M + tm + 12]);
    let row = k * TILE_N + tn;
    let bv = vec4f(tile_b[row], tile_b[row + 16], tile_b[row + 32], tile_b[row + 48]);
    (*acc)[0] += a.x * bv;
    (*acc)[1] += a.y * bv;
    (*acc)[2] += a.z * bv;
    (*acc)[3] += a.w * bv;
  }
}

@compute @workgroup_size(TILE_THREADS)
fn conv2d_forward_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile = linear_tile(wid, nwg);
  if (tile >= params.work_items) { return; }
  let t = lanes_of(lid);
  let H = params.in_height;
  let W = params.in_width;
  let KW = params.kernel_w;
  let taps = params.kernel_h * KW;
  let M = params.out_channels;
  let K = params.in_channels * taps;
  let out_plane = params.out_height * params.out_width;
  let N = params.batch * out_plane;
  let n_tiles = (N + TILE_N - 1) / TILE_N;
  let m0 = (tile / n_tiles) * TILE_M;
  let n0 = (tile % n_tiles) * TILE_N;

  // The im2col column this invocation stages is the same for every K slice.
  let col_ok = n0 + t.b_n < N;
  let col = min(n0 + t.b_n, N - 1);
  let pix = col % out_plane;
  let ih0 = (pix / params.out_width) * params.stride_h - params.pad_top;
  let iw0 = (pix % params.out_width) * params.stride_w - params.pad_left;
  let image = (col / out_plane) * params.in_channels * H * W;
  let a_row = min(m0 + t.a_m, M - 1) * K;
  let a_row_ok = m0 + t.a_m < M;

  var acc: array<vec4f, 4>;
  for (var k0 = 0; k0 < K; k0 += TILE_K) {
    for (var s = 0; s < TILE_K / 4; s++) {
      let k = t.a_k + 4 * s;
      let gk = k0 + k;
      tile_a[k * TILE_M + t.a_m] = select(0.0, weight[a_row + min(gk, K - 1)], a_row_ok && gk < K);
    }
    for (var k = 0; k < TILE_K; k++) {
      let gk = min(k0 + k, K - 1);
      let ih = ih0 + (gk % taps) / KW;
      let iw = iw0 + gk % KW;
      let ok = col_ok && k0 + k < K && ih >= 0 && ih < H && iw >= 0 && iw < W;
      let at = image + (gk / taps) * H * W + clamp(ih, 0, H - 1) * W + clamp(iw, 0, W - 1);
      tile_b[k * TILE_N + t.b_n] = select(0.0, inp[at], ok);
    }
    workgroupBarrier();
    multiply_tiles(t.tm, t.tn, &acc);
    workgroupBarrier();
  }
  for (var i = 0; i < 4; i++) {
    let m = m0 + t.tm + 4 * i;
    if (m >= M) { continue; }
    let bias_m = bias[m];
    for (var j = 0; j < 4; j++) {
      let n = n0 + t.tn + 16 * j;
      if (n < N) { out[((n / out_plane) * M + m) * out_plane + n % out_plane] = activate(acc[i][j] + bias_m, ACTIVATION); }
    }
  }
}

@compute @workgroup_size(TILE_THREADS)
fn conv2d_backward_input_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile = linear_tile(wid, nwg);
  if (tile >= params.work_items) { return; }
  let t = lanes_of(lid);
  let OH = params.out_height;
  let OW = params.out_width;
  let KW = params.kernel_w;
  let sh = params.stride_h;
  let sw = params.stride_w;
  let taps = params.kernel_h * KW;
  let M = params.in_channels;
  let K = params.out_channels * taps;
  let plane = params.in_height * params.in_width;
  let N = params.batch * plane;
  let n_tiles = (N + TILE_N - 1) / TILE_N;
  let m0 = (tile / n_tiles) * TILE_M;
  let n0 = (tile % n_tiles) * TILE_N;

  // The dinp element (b, ih, iw) whose gather column this invocation stages.
  let col_ok = n0 + t.b_n < N;
  let col = min(n0 + t.b_n, N - 1);
  let pix = col % plane;
  let th0 = pix / params.in_width + params.pad_top;
  let tw0 = pix % params.in_width + params.pad_left;
  let image = (col / plane) * params.out_channels * OH * OW;
  // A = weight^T: A[ci][(co, tap)] = weight[co, ci, tap].
  let a_ci = min(m0 + t.a_m, M - 1);
  let a_row_ok = m0 + t.a_m < M;

  var acc: array<vec4f, 4>;
  for (var k0 = 0; k0 < K; k0 += TILE_K) {
    for (var s = 0; s < TILE_K / 4; s++) {
      let k = t.a_k + 4 * s;
      let gk = min(k0 + k, K - 1);
      let wt = ((gk / taps) * M + a_ci) * taps + gk % taps;
      tile_a[k * TILE_M + t.a_m] = select(0.0, weight[wt], a_row_ok && k0 + k < K);
    }
    for (var k = 0; k < TILE_K; k++) {
      let gk = min(k0 + k, K - 1);
      let th = th0 - (gk % taps) / KW;
      let tw = tw0 - gk % KW;
      let ok = col_ok && k0 + k < K && th >= 0 && th % sh == 0 && th / sh < OH && tw >= 0 && tw % sw == 0 && tw / sw < OW;
      let at = image + ((gk / taps) * OH + clamp(th / sh, 0, OH - 1)) * OW + clamp(tw / sw, 0, OW - 1);
      tile_b[k * TILE_N + t.b_n] = select(0.0, dout[at], ok);
    }
    workgroupBarrier();
    multiply_tiles(t.tm, t.tn, &acc);
    workgroupBarrier();
  }
  for (var i = 0; i < 4; i++) {
    let m = m0 + t.tm + 4 * i;
    if (m >= M) { continue; }
    for (var j = 0; j < 4; j++) {
      let n = n0 + t.tn + 16 * j;
      if (n < N) { dinp[((n / plane) * M + m) * plane + n % plane] = acc[i][j]; }
    }
  }
}

@compute @workgroup_size(TILE_THREADS)
fn conv2d_backward_weight_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile = linear_tile(wid, nwg);
  if (tile >= params.work_items) { return; }
  let t = lanes_of(lid);
  let H = params.in_height;
  let W = params.in_width;
  let OW = params.out_width;
  let KW = params.kernel_w;
  let taps = params.kernel_h * KW;
  let M = params.out_channels;
  let K = params.in_channels * taps;
  let N = K + 1; // the last column is dbias
  let out_plane = params.out_height * OW;
  let m_tiles = (M + TILE_M - 1) / TILE_M;
  let n_tiles = (N + TILE_N - 1) / TILE_N;
  let chunk = tile / (m_tiles * n_tiles);
  let m0 = ((tile / n_tiles) % m_tiles) * TILE_M;
  let n0 = (tile % n_tiles) * TILE_N;
  // This chunk's output positions p = (b * OH + oh) * OW + ow.
  let p_begin = chunk * params.chunk_rows * OW;
  let p_end = min(p_begin + params.chunk_rows * OW, params.batch * out_plane);

  // The tap (ci, kh, kw) whose column this invocation stages, decomposed once.
  let tap = n0 + t.b_n;
  let tc = min(tap, K - 1);
  let tap_is_bias = tap == K;
  let tap_ok = tap <= K;
  let kh = (tc % taps) / KW;
  let kw = tc % KW;
  let channel = (tc / taps) * H * W;
  let a_co = min(m0 + t.a_m, M - 1);
  let a_row_ok = m0 + t.a_m < M;

  var acc: array<vec4f, 4>;
  for (var k0 = p_begin; k0 < p_end; k0 += TILE_K) {
    for (var s = 0; s < TILE_K / 4; s++) {
      let k = t.a_k + 4 * s;
      let p = min(k0 + k, p_end - 1);
      let at = ((p / out_plane) * M + a_co) * out_plane + p % out_plane;
      tile_a[k * TILE_M + t.a_m] = select(0.0, dout[at], a_row_ok && k0 + k < p_end);
    }
    for (var k = 0; k < TILE_K; k++) {
      let p = min(k0 + k, p_end - 1);
      let pix = p % out_plane;
      let ih = (pix / OW) * params.stride_h - params.pad_top + kh;
      let iw = (pix % OW) * params.stride_w - params.pad_left + kw;
      let in_range = k0 + k < p_end;
      let ok = tap_ok && in_range && ih >= 0 && ih < H && iw >= 0 && iw < W;
      let at = (p / out_plane) * params.in_channels * H * W + channel + clamp(ih, 0, H - 1) * W + clamp(iw, 0, W - 1);
      let x = select(0.0, inp[at], ok);
      tile_b[k * TILE_N + t.b_n] = select(x, select(0.0, 1.0, in_range), tap_is_bias);
    }
    workgroupBarrier();
    multiply_tiles(t.tm, t.tn, &acc);
    workgroupBarrier();
  }
  let base = chunk * (M * K + M);
  for (var i = 0; i < 4; i++) {
    let m = m0 + t.tm + 4 * i;
    if (m >= M) { continue; }
    for (var j = 0; j < 4; j++) {
      let n = n0 + t.tn + 16 * j;
      if (n < K) { partials[base + m * K + n] = acc[i][j]; }
      else if (n == K) { partials[base + M * K + m] = acc[i][j]; }
    }
  }
}
