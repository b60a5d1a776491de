// Batch gather: the first kernel of every training step, so a step needs no
// upload. The whole data set lives on the GPU as bytes; each epoch the CPU
// uploads one index buffer (the shuffled order) and zeroes the cursor.
//
// Layout:
//   pixels        (count * image_size) u8, packed 4 per u32 word little-endian:
//                 byte k of the data set is bits 8*(k%4) .. 8*(k%4)+7 of word
//                 k/4 (the buffer is padded to whole words). Image-major, then
//                 row-major (NCHW with C = 1), as the IDX file stores them.
//   labels        (count) u8, packed the same way.
//   indices       (index_count) u32, index_count = steps * batch: the epoch's
//                 sample order (a last partial batch is filled by wrapping to
//                 the start of the order on the CPU).
//   cursor        u32: the batch number within the epoch.
//   images        (B, image_size) f32 = pixel / 255.
//   batch_labels  (B) u32.
//
// gather_batch: one invocation per quad of 4 consecutive pixels of one image
// (quads_per_image = ceil(image_size / 4)); the invocation of quad 0 also
// copies the label. When the quad starts on a word boundary and is whole (every
// quad of MNIST's 784-byte images) it is one word load unpacked into a vec4;
// otherwise it is read byte by byte. The grid may be folded into 2D, so the
// invocation index is linearised from workgroup id and count.
// Guards, so no input can make it read out of bounds: the cursor wraps modulo
// steps = index_count / batch, and a sample index past the data set is clamped
// to its last sample.
//
// advance_cursor: one invocation, cursor += 1. The graph records it after the
// step, so the next step's gather reads the next batch.

override WORKGROUP_SIZE: u32 = 256u;

struct GatherParams {
  batch: u32,
  image_size: u32,
  dataset_count: u32,
  index_count: u32,
}

@group(0) @binding(0) var<uniform> params: GatherParams;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> indices: array<u32>;
// The cursor as gather_batch reads it; advance_cursor binds it writable below.
@group(0) @binding(4) var<storage, read> cursor_in: u32;
@group(0) @binding(5) var<storage, read_write> images: array<f32>;
@group(0) @binding(6) var<storage, read_write> batch_labels: array<u32>;

fn pixel_byte(address: u32) -> u32 {
  return extractBits(pixels[address >> 2u], (address & 3u) * 8u, 8u);
}

fn label_byte(address: u32) -> u32 {
  return extractBits(labels[address >> 2u], (address & 3u) * 8u, 8u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_batch(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let quads = (params.image_size + 3u) / 4u;
  if (i >= params.batch * quads) { return; }
  let b = i / quads;
  let first = (i - b * quads) * 4u;

  let steps = params.index_count / params.batch;
  let position = (cursor_in % steps) * params.batch + b;
  let sample = min(indices[position], params.dataset_count - 1u);
  if (first == 0u) { batch_labels[b] = label_byte(sample); }

  let src = sample * params.image_size + first;
  let dst = b * params.image_size + first;
  if ((src & 3u) == 0u && first + 4u <= params.image_size) {
    let word = pixels[src >> 2u];
    let quad = vec4f(vec4u(word, word >> 8u, word >> 16u, word >> 24u) & vec4u(255u)) / 255.0;
    images[dst] = quad.x;
    images[dst + 1u] = quad.y;
    images[dst + 2u] = quad.z;
    images[dst + 3u] = quad.w;
  } else {
    for (var k = 0u; k < 4u && first + k < params.image_size; k++) {
      images[dst + k] = f32(pixel_byte(src + k)) / 255.0;
    }
  }
}

@group(0) @binding(7) var<storage, read_write> cursor: u32;

@compute @workgroup_size(1)
fn advance_cursor() {
  cursor = cursor + 1u;
}
