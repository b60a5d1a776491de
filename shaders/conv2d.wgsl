// 2-D convolution (cross-correlation, as Keras computes it): forward with
// fused bias and activation, and the two backward passes.
//
//   out[b,co,oh,ow] = act(bias[co] + sum_{ci,kh,kw} weight[co,ci,kh,kw] *
//                         inp[b, ci, oh*stride_h - pad_top + kh, ow*stride_w - pad_left + kw])
//
// Layout: inp (B, Cin, H, W) and out (B, Cout, OH, OW) are NCHW; weight is
// OIHW (Cout, Cin, KH, KW), so weight row co is one contiguous run of
// K = Cin*KH*KW values; bias is (Cout). Reads that fall outside the input are
// zero: no padded copy of the input exists; each load's index is clamped into
// the tensor and its value selected to 0 when the tap is outside. pad_top and
// pad_left carry Keras 'same' padding (an even kernel pads more after).
//
// Every sum is accumulated in registers in a fixed order and stored once, so
// results are bit-identical run to run. The backward entry points OVERWRITE
// their outputs (dinp, dweight, dbias, the partial sums); nothing accumulates
// across dispatches. dout is the gradient w.r.t. the PRE-activation output.
// The input-gradient kernels can fuse the derivative of the activation of the
// layer below (override ACTIVATION there; that layer's output is this layer's
// inp): they then write dL/d(that layer's pre-activation) instead of dL/d inp.
//
// Two variants of each pass (the TypeScript side picks one):
//
// 'blocked' (for CPU adapters such as SwiftShader, where barriers are costly
// and every load is a 4-lane gather): no workgroup memory, no barriers.
// Stride-1 convolutions with kernels up to 5x5 (LeNet-5's) take the
// sliding-window kernels of conv2d-window.wgsl instead, which keep a whole
// input tile in registers; the kernels below serve every other geometry. Each
// invocation owns a register block of CH_BLOCK (1..8) channels x 8 positions,
// two vec4 accumulators per channel, so each reduction step loads 8
// activations and CH_BLOCK weights for 8 x CH_BLOCK multiply-adds.
//   conv2d_forward_blocked:         output channels x output positions n = (oh*OW + ow)*B + b,
//                                   reduced over (kh, kw, ci).
//   conv2d_backward_input_blocked:  input channels x input positions n = (ih*W + iw)*B + b,
//                                   reduced over (kh, kw, co) in gather form: input
//                                   (ih, iw) took tap (kh, kw) from output
//                                   ((ih + pad_top - kh) / stride_h, (iw + pad_left - kw) / stride_w)
//                                   when both divide exactly and land in range, so there
//                                   is no scatter and no atomics.
//   conv2d_backward_weight_blocked: output channels x taps n = (ci*KH + kh)*KW + kw, plus a
//                                   virtual tap n = K whose input is 1 (its sum is dbias),
//                                   reduced over one chunk of output rows (b, oh): split-K.
// Positions are batch-minor, so with B a multiple of 8 the 8 positions of a
// block share one pixel: they take the same taps, and a tap that falls in the
// padding for the whole block is skipped, not computed as zeros.
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
// partials [chunk][Cout*K + Cout] (dweight then dbias); conv2d_backward_weight_reduce
// then sums the chunks in chunk order into dweight and dbias. No atomics, one
// fixed order: deterministic.
//
// Large grids are folded into 2D (workgroup counts <= 65535 per dimension) and
// linearised from workgroup_id and num_workgroups.

// The forward kernels' activation; in the input-gradient kernels, the
// activation of the layer below, whose derivative they fuse (0: none).
override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 64u;
// Channels per invocation in the blocked kernels, 1..8.
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

@group(0) @binding(0) var<storage, read> inp: array<f32>;          // (B, Cin, H, W)
@group(0) @binding(1) var<storage, read> weight: array<f32>;       // (Cout, Cin, KH, KW)
@group(0) @binding(2) var<storage, read> bias: array<f32>;         // (Cout)
@group(0) @binding(3) var<storage, read> dout: array<f32>;         // (B, Cout, OH, OW), pre-activation gradient
@group(0) @binding(4) var<storage, read> partials_in: array<f32>;      // partials (below) again, read by the reduction
@group(0) @binding(5) var<storage, read_write> out: array<f32>;    // (B, Cout, OH, OW)
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;   // (B, Cin, H, W)
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;   // (chunk_count, Cout*K + Cout), written
@group(0) @binding(8) var<storage, read_write> dweight: array<f32>;    // (Cout, Cin, KH, KW)
@group(0) @binding(9) var<storage, read_write> dbias: array<f32>;     // (Cout)
@group(0) @binding(10) var<uniform> params: Conv2dParams;

