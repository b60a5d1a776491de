// Activation functions shared by every kernel that fuses an activation
// (conv2d, dense) and by the standalone activation kernels. Prepended to those
// shaders' source by the TypeScript side (WGSL has no #include).
//
// Kinds (override constant ACTIVATION): 0 linear, 1 tanh, 2 sigmoid, 3 relu.
// Gradients are computed from the forward OUTPUT y, which is what the graph
// keeps: tanh' = 1 - y², sigmoid' = y (1 - y), relu' = [y > 0].

const ACT_LINEAR: u32 = 0u;
const ACT_TANH: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
const ACT_RELU: u32 = 3u;

fn activate(x: f32, kind: u32) -> f32 {
  switch kind {
    // Clamped: some drivers evaluate tanh as a ratio of exponentials that
    // overflows to NaN for large |x|; tanh(±15) is ±1 in f32 anyway.
    case 1u: { return tanh(clamp(x, -15.0, 15.0)); }
    case 2u: { return 1.0 / (1.0 + exp(-x)); }
    case 3u: { return max(x, 0.0); }
    default: { return x; }
  }
}

fn activation_grad_from_output(y: f32, kind: u32) -> f32 {
  switch kind {
    case 1u: { return 1.0 - y * y; }
    case 2u: { return y * (1.0 - y); }
    case 3u: { return select(0.0, 1.0, y > 0.0); }
    default: { return 1.0; }
  }
}
