/**
 * Without WebGPU the page explains how to get it (BROWSER_HELP) instead of
 * going blank, and what needs no GPU still works: the spec editor reports an
 * impossible spec's SpecError, and MNIST loads. Two ways to lack WebGPU:
 * Chromium without the WebGPU flags (navigator.gpu exists, no adapter), and
 * navigator.gpu removed before the page runs. The page comes from the Vite dev
 * server with the config's own root, as `npm run dev` serves it, at /.
 */
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferShapes, SpecError } from '../../src/model/infer.ts';
import { lenet5, type ModelSpec } from '../../src/model/spec.ts';
import { BROWSER_HELP } from '../../src/gpu/errors.ts';
import { startBrowserSession, type BrowserSession } from '../helpers/browser.ts';
import { pageState, waitForPhase } from './page-driver.ts';

/** LeNet-5 with a 40x40 kernel on 28x28 images. */
const impossible: ModelSpec = { ...lenet5, layers: [{ type: 'conv2d', filters: 6, kernelSize: 40, activation: 'tanh' }, ...lenet5.layers.slice(1)] };

async function setSpecText(page: Page, text: string): Promise<void> {
  await page.$eval('#spec-json', (e, value) => {
    (e as HTMLTextAreaElement).value = value;
    e.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
}

const visibleText = (page: Page, selector: string): Promise<string | undefined> =>
  page.$eval(selector, (e) => ((e as HTMLElement).hidden || (e as HTMLElement).offsetParent === null ? undefined : (e as HTMLElement).innerText));

describe('the page without WebGPU (Chromium without the WebGPU flags)', () => {
  let session: BrowserSession;
  beforeAll(async () => { session = await startBrowserSession({ webgpu: false, devPage: true }); });
  afterAll(async () => { await session?.close(); });

  for (const [name, cause, beforeLoad] of [
    ['no adapter', 'requestAdapter() returned null', undefined],
    ['no navigator.gpu', 'navigator.gpu is undefined', (page: Page) => page.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true })).then(() => undefined)],
  ] as const) {
    it(`${name}: shows how to enable WebGPU, and the editor still works`, async () => {
      const page = await session.openPage('/', { beforeLoad });
      const state = await waitForPhase(page, session, ['no-webgpu'], 60_000);
      const help = await visibleText(page, '#gpu-help');
      expect(help).toContain('WebGPU is not available in this browser');
      expect(help).toContain(BROWSER_HELP);
      expect(state.errors[0]).toMatch(/^WebGpuUnavailableError: /);
      expect(help).toContain(cause);
      expect(await page.$eval('#train', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
      expect(await visibleText(page, 'h1')).toContain('lenet-gpu');

      // The spec editor needs no GPU: summary for the preset, the SpecError for an impossible spec.
      expect(await page.$eval('#param-count', (e) => e.textContent)).toContain('61,706');
      let expected = '';
      try {
        inferShapes(impossible, 64);
      } catch (error) {
        if (error instanceof SpecError) expected = error.message;
      }
      expect(expected).not.toBe('');
      await setSpecText(page, JSON.stringify(impossible, null, 2));
      expect(await visibleText(page, '#spec-error')).toBe(`SpecError: ${expected}`);
      expect(await page.$eval('#model-summary', (e) => e.textContent)).toBe('');
      expect(await page.$eval('#preset', (e) => (e as HTMLSelectElement).value)).toBe('custom');
      await setSpecText(page, '{ "inputShape": [1, 28, 28], "layers": [');
      expect(await visibleText(page, '#spec-error')).toMatch(/^The spec is not valid JSON/);
      await page.select('#preset', 'lenet5-variant');
      expect(await visibleText(page, '#spec-error')).toBeUndefined();
      expect(await page.$eval('#model-summary', (e) => e.textContent)).toContain('lenet5-variant');
      expect(await page.$eval('input[name=valSplit]', (e) => (e as HTMLInputElement).value)).toBe('0.1'); // the preset's recipe came along

      // The data needs no GPU either (served by the dev server's /mnist/ route).
      await page.waitForFunction(() => window.__lenet.data !== undefined, { timeout: 60_000 });
      expect((await pageState(page)).data).toMatchObject({ train: 60_000, test: 10_000 });
      await page.close();
    });
  }
});
