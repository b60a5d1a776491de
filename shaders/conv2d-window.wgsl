// Stride-1 2-D convolution with sliding windows held in registers: the
// 'blocked' variant's kernels for stride 1 and kernels up to 5x5 (LeNet-5's
// convolutions), forward, input gradient and weight gradient. Other
// geometries use the general kernels of conv2d.wgsl.
//
// Written for CPU adapters (SwiftShader), whose costs we measured on its
// Subzero JIT: one invocation is one lane of a 4-wide SIMD group; a storage
// load with a per-lane address is an emulated gather of four scalar loads
// and costs as much as 20-30 multiply-adds; values that stay live across a
// long straight-line body live on the stack, so a multiply-add whose
// accumulator is touched again only much later costs three times one whose
// accumulator is the previous line's result; branches save nothing (both
// sides run, masked); workgroup memory and barriers are slower still. So:
//
// - Tiles. An invocation owns COLS (4 or 8) output columns ow0.. of ROWS
//   (1..5) consecutive output rows of one image, for CH_BLOCK (1..8) output
//   channels. For each source channel it loads once the ROWS + KH - 1 source
//   rows those outputs read, COLS + 4 columns each (a Span: vec4f a, b and
//   c, c only when COLS = 8), zero where the window leaves the source
//   (padding), and does every multiply-add that tile takes part in.
// - Chains. Each output's sum over the KH x KW taps of one source channel is
//   one chain of multiply-adds (out_c*), added to its accumulator once per
//   source channel; the weight gradient likewise sums each tap over the whole
//   tile in one chain (dot_kw*).
// - Shared kernels. The four lanes of a SIMD group are four images of the same
//   tile and channels (invocation order is batch-minor, the batch padded to a
//   multiple of 4 in lane_batch), so they need the same kernel weights. With
//   SHARED_WEIGHTS (a device whose subgroups are SwiftShader's 4-lane groups
//   of consecutive invocations), lane l of load i fetches tap slot 4i + l
//   (slot 5 kh + kw) and the lanes exchange them with subgroupBroadcast: 7
//   gathers per 5x5 kernel instead of 25. The subgroup functions come from a
//   prelude the TypeScript side prepends (bcast0..3; identity stubs when the
//   device has no subgroups, where SHARED_WEIGHTS is never set).
// - Whole groups. No lane leaves early while the others may still broadcast:
//   lanes past the batch (b >= batch) compute on the last image and store
//   nothing; only invocations past work_items (whole SIMD groups, since
//   work_items and the workgroup size are multiples of 4) return.
//
// KH, KW (<= 5), ROWS, COLS and CH_BLOCK are override constants; every
// unrolled line is guarded by them and the compiler drops the rest. The
// lines are written out rather than looped on purpose: a loop over taps or
// rows would index its arrays dynamically, which puts them in memory lane by
// lane, and SwiftShader's JIT keeps a chain of multiply-adds in registers
// only when it is one expression.
//
// One body, two products. The forward pass correlates inp with weight:
//   out[b,d,oh,ow] = act(bias[d] + sum_{s,kh,kw} w(d,s,kh,kw) inp[b,s,oh-pt+kh,ow-pl+kw])
// and the input gradient is the same correlation of dout with the kernel
// transposed (channels swapped) and rotated 180 degrees, padded KH-1-pt
// above and KW-1-pl left:
//   dinp[b,c,ih,iw] = sum_{o,kh,kw} w[o,c,KH-1-kh,KW-1-kw] dout[b,o,ih-(KH-1-pt)+kh, iw-(KW-1-pl)+kw]
// So the kernels speak of source (src) and destination (dst) tensors, and the
// uniforms say where kernel (d, s) starts: weight_dst_stride * d +
// weight_src_stride * s (+ KH*KW-1 when FLIP, which walks taps backwards).
// The forward entry point reads its source through `inp`, the input-gradient
// one through `dout`; both bind the other name too (the body is shared), the
// forward pass to its own inp.
//
// The input-gradient store can fuse the derivative of the activation of the
// layer below (ACTIVATION, from that layer's output y = this layer's inp):
// dinp = (dout * W) * act'(y), so the graph needs no activation_backward
// dispatch there. The forward store fuses bias and ACTIVATION, and
// conv2d_forward_window_pooled also a following 2x2 stride-2 average pooling
// (it has both rows of each window in registers), so the graph needs no
// avg_pool_forward dispatch either.
//
// Weight gradient: dweight[o,c,kh,kw] = sum_{b,oh,ow} dout[b,o,oh,ow] inp[b,c,oh-pt+kh,ow-pl+kw],
// one KH x KW kernel per (o, c) pair. An invocation owns CH_BLOCK (1..4)
// output channels o and one input channel c over one chunk of tile rows (a
// tile row: ROWS output rows of one image, all its columns), and walks the
// chunk tile by tile: it loads the input tile of c and the dout tile of each
// o (ROWS x COLS values), and adds each tap's dot product of dout with the
// shifted input to KH x KW accumulators per o. The invocations of input
// channel 0 also sum dout: the bias gradient. Each chunk writes its partial
// sums to partials [chunk][Cout*Cin*KH*KW + Cout] (dweight, then dbias);
// conv2d_reduce_partials (conv2d.wgsl) adds the chunks in order.
//
// Every sum runs in a fixed order and every output is written once, so
// results are bit-identical run to run. Everything here OVERWRITES its
// outputs.

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 64u;
// Kernel height and width, 1..5.
override KH: i32 = 5;
override KW: i32 = 5;
// Output rows (1..5) and columns (4 or 8) per tile, output channels per invocation (1..8).
override ROWS: i32 = 4;
override COLS: i32 = 4;
override CH_BLOCK: i32 = 4;
// Walk each kernel backwards (the input gradient's rotated kernel).
override FLIP: bool = false;
// Load each kernel once per SIMD group and broadcast it (see the header).
override SHARED_WEIGHTS: bool = false;

struct WindowParams {
  batch: i32,
  // The batch rounded up to a multiple of 4: the images of the invocation order.
  lane_batch: i32,
  src_channels: i32,
  src_height: i32,
  src_width: i32,
  dst_channels: i32,
  dst_height: i32,
  dst_width: i32,
  // Rows above and columns left of the source the window starts at (padding).
  pad_top: i32,
  pad_left: i32,
  // Kernel (d, s) starts at weight_dst_stride * d + weight_src_stride * s.
  weight_dst_stride: i32,
  weight_src_stride: i32,
  // Tiles per image: row_blocks x col_blocks (ROWS rows x COLS columns each).
  row_blocks: i32,
  col_blocks: i32,
  // Invocations this dispatch covers.
  work_items: i32,
  // Weight gradient: tile rows per chunk, and chunks.
  chunk_rows: i32,
  chunk_count: i32,
}

@group(0) @binding(0) var<uniform> params: WindowParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>;          // (B, Cin, H, W)
@group(0) @binding(2) var<storage, read> weight: array<f32>;       // (Cout, Cin, KH, KW)
@group(0) @binding(3) var<storage, read> bias: array<f32>;         // (Cout)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // (B, Cout, OH, OW)
@group(0) @binding(5) var<storage, read> dout: array<f32>;         // (B, Cout, OH, OW), pre-activation gradient
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;   // (B, Cin, H, W)
@group(0) @binding(7) var<storage, read_write> partials: array<f32>; // (chunk_count, Cout*Cin*KH*KW + Cout)
@group(0) @binding(8) var<storage, read_write> pooled: array<f32>;  // (B, Cout, OH/2, OW/2)

const LANES = vec4i(0, 1, 2, 3);

// COLS + 4 consecutive source values of one row: a (columns 0-3), b (4-7), c (8-11).
struct Span {
  a: vec4f,
  b: vec4f,
  c: vec4f,
}

// COLS consecutive outputs of one row: l (columns 0-3), r (4-7).
struct Pair {
  l: vec4f,
  r: vec4f,
}

// ROWS + KH - 1 <= 9 tile rows; one output channel's ROWS rows.
alias Tile = array<Span, 9>;
alias Rows = array<Pair, 5>;

// One kernel row: taps 0-3 and tap 4 (zero past KW); a kernel is KH of them.
struct KernelRow {
  w: vec4f,
  w4: f32,
}
alias Kern = array<KernelRow, 5>;