const LANES = vec4i(0, 1, 2, 3);

fn linear_invocation(wid: vec3u, nwg: vec3u, lid: u32) -> i32 {
  return i32((wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid);
}

// Four elements, lane j reading index at[j] where ok[j] and 0 elsewhere. The
// index is clamped to the tensor's last element so a lane outside the input
// still reads in range; its value is then discarded.
fn gather_inp(at: vec4i, ok: vec4<bool>, last: i32) -> vec4f {
  let i = clamp(at, vec4i(0), vec4i(last));
  return select(vec4f(0.0), vec4f(inp[i.x], inp[i.y], inp[i.z], inp[i.w]), ok);
}

fn gather_dout(at: vec4i, ok: vec4<bool>, last: i32) -> vec4f {
  let i = clamp(at, vec4i(0), vec4i(last));
  return select(vec4f(0.0), vec4f(dout[i.x], dout[i.y], dout[i.z], dout[i.w]), ok);
}

// 0 <= i < size, lane by lane (one unsigned compare: negative i wraps above size).
fn inside(i: vec4i, size: i32) -> vec4<bool> {
  return bitcast<vec4u>(i) < vec4u(u32(size));
}

// t / s where s divides t, else -1 (never inside()). Float division is a SIMD
// instruction on CPU adapters, integer division is not; inv_s = 1/s, and
// round(t * inv_s) is exact for the small integers here when s divides t.
fn exact_quotient(t: vec4i, s: i32, inv_s: f32) -> vec4i {
  let q = vec4i(round(vec4f(t) * inv_s));
  return select(vec4i(-1), q, q * s == t);
}

// ---------------------------------------------------------------- blocked
//
// A register block is CH_BLOCK channels x 8 consecutive flattened positions,
// held as two vec4 accumulators per channel (lo: positions 0-3, hi: 4-7):
// a0/b0 for the block's first channel, a1/b1 for the next, and so on. The
// eight channel lines are written out, each guarded by the CH_BLOCK constant,
// rather than looping over an accumulator array: a dynamically indexed array
// would live in memory, not registers, on a CPU adapter.

// Position n and n+4 for the block starting at n0, clamped into [0, count):
// a partial last block recomputes the last position and never stores it.
fn block_positions(n0: i32, count: i32) -> array<vec4i, 2> {
  return array<vec4i, 2>(min(LANES + n0, vec4i(count - 1)), min(LANES + n0 + 4, vec4i(count - 1)));
}

// Stores act(acc + bias[co]) for the block's positions in one output channel.
fn store_output_block(lo: vec4f, hi: vec4f, co: i32, out_at: array<vec4i, 2>, n0: i32, count: i32) {
  if (co >= params.out_channels) { return; }
  let bias_co = bias[co];
  let offset = co * params.out_height * params.out_width;
  for (var j = 0; j < 4; j++) {
    if (n0 + j < count) { out[out_at[0][j] + offset] = activate(lo[j] + bias_co, ACTIVATION); }
    if (n0 + 4 + j < count) { out[out_at[1][j] + offset] = activate(hi[j] + bias_co, ACTIVATION); }
  }
}

// conv2d_forward_blocked: CH_BLOCK output channels x 8 output positions n = (oh*OW + ow)*B + b.
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_forward_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  let H = params.in_height;
  let W = params.in_width;
  let Cin = params.in_channels;
  let OW = params.out_width;
  let KW = params.kernel_w;
  let plane = H * W;
  let taps = params.kernel_h * KW;
  let out_plane = params.out_height * OW;
  let count = params.batch * out_plane;
  // item = co_block * n_blocks + n_block: neighbouring invocations share weights.
  let n_blocks = (count + 7) / 8;
  let n0 = (item % n_blocks) * 8;
  let co0 = (item / n_blocks) * i32(CH_BLOCK);

  let n = block_positions(n0, count);
  let b_lo = n[0] % params.batch;
  let b_hi = n[1] % params.batch;
  let pix_lo = n[0] / params.batch;
  let pix_hi = n[1] / params.batch;
  let ih0_lo = (pix_lo / OW) * params.stride_h - params.pad_top;
  let ih0_hi = (pix_hi / OW) * params.stride_h - params.pad_top;
  let iw0_lo = (pix_lo % OW) * params.stride_w - params.pad_left;
  let iw0_hi = (pix_hi % OW) * params.stride_w - params.pad_left;
  // Tap (ci, kh, kw) reads inp[corner + ci*plane + kh*W + kw] (when inside).
  let inp_last = params.batch * Cin * plane - 1;
  let corner_lo = b_lo * Cin * plane + ih0_lo * W + iw0_lo;
  let corner_hi = b_hi * Cin * plane + ih0_hi * W + iw0_hi;
  // Weight rows of the block's channels; rows past the last channel re-read it (never stored).
  let K = Cin * taps;
  let last = params.out_channels - 1;
  let r0 = min(co0, last) * K;
  let r1 = min(co0 + 1, last) * K;
  let r2 = min(co0 + 2, last) * K;
  let r3 = min(co0 + 3, last) * K;
  let r4 = min(co0 + 4, last) * K;
  let r5 = min(co0 + 5, last) * K;
  let r6 = min(co0 + 6, last) * K;
  let r7 = min(co0 + 7, last) * K;

  var a0 = vec4f(0.0); var b0 = vec4f(0.0);
  var a1 = vec4f(0.0); var b1 = vec4f(0.0);
  var a2 = vec4f(0.0); var b2 = vec4f(0.0);
  var a3 = vec4f(0.0); var b3 = vec4f(0.0);
  var a4 = vec4f(0.0); var b4 = vec4f(0.0);
  var a5 = vec4f(0.0); var b5 = vec4f(0.0);
  var a6 = vec4f(0.0); var b6 = vec4f(0.0);
  var a7 = vec4f(0.0); var b7 = vec4f(0.0);
  for (var kh = 0; kh < params.kernel_h; kh++) {
    let row_ok_lo = inside(ih0_lo + kh, H);
    let row_ok_hi = inside(ih0_hi + kh, H);
    if (!any(row_ok_lo) && !any(row_ok_hi)) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let ok_lo = row_ok_lo & inside(iw0_lo + kw, W);
      let ok_hi = row_ok_hi & inside(iw0_hi + kw, W);
      let at_lo = corner_lo + (kh * W + kw);
      let at_hi = corner_hi + (kh * W + kw);
      let tap = kh * KW + kw;
      for (var ci = 0; ci < Cin; ci++) {
        let x_lo = gather_inp(at_lo + ci * plane, ok_lo, inp_last);
        let x_hi = gather_inp(at_hi + ci * plane, ok_hi, inp_last);
        let k = ci * taps + tap;
        let w0 = weight[r0 + k]; a0 += w0 * x_lo; b0 += w0 * x_hi;
        if (CH_BLOCK > 1u) { let w = weight[r1 + k]; a1 += w * x_lo; b1 += w * x_hi; }
        if (CH_BLOCK > 2u) { let w = weight[r2 + k]; a2 += w * x_lo; b2 += w * x_hi; }
        if (CH_BLOCK > 3u) { let w = weight[r3 + k]; a3 += w * x_lo; b3 += w * x_hi; }
        if (CH_BLOCK > 4u) { let w = weight[r4 + k]; a4 += w * x_lo; b4 += w * x_hi; }
        if (CH_BLOCK > 5u) { let w = weight[r5 + k]; a5 += w * x_lo; b5 += w * x_hi; }
        if (CH_BLOCK > 6u) { let w = weight[r6 + k]; a6 += w * x_lo; b6 += w * x_hi; }
        if (CH_BLOCK > 7u) { let w = weight[r7 + k]; a7 += w * x_lo; b7 += w * x_hi; }
      }
    }
  }
  // Output element of position n in channel 0; channel co adds co * out_plane.
  let Cout = params.out_channels;
  let out_at = array<vec4i, 2>(b_lo * Cout * out_plane + pix_lo, b_hi * Cout * out_plane + pix_hi);
  store_output_block(a0, b0, co0, out_at, n0, count);
  if (CH_BLOCK > 1u) { store_output_block(a1, b1, co0 + 1, out_at, n0, count); }
  if (CH_BLOCK > 2u) { store_output_block(a2, b2, co0 + 2, out_at, n0, count); }
  if (CH_BLOCK > 3u) { store_output_block(a3, b3, co0 + 3, out_at, n0, count); }
  if (CH_BLOCK > 4u) { store_output_block(a4, b4, co0 + 4, out_at, n0, count); }
  if (CH_BLOCK > 5u) { store_output_block(a5, b5, co0 + 5, out_at, n0, count); }
  if (CH_BLOCK > 6u) { store_output_block(a6, b6, co0 + 6, out_at, n0, count); }
  if (CH_BLOCK > 7u) { store_output_block(a7, b7, co0 + 7, out_at, n0, count); }
}

