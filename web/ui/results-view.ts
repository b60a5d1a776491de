/**
 * The results card after an evaluation: test loss, accuracy and macro AUC,
 * the confusion-matrix heat map and the misclassified digits.
 */
import type { Evaluation, ImageDataset } from '../../src/index.ts';
import { drawConfusion } from './confusion.ts';
import { byId } from './dom.ts';
import { findMistakes, renderMistakes } from './misclassified.ts';

export function renderResults(evaluation: Evaluation, test: ImageDataset): { mistakes: number } {
  const { report } = evaluation;
  byId('test-metrics', HTMLElement).textContent =
    `Test accuracy ${(evaluation.accuracy * 100).toFixed(2)}% · loss ${evaluation.loss.toFixed(4)} · macro AUC ${report.macroAuc.toFixed(4)} · ` +
    `${report.count.toLocaleString('en-US')} test images, evaluated in ${evaluation.seconds.toFixed(1)} s`;
  drawConfusion(byId('confusion', HTMLCanvasElement), report.confusion);
  const mistakes = findMistakes(evaluation.probabilities, test.labels, report.confusion.length);
  renderMistakes(byId('misclassified', HTMLElement), test, mistakes);
  return { mistakes: mistakes.length };
}
