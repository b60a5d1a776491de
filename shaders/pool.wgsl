// 2-D average and max pooling, forward and backward.
//
// Layout: inp/dinp (B, C, H, W), out/dout (B, C, OH, OW), NCHW; a "plane"
// is one (b, c) image. Pooling is 'valid' (windows never leave the input):
// window (oh, ow) covers rows oh*stride_h .. + window_h - 1 and columns
// ow*stride_w .. + window_w - 1. Windows may overlap (stride < window) or
// leave gaps (stride > window).
//
// Each invocation writes a segment of 4 consecutive elements of one row of
// its output (the last segment of a row may be shorter), as the four lanes
// of a vec4f: the forward kernels segments of out, the backward kernels
// segments of dinp. No workgroup memory. Segments are numbered row-major
// over all rows of all planes, `count` of them, and the grid may be folded
// into 2D, so the segment index is linearised from workgroup_id and
// num_workgroups (as in activation.wgsl). Lanes past the end of a row load
// from clamped indices and are never stored.
//
// The backward kernels are in gather form: input row h is covered by the
// windows with ceil((h + 1 - window_h) / stride_h) <= oh <= floor(h / stride_h)
// (clamped to 0 .. OH-1), and a segment's columns likewise by a range of ow.
// Each element sums, over the windows that cover it in row-major window
// order, what each sends it:
//   avg: dout[oh, ow] / (window_h * window_w)
//   max: dout[oh, ow] if the element is the window's argmax, else nothing.
// The argmax is recomputed from inp (the forward pass stores nothing): the
// FIRST maximal element in row-major window order (a strict `>` scan), the
// same rule as the CPU reference, so ties have one winner. Gather form needs
// no atomics and is deterministic even with overlapping windows; each
// element's additions happen in the CPU reference's order.
// The backward kernels OVERWRITE dinp (elements no window covers get 0).
//
// Fused activation derivative: the backward kernels can multiply each dinp
// element by the derivative of the activation of the layer below (override
// ACTIVATION; that layer's output is this layer's inp), so they write
// dL/d(that layer's pre-activation) and the graph needs no separate
// activation_backward dispatch.
//
// avg_pool_backward_disjoint: the common case of windows that never overlap
// (stride >= window on both axes, e.g. 2x2 stride 2) needs no search for the
// covering windows: element (h, w) lies in window (h / stride_h, w / stride_w)
// if its offsets in that window are below the window size, and in no window
// otherwise. Quotients come from a float reciprocal with an exact integer
// correction (integer division is a scalar loop on CPU adapters).

override WORKGROUP_SIZE: u32 = 64u;
// Backward kernels: the activation whose derivative is fused (0: none).
override ACTIVATION: u32 = 0u;

const SEGMENT: u32 = 4u; // elements per invocation: the lanes of a vec4f
const LANES = vec4u(0u, 1u, 2u, 3u);

struct PoolParams {
  count: u32,
  in_height: u32,
  in_width: u32,
  window_h: u32,
  window_w: u32,
  stride_h: u32,
  stride_w: u32,
  out_height: u32,
  out_width: u32,
}

@group(0) @binding(0) var<storage, read> inp: array<f32>; // (B, C, H, W)
@group(0) @binding(1) var<storage, read> dout: array<f32>; // (B, C, OH, OW)
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // (B, C, OH, OW)
@group(0) @binding(3) var<storage, read_write> dinp: array<f32>; // (B, C, H, W)
@group(0) @binding(4) var<uniform> params: PoolParams;

fn segment_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
}

// Segment `s` of an image of `height` x `width` planes: (plane, row, first column).
fn segment_coords(s: u32, height: u32, width: u32) -> vec3u {
  let per_row = (width + SEGMENT - 1u) / SEGMENT;
  let row = s / per_row;
  return vec3u(row / height, row % height, s % per_row * SEGMENT);
}

// Flat index into inp of the first element of window (oh, ow) of the plane
// starting at `plane`.
fn window_start(plane: u32, oh: u32, ow: u32) -> u32 {
  return plane + oh * params.stride_h * params.in_width + ow * params.stride_w;
}

