import { describe, expect, it } from 'vitest';
import { binaryAuc, classificationReport } from '../../src/metrics/classification.ts';
import { createRng } from '../../src/util/random.ts';

/** O(n²) pair counting: the definition, to hold the rank formula to. */
function aucByPairs(scores: number[], positive: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('classification metrics', () => {
  it('binary AUC matches pair counting, ties included', () => {
    const rng = createRng(3);
    const scores = Array.from({ length: 200 }, () => Math.round(rng.next() * 20) / 20); // many ties
    const positive = scores.map((s) => rng.next() < 0.3 + 0.4 * s);
    expect(binaryAuc(scores, positive)).toBeCloseTo(aucByPairs(scores, positive), 12);
    expect(binaryAuc([0.1, 0.9], [false, true])).toBe(1);
    expect(binaryAuc([0.9, 0.1], [false, true])).toBe(0);
    expect(binaryAuc([0.5, 0.5], [true, true])).toBeNaN();
  });

  it('confusion matrix, precision, recall and macro AUC on a hand-made case', () => {
    // 3 classes, 4 samples: labels 0,1,2,2; predictions 0,2,2,2.
    const probs = [0.8, 0.1, 0.1, 0.2, 0.3, 0.5, 0.1, 0.1, 0.8, 0.2, 0.2, 0.6];
    const r = classificationReport(probs, [0, 1, 2, 2], 3);
    expect(r.confusion).toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 2]]);
    expect(r.accuracy).toBe(0.75);
    expect(r.precision).toEqual([1, 0, 2 / 3]);
    expect(r.recall).toEqual([1, 0, 1]);
    expect(r.auc[0]).toBe(1);
    expect(r.macroAuc).toBeCloseTo((r.auc[0] + r.auc[1] + r.auc[2]) / 3, 12);
  });
});
