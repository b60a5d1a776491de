// Elementwise activations, for where they are not fused into conv2d, dense or
// pooling kernels.
//
// activation_forward:  out[i] = act(inp[i])
// activation_backward: dinp[i] = dout[i] * act'(out[i])   (overwrites dinp)
//
// Each invocation handles four consecutive elements, written out lane by lane
// rather than looped: on a CPU adapter (SwiftShader) an invocation and a loop
// iteration each cost more than the arithmetic, so fewer, fuller invocations
// win. The last invocation guards the elements past `count`. The grid may be
// folded into 2D for large tensors, so the invocation index is linearised
// from workgroup id and count.

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 256u;

struct ActivationParams {
  count: u32,
}

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: ActivationParams;

// Index of this invocation's first element, or `count` (nothing to do) past the end.
fn first_element(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return min(((wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid) * 4u, params.count);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn activation_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = first_element(wid, nwg, lid);
  let n = params.count;
  if (i >= n) { return; }
  out[i] = activate(inp[i], ACTIVATION);
  if (i + 1u < n) { out[i + 1u] = activate(inp[i + 1u], ACTIVATION); }
  if (i + 2u < n) { out[i + 2u] = activate(inp[i + 2u], ACTIVATION); }
  if (i + 3u < n) { out[i + 3u] = activate(inp[i + 3u], ACTIVATION); }
}

// Backward bindings: `inp` is dout, `fwd_out` the forward output, `out` dinp.
@group(0) @binding(1) var<storage, read> fwd_out: array<f32>;

fn backward_element(i: u32) -> f32 {
  return inp[i] * activation_grad_from_output(fwd_out[i], ACTIVATION);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn activation_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = first_element(wid, nwg, lid);
  let n = params.count;
  if (i >= n) { return; }
  out[i] = backward_element(i);
  if (i + 1u < n) { out[i + 1u] = backward_element(i + 1u); }
  if (i + 2u < n) { out[i + 2u] = backward_element(i + 2u); }
  if (i + 3u < n) { out[i + 3u] = backward_element(i + 3u); }
}