// Flat index into inp of the first maximal element of the window starting at
// `start`, scanning rows then columns with a strict `>`.
fn window_argmax(start: u32) -> u32 {
  var best = start;
  var best_value = inp[start];
  for (var kh = 0u; kh < params.window_h; kh++) {
    let row = start + kh * params.in_width;
    for (var kw = 0u; kw < params.window_w; kw++) {
      // select, not if: no divergent branch for the lanes to wait on.
      let value = inp[row + kw];
      let better = value > best_value;
      best = select(best, row + kw, better);
      best_value = select(best_value, value, better);
    }
  }
  return best;
}

// The windows along one axis that cover input positions first..last:
// (first window, last window); empty (x > y) when they all fall in a gap.
fn covering(first: u32, last: u32, window: u32, stride: u32, windows: u32) -> vec2u {
  let lo = select(0u, (first + 1u - window + stride - 1u) / stride, first + 1u > window);
  return vec2u(lo, min(last / stride, windows - 1u));
}

// Forward: the (clamped) flat inp index where each lane's window starts.
fn lane_window_starts(o: vec3u) -> vec4u {
  let ow = min(vec4u(o.z) + LANES, vec4u(params.out_width - 1u));
  let plane = o.x * params.in_height * params.in_width;
  return vec4u(plane + o.y * params.stride_h * params.in_width) + ow * params.stride_w;
}

fn inp4(at: vec4u) -> vec4f {
  return vec4f(inp[at.x], inp[at.y], inp[at.z], inp[at.w]);
}

// Stores are written out lane by lane, not looped: a loop iteration costs
// more than a store on a CPU adapter.
fn store_out(o: vec3u, value: vec4f) {
  let W = params.out_width;
  let at = (o.x * params.out_height + o.y) * W + o.z;
  out[at] = value.x;
  if (o.z + 1u < W) { out[at + 1u] = value.y; }
  if (o.z + 2u < W) { out[at + 2u] = value.z; }
  if (o.z + 3u < W) { out[at + 3u] = value.w; }
}

fn store_dinp(p: vec3u, sum: vec4f) {
  let W = params.in_width;
  let at = (p.x * params.in_height + p.y) * W + p.z;
  let value = sum * below_grad4(at);
  dinp[at] = value.x;
  if (p.z + 1u < W) { dinp[at + 1u] = value.y; }
  if (p.z + 2u < W) { dinp[at + 2u] = value.z; }
  if (p.z + 3u < W) { dinp[at + 3u] = value.w; }
}

// The derivative of the activation below at inp[at..at+3] (ones when none is fused).
fn below_grad4(at: u32) -> vec4f {
  if (ACTIVATION == 0u) { return vec4f(1.0); }
  return vec4f(activation_grad_from_output(inp[at], ACTIVATION), activation_grad_from_output(inp[at + 1u], ACTIVATION),
               activation_grad_from_output(inp[at + 2u], ACTIVATION), activation_grad_from_output(inp[at + 3u], ACTIVATION));
}

