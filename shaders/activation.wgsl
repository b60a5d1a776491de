// Elementwise activations, for where they are not fused into conv2d/dense.
// One invocation per element; the grid may be folded into 2D for large
// tensors, so the element index is linearised from workgroup id and count.
//
// activation_forward:  out[i] = act(inp[i])
// activation_backward: dinp[i] = dout[i] * act'(out[i])   (overwrites dinp)

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 256u;

struct ActivationParams {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: ActivationParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn activation_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  out[i] = activate(inp[i], ACTIVATION);
}

// Backward bindings: `inp` is dout, `fwd_out` the forward output, `out` dinp.
@group(0) @binding(3) var<storage, read> fwd_out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn activation_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  out[i] = inp[i] * activation_grad_from_output(fwd_out[i], ACTIVATION);
}
