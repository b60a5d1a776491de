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

override WORKGROUP_SIZE: u32 = 64u;

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

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>; // (B, C, H, W)
@group(0) @binding(2) var<storage, read> dout: array<f32>; // (B, C, OH, OW)
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // (B, C, OH, OW)
@group(0) @binding(4) var<storage, read_write> dinp: array<f32>; // (B, C, H, W)

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

fn store_out(o: vec3u, value: vec4f) {
  let row = (o.x * params.out_height + o.y) * params.out_width;
  for (var j = 0u; j < SEGMENT; j++) {
    if (o.z + j < params.out_width) { out[row + o.z + j] = value[j]; }
  }
}

fn store_dinp(p: vec3u, value: vec4f) {
  let row = (p.x * params.in_height + p.y) * params.in_width;
  for (var j = 0u; j < SEGMENT; j++) {
    if (p.z + j < params.in_width) { dinp[row + p.z + j] = value[j]; }
  }
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