// x / d for x < 2^24: a float estimate, corrected to the exact quotient.
fn quotient(x: vec4u, d: u32, inv_d: f32) -> vec4u {
  var q = vec4u(vec4f(x) * inv_d);
  q = select(q, q - 1u, q * d > x);
  return select(q, q + 1u, (q + 1u) * d <= x);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_pool_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = segment_index(wid, nwg, lid);
  if (s >= params.count) { return; }
  let o = segment_coords(s, params.out_height, params.out_width);
  let starts = lane_window_starts(o);
  var sum = vec4f(0.0);
  for (var kh = 0u; kh < params.window_h; kh++) {
    let row = starts + vec4u(kh * params.in_width);
    for (var kw = 0u; kw < params.window_w; kw++) { sum += inp4(row + vec4u(kw)); }
  }
  store_out(o, sum * (1.0 / f32(params.window_h * params.window_w)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_pool_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = segment_index(wid, nwg, lid);
  if (s >= params.count) { return; }
  let o = segment_coords(s, params.out_height, params.out_width);
  let starts = lane_window_starts(o);
  // Lane by lane the same strict `>` scan as window_argmax.
  var best = inp4(starts);
  for (var kh = 0u; kh < params.window_h; kh++) {
    let row = starts + vec4u(kh * params.in_width);
    for (var kw = 0u; kw < params.window_w; kw++) {
      let value = inp4(row + vec4u(kw));
      best = select(best, value, value > best);
    }
  }
  store_out(o, best);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_pool_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = segment_index(wid, nwg, lid);
  if (s >= params.count) { return; }
  let p = segment_coords(s, params.in_height, params.in_width);
  let columns = vec4u(p.z) + LANES;
  let rows_oh = covering(p.y, p.y, params.window_h, params.stride_h, params.out_height);
  let cols_ow = covering(p.z, min(p.z + SEGMENT - 1u, params.in_width - 1u), params.window_w, params.stride_w, params.out_width);
  let scale = 1.0 / f32(params.window_h * params.window_w);
  let out_plane = p.x * params.out_height * params.out_width;
  var sum = vec4f(0.0);
  for (var oh = rows_oh.x; oh <= rows_oh.y; oh++) {
    for (var ow = cols_ow.x; ow <= cols_ow.y; ow++) {
      let d = dout[out_plane + oh * params.out_width + ow] * scale;
      let first = ow * params.stride_w;
      let inside = (columns >= vec4u(first)) & (columns < vec4u(first + params.window_w));
      sum += select(vec4f(0.0), vec4f(d), inside);
    }
  }
  store_dinp(p, sum);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_pool_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = segment_index(wid, nwg, lid);
  if (s >= params.count) { return; }
  let p = segment_coords(s, params.in_height, params.in_width);
  let rows_oh = covering(p.y, p.y, params.window_h, params.stride_h, params.out_height);
  let cols_ow = covering(p.z, min(p.z + SEGMENT - 1u, params.in_width - 1u), params.window_w, params.stride_w, params.out_width);
  let in_plane = p.x * params.in_height * params.in_width;
  let out_plane = p.x * params.out_height * params.out_width;
  // Lane j is inp[segment + j]; lanes past the row end are never stored.
  let segment = vec4u(in_plane + p.y * params.in_width + p.z) + LANES;
  var sum = vec4f(0.0);
  for (var oh = rows_oh.x; oh <= rows_oh.y; oh++) {
    for (var ow = cols_ow.x; ow <= cols_ow.y; ow++) {
      let winner = window_argmax(window_start(in_plane, oh, ow));
      let d = dout[out_plane + oh * params.out_width + ow];
      sum += select(vec4f(0.0), vec4f(d), segment == vec4u(winner));
    }
  }
  store_dinp(p, sum);
}

// Windows that never overlap (stride >= window): each element takes at most
// one window's gradient, found by division instead of a search.
@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_pool_backward_disjoint(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = segment_index(wid, nwg, lid);
  if (s >= params.count) { return; }
  let W = params.in_width;
  let per_row = (W + SEGMENT - 1u) / SEGMENT;
  let rows = quotient(vec4u(s), per_row, 1.0 / f32(per_row)).x;  // row over all planes
  let plane = quotient(vec4u(rows), params.in_height, 1.0 / f32(params.in_height)).x;
  let h = rows - plane * params.in_height;
  let w = vec4u((s - rows * per_row) * SEGMENT) + LANES;
  let oh = quotient(vec4u(h), params.stride_h, 1.0 / f32(params.stride_h)).x;
  let ow = quotient(w, params.stride_w, 1.0 / f32(params.stride_w));
  let row_in = h - oh * params.stride_h < params.window_h && oh < params.out_height;
  let inside = (w - ow * params.stride_w < vec4u(params.window_w)) & (ow < vec4u(params.out_width)) & vec4<bool>(row_in);
  let at = vec4u((plane * params.out_height + min(oh, params.out_height - 1u)) * params.out_width) + min(ow, vec4u(params.out_width - 1u));
  let d = vec4f(dout[at.x], dout[at.y], dout[at.z], dout[at.w]) * (1.0 / f32(params.window_h * params.window_w));
  store_dinp(vec3u(plane, h, w.x), select(vec4f(0.0), d, inside));
}