// The derivative of the layer below's activation (ACTIVATION in the
// input-gradient kernels) at input element `at`, from its output y = inp[at];
// 1 when nothing is fused.
fn below_grad(at: i32) -> f32 {
  if (ACTIVATION == 0u) { return 1.0; }
  return activation_grad_from_output(inp[at], ACTIVATION);
}

fn store_dinp_block(lo: vec4f, hi: vec4f, ci: i32, dinp_at: array<vec4i, 2>, n0: i32, count: i32) {
  if (ci >= params.in_channels) { return; }
  let offset = ci * params.in_height * params.in_width;
  for (var j = 0; j < 4; j++) {
    if (n0 + j < count) { let at = dinp_at[0][j] + offset; dinp[at] = lo[j] * below_grad(at); }
    if (n0 + 4 + j < count) { let at = dinp_at[1][j] + offset; dinp[at] = hi[j] * below_grad(at); }
  }
}

// conv2d_backward_input_blocked: CH_BLOCK input channels x 8 input positions n = (ih*W + iw)*B + b.
// Tap (kh, kw) of input position (ih, iw) came from output (oh, ow) =
// ((ih + pad_top - kh) / stride_h, (iw + pad_left - kw) / stride_w) when both divide and are in range.
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_input_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  let W = params.in_width;
  let Cin = params.in_channels;
  let Cout = params.out_channels;
  let OH = params.out_height;
  let OW = params.out_width;
  let KW = params.kernel_w;
  let sh = params.stride_h;
  let sw = params.stride_w;
  let plane = params.in_height * W;
  let out_plane = OH * OW;
  let taps = params.kernel_h * KW;
  let count = params.batch * plane;
  let n_blocks = (count + 7) / 8;
  let n0 = (item % n_blocks) * 8;
  let ci0 = (item / n_blocks) * i32(CH_BLOCK);

  let n = block_positions(n0, count);
  let b_lo = n[0] % params.batch;
  let b_hi = n[1] % params.batch;
  let pix_lo = n[0] / params.batch;
  let pix_hi = n[1] / params.batch;
  let th0_lo = pix_lo / W + params.pad_top;
  let th0_hi = pix_hi / W + params.pad_top;
  let tw0_lo = pix_lo % W + params.pad_left;
  let tw0_hi = pix_hi % W + params.pad_left;
  let image_lo = b_lo * Cout * out_plane;
  let image_hi = b_hi * Cout * out_plane;
  let dout_last = params.batch * Cout * out_plane - 1;
  let inv_sh = 1.0 / f32(sh);
  let inv_sw = 1.0 / f32(sw);
  // weight[co, ci, tap] = weight[co * Cin * taps + ci * taps + tap].
  let co_stride = Cin * taps;
  let last = Cin - 1;
  let r0 = min(ci0, last) * taps;
  let r1 = min(ci0 + 1, last) * taps;
  let r2 = min(ci0 + 2, last) * taps;
  let r3 = min(ci0 + 3, last) * taps;
  let r4 = min(ci0 + 4, last) * taps;
  let r5 = min(ci0 + 5, last) * taps;
  let r6 = min(ci0 + 6, last) * taps;
  let r7 = min(ci0 + 7, last) * taps;

  var a0 = vec4f(0.0); var b0 = vec4f(0.0);
  var a1 = vec4f(0.0); var b1 = vec4f(0.0);
  var a2 = vec4f(0.0); var b2 = vec4f(0.0);
  var a3 = vec4f(0.0); var b3 = vec4f(0.0);
  var a4 = vec4f(0.0); var b4 = vec4f(0.0);
  var a5 = vec4f(0.0); var b5 = vec4f(0.0);
  var a6 = vec4f(0.0); var b6 = vec4f(0.0);
  var a7 = vec4f(0.0); var b7 = vec4f(0.0);
  for (var kh = 0; kh < params.kernel_h; kh++) {
    let oh_lo = exact_quotient(th0_lo - kh, sh, inv_sh);
    let oh_hi = exact_quotient(th0_hi - kh, sh, inv_sh);
    let row_ok_lo = inside(oh_lo, OH);
    let row_ok_hi = inside(oh_hi, OH);
    if (!any(row_ok_lo) && !any(row_ok_hi)) { continue; }
    let row_lo = image_lo + oh_lo * OW;
    let row_hi = image_hi + oh_hi * OW;
    for (var kw = 0; kw < KW; kw++) {
      let ow_lo = exact_quotient(tw0_lo - kw, sw, inv_sw);
      let ow_hi = exact_quotient(tw0_hi - kw, sw, inv_sw);
      let ok_lo = row_ok_lo & inside(ow_lo, OW);
      let ok_hi = row_ok_hi & inside(ow_hi, OW);
      if (!any(ok_lo) && !any(ok_hi)) { continue; }
      let at_lo = row_lo + ow_lo;
      let at_hi = row_hi + ow_hi;
      let tap = kh * KW + kw;
      for (var co = 0; co < Cout; co++) {
        let d_lo = gather_dout(at_lo + co * out_plane, ok_lo, dout_last);
        let d_hi = gather_dout(at_hi + co * out_plane, ok_hi, dout_last);
        let k = co * co_stride + tap;
        let w0 = weight[r0 + k]; a0 += w0 * d_lo; b0 += w0 * d_hi;
        if (CH_BLOCK > 1u) { let w = weight[r1 + k]; a1 += w * d_lo; b1 += w * d_hi; }
        if (CH_BLOCK > 2u) { let w = weight[r2 + k]; a2 += w * d_lo; b2 += w * d_hi; }
        if (CH_BLOCK > 3u) { let w = weight[r3 + k]; a3 += w * d_lo; b3 += w * d_hi; }
        if (CH_BLOCK > 4u) { let w = weight[r4 + k]; a4 += w * d_lo; b4 += w * d_hi; }
        if (CH_BLOCK > 5u) { let w = weight[r5 + k]; a5 += w * d_lo; b5 += w * d_hi; }
        if (CH_BLOCK > 6u) { let w = weight[r6 + k]; a6 += w * d_lo; b6 += w * d_hi; }
        if (CH_BLOCK > 7u) { let w = weight[r7 + k]; a7 += w * d_lo; b7 += w * d_hi; }
      }
    }
  }
  let dinp_at = array<vec4i, 2>(b_lo * Cin * plane + pix_lo, b_hi * Cin * plane + pix_hi);
  store_dinp_block(a0, b0, ci0, dinp_at, n0, count);
  if (CH_BLOCK > 1u) { store_dinp_block(a1, b1, ci0 + 1, dinp_at, n0, count); }
  if (CH_BLOCK > 2u) { store_dinp_block(a2, b2, ci0 + 2, dinp_at, n0, count); }
  if (CH_BLOCK > 3u) { store_dinp_block(a3, b3, ci0 + 3, dinp_at, n0, count); }
  if (CH_BLOCK > 4u) { store_dinp_block(a4, b4, ci0 + 4, dinp_at, n0, count); }
  if (CH_BLOCK > 5u) { store_dinp_block(a5, b5, ci0 + 5, dinp_at, n0, count); }
  if (CH_BLOCK > 6u) { store_dinp_block(a6, b6, ci0 + 6, dinp_at, n0, count); }
  if (CH_BLOCK > 7u) { store_dinp_block(a7, b7, ci0 + 7, dinp_at, n0, count); }
}

