/**
 * A gallery of misclassified test digits, the most confident mistakes first,
 * each captioned with its true label and the model's top probabilities.
 */
import type { ImageDataset } from '../../src/index.ts';
import { digitFigure } from './digits.ts';

export interface Mistake {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
  /** Top classes with their probabilities, most likely first. */
  top: { digit: number; p: number }[];
}

/** All misclassified samples, sorted by the probability of the wrong answer. */
export function findMistakes(probabilities: Float32Array, labels: Uint8Array, classes: number): Mistake[] {
  const mistakes: Mistake[] = [];
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(probabilities.subarray(i * classes, (i + 1) * classes), (p, digit) => ({ digit, p }));
    row.sort((a, b) => b.p - a.p);
    if (row[0].digit !== labels[i]) mistakes.push({ index: i, label: labels[i], predicted: row[0].digit, confidence: row[0].p, top: row.slice(0, 3) });
  }
  return mistakes.sort((a, b) => b.confidence - a.confidence);
}

/** Shows the first `limit` mistakes, `perTask` figures at a time with `yieldTask` between batches. */
export async function renderMistakes(container: HTMLElement, data: ImageDataset, mistakes: Mistake[], yieldTask: () => Promise<void>, limit = 40, perTask = 10): Promise<void> {
  if (mistakes.length === 0) {
    container.textContent = 'No misclassified test digits.';
    return;
  }
  container.replaceChildren();
  const shown = mistakes.slice(0, limit);
  for (let first = 0; first < shown.length; first += perTask) {
    if (first > 0) await yieldTask();
    container.append(
      ...shown.slice(first, first + perTask).map((m) => {
        const probs = m.top.slice(0, 2).map((t) => `${t.digit}: ${(t.p * 100).toFixed(0)}%`).join(', ');
        const all = m.top.map((t) => `${t.digit}: ${(t.p * 100).toFixed(1)}%`).join(', ');
        return digitFigure(data, m.index, `true ${m.label} → ${m.predicted}\n${probs}`, `test #${m.index}: true ${m.label}; ${all}`);
      }),
    );
  }
}
