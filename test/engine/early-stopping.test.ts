import { describe, expect, it } from 'vitest';
import { EarlyStopping } from '../../src/engine/early-stopping.ts';

const run = (stopper: EarlyStopping, values: number[]): { stoppedAt?: number; best: number } => {
  let best = -1;
  for (const [i, v] of values.entries()) {
    const d = stopper.update(i + 1, v);
    best = d.bestEpoch;
    if (d.stop) return { stoppedAt: i + 1, best };
  }
  return { best };
};

describe('early stopping (Keras semantics) on scripted histories', () => {
  it('stops after `patience` epochs without a lower val loss and reports the best epoch', () => {
    expect(run(new EarlyStopping({ monitor: 'valLoss', patience: 2 }), [0.5, 0.4, 0.41, 0.42, 0.3])).toEqual({ stoppedAt: 4, best: 2 });
  });
  it('patience 0 stops at the first epoch that does not improve', () => {
    expect(run(new EarlyStopping({ monitor: 'valLoss', patience: 0 }), [0.5, 0.4, 0.45, 0.3])).toEqual({ stoppedAt: 3, best: 2 });
  });
  it('accuracy is maximised, and an improvement under minDelta does not count', () => {
    const stopper = new EarlyStopping({ monitor: 'accuracy', patience: 1, minDelta: 0.01 });
    expect(run(stopper, [0.9, 0.95, 0.955, 0.99])).toEqual({ stoppedAt: 3, best: 2 });
  });
  it('keeps going while the metric keeps improving', () => {
    expect(run(new EarlyStopping({ monitor: 'loss', patience: 1 }), [3, 2, 1, 0.5])).toEqual({ best: 4 });
  });
  it('a missing validation metric is a clear error', () => {
    expect(() => new EarlyStopping({ monitor: 'valAccuracy' }).update(1, undefined)).toThrow(/validationSplit > 0/);
  });
  it('refuses a negative patience', () => {
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/patience/);
  });
});
