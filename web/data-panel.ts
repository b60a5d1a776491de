/**
 * Loads MNIST from the page's own origin (mnist/<file>, served by the Vite
 * plugin in dev and copied into the build) in the training worker, where it
 * stays for training; the page keeps a copy of the test split only, to show
 * digits (the first ones, and the misclassified ones after a run). Clicking a
 * digit copies it onto the pad.
 */
import type { ImageDataset } from '../src/index.ts';
import type { RemoteDataset, TrainerClient } from '../src/worker/index.ts';
import { byId, errorText } from './ui/dom.ts';
import { digitFigure, sampleImage } from './ui/digits.ts';
import { recordError, state } from './page-state.ts';

const SAMPLES = 32;

export interface PageData {
  /** The splits, held in the worker. */
  train: RemoteDataset;
  test: RemoteDataset;
  /** The test split on this thread, for showing digits. */
  testImages: ImageDataset;
}

export async function loadData(trainer: TrainerClient, onPick: (image: Uint8Array) => void): Promise<PageData | undefined> {
  const status = byId('data-status', HTMLElement);
  try {
    status.textContent = 'Loading MNIST (55 MB, from this site)…';
    const { train, test, seconds } = await trainer.loadMnist(new URL('mnist/', document.baseURI).href);
    const testImages = await test.read();
    state.data = { train: train.count, test: test.count, seconds };
    status.textContent = `MNIST: ${train.count.toLocaleString('en-US')} training and ${test.count.toLocaleString('en-US')} test images of ${train.rows}x${train.cols}, loaded in ${seconds.toFixed(1)} s. First test digits:`;
    const figures = Array.from({ length: Math.min(SAMPLES, testImages.count) }, (_, i) => {
      const figure = digitFigure(testImages, i, `label ${testImages.labels[i]}`, 'click to draw it on the pad');
      figure.addEventListener('click', () => onPick(sampleImage(testImages, i)));
      return figure;
    });
    byId('samples', HTMLElement).replaceChildren(...figures);
    return { train, test, testImages };
  } catch (error) {
    status.textContent = `Could not load MNIST: ${errorText(error)}`;
    status.classList.add('alert');
    recordError(errorText(error));
    return undefined;
  }
}
