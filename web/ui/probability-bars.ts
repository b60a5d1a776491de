/**
 * Class probabilities as horizontal bars, one row per class, the most likely
 * class highlighted.
 */
import { el } from './dom.ts';

export function renderProbabilityBars(container: HTMLElement, probabilities: ArrayLike<number>): void {
  let best = 0;
  for (let k = 1; k < probabilities.length; k++) if (probabilities[k] > probabilities[best]) best = k;
  const rows: HTMLElement[] = [];
  for (let k = 0; k < probabilities.length; k++) {
    const p = probabilities[k];
    const fill = el('span');
    fill.style.width = `${(Math.max(0, Math.min(1, p)) * 100).toFixed(1)}%`;
    rows.push(
      el('span', { textContent: String(k) }),
      el('div', { className: k === best ? 'bar top' : 'bar' }, [fill]),
      el('span', { textContent: `${(p * 100).toFixed(1)}%` }),
    );
  }
  container.replaceChildren(...rows);
}