// One chunk's partial sums for output channel co and taps n0..n0+7 (tap K is dbias).
fn store_partial_block(lo: vec4f, hi: vec4f, chunk: i32, co: i32, n0: i32) {
  let Cout = params.out_channels;
  if (co >= Cout) { return; }
  let K = params.in_channels * params.kernel_h * params.kernel_w;
  let base = chunk * (Cout * K + Cout);
  for (var j = 0; j < 8; j++) {
    let n = n0 + j;
    let v = select(hi[j % 4], lo[j % 4], j < 4);
    if (n < K) { partials[base + co * K + n] = v; }
    else if (n == K) { partials[base + Cout * K + co] = v; }
  }
}

// conv2d_backward_weight_blocked: CH_BLOCK output channels x 8 taps n = (ci*KH + kh)*KW + kw
// (tap K reads the constant 1: its sum is dbias), over one chunk of output rows.
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_weight_blocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
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
  let tap_blocks = (K + 1 + 7) / 8;
  let co_blocks = (Cout + i32(CH_BLOCK) - 1) / i32(CH_BLOCK);
  let n0 = (item % tap_blocks) * 8;
  let co0 = ((item / tap_blocks) % co_blocks) * i32(CH_BLOCK);
  let chunk = item / tap_blocks / co_blocks;

  // The block's taps, decomposed once.
  let bias_lo = LANES + n0 == vec4i(K);
  let bias_hi = LANES + n0 + 4 == vec4i(K);
  let t = block_positions(n0, K);
  let kh_lo = (t[0] % taps) / KW;
  let kh_hi = (t[1] % taps) / KW;
  let kw_lo = t[0] % KW;
  let kw_hi = t[1] % KW;
  let chan_lo = (t[0] / taps) * H * W;
  let chan_hi = (t[1] / taps) * H * W;
  let out_plane = OH * OW;
  let last = Cout - 1;
  let d0 = min(co0, last) * out_plane;
  let d1 = min(co0 + 1, last) * out_plane;
  let d2 = min(co0 + 2, last) * out_plane;
  let d3 = min(co0 + 3, last) * out_plane;
  let d4 = min(co0 + 4, last) * out_plane;
  let d5 = min(co0 + 5, last) * out_plane;
  let d6 = min(co0 + 6, last) * out_plane;
  let d7 = min(co0 + 7, last) * out_plane;

  let inp_last = params.batch * params.in_channels * H * W - 1;
  let row_begin = chunk * params.chunk_rows;
  let row_end = min(row_begin + params.chunk_rows, params.batch * OH);
  var b = row_begin / OH;
  var oh = row_begin % OH;
  var a0 = vec4f(0.0); var b0 = vec4f(0.0);
  var a1 = vec4f(0.0); var b1 = vec4f(0.0);
  var a2 = vec4f(0.0); var b2 = vec4f(0.0);
  var a3 = vec4f(0.0); var b3 = vec4f(0.0);
  var a4 = vec4f(0.0); var b4 = vec4f(0.0);
  var a5 = vec4f(0.0); var b5 = vec4f(0.0);
  var a6 = vec4f(0.0); var b6 = vec4f(0.0);
  var a7 = vec4f(0.0); var b7 = vec4f(0.0);
  for (var r = row_begin; r < row_end; r++) {
    let ih_lo = oh * params.stride_h - params.pad_top + kh_lo;
    let ih_hi = oh * params.stride_h - params.pad_top + kh_hi;
    let row_ok_lo = inside(ih_lo, H);
    let row_ok_hi = inside(ih_hi, H);
    let image = b * params.in_channels * H * W;
    let row_lo = image + chan_lo + ih_lo * W;
    let row_hi = image + chan_hi + ih_hi * W;
    let out_row = b * Cout * out_plane + oh * OW;
    var iw_lo = kw_lo - params.pad_left;
    var iw_hi = kw_hi - params.pad_left;
    for (var ow = 0; ow < OW; ow++) {
      let x_lo = select(gather_inp(row_lo + iw_lo, row_ok_lo & inside(iw_lo, W), inp_last), vec4f(1.0), bias_lo);
      let x_hi = select(gather_inp(row_hi + iw_hi, row_ok_hi & inside(iw_hi, W), inp_last), vec4f(1.0), bias_hi);
      let at = out_row + ow;
      let g0 = dout[at + d0]; a0 += g0 * x_lo; b0 += g0 * x_hi;
      if (CH_BLOCK > 1u) { let g = dout[at + d1]; a1 += g * x_lo; b1 += g * x_hi; }
      if (CH_BLOCK > 2u) { let g = dout[at + d2]; a2 += g * x_lo; b2 += g * x_hi; }
      if (CH_BLOCK > 3u) { let g = dout[at + d3]; a3 += g * x_lo; b3 += g * x_hi; }
      if (CH_BLOCK > 4u) { let g = dout[at + d4]; a4 += g * x_lo; b4 += g * x_hi; }
      if (CH_BLOCK > 5u) { let g = dout[at + d5]; a5 += g * x_lo; b5 += g * x_hi; }
      if (CH_BLOCK > 6u) { let g = dout[at + d6]; a6 += g * x_lo; b6 += g * x_hi; }
      if (CH_BLOCK > 7u) { let g = dout[at + d7]; a7 += g * x_lo; b7 += g * x_hi; }
      iw_lo += vec4i(params.stride_w);
      iw_hi += vec4i(params.stride_w);
    }
    oh++;
    if (oh == OH) { oh = 0; b++; }
  }
  store_partial_block(a0, b0, chunk, co0, n0);
  if (CH_BLOCK > 1u) { store_partial_block(a1, b1, chunk, co0 + 1, n0); }
  if (CH_BLOCK > 2u) { store_partial_block(a2, b2, chunk, co0 + 2, n0); }
  if (CH_BLOCK > 3u) { store_partial_block(a3, b3, chunk, co0 + 3, n0); }
  if (CH_BLOCK > 4u) { store_partial_block(a4, b4, chunk, co0 + 4, n0); }
  if (CH_BLOCK > 5u) { store_partial_block(a5, b5, chunk, co0 + 5, n0); }
  if (CH_BLOCK > 6u) { store_partial_block(a6, b6, chunk, co0 + 6, n0); }
  if (CH_BLOCK > 7u) { store_partial_block(a7, b7, chunk, co0 + 7, n0); }
}

