// Optimizers with Keras semantics, as ONE elementwise pass over every
// parameter of the model, laid out flat (graph/params.ts): params, grads and
// the optimizer's moments (Adam m, v; SGD velocity) are `count` f32 each in
// the same layout. Updates happen in place.
//
// A step is recorded as up to three dispatches in one compute pass (each sees the
// previous one's writes):
//   optimizer_begin_step  one invocation: state.step += 1, then
//                         state.alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
//                         (Adam's bias correction). SGD records it too, to
//                         count its steps, but reads lr itself; with momentum
//                         0 velocity is bound but left untouched.
//   adam_update / sgd_update   the body: one invocation per 4 parameters,
//                         read and written as vec4 (params4, grads4, ...:
//                         the same buffers viewed as array<vec4f>).
//   adam_update_tail / sgd_update_tail   the last count % 4 parameters,
//                         through the scalar views; only recorded when needed.
// Body and tail call the same vec4 functions, so every parameter gets exactly
// the same arithmetic.
//
// Adam:  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//        p -= alpha_t m / (sqrt(v) + eps)        (Keras: eps outside the correction)
// SGD:   v = mom v - lr g;  p += v   (nesterov: p += mom v - lr g);  mom = 0: p -= lr g
//
// The learning rate lives in `state`, not in the uniform, so a schedule can
// change it with one small queue write and no rebuild. 1 - beta and -ln(beta)
// come from the CPU in float64: in f32, 1 - 0.999 is off by 1e-5 relative,
// and 1 - b2^t cancels for small t, so the correction is computed as
// 1 - exp(-t * (-ln b)) with a series where that cancels.

override WORKGROUP_SIZE: u32 = 256u;

struct OptimizerParams {
  count: u32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  // -ln(beta), capped at 100 (beta = 0 gives 1 - beta^t = 1 exactly).
  neg_log_beta1: f32,
  neg_log_beta2: f32,
  epsilon: f32,
  momentum: f32,
  nesterov: u32,
}

// The GPU-held optimizer state, 16 bytes (optimizer.ts OPTIMIZER_STATE_BYTES).
struct OptimizerState {
  // Updates begun so far: t of the update in flight, 1 for the first.
  step: u32,
  // Written by the CPU at creation and when a schedule changes it.
  learning_rate: f32,
  // Written by optimizer_begin_step: the step size of this update.
  alpha: f32,
  reserved: u32,
}

@group(0) @binding(3) var<storage, read_write> state: OptimizerState;
@group(0) @binding(12) var<uniform> opt: OptimizerParams;
// The state as the updates read it.
@group(0) @binding(0) var<storage, read> state_in: OptimizerState;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read> grads4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> params: array<f32>;
@group(0) @binding(5) var<storage, read_write> params4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> m: array<f32>;
@group(0) @binding(7) var<storage, read_write> m4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> v: array<f32>;
@group(0) @binding(9) var<storage, read_write> v4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(11) var<storage, read_write> velocity4: array<vec4f>;

// 1 - exp(-x) for x >= 0, accurate where 1 - exp(-x) cancels (small x).
fn one_minus_exp_neg(x: f32) -> f32 {
  if (x > 0.5) { return 1.0 - exp(-x); }
  // Horner form of x - x^2/2! + x^3/3! - ... to x^9 (truncation < 3e-10 relative).
  var s = 1.0;
  for (var k = 9; k >= 2; k--) { s = 1.0 - x / f32(k) * s; }
  return x * s;
}

@compute @workgroup_size(1)
fn optimizer_begin_step() {
  let step = state.step + 1u;
  let t = f32(step);
  let correction1 = one_minus_exp_neg(t * opt.neg_log_beta1);
  let correction2 = one_minus_exp_neg(t * opt.neg_log_beta2);
  state.step = step;
  state.alpha = state.learning_rate * sqrt(correction2) / correction1;
}

fn element_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
}

struct AdamResult {
  p: vec4f,
  m: vec4f,
  v: vec4f,
}

fn adam(p: vec4f, g: vec4f, m_old: vec4f, v_old: vec4f, alpha: f32) -> AdamResult {
  let m_new = opt.beta1 * m_old + opt.one_minus_beta1 * g;
  let v_new = opt.beta2 * v_old + opt.one_minus_beta2 * g * g;
  return AdamResult(p - alpha * m_new / (sqrt(v_new) + opt.epsilon), m_new, v_new);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn adam_update(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element_index(wid, nwg, lid);
  if (i >= opt.count / 4u) { return; }
  let r = adam(params4[i], grads4[i], m4[i], v4[i], state_in.alpha);
  params4[i] = r.p;
  m4[i] = r.m;
  v4[i] = r.v;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn adam_update_tail(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (opt.count & ~3u) + element_index(wid, nwg, lid);
  if (i >= opt.count) { return; }
  let r = adam(vec4f(params[i]), vec4f(grads[i]), vec4f(m[i]), vec4f(v[i]), state_in.alpha);
  params[i] = r.p.x;
  m[i] = r.m.x;
  v[i] = r.v.x;
}

struct SgdResult {
  p: vec4f,
  velocity: vec4f,
}

fn sgd(p: vec4f, g: vec4f, velocity_old: vec4f, lr: f32) -> SgdResult {
  if (opt.momentum == 0.0) { return SgdResult(p - lr * g, velocity_old); }
  let vel = opt.momentum * velocity_old - lr * g;
  if (opt.nesterov != 0u) { return SgdResult(p + (opt.momentum * vel - lr * g), vel); }
  return SgdResult(p + vel, vel);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sgd_update(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element_index(wid, nwg, lid);
  if (i >= opt.count / 4u) { return; }
  let r = sgd(params4[i], grads4[i], velocity4[i], state_in.learning_rate);
  params4[i] = r.p;
  if (opt.momentum != 0.0) { velocity4[i] = r.velocity; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sgd_update_tail(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (opt.count & ~3u) + element_index(wid, nwg, lid);
  if (i >= opt.count) { return; }
  let r = sgd(vec4f(params[i]), vec4f(grads[i]), vec4f(velocity[i]), state_in.learning_rate);
  params[i] = r.p.x;
  if (opt.momentum != 0.0) { velocity[i] = r.velocity.x; }
}
