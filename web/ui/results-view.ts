/**
 * The results card after an evaluation: test loss, accuracy and macro AUC,
 * the confusion-matrix heat map and the misclassified digits. The gallery is
 * drawn in small batches, one per task, so no single task holds the page.
 */
import type { Evaluation, ImageDataset } from '../../src/index.ts';
import { drawConfusion } from './confusion.ts';
import { byId } from './dom.ts';
import { findMistakes, renderMistakes } from './misclassified.ts';

export async function renderResults(evaluation: Evaluation, test: ImageDataset): Promise<{ mistakes: number }> {
  const { report } = evaluation;
  byId('test-metrics', HTMLElement).textContent =
    `Test accuracy ${(evaluation.accuracy * 100).toFixed(2)}% · loss ${evaluation.loss.toFixed(4)} · macro AUC ${report.macroAuc.toFixed(4)} · ` +
    `${report.count.toLocaleString('en-US')} test images, evaluated in ${evaluation.seconds.toFixed(1)} s`;
  drawConfusion(byId('confusion', HTMLCanvasElement), report.confusion);
  await nextTask();
  const mistakes = findMistakes(evaluation.probabilities, test.labels, report.confusion.length);
  await renderMistakes(byId('misclassified', HTMLElement), test, mistakes, nextTask);
  return { mistakes: mistakes.length };
}

/** Yields to the page's event loop (a new task). */
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
