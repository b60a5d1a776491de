// Running training metrics, kept on the GPU so a step never reads back: the
// CPU maps the 16-byte totals buffer only when it reports (via a staging ring).
//
// Layout: sample_loss (B) f32 and sample_correct (B) u32 (0/1), as
// softmax_xent leaves them; totals is the struct below.
//
// metrics_accumulate: ONE invocation sums the batch serially, sample 0 first,
// then adds the batch sums into totals. A fixed order with no atomics: the
// totals are bit-identical run to run. (The batch is small, 64 for LeNet-5;
// a serial loop over it costs less than a barriered tree.)
// metrics_reset: one invocation writes zeros, so a reset needs no upload.

struct MetricsParams {
  batch: u32,
}

// 16 bytes; metrics.ts readTotals decodes them.
struct Totals {
  loss_sum: f32, // sum of sample_loss since the reset
  correct: u32,  // sum of sample_correct
  samples: u32,  // samples accumulated (batch per step)
  steps: u32,    // batches accumulated
}

@group(0) @binding(0) var<storage, read> sample_loss: array<f32>;
@group(0) @binding(1) var<storage, read> sample_correct: array<u32>;
@group(0) @binding(2) var<storage, read_write> totals: Totals;
@group(0) @binding(3) var<uniform> params: MetricsParams;

@compute @workgroup_size(1)
fn metrics_accumulate() {
  var loss = 0.0;
  var correct = 0u;
  for (var b = 0u; b < params.batch; b++) {
    loss += sample_loss[b];
    correct += sample_correct[b];
  }
  totals.loss_sum += loss;
  totals.correct += correct;
  totals.samples += params.batch;
  totals.steps += 1u;
}

@compute @workgroup_size(1)
fn metrics_reset() {
  totals = Totals(0.0, 0u, 0u, 0u);
}
