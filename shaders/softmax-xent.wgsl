// Softmax fused with sparse categorical cross-entropy, forward and gradient in
// one pass: the last kernel of the forward list and the first of the backward.
//
// Layout: logits, probs, dlogits (B, classes) row-major; labels (B) u32;
// sample_loss (B) f32; sample_correct (B) u32, 1 when argmax == label else 0
// (u32 so the metrics kernel counts exactly).
//
// One invocation per sample (row), looping over its classes, so any class
// count works and every sum runs in a fixed order (j ascending): results are
// bit-identical run to run. Per row, with m = max_j z_j (its FIRST index is
// the argmax, so ties go to the lowest class):
//   rest     = sum_{j != argmax} exp(z_j - m)          (sum = 1 + rest)
//   probs_j  = exp(z_j - m) / (1 + rest)
//   loss     = log1p(rest) + (m - z_label)              (= -log softmax(z)[label])
//   dlogits  = (probs - onehot(label)) * grad_scale     (grad_scale = 1/B: Keras's mean)
// Writing the loss as log1p(rest) keeps it accurate when the network is sure
// and right (rest tiny), where log(sum) would round to a few ULP of 1.
//
// A label outside [0, classes) is never used as an index: its sample gets loss
// NaN (so the epoch's loss shows the bad data), correct 0, and dlogits =
// probs * grad_scale (a target of all zeros). The one exception is PAD_LABEL
// (0xffffffff), which the gather writes for the padding slots that fill an
// evaluation's last batch: loss 0, correct 0, dlogits 0, so it counts nowhere.
//
// softmax_forward: probs only, for prediction.
// Both OVERWRITE their outputs.

override WORKGROUP_SIZE: u32 = 64u;

const PAD_LABEL: u32 = 0xffffffffu;

struct SoftmaxParams {
  batch: u32,
  classes: u32,
  grad_scale: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> sample_loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> sample_correct: array<u32>;
@group(0) @binding(6) var<uniform> params: SoftmaxParams;

struct RowMax {
  value: f32,
  index: u32,
}

fn row_max(row: u32) -> RowMax {
  var top = RowMax(logits[row], 0u);
  for (var j = 1u; j < params.classes; j++) {
    let z = logits[row + j];
    if (z > top.value) { top = RowMax(z, j); }
  }
  return top;
}

// Writes exp(z_j - max) into probs and returns the sum over j != top.index
// (the term at the max is exactly 1).
fn exponentiate(row: u32, top: RowMax) -> f32 {
  var rest = 0.0;
  for (var j = 0u; j < params.classes; j++) {
    let e = exp(logits[row + j] - top.value);
    probs[row + j] = e;
    if (j != top.index) { rest += e; }
  }
  return rest;
}

// log(1 + x) for x >= 0: a series where 1 + x would round away x's digits.
fn log_one_plus(x: f32) -> f32 {
  if (x > 0.0625) { return log(1.0 + x); }
  // Horner form of x - x^2/2 + x^3/3 - ... to x^8 (truncation < 4e-11 relative).
  var s = 1.0 / 8.0;
  for (var k = 7; k >= 1; k--) { s = 1.0 / f32(k) - x * s; }
  return x * s;
}

// A NaN built at run time (WGSL rejects NaN constants); `bits` only keeps it
// from being a constant expression.
fn quiet_nan(bits: u32) -> f32 {
  return bitcast<f32>(0x7fc00000u | (bits & 0x3fffffu));
}

fn sample_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmax_xent(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = sample_index(wid, nwg, lid);
  if (b >= params.batch) { return; }
  let row = b * params.classes;
  let top = row_max(row);
  let rest = exponentiate(row, top);
  let sum = 1.0 + rest;
  let label = labels[b];
  let valid = label < params.classes;
  let padding = label == PAD_LABEL;
  for (var j = 0u; j < params.classes; j++) {
    let p = probs[row + j] / sum;
    probs[row + j] = p;
    let hit = valid && j == label;
    let grad = select(p * params.grad_scale, p * params.grad_scale - params.grad_scale, hit);
    dlogits[row + j] = select(grad, 0.0, padding);
  }
  if (padding) {
    sample_loss[b] = 0.0;
  } else if (valid) {
    sample_loss[b] = log_one_plus(rest) + (top.value - logits[row + label]);
  } else {
    sample_loss[b] = quiet_nan(label);
  }
  sample_correct[b] = select(0u, 1u, valid && top.index == label);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmax_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = sample_index(wid, nwg, lid);
  if (b >= params.batch) { return; }
  let row = b * params.classes;
  let sum = 1.0 + exponentiate(row, row_max(row));
  for (var j = 0u; j < params.classes; j++) {
    probs[row + j] = probs[row + j] / sum;
  }
}
