/**
 * The confusion matrix as a heat map: rows are the true digit, columns the
 * predicted one; a cell's colour is its share of its row (so rare classes are
 * as readable as common ones) and its count is written inside.
 */
import { context2d } from './dom.ts';

const SIZE = 360;
const MARGIN = 28;

export function drawConfusion(canvas: HTMLCanvasElement, confusion: number[][]): void {
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  canvas.width = SIZE * dpr;
  canvas.height = SIZE * dpr;
  const ctx = context2d(canvas);
  ctx.scale(dpr, dpr);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, SIZE, SIZE);
  const K = confusion.length;
  if (K === 0) return;
  const cell = (SIZE - MARGIN) / K;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = `${Math.min(12, cell * 0.34)}px system-ui, sans-serif`;
  for (let actual = 0; actual < K; actual++) {
    const rowTotal = confusion[actual].reduce((a, b) => a + b, 0) || 1;
    for (let predicted = 0; predicted < K; predicted++) {
      const count = confusion[actual][predicted];
      const share = count / rowTotal;
      const x = MARGIN + predicted * cell;
      const y = MARGIN + actual * cell;
      // Diagonal in blue, mistakes in red, both scaled by the row share.
      const [r, g, b] = actual === predicted ? [31, 119, 180] : [214, 39, 40];
      const alpha = count === 0 ? 0 : 0.08 + 0.92 * Math.sqrt(share);
      ctx.fillStyle = `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
      ctx.fillRect(x, y, cell, cell);
      ctx.strokeStyle = '#e3e6eb';
      ctx.strokeRect(x, y, cell, cell);
      if (count > 0) {
        ctx.fillStyle = alpha > 0.55 ? '#fff' : '#222';
        ctx.fillText(String(count), x + cell / 2, y + cell / 2);
      }
    }
  }
  ctx.fillStyle = '#3b4252';
  ctx.font = '11px system-ui, sans-serif';
  for (let k = 0; k < K; k++) {
    ctx.fillText(String(k), MARGIN + (k + 0.5) * cell, MARGIN / 2);
    ctx.fillText(String(k), MARGIN / 2, MARGIN + (k + 0.5) * cell);
  }
}
