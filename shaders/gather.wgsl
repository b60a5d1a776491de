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
// gather_batch (image_size a multiple of 4, as MNIST's 784): one invocation
// per pixel word: one u32 load unpacked into a vec4, one vec4 store through
// images4 (the images buffer viewed as array<vec4f>).
// gather_batch_unaligned (any image_size): one invocation per quad of 4
// consecutive pixels of an image (ceil(image_size / 4) per image), read byte
// by byte since a quad may straddle two words, stored as scalars.
// In both, the invocation of an image's first word/quad also copies its label.
// The grid may be folded into 2D, so the invocation index is linearised from
// workgroup id and count.
// Guards, so no input can make it read out of bounds: the cursor wraps modulo
// steps = index_count / batch, and a sample index past the data set is clamped
// to its last sample. The index PAD_INDEX (0xffffffff) marks a padding slot
// (an evaluation's last partial batch): it gathers a zero image and the label
// PAD_INDEX, which softmax_xent counts nowhere.
//
// advance_cursor: one invocation, cursor += 1. The graph records it after the
// step, so the next step's gather reads the next batch.

override WORKGROUP_SIZE: u32 = 256u;

const PAD_INDEX: u32 = 0xffffffffu;

struct GatherParams {
  batch: u32,
  image_size: u32,
  dataset_count: u32,
  index_count: u32,
}

@group(0) @binding(0) var<storage, read> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(8) var<uniform> params: GatherParams;
// The cursor as gather_batch reads it; advance_cursor binds it writable below.
@group(0) @binding(3) var<storage, read> cursor_in: u32;
@group(0) @binding(4) var<storage, read_write> images: array<f32>;
@group(0) @binding(5) var<storage, read_write> batch_labels: array<u32>;

fn pixel_byte(address: u32) -> u32 {
  return extractBits(pixels[address >> 2u], (address & 3u) * 8u, 8u);
}

fn label_byte(address: u32) -> u32 {
  return extractBits(labels[address >> 2u], (address & 3u) * 8u, 8u);
}

fn invocation_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
}

// The data-set sample at position b of the cursor's batch (or PAD_INDEX);
// writes its label once.
fn batch_sample(b: u32, copy_label: bool) -> u32 {
  let steps = params.index_count / params.batch;
  let position = (cursor_in % steps) * params.batch + b;
  let index = indices[position];
  if (index == PAD_INDEX) {
    if (copy_label) { batch_labels[b] = PAD_INDEX; }
    return PAD_INDEX;
  }
  let sample = min(index, params.dataset_count - 1u);
  if (copy_label) { batch_labels[b] = label_byte(sample); }
  return sample;
}

fn unpack_pixels(word: u32) -> vec4f {
  return vec4f(vec4u(word, word >> 8u, word >> 16u, word >> 24u) & vec4u(255u)) / 255.0;
}

@group(0) @binding(7) var<storage, read_write> images4: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_batch(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wid, nwg, lid);
  let words = params.image_size / 4u;
  if (i >= params.batch * words) { return; }
  let b = i / words;
  let w = i - b * words;
  let sample = batch_sample(b, w == 0u);
  if (sample == PAD_INDEX) {
    images4[i] = vec4f(0.0);
    return;
  }
  images4[i] = unpack_pixels(pixels[sample * words + w]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_batch_unaligned(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wid, nwg, lid);
  let quads = (params.image_size + 3u) / 4u;
  if (i >= params.batch * quads) { return; }
  let b = i / quads;
  let first = (i - b * quads) * 4u;
  let sample = batch_sample(b, first == 0u);
  let dst = b * params.image_size + first;
  let src = sample * params.image_size + first;
  for (var k = 0u; k < 4u && first + k < params.image_size; k++) {
    if (sample == PAD_INDEX) {
      images[dst + k] = 0.0;
    } else {
      images[dst + k] = f32(pixel_byte(src + k)) / 255.0;
    }
  }
}

@group(0) @binding(6) var<storage, read_write> cursor: u32;

@compute @workgroup_size(1)
fn advance_cursor() {
  cursor = cursor + 1u;
}
