/**
 * Classification metrics computed from predicted class probabilities: the
 * confusion matrix, per-class precision and recall, and one-vs-rest ROC AUC
 * (the variant write-up's metric), averaged over classes (macro).
 *
 * AUC per class is the Mann-Whitney statistic: the probability that a random
 * positive scores above a random negative, ties counting one half, computed
 * from ranks (O(n log n)). A class with no positives or no negatives has no
 * AUC and is left out of the macro average.
 */
export interface ClassificationReport {
  count: number;
  accuracy: number;
  /** confusion[actual][predicted] */
  confusion: number[][];
  precision: number[];
  recall: number[];
  /** Per class; NaN where undefined. */
  auc: number[];
  macroAuc: number;
}

export function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/** One-vs-rest AUC of `scores` for the positives marked in `isPositive`. */
export function binaryAuc(scores: ArrayLike<number>, isPositive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSumPositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based; ties share their mean rank
    for (let t = i; t <= j; t++) {
      if (isPositive[order[t]]) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function classificationReport(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): ClassificationReport {
  const count = labels.length;
  if (probs.length !== count * classes) throw new Error(`probabilities hold ${probs.length} values, expected ${count} x ${classes}`);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < count; i++) {
    const predicted = argmax(probs, i * classes, classes);
    confusion[labels[i]][predicted]++;
    if (predicted === labels[i]) correct++;
  }
  const precision: number[] = [];
  const recall: number[] = [];
  const auc: number[] = [];
  const scores = new Float64Array(count);
  const isPositive = new Array<boolean>(count);
  for (let k = 0; k < classes; k++) {
    let predictedK = 0;
    let actualK = 0;
    for (let j = 0; j < classes; j++) {
      predictedK += confusion[j][k];
      actualK += confusion[k][j];
    }
    precision.push(predictedK === 0 ? 0 : confusion[k][k] / predictedK);
    recall.push(actualK === 0 ? 0 : confusion[k][k] / actualK);
    for (let i = 0; i < count; i++) {
      scores[i] = probs[i * classes + k];
      isPositive[i] = labels[i] === k;
    }
    auc.push(binaryAuc(scores, isPositive));
  }
  const defined = auc.filter((a) => !Number.isNaN(a));
  const macroAuc = defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
  return { count, accuracy: count === 0 ? 0 : correct / count, confusion, precision, recall, auc, macroAuc };
}

export function formatConfusion(confusion: number[][]): string {
  const width = Math.max(5, ...confusion.flat().map((v) => String(v).length + 1));
  const header = `${'true\\pred'.padEnd(10)}${confusion.map((_, k) => String(k).padStart(width)).join('')}`;
  const rows = confusion.map((row, k) => `${String(k).padEnd(10)}${row.map((v) => String(v).padStart(width)).join('')}`);
  return [header, ...rows].join('\n');
}