// Sums the chunks' partial sums in chunk order: one invocation per dweight/dbias element.
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_weight_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
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

// The three tiled passes are one product, C (M x N) = A (M x K) B (K x N), summed over k in
// [k_begin, k_end) in slices of TILE_K: the loop below is theirs in common. Each pass describes the
// element of A and the column of B that an invocation stages (Operands), and reads them in load_a and
// load_b; PASS (an override constant, so the compiler keeps one branch) says which pass:
//   0 forward:          A = weight (Cout x Cin*KH*KW), B = im2col(inp), C = out (before bias and activation)
//   1 input gradient:   A = weight^T (Cin x Cout*KH*KW), B = the gather of dout, C = dinp
//   2 weight gradient:  A = dout (Cout x output positions of one chunk), B = the input taps (+ the bias tap), C = partials
override PASS: u32 = 0u;

// Per invocation; the K range is passed apart, since it bounds the loop that holds the barriers and must
// stay workgroup-uniform (a struct with one invocation-dependent member is non-uniform as a whole).
struct Operands {
  // A: this invocation's row of A (weight row, weight^T column, dout channel), and whether it is inside M.
  a_row: i32,
  a_ok: bool,
  // B: where this invocation's column starts in its source, two coordinates of it, and whether it exists.
  b_base: i32,
  b_y: i32,
  b_x: i32,
  b_ok: bool,
  // Weight gradient: the column is the bias tap (its input is 1).
  b_bias: bool,
}