fn linear_invocation(wid: vec3u, nwg: vec3u, lid: u32) -> i32 {
  return i32((wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid);
}

// 0 <= i < size, lane by lane (one unsigned compare: negative i wraps above size).
fn inside(i: vec4i, size: i32) -> vec4<bool> {
  return bitcast<vec4u>(i) < vec4u(u32(size));
}

// ---------------------------------------------------------------- kernels

// Taps 0..KW-1 of the kernel row starting at weight[at] (walking backwards when FLIP).
fn kernel_row(at: i32) -> KernelRow {
  let s = select(1, -1, FLIP);
  var k = KernelRow(vec4f(0.0), 0.0);
  k.w.x = weight[at];
  if (KW > 1) { k.w.y = weight[at + s]; }
  if (KW > 2) { k.w.z = weight[at + 2 * s]; }
  if (KW > 3) { k.w.w = weight[at + 3 * s]; }
  if (KW > 4) { k.w4 = weight[at + 4 * s]; }
  return k;
}

// The kernel whose first tap is weight[at], one load per tap.
fn kernel_taps(at: i32) -> Kern {
  let step = select(KW, -KW, FLIP);
  var k: Kern;
  k[0] = kernel_row(at);
  if (KH > 1) { k[1] = kernel_row(at + step); }
  if (KH > 2) { k[2] = kernel_row(at + 2 * step); }
  if (KH > 3) { k[3] = kernel_row(at + 3 * step); }
  if (KH > 4) { k[4] = kernel_row(at + 4 * step); }
  return k;
}

// SHARED_WEIGHTS: where this lane's share of a kernel lies, relative to its
// first tap: load i fetches slot 4i + lane, slot 5 kh + kw (0 past the kernel).
var<private> tap_offsets: array<i32, 7>;

fn init_tap_offsets(lid: u32) {
  let lane = i32(lid % 4u);
  let sgn = select(1, -1, FLIP);
  for (var i = 0; i < 7; i++) {
    let q = 4 * i + lane;
    let kh = q / 5;
    let kw = q - 5 * kh;
    tap_offsets[i] = select(0, sgn * (kh * KW + kw), q < 25 && kh < KH && kw < KW);
  }
}

// The kernel whose first tap is weight[at], loaded by the SIMD group together.
fn kernel_taps_shared(at: i32) -> Kern {
  let last = 5 * (KH - 1) + KW - 1;
  let v0 = weight[at + tap_offsets[0]];
  var v1 = 0.0; var v2 = 0.0; var v3 = 0.0; var v4 = 0.0; var v5 = 0.0; var v6 = 0.0;
  if (last >= 4) { v1 = weight[at + tap_offsets[1]]; }
  if (last >= 8) { v2 = weight[at + tap_offsets[2]]; }
  if (last >= 12) { v3 = weight[at + tap_offsets[3]]; }
  if (last >= 16) { v4 = weight[at + tap_offsets[4]]; }
  if (last >= 20) { v5 = weight[at + tap_offsets[5]]; }
  if (last >= 24) { v6 = weight[at + tap_offsets[6]]; }
  var k: Kern;
  k[0] = KernelRow(vec4f(bcast0(v0), bcast1(v0), bcast2(v0), bcast3(v0)), bcast0(v1));
  if (KH > 1) { k[1] = KernelRow(vec4f(bcast1(v1), bcast2(v1), bcast3(v1), bcast0(v2)), bcast1(v2)); }
  if (KH > 2) { k[2] = KernelRow(vec4f(bcast2(v2), bcast3(v2), bcast0(v3), bcast1(v3)), bcast2(v3)); }
  if (KH > 3) { k[3] = KernelRow(vec4f(bcast3(v3), bcast0(v4), bcast1(v4), bcast2(v4)), bcast3(v4)); }
  if (KH > 4) { k[4] = KernelRow(vec4f(bcast0(v5), bcast1(v5), bcast2(v5), bcast3(v5)), bcast0(v6)); }
  return k;
}

fn kernel_at(at: i32) -> Kern {
  if (SHARED_WEIGHTS) { return kernel_taps_shared(at); }
  return kernel_taps(at);
}

// ---------------------------------------------------------------- forward and input-gradient products


// p + one output row's COLS sums for one source channel: per column, one chain over the kernel
// (x0..x4: the source rows the output row reads). A 5x5 kernel's chains are single expressions,
// which the shader compiler handles in a third of the time it takes over the same chains built
// up statement by statement (the guarded form every other kernel size takes).
fn out_row(p: Pair, k: Kern, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> Pair {
  var q = p;
  if (KH == 5 && KW == 5) {
    q.l.x += k[0].w.x * x0.a.x + k[0].w.y * x0.a.y + k[0].w.z * x0.a.z + k[0].w.w * x0.a.w + k[0].w4 * x0.b.x + k[1].w.x * x1.a.x + k[1].w.y * x1.a.y + k[1].w.z * x1.a.z + k[1].w.w * x1.a.w + k[1].w4 * x1.b.x + k[2].w.x * x2.a.x + k[2].w.y * x2.a.y + k[2].w.z * x2.a.z + k[2].w.w * x2.a.w + k[2].w4 * x2.b.x + k[3].w.x * x3.a.x + k[3].w.y * x3.a.y + k[3].w.z * x3.a.z + k[3].w.w * x3.a.w + k[3].w4 * x3.b.x + k[4].w.x * x4.a.x + k[4].w.y * x4.a.y + k[4].w.z * x4.a.z + k[4].w.w * x4.a.w + k[4].w4 * x4.b.x;
    q.l.y += k[0].w.x * x0.a.y + k[0].w.y * x0.a.z + k[0].w.z * x0.a.w + k[0].w.w * x0.b.x + k[0].w4 * x0.b.y + k[1].w.x * x1.a.y + k[1].w.y * x1.a.z + k[1].w.z * x1.a.w + k[1].w.w * x1.b.x + k[1].w4 * x1.b.y + k[2].w.x * x2.a.y + k[2].w.y * x2.a.z + k[2].w.z * x2.a.w + k[2].w.w * x2.b.x + k[2].w4 * x2.b.y + k[3].w.x * x3.a.y + k[3].w.y * x3.a.z + k[3].w.z * x3.a.w + k[3].w.w * x3.b.x + k[3].w4 * x3.b.y + k[4].w.x * x4.a.y + k[4].w.y * x4.a.z + k[4].w.z * x4.a.w + k[4].w.w * x4.b.x + k[4].w4 * x4.b.y;
    q.l.z += k[0].w.x * x0.a.z + k[0].w.y * x0.a.w + k[0].w.z * x0.b.x + k[0].w.w * x0.b.y + k[0].w4 * x0.b.z + k[1].w.x * x1.a.z + k[1].w.y * x1.a.w + k[1].w.z * x1.b.x + k[1].w.w * x1.b.y + k[1].w4 * x1.b.z + k[2].w.x * x2.a.z + k[2].w.y * x2.a.w + k[2].w.z * x2.b.x + k[2].w.w * x2.b.y + k[2].w4 * x2.b.z + k[3].w.x * x3.a.z + k[3].w.y * x3.a.w + k[3].w.z * x3.b.x + k[3].w.w * x3.b.y + k[3].w4 * x3.b.z + k[4].w.x * x4.a.z + k[4].w.y * x4.a.w + k[4].w.z * x4.b.x + k[4].w.w * x4.b.y + k[4].w4 * x4.b.z;
    q.l.w += k[0].w.x * x0.a.w + k[0].w.y * x0.b.x + k[0].w.z * x0.b.y + k[0].w.w * x0.b.z + k[0].w4 * x0.b.w + k[1].w.x * x1.a.w + k[1].w.y * x1.b.x + k[1].w.z * x1.b.y + k[1].w.w * x1.b.z + k[1].w4 * x1.b.w + k[2].w.x * x2.a.w + k[2].w.y * x2.b.x + k[2].w.z * x2.b.y + k[2].w.w * x2.b.z + k[2].w4 * x2.b.w + k[3].w.x * x3.a.w + k[3].w.y * x3.b.x + k[3].w.z * x3.b.y + k[3].w.w * x3.b.z + k[3].w4 * x3.b.w + k[4].w.x * x4.a.w + k[4].w.y * x4.b.x + k[4].w.z * x4.b.y + k[4].w.w * x4.b.z + k[4].w4 * x4.b.w;
    if (COLS > 4) {
      q.r.x += k[0].w.x * x0.b.x + k[0].w.y * x0.b.y + k[0].w.z * x0.b.z + k[0].w.w * x0.b.w + k[0].w4 * x0.c.x + k[1].w.x * x1.b.x + k[1].w.y * x1.b.y + k[1].w.z * x1.b.z + k[1].w.w * x1.b.w + k[1].w4 * x1.c.x + k[2].w.x * x2.b.x + k[2].w.y * x2.b.y + k[2].w.z * x2.b.z + k[2].w.w * x2.b.w + k[2].w4 * x2.c.x + k[3].w.x * x3.b.x + k[3].w.y * x3.b.y + k[3].w.z * x3.b.z + k[3].w.w * x3.b.w + k[3].w4 * x3.c.x + k[4].w.x * x4.b.x + k[4].w.y * x4.b.y + k[4].w.z * x4.b.z + k[4].w.w * x4.b.w + k[4].w4 * x4.c.x;
      q.r.y += k[0].w.x * x0.b.y + k[0].w.y * x0.b.z + k[0].w.z * x0.b.w + k[0].w.w * x0.c.x + k[0].w4 * x0.c.y + k[1].w.x * x1.b.y + k[1].w.y * x1.b.z + k[1].w.z * x1.b.w + k[1].w.w * x1.c.x + k[1].w4 * x1.c.y + k[2].w.x * x2.b.y + k[2].w.y * x2.b.z + k[2].w.z * x2.b.w + k[2].w.w * x2.c.x + k[2].w4 * x2.c.y + k[3].w.x * x3.b.y + k[3].w.y * x3.b.z + k[3].w.z * x3.b.w + k[3].w.w * x3.c.x + k[3].w4 * x3.c.y + k[4].w.x * x4.b.y + k[4].w.y * x4.b.z + k[4].w.z * x4.b.w + k[4].w.w * x4.c.x + k[4].w4 * x4.c.y;
      q.r.z += k[0].w.x * x0.b.z + k[0].w.y * x0.b.w + k[0].w.z * x0.c.x + k[0].w.w * x0.c.y + k[0].w4 * x0.c.z + k[1].w.x * x1.b.z + k[1].w.y * x1.b.w + k[1].w.z * x1.c.x + k[1].w.w * x1.c.y + k[1].w4 * x1.c.z + k[2].w.x * x2.b.z + k[2].w.y * x2.b.w + k[2].w.z * x2.c.x + k[2].w.w * x2.c.y + k[2].w4 * x2.c.z + k[3].w.x * x3.b.z + k[3].w.y * x3.b.w + k[3].w.z * x3.c.x + k[3].w.w * x3.c.y + k[3].w4 * x3.c.z + k[4].w.x * x4.b.z + k[4].w.y * x4.b.w + k[4].w.z * x4.c.x + k[4].w.w * x4.c.y + k[4].w4 * x4.c.z;
      q.r.w += k[0].w.x * x0.b.w + k[0].w.y * x0.c.x + k[0].w.z * x0.c.y + k[0].w.w * x0.c.z + k[0].w4 * x0.c.w + k[1].w.x * x1.b.w + k[1].w.y * x1.c.x + k[1].w.z * x1.c.y + k[1].w.w * x1.c.z + k[1].w4 * x1.c.w + k[2].w.x * x2.b.w + k[2].w.y * x2.c.x + k[2].w.z * x2.c.y + k[2].w.w * x2.c.z + k[2].w4 * x2.c.w + k[3].w.x * x3.b.w + k[3].w.y * x3.c.x + k[3].w.z * x3.c.y + k[3].w.w * x3.c.z + k[3].w4 * x3.c.w + k[4].w.x * x4.b.w + k[4].w.y * x4.c.x + k[4].w.z * x4.c.y + k[4].w.w * x4.c.z + k[4].w4 * x4.c.w;
    }
    return q;
  }
  {
    var o = k[0].w.x * x0.a.x; if (KW > 1) { o += k[0].w.y * x0.a.y; } if (KW > 2) { o += k[0].w.z * x0.a.z; } if (KW > 3) { o += k[0].w.w * x0.a.w; } if (KW > 4) { o += k[0].w4 * x0.b.x; }
    if (KH > 1) { o += k[1].w.x * x1.a.x; if (KW > 1) { o += k[1].w.y * x1.a.y; } if (KW > 2) { o += k[1].w.z * x1.a.z; } if (KW > 3) { o += k[1].w.w * x1.a.w; } if (KW > 4) { o += k[1].w4 * x1.b.x; } }
    if (KH > 2) { o += k[2].w.x * x2.a.x; if (KW > 1) { o += k[2].w.y * x2.a.y; } if (KW > 2) { o += k[2].w.z * x2.a.z; } if (KW > 3) { o += k[2].w.w * x2.a.w; } if (KW > 4) { o += k[2].w4 * x2.b.x; } }
    if (KH > 3) { o += k[3].w.x * x3.a.x; if (KW > 1) { o += k[3].w.y * x3.a.y; } if (KW > 2) { o += k[3].w.z * x3.a.z; } if (KW > 3) { o += k[3].w.w * x3.a.w; } if (KW > 4) { o += k[3].w4 * x3.b.x; } }
    if (KH > 4) { o += k[4].w.x * x4.a.x; if (KW > 1) { o += k[4].w.y * x4.a.y; } if (KW > 2) { o += k[4].w.z * x4.a.z; } if (KW > 3) { o += k[4].w.w * x4.a.w; } if (KW > 4) { o += k[4].w4 * x4.b.x; } }
    q.l.x += o;
  }
  {
    var o = k[0].w.x * x0.a.y; if (KW > 1) { o += k[0].w.y * x0.a.z; } if (KW > 2) { o += k[0].w.z * x0.a.w; } if (KW > 3) { o += k[0].w.w * x0.b.x; } if (KW > 4) { o += k[0].w4 * x0.b.y; }
    if (KH > 1) { o += k[1].w.x * x1.a.y; if (KW > 1) { o += k[1].w.y * x1.a.z; } if (KW > 2) { o += k[1].w.z * x1.a.w; } if (KW > 3) { o += k[1].w.w * x1.b.x; } if (KW > 4) { o += k[1].w4 * x1.b.y; } }
    if (KH > 2) { o += k[2].w.x * x2.a.y; if (KW > 1) { o += k[2].w.y * x2.a.z; } if (KW > 2) { o += k[2].w.z * x2.a.w; } if (KW > 3) { o += k[2].w.w * x2.b.x; } if (KW > 4) { o += k[2].w4 * x2.b.y; } }
    if (KH > 3) { o += k[3].w.x * x3.a.y; if (KW > 1) { o += k[3].w.y * x3.a.z; } if (KW > 2) { o += k[3].w.z * x3.a.w; } if (KW > 3) { o += k[3].w.w * x3.b.x; } if (KW > 4) { o += k[3].w4 * x3.b.y; } }
    if (KH > 4) { o += k[4].w.x * x4.a.y; if (KW > 1) { o += k[4].w.y * x4.a.z; } if (KW > 2) { o += k[4].w.z * x4.a.w; } if (KW > 3) { o += k[4].w.w * x4.b.x; } if (KW > 4) { o += k[4].w4 * x4.b.y; } }
    q.l.y += o;
  }
  {
    var o = k[0].w.x * x0.a.z; if (KW > 1) { o += k[0].w.y * x0.a.w; } if (KW > 2) { o += k[0].w.z * x0.b.x; } if (KW > 3) { o += k[0].w.w * x0.b.y; } if (KW > 4) { o += k[0].w4 * x0.b.z; }
    if (KH > 1) { o += k[1].w.x * x1.a.z; if (KW > 1) { o += k[1].w.y * x1.a.w; } if (KW > 2) { o += k[1].w.z * x1.b.x; } if (KW > 3) { o += k[1].w.w * x1.b.y; } if (KW > 4) { o += k[1].w4 * x1.b.z; } }
    if (KH > 2) { o += k[2].w.x * x2.a.z; if (KW > 1) { o += k[2].w.y * x2.a.w; } if (KW > 2) { o += k[2].w.z * x2.b.x; } if (KW > 3) { o += k[2].w.w * x2.b.y; } if (KW > 4) { o += k[2].w4 * x2.b.z; } }
    if (KH > 3) { o += k[3].w.x * x3.a.z; if (KW > 1) { o += k[3].w.y * x3.a.w; } if (KW > 2) { o += k[3].w.z * x3.b.x; } if (KW > 3) { o += k[3].w.w * x3.b.y; } if (KW > 4) { o += k[3].w4 * x3.b.z; } }
    if (KH > 4) { o += k[4].w.x * x4.a.z; if (KW > 1) { o += k[4].w.y * x4.a.w; } if (KW > 2) { o += k[4].w.z * x4.b.x; } if (KW > 3) { o += k[4].w.w * x4.b.y; } if (KW > 4) { o += k[4].w4 * x4.b.z; } }
    q.l.z += o;
  }
  {
    var o = k[0].w.x * x0.a.w; if (KW > 1) { o += k[0].w.y * x0.b.x; } if (KW > 2) { o += k[0].w.z * x0.b.y; } if (KW > 3) { o += k[0].w.w * x0.b.z; } if (KW > 4) { o += k[0].w4 * x0.b.w; }
    if (KH > 1) { o += k[1].w.x * x1.a.w; if (KW > 1) { o += k[1].w.y * x1.b.x; } if (KW > 2) { o += k[1].w.z * x1.b.y; } if (KW > 3) { o += k[1].w.w * x1.b.z; } if (KW > 4) { o += k[1].w4 * x1.b.w; } }
    if (KH > 2) { o += k[2].w.x * x2.a.w; if (KW > 1) { o += k[2].w.y * x2.b.x; } if (KW > 2) { o += k[2].w.z * x2.b.y; } if (KW > 3) { o += k[2].w.w * x2.b.z; } if (KW > 4) { o += k[2].w4 * x2.b.w; } }
    if (KH > 3) { o += k[3].w.x * x3.a.w; if (KW > 1) { o += k[3].w.y * x3.b.x; } if (KW > 2) { o += k[3].w.z * x3.b.y; } if (KW > 3) { o += k[3].w.w * x3.b.z; } if (KW > 4) { o += k[3].w4 * x3.b.w; } }
    if (KH > 4) { o += k[4].w.x * x4.a.w; if (KW > 1) { o += k[4].w.y * x4.b.x; } if (KW > 2) { o += k[4].w.z * x4.b.y; } if (KW > 3) { o += k[4].w.w * x4.b.z; } if (KW > 4) { o += k[4].w4 * x4.b.w; } }
    q.l.w += o;
  }
  if (COLS > 4) {
    {
      var o = k[0].w.x * x0.b.x; if (KW > 1) { o += k[0].w.y * x0.b.y; } if (KW > 2) { o += k[0].w.z * x0.b.z; } if (KW > 3) { o += k[0].w.w * x0.b.w; } if (KW > 4) { o += k[0].w4 * x0.c.x; }
      if (KH > 1) { o += k[1].w.x * x1.b.x; if (KW > 1) { o += k[1].w.y * x1.b.y; } if (KW > 2) { o += k[1].w.z * x1.b.z; } if (KW > 3) { o += k[1].w.w * x1.b.w; } if (KW > 4) { o += k[1].w4 * x1.c.x; } }
      if (KH > 2) { o += k[2].w.x * x2.b.x; if (KW > 1) { o += k[2].w.y * x2.b.y; } if (KW > 2) { o += k[2].w.z * x2.b.z; } if (KW > 3) { o += k[2].w.w * x2.b.w; } if (KW > 4) { o += k[2].w4 * x2.c.x; } }
      if (KH > 3) { o += k[3].w.x * x3.b.x; if (KW > 1) { o += k[3].w.y * x3.b.y; } if (KW > 2) { o += k[3].w.z * x3.b.z; } if (KW > 3) { o += k[3].w.w * x3.b.w; } if (KW > 4) { o += k[3].w4 * x3.c.x; } }
      if (KH > 4) { o += k[4].w.x * x4.b.x; if (KW > 1) { o += k[4].w.y * x4.b.y; } if (KW > 2) { o += k[4].w.z * x4.b.z; } if (KW > 3) { o += k[4].w.w * x4.b.w; } if (KW > 4) { o += k[4].w4 * x4.c.x; } }
      q.r.x += o;
    }
    {
      var o = k[0].w.x * x0.b.y; if (KW > 1) { o += k[0].w.y * x0.b.z; } if (KW > 2) { o += k[0].w.z * x0.b.w; } if (KW > 3) { o += k[0].w.w * x0.c.x; } if (KW > 4) { o += k[0].w4 * x0.c.y; }
      if (KH > 1) { o += k[1].w.x * x1.b.y; if (KW > 1) { o += k[1].w.y * x1.b.z; } if (KW > 2) { o += k[1].w.z * x1.b.w; } if (KW > 3) { o += k[1].w.w * x1.c.x; } if (KW > 4) { o += k[1].w4 * x1.c.y; } }
      if (KH > 2) { o += k[2].w.x * x2.b.y; if (KW > 1) { o += k[2].w.y * x2.b.z; } if (KW > 2) { o += k[2].w.z * x2.b.w; } if (KW > 3) { o += k[2].w.w * x2.c.x; } if (KW > 4) { o += k[2].w4 * x2.c.y; } }
      if (KH > 3) { o += k[3].w.x * x3.b.y; if (KW > 1) { o += k[3].w.y * x3.b.z; } if (KW > 2) { o += k[3].w.z * x3.b.w; } if (KW > 3) { o += k[3].w.w * x3.c.x; } if (KW > 4) { o += k[3].w4 * x3.c.y; } }
      if (KH > 4) { o += k[4].w.x * x4.b.y; if (KW > 1) { o += k[4].w.y * x4.b.z; } if (KW > 2) { o += k[4].w.z * x4.b.w; } if (KW > 3) { o += k[4].w.w * x4.c.x; } if (KW > 4) { o += k[4].w4 * x4.c.y; } }
      q.r.y += o;
    }
    {
      var o = k[0].w.x * x0.b.z; if (KW > 1) { o += k[0].w.y * x0.b.w; } if (KW > 2) { o += k[0].w.z * x0.c.x; } if (KW > 3) { o += k[0].w.w * x0.c.y; } if (KW > 4) { o += k[0].w4 * x0.c.z; }
      if (KH > 1) { o += k[1].w.x * x1.b.z; if (KW > 1) { o += k[1].w.y * x1.b.w; } if (KW > 2) { o += k[1].w.z * x1.c.x; } if (KW > 3) { o += k[1].w.w * x1.c.y; } if (KW > 4) { o += k[1].w4 * x1.c.z; } }
      if (KH > 2) { o += k[2].w.x * x2.b.z; if (KW > 1) { o += k[2].w.y * x2.b.w; } if (KW > 2) { o += k[2].w.z * x2.c.x; } if (KW > 3) { o += k[2].w.w * x2.c.y; } if (KW > 4) { o += k[2].w4 * x2.c.z; } }
      if (KH > 3) { o += k[3].w.x * x3.b.z; if (KW > 1) { o += k[3].w.y * x3.b.w; } if (KW > 2) { o += k[3].w.z * x3.c.x; } if (KW > 3) { o += k[3].w.w * x3.c.y; } if (KW > 4) { o += k[3].w4 * x3.c.z; } }
      if (KH > 4) { o += k[4].w.x * x4.b.z; if (KW > 1) { o += k[4].w.y * x4.b.w; } if (KW > 2) { o += k[4].w.z * x4.c.x; } if (KW > 3) { o += k[4].w.w * x4.c.y; } if (KW > 4) { o += k[4].w4 * x4.c.z; } }
      q.r.z += o;
    }
    {
      var o = k[0].w.x * x0.b.w; if (KW > 1) { o += k[0].w.y * x0.c.x; } if (KW > 2) { o += k[0].w.z * x0.c.y; } if (KW > 3) { o += k[0].w.w * x0.c.z; } if (KW > 4) { o += k[0].w4 * x0.c.w; }
      if (KH > 1) { o += k[1].w.x * x1.b.w; if (KW > 1) { o += k[1].w.y * x1.c.x; } if (KW > 2) { o += k[1].w.z * x1.c.y; } if (KW > 3) { o += k[1].w.w * x1.c.z; } if (KW > 4) { o += k[1].w4 * x1.c.w; } }
      if (KH > 2) { o += k[2].w.x * x2.b.w; if (KW > 1) { o += k[2].w.y * x2.c.x; } if (KW > 2) { o += k[2].w.z * x2.c.y; } if (KW > 3) { o += k[2].w.w * x2.c.z; } if (KW > 4) { o += k[2].w4 * x2.c.w; } }
      if (KH > 3) { o += k[3].w.x * x3.b.w; if (KW > 1) { o += k[3].w.y * x3.c.x; } if (KW > 2) { o += k[3].w.z * x3.c.y; } if (KW > 3) { o += k[3].w.w * x3.c.z; } if (KW > 4) { o += k[3].w4 * x3.c.w; } }
      if (KH > 4) { o += k[4].w.x * x4.b.w; if (KW > 1) { o += k[4].w.y * x4.c.x; } if (KW > 2) { o += k[4].w.z * x4.c.y; } if (KW > 3) { o += k[4].w.w * x4.c.z; } if (KW > 4) { o += k[4].w4 * x4.c.w; } }
      q.r.w += o;
    }
  }
  return q;
}

// acc[r] += source channel x's contribution through kernel k to output row r.
fn window_channel(acc: Rows, x: Tile, k: Kern) -> Rows {
  var a = acc;
  a[0] = out_row(a[0], k, x[0], x[1], x[2], x[3], x[4]);
  if (ROWS > 1) { a[1] = out_row(a[1], k, x[1], x[2], x[3], x[4], x[5]); }
  if (ROWS > 2) { a[2] = out_row(a[2], k, x[2], x[3], x[4], x[5], x[6]); }
  if (ROWS > 3) { a[3] = out_row(a[3], k, x[3], x[4], x[5], x[6], x[7]); }
  if (ROWS > 4) { a[4] = out_row(a[4], k, x[4], x[5], x[6], x[7], x[8]); }
  return a;
}

// ---------------------------------------------------------------- tiles

// Where a tile's source rows are: the element of row r, column 0 is at + r *
// width; values outside the source (rows and columns) are masked to zero.
// No branches: the loads run either way, and the masks cost less than merging
// the two sides of a branch.
struct TileGeometry {
  at: i32,
  width: i32,
  first_row: i32,
  height: i32,
  ok_a: vec4<bool>,
  ok_b: vec4<bool>,
  ok_c: vec4<bool>,
}

fn tile_geometry(at: i32, first_row: i32, first_col: i32, height: i32, width: i32) -> TileGeometry {
  let c = LANES + first_col;
  return TileGeometry(at, width, first_row, height, inside(c, width), inside(c + 4, width), inside(c + 8, width));
}

fn inp4(at: i32, ok: vec4<bool>) -> vec4f {
  return select(vec4f(0.0), vec4f(inp[at], inp[at + 1], inp[at + 2], inp[at + 3]), ok);
}

fn dout4(at: i32, ok: vec4<bool>) -> vec4f {
  return select(vec4f(0.0), vec4f(dout[at], dout[at + 1], dout[at + 2], dout[at + 3]), ok);
}

// Tile row r of the source, from inp / from dout.
fn inp_row(g: TileGeometry, r: i32) -> Span {
  let row_ok = vec4<bool>(u32(g.first_row + r) < u32(g.height));
  let at = g.at + r * g.width;
  var s = Span(inp4(at, g.ok_a & row_ok), inp4(at + 4, g.ok_b & row_ok), vec4f(0.0));
  if (COLS > 4) { s.c = inp4(at + 8, g.ok_c & row_ok); }
  return s;
}

fn dout_row(g: TileGeometry, r: i32) -> Span {
  let row_ok = vec4<bool>(u32(g.first_row + r) < u32(g.height));
  let at = g.at + r * g.width;
  var s = Span(dout4(at, g.ok_a & row_ok), dout4(at + 4, g.ok_b & row_ok), vec4f(0.0));
  if (COLS > 4) { s.c = dout4(at + 8, g.ok_c & row_ok); }
  return s;
}

// The ROWS + KH - 1 source rows of a tile, from inp.
fn inp_tile(g: TileGeometry) -> Tile {
  var x: Tile;
  x[0] = inp_row(g, 0);
  if (ROWS + KH > 2) { x[1] = inp_row(g, 1); }
  if (ROWS + KH > 3) { x[2] = inp_row(g, 2); }
  if (ROWS + KH > 4) { x[3] = inp_row(g, 3); }
  if (ROWS + KH > 5) { x[4] = inp_row(g, 4); }
  if (ROWS + KH > 6) { x[5] = inp_row(g, 5); }
  if (ROWS + KH > 7) { x[6] = inp_row(g, 6); }
  if (ROWS + KH > 8) { x[7] = inp_row(g, 7); }
  if (ROWS + KH > 9) { x[8] = inp_row(g, 8); }
  return x;
}

// The ROWS + KH - 1 source rows of a tile, from dout.
fn dout_tile(g: TileGeometry) -> Tile {
  var x: Tile;
  x[0] = dout_row(g, 0);
  if (ROWS + KH > 2) { x[1] = dout_row(g, 1); }
  if (ROWS + KH > 3) { x[2] = dout_row(g, 2); }
  if (ROWS + KH > 4) { x[3] = dout_row(g, 3); }
  if (ROWS + KH > 5) { x[4] = dout_row(g, 4); }
  if (ROWS + KH > 6) { x[5] = dout_row(g, 5); }
  if (ROWS + KH > 7) { x[6] = dout_row(g, 6); }
  if (ROWS + KH > 8) { x[7] = dout_row(g, 7); }
  if (ROWS + KH > 9) { x[8] = dout_row(g, 8); }
  return x;
}

// ---------------------------------------------------------------- forward and input-gradient entry points

// A forward or input-gradient invocation's place: image b (the image it
// reads: lanes past the batch read the last one), destination channels d0..,
// rows oh0.., columns ow0..; `stores` when it writes its outputs.
struct Block {
  b: i32,
  d0: i32,
  oh0: i32,
  ow0: i32,
  stores: bool,
}

// item = ((ch_block * row_blocks + row_block) * col_blocks + col_block) * lane_batch + b.
fn block_of(item: i32) -> Block {
  let B4 = params.lane_batch;
  let t = item / B4;
  let b = item - t * B4;
  let tiles = t / params.col_blocks;
  return Block(min(b, params.batch - 1), (tiles / params.row_blocks) * CH_BLOCK, (tiles % params.row_blocks) * ROWS,
               (t - tiles * params.col_blocks) * COLS, b < params.batch);
}

// Kernel start of destination channel d0 + c (the last channel's for channels past it: computed, never stored).
fn kernel_start(d0: i32, c: i32) -> i32 {
  let flip = select(0, KH * KW - 1, FLIP);
  return min(d0 + c, params.dst_channels - 1) * params.weight_dst_stride + flip;
}

// acc[c] for the block's channels, summed over every source channel; `src_inp`
// picks the source tensor (inp for the forward pass, dout for the input gradient).
fn accumulate_block(k: Block, src_inp: bool) -> array<Rows, 8> {
  let H = params.src_height;
  let W = params.src_width;
  let plane = H * W;
  let ih0 = k.oh0 - params.pad_top;
  let iw0 = k.ow0 - params.pad_left;
  var g = tile_geometry(k.b * params.src_channels * plane + ih0 * W + iw0, ih0, iw0, H, W);
  let w0 = kernel_start(k.d0, 0);
  let w1 = kernel_start(k.d0, 1);
  let w2 = kernel_start(k.d0, 2);
  let w3 = kernel_start(k.d0, 3);
  let w4 = kernel_start(k.d0, 4);
  let w5 = kernel_start(k.d0, 5);
  let w6 = kernel_start(k.d0, 6);
  let w7 = kernel_start(k.d0, 7);
  var acc: array<Rows, 8>;
  for (var s = 0; s < params.src_channels; s++) {
    var x: Tile;
    if (src_inp) { x = inp_tile(g); } else { x = dout_tile(g); }
    let ws = s * params.weight_src_stride;
    acc[0] = window_channel(acc[0], x, kernel_at(w0 + ws));
    if (CH_BLOCK > 1) { acc[1] = window_channel(acc[1], x, kernel_at(w1 + ws)); }
    if (CH_BLOCK > 2) { acc[2] = window_channel(acc[2], x, kernel_at(w2 + ws)); }
    if (CH_BLOCK > 3) { acc[3] = window_channel(acc[3], x, kernel_at(w3 + ws)); }
    if (CH_BLOCK > 4) { acc[4] = window_channel(acc[4], x, kernel_at(w4 + ws)); }
    if (CH_BLOCK > 5) { acc[5] = window_channel(acc[5], x, kernel_at(w5 + ws)); }
    if (CH_BLOCK > 6) { acc[6] = window_channel(acc[6], x, kernel_at(w6 + ws)); }
    if (CH_BLOCK > 7) { acc[7] = window_channel(acc[7], x, kernel_at(w7 + ws)); }
    g.at += plane;
  }
  return acc;
}

// Destination element of (image b, channel d0 + c, row oh0 + r, column ow0).
fn dst_index(k: Block, c: i32, r: i32) -> i32 {
  return ((k.b * params.dst_channels + k.d0 + c) * params.dst_height + k.oh0 + r) * params.dst_width + k.ow0;
}

fn activate4(v: vec4f) -> vec4f {
  return vec4f(activate(v.x, ACTIVATION), activate(v.y, ACTIVATION), activate(v.z, ACTIVATION), activate(v.w, ACTIVATION));
}

// out[at + j] = y[j] for the columns ow .. ow+3 inside the output.
fn store4_out(at: i32, ow: i32, y: vec4f) {
  let W = params.dst_width;
  if (ow < W) { out[at] = y.x; }
  if (ow + 1 < W) { out[at + 1] = y.y; }
  if (ow + 2 < W) { out[at + 2] = y.z; }
  if (ow + 3 < W) { out[at + 3] = y.w; }
}

// Stores act(sum + bias) for one output row and returns it (zero for a row or channel past the end).
fn store_out_row(k: Block, c: i32, r: i32, sum: Pair) -> Pair {
  if (!k.stores || k.d0 + c >= params.dst_channels || k.oh0 + r >= params.dst_height) { return Pair(vec4f(0.0), vec4f(0.0)); }
  let at = dst_index(k, c, r);
  let b = bias[k.d0 + c];
  let y = Pair(activate4(sum.l + b), activate4(sum.r + b));
  store4_out(at, k.ow0, y.l);
  if (COLS > 4) { store4_out(at + 4, k.ow0 + 4, y.r); }
  return y;
}

fn store_out(k: Block, c: i32, rows: Rows) {
  _ = store_out_row(k, c, 0, rows[0]);
  if (ROWS > 1) { _ = store_out_row(k, c, 1, rows[1]); }
  if (ROWS > 2) { _ = store_out_row(k, c, 2, rows[2]); }
  if (ROWS > 3) { _ = store_out_row(k, c, 3, rows[3]); }
  if (ROWS > 4) { _ = store_out_row(k, c, 4, rows[4]); }
}

// Fused 2x2 stride-2 average pooling of output rows r, r+1 (ya, yb) into
// pooled (B, Cout, OH/2, OW/2): each window summed in row-major order, then
// scaled, as avg_pool_forward does.
fn store_pooled_rows(k: Block, c: i32, r: i32, ya: Pair, yb: Pair) {
  let PH = params.dst_height / 2;
  let PW = params.dst_width / 2;
  let ph = (k.oh0 + r) / 2;
  if (!k.stores || k.d0 + c >= params.dst_channels || ph >= PH) { return; }
  let pw = k.ow0 / 2;
  let at = ((k.b * params.dst_channels + k.d0 + c) * PH + ph) * PW + pw;
  let p = vec4f(ya.l.x + ya.l.y + yb.l.x + yb.l.y, ya.l.z + ya.l.w + yb.l.z + yb.l.w,
                ya.r.x + ya.r.y + yb.r.x + yb.r.y, ya.r.z + ya.r.w + yb.r.z + yb.r.w) * 0.25;
  if (pw < PW) { pooled[at] = p.x; }
  if (pw + 1 < PW) { pooled[at + 1] = p.y; }
  if (COLS > 4) {
    if (pw + 2 < PW) { pooled[at + 2] = p.z; }
    if (pw + 3 < PW) { pooled[at + 3] = p.w; }
  }
}

// store_out, then the pooled rows (ROWS is even here: 2 or 4).
fn store_out_pooled(k: Block, c: i32, rows: Rows) {
  let y0 = store_out_row(k, c, 0, rows[0]);
  let y1 = store_out_row(k, c, 1, rows[1]);
  store_pooled_rows(k, c, 0, y0, y1);
  if (ROWS > 3) {
    let y2 = store_out_row(k, c, 2, rows[2]);
    let y3 = store_out_row(k, c, 3, rows[3]);
    store_pooled_rows(k, c, 2, y2, y3);
  }
}

// The derivative of the activation below at inp[at..at+3] (ones when none is fused).
fn below_grad4(at: i32) -> vec4f {
  if (ACTIVATION == 0u) { return vec4f(1.0); }
  return vec4f(activation_grad_from_output(inp[at], ACTIVATION), activation_grad_from_output(inp[at + 1], ACTIVATION),
               activation_grad_from_output(inp[at + 2], ACTIVATION), activation_grad_from_output(inp[at + 3], ACTIVATION));
}

// dinp[at + j] = v[j] * act'(y) for the columns ow .. ow+3 inside the tensor.
fn store4_dinp(at: i32, ow: i32, sum: vec4f) {
  let W = params.dst_width;
  let v = sum * below_grad4(at);
  if (ow < W) { dinp[at] = v.x; }
  if (ow + 1 < W) { dinp[at + 1] = v.y; }
  if (ow + 2 < W) { dinp[at + 2] = v.z; }
  if (ow + 3 < W) { dinp[at + 3] = v.w; }
}

fn store_dinp_row(k: Block, c: i32, r: i32, sum: Pair) {
  if (!k.stores || k.d0 + c >= params.dst_channels || k.oh0 + r >= params.dst_height) { return; }
  let at = dst_index(k, c, r);
  store4_dinp(at, k.ow0, sum.l);
  if (COLS > 4) { store4_dinp(at + 4, k.ow0 + 4, sum.r); }
}

fn store_dinp(k: Block, c: i32, rows: Rows) {
  store_dinp_row(k, c, 0, rows[0]);
  if (ROWS > 1) { store_dinp_row(k, c, 1, rows[1]); }
  if (ROWS > 2) { store_dinp_row(k, c, 2, rows[2]); }
  if (ROWS > 3) { store_dinp_row(k, c, 3, rows[3]); }
  if (ROWS > 4) { store_dinp_row(k, c, 4, rows[4]); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_forward_window(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  if (SHARED_WEIGHTS) { init_tap_offsets(lid); }
  let k = block_of(item);
  let acc = accumulate_block(k, true);
  store_out(k, 0, acc[0]);
  if (CH_BLOCK > 1) { store_out(k, 1, acc[1]); }
  if (CH_BLOCK > 2) { store_out(k, 2, acc[2]); }
  if (CH_BLOCK > 3) { store_out(k, 3, acc[3]); }
  if (CH_BLOCK > 4) { store_out(k, 4, acc[4]); }
  if (CH_BLOCK > 5) { store_out(k, 5, acc[5]); }
  if (CH_BLOCK > 6) { store_out(k, 6, acc[6]); }
  if (CH_BLOCK > 7) { store_out(k, 7, acc[7]); }
}

// The forward pass with a 2x2 stride-2 average pooling fused into its store
// (even output height and width, even ROWS): writes out and pooled.
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_forward_window_pooled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  if (SHARED_WEIGHTS) { init_tap_offsets(lid); }
  let k = block_of(item);
  let acc = accumulate_block(k, true);
  store_out_pooled(k, 0, acc[0]);
  if (CH_BLOCK > 1) { store_out_pooled(k, 1, acc[1]); }
  if (CH_BLOCK > 2) { store_out_pooled(k, 2, acc[2]); }
  if (CH_BLOCK > 3) { store_out_pooled(k, 3, acc[3]); }
  if (CH_BLOCK > 4) { store_out_pooled(k, 4, acc[4]); }
  if (CH_BLOCK > 5) { store_out_pooled(k, 5, acc[5]); }
  if (CH_BLOCK > 6) { store_out_pooled(k, 6, acc[6]); }
  if (CH_BLOCK > 7) { store_out_pooled(k, 7, acc[7]); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_input_window(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  if (SHARED_WEIGHTS) { init_tap_offsets(lid); }
  let k = block_of(item);
  let acc = accumulate_block(k, false);
  store_dinp(k, 0, acc[0]);
  if (CH_BLOCK > 1) { store_dinp(k, 1, acc[1]); }
  if (CH_BLOCK > 2) { store_dinp(k, 2, acc[2]); }
  if (CH_BLOCK > 3) { store_dinp(k, 3, acc[3]); }
  if (CH_BLOCK > 4) { store_dinp(k, 4, acc[4]); }
  if (CH_BLOCK > 5) { store_dinp(k, 5, acc[5]); }
  if (CH_BLOCK > 6) { store_dinp(k, 6, acc[6]); }
  if (CH_BLOCK > 7) { store_dinp(k, 7, acc[7]); }
}

// ---------------------------------------------------------------- weight gradient

// One (output channel, input channel) pair's KH x KW accumulators, a KernelRow per kernel row.
alias Taps = array<KernelRow, 5>;

// o + the dot product of one dout row (COLS values) with a tile row shifted by kw.
fn dot_kw0(o: f32, d: Pair, s: Span) -> f32 {
  var v = o + d.l.x * s.a.x;
  v += d.l.y * s.a.y;
  v += d.l.z * s.a.z;
  v += d.l.w * s.a.w;
  if (COLS > 4) {
    v += d.r.x * s.b.x;
    v += d.r.y * s.b.y;
    v += d.r.z * s.b.z;
    v += d.r.w * s.b.w;
  }
  return v;
}
fn dot_kw1(o: f32, d: Pair, s: Span) -> f32 {
  var v = o + d.l.x * s.a.y;
  v += d.l.y * s.a.z;
  v += d.l.z * s.a.w;
  v += d.l.w * s.b.x;
  if (COLS > 4) {
    v += d.r.x * s.b.y;
    v += d.r.y * s.b.z;
    v += d.r.z * s.b.w;
    v += d.r.w * s.c.x;
  }
  return v;
}
fn dot_kw2(o: f32, d: Pair, s: Span) -> f32 {
  var v = o + d.l.x * s.a.z;
  v += d.l.y * s.a.w;
  v += d.l.z * s.b.x;
  v += d.l.w * s.b.y;
  if (COLS > 4) {
    v += d.r.x * s.b.z;
    v += d.r.y * s.b.w;
    v += d.r.z * s.c.x;
    v += d.r.w * s.c.y;
  }
  return v;
}
fn dot_kw3(o: f32, d: Pair, s: Span) -> f32 {
  var v = o + d.l.x * s.a.w;
  v += d.l.y * s.b.x;
  v += d.l.z * s.b.y;
  v += d.l.w * s.b.z;
  if (COLS > 4) {
    v += d.r.x * s.b.w;
    v += d.r.y * s.c.x;
    v += d.r.z * s.c.y;
    v += d.r.w * s.c.z;
  }
  return v;
}
fn dot_kw4(o: f32, d: Pair, s: Span) -> f32 {
  var v = o + d.l.x * s.b.x;
  v += d.l.y * s.b.y;
  v += d.l.z * s.b.z;
  v += d.l.w * s.b.w;
  if (COLS > 4) {
    v += d.r.x * s.c.x;
    v += d.r.y * s.c.y;
    v += d.r.z * s.c.z;
    v += d.r.w * s.c.w;
  }
  return v;
}

// Tap (kh, kw) over the whole tile: the chain over its ROWS dout rows against tile rows r + kh.
fn tap_kw0(o: f32, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> f32 {
  var v = dot_kw0(o, d[0], x0);
  if (ROWS > 1) { v = dot_kw0(v, d[1], x1); }
  if (ROWS > 2) { v = dot_kw0(v, d[2], x2); }
  if (ROWS > 3) { v = dot_kw0(v, d[3], x3); }
  if (ROWS > 4) { v = dot_kw0(v, d[4], x4); }
  return v;
}
fn tap_kw1(o: f32, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> f32 {
  var v = dot_kw1(o, d[0], x0);
  if (ROWS > 1) { v = dot_kw1(v, d[1], x1); }
  if (ROWS > 2) { v = dot_kw1(v, d[2], x2); }
  if (ROWS > 3) { v = dot_kw1(v, d[3], x3); }
  if (ROWS > 4) { v = dot_kw1(v, d[4], x4); }
  return v;
}
fn tap_kw2(o: f32, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> f32 {
  var v = dot_kw2(o, d[0], x0);
  if (ROWS > 1) { v = dot_kw2(v, d[1], x1); }
  if (ROWS > 2) { v = dot_kw2(v, d[2], x2); }
  if (ROWS > 3) { v = dot_kw2(v, d[3], x3); }
  if (ROWS > 4) { v = dot_kw2(v, d[4], x4); }
  return v;
}
fn tap_kw3(o: f32, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> f32 {
  var v = dot_kw3(o, d[0], x0);
  if (ROWS > 1) { v = dot_kw3(v, d[1], x1); }
  if (ROWS > 2) { v = dot_kw3(v, d[2], x2); }
  if (ROWS > 3) { v = dot_kw3(v, d[3], x3); }
  if (ROWS > 4) { v = dot_kw3(v, d[4], x4); }
  return v;
}
fn tap_kw4(o: f32, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> f32 {
  var v = dot_kw4(o, d[0], x0);
  if (ROWS > 1) { v = dot_kw4(v, d[1], x1); }
  if (ROWS > 2) { v = dot_kw4(v, d[2], x2); }
  if (ROWS > 3) { v = dot_kw4(v, d[3], x3); }
  if (ROWS > 4) { v = dot_kw4(v, d[4], x4); }
  return v;
}

// One kernel row kh of the taps, from tile rows x0.. = x[kh]...
fn tap_kernel_row(t: KernelRow, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> KernelRow {
  var a = t;
  a.w.x = tap_kw0(a.w.x, d, x0, x1, x2, x3, x4);
  if (KW > 1) { a.w.y = tap_kw1(a.w.y, d, x0, x1, x2, x3, x4); }
  if (KW > 2) { a.w.z = tap_kw2(a.w.z, d, x0, x1, x2, x3, x4); }
  if (KW > 3) { a.w.w = tap_kw3(a.w.w, d, x0, x1, x2, x3, x4); }
  if (KW > 4) { a.w4 = tap_kw4(a.w4, d, x0, x1, x2, x3, x4); }
  return a;
}

// taps += the tile's products: dout rows d[r] against tile rows r + kh, for every tap.
fn tap_channel(taps: Taps, d: Rows, x: Tile) -> Taps {
  var t = taps;
  t[0] = tap_kernel_row(t[0], d, x[0], x[1], x[2], x[3], x[4]);
  if (KH > 1) { t[1] = tap_kernel_row(t[1], d, x[1], x[2], x[3], x[4], x[5]); }
  if (KH > 2) { t[2] = tap_kernel_row(t[2], d, x[2], x[3], x[4], x[5], x[6]); }
  if (KH > 3) { t[3] = tap_kernel_row(t[3], d, x[3], x[4], x[5], x[6], x[7]); }
  if (KH > 4) { t[4] = tap_kernel_row(t[4], d, x[4], x[5], x[6], x[7], x[8]); }
  return t;
}

// The ROWS x COLS dout tile of one channel starting at `at` (row oh0, column ow0), zero outside.
fn dout_rows(at: i32, oh0: i32, ok_l: vec4<bool>, ok_r: vec4<bool>) -> Rows {
  let OW = params.dst_width;
  let OH = params.dst_height;
  var d: Rows;
  d[0] = dout_pair(at, oh0 < OH, ok_l, ok_r);
  if (ROWS > 1) { d[1] = dout_pair(at + 1 * OW, oh0 + 1 < OH, ok_l, ok_r); }
  if (ROWS > 2) { d[2] = dout_pair(at + 2 * OW, oh0 + 2 < OH, ok_l, ok_r); }
  if (ROWS > 3) { d[3] = dout_pair(at + 3 * OW, oh0 + 3 < OH, ok_l, ok_r); }
  if (ROWS > 4) { d[4] = dout_pair(at + 4 * OW, oh0 + 4 < OH, ok_l, ok_r); }
  return d;
}

fn dout_pair(at: i32, row_ok: bool, ok_l: vec4<bool>, ok_r: vec4<bool>) -> Pair {
  let ok = vec4<bool>(row_ok);
  var p = Pair(dout4(at, ok_l & ok), vec4f(0.0));
  if (COLS > 4) { p.r = dout4(at + 4, ok_r & ok); }
  return p;
}

fn row_sum(d: Rows) -> vec4f {
  var s = d[0].l + d[0].r;
  if (ROWS > 1) { s += d[1].l + d[1].r; }
  if (ROWS > 2) { s += d[2].l + d[2].r; }
  if (ROWS > 3) { s += d[3].l + d[3].r; }
  if (ROWS > 4) { s += d[4].l + d[4].r; }
  return s;
}

fn store_tap_row(k: KernelRow, at: i32) {
  partials[at] = k.w.x;
  if (KW > 1) { partials[at + 1] = k.w.y; }
  if (KW > 2) { partials[at + 2] = k.w.z; }
  if (KW > 3) { partials[at + 3] = k.w.w; }
  if (KW > 4) { partials[at + 4] = k.w4; }
}

// One chunk's partial sums of kernel (o, c) and, from input channel 0, of bias o.
fn store_taps(t: Taps, bias_sum: vec4f, chunk: i32, o: i32, c: i32) {
  let Cout = params.dst_channels;
  if (o >= Cout) { return; }
  let K = params.src_channels * KH * KW;
  let base = chunk * (Cout * K + Cout);
  let at = base + o * K + c * KH * KW;
  store_tap_row(t[0], at);
  if (KH > 1) { store_tap_row(t[1], at + KW); }
  if (KH > 2) { store_tap_row(t[2], at + 2 * KW); }
  if (KH > 3) { store_tap_row(t[3], at + 3 * KW); }
  if (KH > 4) { store_tap_row(t[4], at + 4 * KW); }
  if (c == 0) { partials[base + Cout * K + o] = bias_sum.x + bias_sum.y + bias_sum.z + bias_sum.w; }
}

// A weight-gradient invocation's place and sums: output channels o0..o0+3,
// input channel c, chunk `chunk`; t* are the kernels' sums, s* dout's (bias).
struct WeightBlock {
  chunk: i32,
  c: i32,
  o0: i32,
}

struct WeightAcc {
  t0: Taps, t1: Taps, t2: Taps, t3: Taps,
  s0: vec4f, s1: vec4f, s2: vec4f, s3: vec4f,
}

// item = (ch_block * Cin + c) * chunk_count + chunk.
fn weight_block(item: i32) -> WeightBlock {
  let chunks = params.chunk_count;
  let t = item / chunks;
  let Cin = params.src_channels;
  return WeightBlock(item - t * chunks, t % Cin, (t / Cin) * CH_BLOCK);
}

// Adds one tile: the input tile x of channel c against the dout tiles g* of the block's channels.
fn add_tile(acc: WeightAcc, x: Tile, g0: Rows, g1: Rows, g2: Rows, g3: Rows) -> WeightAcc {
  var a = acc;
  a.t0 = tap_channel(a.t0, g0, x); a.s0 += row_sum(g0);
  if (CH_BLOCK > 1) { a.t1 = tap_channel(a.t1, g1, x); a.s1 += row_sum(g1); }
  if (CH_BLOCK > 2) { a.t2 = tap_channel(a.t2, g2, x); a.s2 += row_sum(g2); }
  if (CH_BLOCK > 3) { a.t3 = tap_channel(a.t3, g3, x); a.s3 += row_sum(g3); }
  return a;
}

fn store_weight_acc(a: WeightAcc, k: WeightBlock) {
  store_taps(a.t0, a.s0, k.chunk, k.o0, k.c);
  if (CH_BLOCK > 1) { store_taps(a.t1, a.s1, k.chunk, k.o0 + 1, k.c); }
  if (CH_BLOCK > 2) { store_taps(a.t2, a.s2, k.chunk, k.o0 + 2, k.c); }
  if (CH_BLOCK > 3) { store_taps(a.t3, a.s3, k.chunk, k.o0 + 3, k.c); }
}

// Element (b, o, 0, 0) of a (B, Cout, rows, cols) tensor is b * Cout * rows * cols + o * rows * cols;
// the block's channels past the last re-read it (computed, never stored).
fn channel_offset(o: i32, plane: i32) -> i32 {
  return min(o, params.dst_channels - 1) * plane;
}

// The input tile of tile row tr, column ow0: rows oh0 - pad_top.., columns ow0 - pad_left...
fn weight_input_tile(k: WeightBlock, b: i32, oh0: i32, ow0: i32) -> Tile {
  let H = params.src_height;
  let W = params.src_width;
  let ih0 = oh0 - params.pad_top;
  let iw0 = ow0 - params.pad_left;
  return inp_tile(tile_geometry((b * params.src_channels + k.c) * H * W + ih0 * W + iw0, ih0, iw0, H, W));
}

// conv2d_backward_weight_window: CH_BLOCK (1..4) output channels x one input
// channel over one chunk of tile rows, item = (ch_block * Cin + c) * chunk_count + chunk.
// Here src is the forward input (inp) and dst the forward output (dout).
@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_weight_window(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  let k = weight_block(item);
  let OH = params.dst_height;
  let OW = params.dst_width;
  let plane = OH * OW;
  let d0 = channel_offset(k.o0, plane);
  let d1 = channel_offset(k.o0 + 1, plane);
  let d2 = channel_offset(k.o0 + 2, plane);
  let d3 = channel_offset(k.o0 + 3, plane);
  let row_blocks = params.row_blocks;
  let tr_end = min((k.chunk + 1) * params.chunk_rows, params.batch * row_blocks);
  var acc: WeightAcc;
  for (var tr = k.chunk * params.chunk_rows; tr < tr_end; tr++) {
    let b = tr / row_blocks;
    let oh0 = (tr - b * row_blocks) * ROWS;
    let dout_at = b * params.dst_channels * plane + oh0 * OW;
    for (var ow0 = 0; ow0 < OW; ow0 += COLS) {
      let x = weight_input_tile(k, b, oh0, ow0);
      let ok_l = LANES + ow0 < vec4i(OW);
      let ok_r = LANES + ow0 + 4 < vec4i(OW);
      let at = dout_at + ow0;
      var g1: Rows; var g2: Rows; var g3: Rows;
      let g0 = dout_rows(at + d0, oh0, ok_l, ok_r);
      if (CH_BLOCK > 1) { g1 = dout_rows(at + d1, oh0, ok_l, ok_r); }
      if (CH_BLOCK > 2) { g2 = dout_rows(at + d2, oh0, ok_l, ok_r); }
      if (CH_BLOCK > 3) { g3 = dout_rows(at + d3, oh0, ok_l, ok_r); }
      acc = add_tile(acc, x, g0, g1, g2, g3);
    }
  }
  store_weight_acc(acc, k);
}

// ---------------------------------------------------------------- weight gradient through a pooling
//
// When this layer's output y feeds a 2x2 stride-2 average pooling and nothing
// else needs dL/dy (a first layer: no input gradient), the pooling's backward
// pass is fused into the weight gradient: the dout tile is computed on the fly
// from the pooled gradient dpool (B, Cout, OH/2, OW/2) and y (fwd_out),
//   dout[b,o,oh,ow] = (dpool[b,o,oh/2,ow/2] * 0.25) * act'(y[b,o,oh,ow])   (ACTIVATION: this layer's)
// in avg_pool_backward_disjoint's order of operations, so the sums are those
// of the unfused pair. ROWS is even and tiles start at even columns.

@group(0) @binding(9) var<storage, read> dpool: array<f32>;  // (B, Cout, OH/2, OW/2)
@group(0) @binding(10) var<storage, read> fwd_out: array<f32>;  // (B, Cout, OH, OW), y: this layer's output

fn act_grad4(at: i32) -> vec4f {
  return vec4f(activation_grad_from_output(fwd_out[at], ACTIVATION), activation_grad_from_output(fwd_out[at + 1], ACTIVATION),
               activation_grad_from_output(fwd_out[at + 2], ACTIVATION), activation_grad_from_output(fwd_out[at + 3], ACTIVATION));
}

// Four dout values of one row at y element `at` from the pooled gradient at `p` (covering columns 0-1 and 2-3).
fn pooled4(at: i32, p: i32, ok: vec4<bool>) -> vec4f {
  let d = vec2f(dpool[p], dpool[p + 1]) * 0.25;
  return select(vec4f(0.0), d.xxyy * act_grad4(at), ok);
}

fn pooled_pair(at: i32, p: i32, row_ok: bool, ok_l: vec4<bool>, ok_r: vec4<bool>) -> Pair {
  let ok = vec4<bool>(row_ok);
  var q = Pair(pooled4(at, p, ok_l & ok), vec4f(0.0));
  if (COLS > 4) { q.r = pooled4(at + 4, p + 2, ok_r & ok); }
  return q;
}

// dout_rows from the pooled gradient: y rows at `at` (row oh0), pooled rows at `p` (row oh0 / 2).
fn pooled_rows(at: i32, p: i32, oh0: i32, ok_l: vec4<bool>, ok_r: vec4<bool>) -> Rows {
  let OW = params.dst_width;
  let OH = params.dst_height;
  let PW = OW / 2;
  var d: Rows;
  d[0] = pooled_pair(at, p, oh0 < OH, ok_l, ok_r);
  if (ROWS > 1) { d[1] = pooled_pair(at + 1 * OW, p + 0 * PW, oh0 + 1 < OH, ok_l, ok_r); }
  if (ROWS > 2) { d[2] = pooled_pair(at + 2 * OW, p + 1 * PW, oh0 + 2 < OH, ok_l, ok_r); }
  if (ROWS > 3) { d[3] = pooled_pair(at + 3 * OW, p + 1 * PW, oh0 + 3 < OH, ok_l, ok_r); }
  if (ROWS > 4) { d[4] = pooled_pair(at + 4 * OW, p + 2 * PW, oh0 + 4 < OH, ok_l, ok_r); }
  return d;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn conv2d_backward_weight_window_pooled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = linear_invocation(wid, nwg, lid);
  if (item >= params.work_items) { return; }
  let k = weight_block(item);
  let OH = params.dst_height;
  let OW = params.dst_width;
  let plane = OH * OW;
  let pplane = plane / 4;
  let d0 = channel_offset(k.o0, plane);
  let d1 = channel_offset(k.o0 + 1, plane);
  let d2 = channel_offset(k.o0 + 2, plane);
  let d3 = channel_offset(k.o0 + 3, plane);
  let p0 = channel_offset(k.o0, pplane);
  let p1 = channel_offset(k.o0 + 1, pplane);
  let p2 = channel_offset(k.o0 + 2, pplane);
  let p3 = channel_offset(k.o0 + 3, pplane);
  let row_blocks = params.row_blocks;
  let tr_end = min((k.chunk + 1) * params.chunk_rows, params.batch * row_blocks);
  var acc: WeightAcc;
  for (var tr = k.chunk * params.chunk_rows; tr < tr_end; tr++) {
    let b = tr / row_blocks;
    let oh0 = (tr - b * row_blocks) * ROWS;
    let y_at = b * params.dst_channels * plane + oh0 * OW;
    let p_at = b * params.dst_channels * pplane + (oh0 / 2) * (OW / 2);
    for (var ow0 = 0; ow0 < OW; ow0 += COLS) {
      let x = weight_input_tile(k, b, oh0, ow0);
      let ok_l = LANES + ow0 < vec4i(OW);
      let ok_r = LANES + ow0 + 4 < vec4i(OW);
      let at = y_at + ow0;
      let pt = p_at + ow0 / 2;
      var g1: Rows; var g2: Rows; var g3: Rows;
      let g0 = pooled_rows(at + d0, pt + p0, oh0, ok_l, ok_r);
      if (CH_BLOCK > 1) { g1 = pooled_rows(at + d1, pt + p1, oh0, ok_l, ok_r); }
      if (CH_BLOCK > 2) { g2 = pooled_rows(at + d2, pt + p2, oh0, ok_l, ok_r); }
      if (CH_BLOCK > 3) { g3 = pooled_rows(at + d3, pt + p3, oh0, ok_l, ok_r); }
      acc = add_tile(acc, x, g0, g1, g2, g3);
    }
  }
  store_weight_acc(acc, k);
}
