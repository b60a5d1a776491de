/**
 * Loads MNIST from the page's own origin (mnist/<file>, served by the Vite
 * plugin in dev and copied into the build) with the engine's browser loader,
 * and shows the first test digits. Clicking one copies it onto the pad.
 */
import { loadMnistFromUrls, type MnistSplits } from '../src/index.ts';
import { byId, errorText } from './ui/dom.ts';
import { digitFigure, sampleImage } from './ui/digits.ts';
import { recordError, state } from './page-state.ts';

const SAMPLES = 32;

export async function loadData(onPick: (image: Uint8Array) => void): Promise<MnistSplits | undefined> {
  const status = byId('data-status', HTMLElement);
  const started = performance.now();
  try {
    status.textContent = 'Loading MNIST (55 MB, from this site)…';
    const data = await loadMnistFromUrls(new URL('mnist/', document.baseURI).href);
    const seconds = (performance.now() - started) / 1000;
    state.data = { train: data.train.count, test: data.test.count, seconds };
    status.textContent = `MNIST: ${data.train.count.toLocaleString('en-US')} training and ${data.test.count.toLocaleString('en-US')} test images of ${data.train.rows}x${data.train.cols}, loaded in ${seconds.toFixed(1)} s. First test digits:`;
    const figures = Array.from({ length: Math.min(SAMPLES, data.test.count) }, (_, i) => {
      const figure = digitFigure(data.test, i, `label ${data.test.labels[i]}`, 'click to draw it on the pad');
      figure.addEventListener('click', () => onPick(sampleImage(data.test, i)));
      return figure;
    });
    byId('samples', HTMLElement).replaceChildren(...figures);
    return data;
  } catch (error) {
    status.textContent = `Could not load MNIST: ${errorText(error)}`;
    status.classList.add('alert');
    recordError(errorText(error));
    return undefined;
  }
}
