/**
 * Shows 28x28 u8 images (MNIST layout: white ink on black, row-major) on
 * small canvases, enlarged by CSS with pixelated rendering.
 */
import type { ImageDataset } from '../../src/index.ts';
import { context2d, el } from './dom.ts';

/** Paints `rows x cols` grayscale bytes starting at `offset` onto the canvas (resized to fit). */
export function paintGray(canvas: HTMLCanvasElement, pixels: Uint8Array, rows: number, cols: number, offset = 0): void {
  canvas.width = cols;
  canvas.height = rows;
  const ctx = context2d(canvas);
  const image = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    const v = pixels[offset + i];
    image.data[4 * i] = v;
    image.data[4 * i + 1] = v;
    image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** A figure with sample `index` of the dataset and a caption. */
export function digitFigure(data: ImageDataset, index: number, caption: string, title = ''): HTMLElement {
  const canvas = el('canvas', { className: 'digit' });
  paintGray(canvas, data.pixels, data.rows, data.cols, index * data.rows * data.cols);
  const figure = el('figure', { title }, [canvas, el('figcaption', { textContent: caption })]);
  figure.dataset.index = String(index);
  return figure;
}

/** The bytes of one sample. */
export function sampleImage(data: ImageDataset, index: number): Uint8Array {
  const size = data.rows * data.cols;
  return data.pixels.slice(index * size, (index + 1) * size);
}
