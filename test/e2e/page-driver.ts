/**
 * Puppeteer steps on the training page, shared by the end-to-end tests: wait
 * for a phase (failing with the page's own errors and console), read the
 * page state, draw strokes on the pad with the mouse.
 */
import type { Page } from 'puppeteer';
import type { PageState, Phase } from '../../web/page-state.ts';
import type { BrowserSession } from '../helpers/browser.ts';

export async function pageState(page: Page): Promise<PageState> {
  return (await page.evaluate(() => JSON.parse(JSON.stringify(window.__lenet)) as unknown)) as PageState;
}

/** Waits until <body data-phase> is one of `phases`; 'error' and 'no-webgpu' end the wait early unless expected. */
export async function waitForPhase(page: Page, session: BrowserSession, phases: Phase[], timeoutMs: number): Promise<PageState> {
  const stop: Phase[] = (['error', 'no-webgpu'] as Phase[]).filter((p) => !phases.includes(p));
  try {
    await page.waitForFunction((wanted: string[]) => wanted.includes(document.body.dataset.phase ?? ''), { timeout: timeoutMs, polling: 200 }, [...phases, ...stop]);
  } catch (error) {
    const state = await pageState(page).catch(() => undefined);
    throw new Error(`page did not reach phase ${phases.join('/')}: ${String(error)}\nstate: ${JSON.stringify(state)?.slice(0, 2000)}\nconsole:\n${session.consoleLines.join('\n')}`);
  }
  const state = await pageState(page);
  if (!phases.includes(state.phase)) {
    throw new Error(`page reached phase ${state.phase} instead of ${phases.join('/')}; errors: ${state.errors.join(' | ')}\nconsole:\n${session.consoleLines.join('\n')}`);
  }
  return state;
}

/** Draws a polyline on the canvas with the mouse; points are fractions of the canvas (0..1). */
export async function drawStroke(page: Page, selector: string, points: [number, number][]): Promise<void> {
  // Mouse coordinates are the viewport's: bring the canvas on screen first.
  await page.$eval(selector, (e) => e.scrollIntoView({ block: 'center' }));
  const box = await (await page.$(selector))?.boundingBox();
  if (!box) throw new Error(`${selector} is not on screen`);
  const at = ([fx, fy]: [number, number]): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
  await page.mouse.up();
}

/** Waits for a prediction newer than `after`, with none still running or queued (the pad's final drawing). */
export async function settledPrediction(page: Page, after: number, timeoutMs = 60_000): Promise<NonNullable<PageState['prediction']>> {
  await page.waitForFunction((n: number) => (window.__lenet.prediction?.count ?? 0) > n && !window.__lenet.predicting, { timeout: timeoutMs, polling: 100 }, after);
  const prediction = (await pageState(page)).prediction;
  if (!prediction) throw new Error('no prediction');
  return prediction;
}