fn load_a(o: Operands, k: i32, k_end: i32) -> f32 {
  let kc = min(k, k_end - 1);
  let ok = o.a_ok && k < k_end;
  let taps = params.kernel_h * params.kernel_w;
  // if, not switch: the reflection (wgsl_reflect) follows if-branches into the bindings they use.
  if (PASS == 0u) { return select(0.0, weight[o.a_row * k_end + kc], ok); }
  if (PASS == 1u) { return select(0.0, weight[((kc / taps) * params.in_channels + o.a_row) * taps + kc % taps], ok); }
  let plane = params.out_height * params.out_width;
  return select(0.0, dout[((kc / plane) * params.out_channels + o.a_row) * plane + kc % plane], ok);
}

fn load_b(o: Operands, k: i32, k_end: i32) -> f32 {
  let kc = min(k, k_end - 1);
  let in_range = k < k_end;
  let H = params.in_height;
  let W = params.in_width;
  let KW = params.kernel_w;
  let taps = params.kernel_h * KW;
  if (PASS == 0u) {
    // im2col: tap (ci, kh, kw) of output pixel (ih0, iw0) = (b_y, b_x) of image b_base.
    let ih = o.b_y + (kc % taps) / KW;
    let iw = o.b_x + kc % KW;
    let ok = o.b_ok && in_range && ih >= 0 && ih < H && iw >= 0 && iw < W;
    return select(0.0, inp[o.b_base + (kc / taps) * H * W + clamp(ih, 0, H - 1) * W + clamp(iw, 0, W - 1)], ok);
  }
  if (PASS == 1u) {
    // The gather: input (ih, iw) = (b_y, b_x) - pad took tap (kh, kw) from output ((ih + pad - kh) / stride)
    // when that divides exactly and lands in range: no scatter, no atomics.
    let OH = params.out_height;
    let OW = params.out_width;
    let th = o.b_y - (kc % taps) / KW;
    let tw = o.b_x - kc % KW;
    let ok = o.b_ok && in_range && th >= 0 && th % params.stride_h == 0 && th / params.stride_h < OH && tw >= 0 && tw % params.stride_w == 0 && tw / params.stride_w < OW;
    return select(0.0, dout[o.b_base + ((kc / taps) * OH + clamp(th / params.stride_h, 0, OH - 1)) * OW + clamp(tw / params.stride_w, 0, OW - 1)], ok);
  }
  // Tap (kh, kw) = (b_y, b_x) of channel b_base at output position kc = (b * OH + oh) * OW + ow.
  let OW = params.out_width;
  let plane = params.out_height * OW;
  let pix = kc % plane;
  let ih = (pix / OW) * params.stride_h - params.pad_top + o.b_y;
  let iw = (pix % OW) * params.stride_w - params.pad_left + o.b_x;
  let ok = o.b_ok && in_range && ih >= 0 && ih < H && iw >= 0 && iw < W;
  let x = select(0.0, inp[(kc / plane) * params.in_channels * H * W + o.b_base + clamp(ih, 0, H - 1) * W + clamp(iw, 0, W - 1)], ok);
  return select(x, select(0.0, 1.0, in_range), o.b_bias);
}

