// 2-D average and max pooling, forward and backward.
//
// Layout: inp/dinp (B, C, H, W), out/dout (B, C, OH, OW), NCHW; a "plane"
// is one (b, c) image. Pooling is 'valid' (windows never leave the input):
// window (oh, ow) covers rows oh*stride_h .. + window_h - 1 and columns
// ow*stride_w .. + window_w - 1. Windows may overlap (stride < window) or
// leave gaps (stride > window).
//
// One invocation per element written, no workgroup memory: the forward
// kernels per output element, the backward kernels per INPUT element, in
// gather form. An input element (h, w) is covered by the windows with
//   ceil((h + 1 - window_h) / stride_h) <= oh <= floor(h / stride_h)
// (clamped to 0 .. OH-1), and likewise for ow; its gradient is the sum over
// those windows, in row-major window order, of what each sends it:
//   avg: dout[oh, ow] / (window_h * window_w)
//   max: dout[oh, ow] if (h, w) is the window's argmax, else nothing.
// The argmax is recomputed from inp (nothing is stored by the forward pass):
// the FIRST maximal element in row-major window order (a strict `>` scan),
// the same rule as the CPU reference, so ties have one winner. Gather form
// needs no atomics and is deterministic even with overlapping windows.
// The backward kernels OVERWRITE dinp (elements no window covers get 0).
//
// `count` is the number of elements this dispatch writes; the grid may be
// folded into 2D, so the element index is linearised from workgroup_id and
// num_workgroups (as in activation.wgsl).

override WORKGROUP_SIZE: u32 = 256u;

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

fn element_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
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
      let value = inp[row + kw];
      if (value > best_value) {
        best = row + kw;
        best_value = value;
      }
    }
  }
  return best;
}

// The windows covering input element (h, w): first and last oh in x/y, first
// and last ow in z/w. Empty ranges (first > last) are possible when
// stride > window.
fn covering_windows(h: u32, w: u32) -> vec4u {
  let oh_first = select(0u, (h + 1u - params.window_h + params.stride_h - 1u) / params.stride_h, h + 1u > params.window_h);
  let ow_first = select(0u, (w + 1u - params.window_w + params.stride_w - 1u) / params.stride_w, w + 1u > params.window_w);
  let oh_last = min(h / params.stride_h, params.out_height - 1u);
  let ow_last = min(w / params.stride_w, params.out_width - 1u);
  return vec4u(oh_first, oh_last, ow_first, ow_last);
}

// Plane, row and column of output element i: (plane index, oh, ow).
fn output_coords(i: u32) -> vec3u {
  let per_plane = params.out_height * params.out_width;
  let within = i % per_plane;
  return vec3u(i / per_plane, within / params.out_width, within % params.out_width);
}

// Plane, row and column of input element i: (plane index, h, w).
fn input_coords(i: u32) -> vec3u {
  let per_plane = params.in_height * params.in_width;
  let within = i % per_plane;
  return vec3u(i / per_plane, within / params.in_width, within % params.in_width);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_pool_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element_index(wid, nwg, lid);
  if (i >= params.count) { return; }
  let o = output_coords(i);
  let start = window_start(o.x * params.in_height * params.in_width, o.y, o.z);
  var sum = 0.0;
  for (var kh = 0u; kh < params.window_h; kh++) {
    let row = start + kh * params.in_width;
    for (var kw = 0u; kw < params.window_w; kw++) { sum += inp[row + kw]; }
  }
  out[i] = sum * (1.0 / f32(params.window_h * params.window_w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_pool_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element_index(wid, nwg, lid);
  if (i >= params.count) { return; }
  let o = output_coords(i);
  out[i] = inp[window_argmax(window_start(o.x * params.in_height * params.in_width, o.y, o.z))];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_pool_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element_index(wid, nwg, lid);
  if (i >= params.count) { return; }
  let p = input_coords(i);
  let windows = covering_windows(p.y, p.z);
  let scale = 1.0 / f32(params.window_h * params.window_w);
  let out_plane = p.x * params.out_height * params.out_width;
  var sum = 0.0;
  for (var oh = windows.x; oh <= windows.y; oh++) {
    for (var ow = windows.z; ow <= windows.w; ow++) { sum += dout[out_plane + oh * params.out_width + ow] * scale; }
  }
  dinp[i] = sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_pool_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element_index(wid, nwg, lid);
  if (i >= params.count) { return; }
  let p = input_coords(i);
  let windows = covering_windows(p.y, p.z);
  let in_plane = p.x * params.in_height * params.in_width;
  let out_plane = p.x * params.out_height * params.out_width;
  var sum = 0.0;
  for (var oh = windows.x; oh <= windows.y; oh++) {
    for (var ow = windows.z; ow <= windows.w; ow++) {
      if (window_argmax(window_start(in_plane, oh, ow)) == i) { sum += dout[out_plane + oh * params.out_width + ow]; }
    }
  }
  dinp[i] = sum;
}
