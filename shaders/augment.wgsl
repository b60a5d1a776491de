// On-GPU data augmentation, as LeCun et al. used: each image of the gathered
// batch gets its own small random rotation, scaling and shift, applied as an
// affine resample (bilinear, zero outside the image) from `images` into
// `augmented`. It runs between the batch gather and the forward pass.
//
// Randomness without uploads: a u32 `counter` lives on the GPU;
// augment_advance adds 1 to it once per training step (recorded after the
// step, like the gather cursor), and it never resets, so every step of every
// epoch draws new transforms. Image b of the step draws 4 uniforms
//   key  = hash(seed ^ hash(counter))
//   r_k  = hash(key ^ (4 b + k)),   u_k = (r_k >> 8) / 2^24 in [0, 1),  v_k = 2 u_k - 1
// (hash: the PCG-RXS-M-XS output permutation) and turns them into
//   angle = v_0 * max_rotation (radians), scale = 1 + v_1 * max_scale,
//   shift = (v_2, v_3) * max_shift (pixels; x then y).
// cos and sin are degree-9 Taylor polynomials (|angle| <= pi/4 is enforced on
// the CPU, error < 4e-7) rather than the built-ins, whose accuracy WGSL leaves
// loose (2^-11 absolute), so the CPU reference can follow the same arithmetic.
//
// Geometry, pixel centres at integer coordinates, centre c = ((W-1)/2, (H-1)/2):
// the output pixel p samples the input at
//   q = R(-angle) (p - c - shift) / scale + c
// i.e. the image is scaled and rotated about its centre, then shifted. With
// every maximum 0 the map is the identity, exactly.
//
// Layout: images and augmented (B, C, H, W) f32; every channel of an image
// gets that image's transform. One invocation per output element; the grid
// may be folded into 2D, so the index is linearised from workgroup id and count.

override WORKGROUP_SIZE: u32 = 256u;

struct AugmentParams {
  batch: u32,
  channels: u32,
  height: u32,
  width: u32,
  seed: u32,
  max_rotation: f32,
  max_scale: f32,
  max_shift: f32,
}

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<storage, read> counter_in: u32;
@group(0) @binding(2) var<storage, read_write> augmented: array<f32>;
@group(0) @binding(4) var<uniform> params: AugmentParams;

fn pcg_hash(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in [-1, 1): 24 random bits, exact in f32.
fn signed_unit(r: u32) -> f32 {
  return f32(r >> 8u) * (2.0 / 16777216.0) - 1.0;
}

fn cos_poly(x: f32) -> f32 {
  let x2 = x * x;
  return 1.0 - x2 * (0.5 - x2 * (1.0 / 24.0 - x2 * (1.0 / 720.0 - x2 * (1.0 / 40320.0))));
}

fn sin_poly(x: f32) -> f32 {
  let x2 = x * x;
  return x * (1.0 - x2 * (1.0 / 6.0 - x2 * (1.0 / 120.0 - x2 * (1.0 / 5040.0 - x2 * (1.0 / 362880.0)))));
}

fn pixel(plane: u32, y: i32, x: i32) -> f32 {
  if (x < 0 || y < 0 || x >= i32(params.width) || y >= i32(params.height)) { return 0.0; }
  return images[plane + u32(y) * params.width + u32(x)];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn augment_batch(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let plane_size = params.height * params.width;
  let image_size = params.channels * plane_size;
  if (i >= params.batch * image_size) { return; }
  let b = i / image_size;
  let within = i - b * image_size;
  let channel = within / plane_size;
  let yx = within - channel * plane_size;
  let y = yx / params.width;
  let x = yx - y * params.width;

  let key = pcg_hash(params.seed ^ pcg_hash(counter_in));
  let angle = signed_unit(pcg_hash(key ^ (4u * b))) * params.max_rotation;
  let scale = 1.0 + signed_unit(pcg_hash(key ^ (4u * b + 1u))) * params.max_scale;
  let shift_x = signed_unit(pcg_hash(key ^ (4u * b + 2u))) * params.max_shift;
  let shift_y = signed_unit(pcg_hash(key ^ (4u * b + 3u))) * params.max_shift;
  let a = cos_poly(angle) / scale;
  let s = sin_poly(angle) / scale;

  let cx = f32(params.width - 1u) * 0.5;
  let cy = f32(params.height - 1u) * 0.5;
  let dx = f32(x) - cx - shift_x;
  let dy = f32(y) - cy - shift_y;
  let qx = a * dx + s * dy + cx;
  let qy = a * dy - s * dx + cy;

  let x0 = floor(qx);
  let y0 = floor(qy);
  let fx = qx - x0;
  let fy = qy - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  let plane = b * image_size + channel * plane_size;
  let top = pixel(plane, iy, ix) * (1.0 - fx) + pixel(plane, iy, ix + 1) * fx;
  let bottom = pixel(plane, iy + 1, ix) * (1.0 - fx) + pixel(plane, iy + 1, ix + 1) * fx;
  augmented[i] = top * (1.0 - fy) + bottom * fy;
}

@group(0) @binding(3) var<storage, read_write> counter: u32;

@compute @workgroup_size(1)
fn augment_advance() {
  counter = counter + 1u;
}