// This invocation's 4 x 4 elements of the tile's C, summed over the operands' K range.
fn gemm_tile(t: Lanes, o: Operands, k_begin: i32, k_end: i32) -> array<vec4f, 4> {
  var acc: array<vec4f, 4>;
  for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
    for (var s = 0; s < TILE_K / 4; s++) {
      let k = t.a_k + 4 * s;
      tile_a[k * TILE_M + t.a_m] = load_a(o, k0 + k, k_end);
    }
    for (var k = 0; k < TILE_K; k++) {
      tile_b[k * TILE_N + t.b_n] = load_b(o, k0 + k, k_end);
    }
    workgroupBarrier();
    multiply_tiles(t.tm, t.tn, &acc);
    workgroupBarrier();
  }
  return acc;
}

@compute @workgroup_size(TILE_THREADS)
fn conv2d_forward_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile = linear_tile(wid, nwg);
  if (tile >= params.work_items) { return; }
  let t = lanes_of(lid);
  let M = params.out_channels;
  let out_plane = params.out_height * params.out_width;
  let N = params.batch * out_plane;
  let n_tiles = (N + TILE_N - 1) / TILE_N;
  let m0 = (tile / n_tiles) * TILE_M;
  let n0 = (tile % n_tiles) * TILE_N;
  // The output pixel whose im2col column this invocation stages, the same for every K slice.
  let col = min(n0 + t.b_n, N - 1);
  let pix = col % out_plane;
  let o = Operands(
    min(m0 + t.a_m, M - 1), m0 + t.a_m < M,
    (col / out_plane) * params.in_channels * params.in_height * params.in_width,
    (pix / params.out_width) * params.stride_h - params.pad_top,
    (pix % params.out_width) * params.stride_w - params.pad_left,
    n0 + t.b_n < N, false,
  );
  let acc = gemm_tile(t, o, 0, params.in_channels * params.kernel_h * params.kernel_w);
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
  let M = params.in_channels;
  let plane = params.in_height * params.in_width;
  let N = params.batch * plane;
  let n_tiles = (N + TILE_N - 1) / TILE_N;
  let m0 = (tile / n_tiles) * TILE_M;
  let n0 = (tile % n_tiles) * TILE_N;
  // The dinp element (b, ih, iw) whose gather column this invocation stages.
  let col = min(n0 + t.b_n, N - 1);
  let pix = col % plane;
  let o = Operands(
    min(m0 + t.a_m, M - 1), m0 + t.a_m < M,
    (col / plane) * params.out_channels * params.out_height * params.out_width,
    pix / params.in_width + params.pad_top,
    pix % params.in_width + params.pad_left,
    n0 + t.b_n < N, false,
  );
  let acc = gemm_tile(t, o, 0, params.out_channels * params.kernel_h * params.kernel_w);
  for (var i = 0; i < 4; i++) {
    let m = m0 + t.tm + 4 * i;
    if (m >= M) { continue; }
    for (var j = 0; j < 4; j++) {
      let n = n0 + t.tn + 16 * j;
      if (n < N) {
        let at = ((n / plane) * M + m) * plane + n % plane;
        dinp[at] = acc[i][j] * below_grad(at);
      }
    }
  }
}

@compute @workgroup_size(TILE_THREADS)
fn conv2d_backward_weight_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile = linear_tile(wid, nwg);
  if (tile >= params.work_items) { return; }
  let t = lanes_of(lid);
  let KW = params.kernel_w;
  let taps = params.kernel_h * KW;
  let M = params.out_channels;
  let K = params.in_channels * taps;
  let N = K + 1; // the last column is dbias
  let OW = params.out_width;
  let m_tiles = (M + TILE_M - 1) / TILE_M;
  let n_tiles = (N + TILE_N - 1) / TILE_N;
  let chunk = tile / (m_tiles * n_tiles);
  let m0 = ((tile / n_tiles) % m_tiles) * TILE_M;
  let n0 = (tile % n_tiles) * TILE_N;
  // This chunk's output positions p = (b * OH + oh) * OW + ow.
  let p_begin = chunk * params.chunk_rows * OW;
  let p_end = min(p_begin + params.chunk_rows * OW, params.batch * params.out_height * OW);
  // The tap (ci, kh, kw) whose column this invocation stages, decomposed once.
  let tap = n0 + t.b_n;
  let tc = min(tap, K - 1);
  let o = Operands(
    min(m0 + t.a_m, M - 1), m0 + t.a_m < M,
    (tc / taps) * params.in_height * params.in_width,
    (tc % taps) / KW,
    tc % KW,
    tap <= K, tap == K,
  );
  let acc = gemm_tile(t, o, p_begin, p_end);
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
