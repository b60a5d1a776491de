/**
 * The training page loses nothing either (built, static, headless Chromium):
 * a device lost mid-epoch (destroyed through the page's test hook, as a
 * driver reset would) is recovered from in the worker, and a tab reloaded
 * mid-run offers, on the next visit, to resume the run kept in IndexedDB.
 * Both runs end with exactly the epochs and test results of an undisturbed
 * run with the same settings on the same page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpochLog } from '../../src/engine/fit.ts';
import { buildPage, REPO_ROOT, startBrowserSession, type BrowserSession } from '../helpers/browser.ts';
import { pageState, waitForPhase } from './page-driver.ts';

const OUT = join(REPO_ROOT, 'test-output', 'e2e-recovery');
const RUN = { trainLimit: 2000, testLimit: 500, epochs: 2, batch: 32, valSplit: 0.1, monitor: 'valLoss', patience: 2 };
const QUERY = '?' + new URLSearchParams(Object.entries(RUN).map(([k, v]) => [k, String(v)])).toString();

/** What an epoch log holds that does not depend on time. */
const exact = (epochs: EpochLog[]): unknown[] => epochs.map(({ epoch, loss, accuracy, valLoss, valAccuracy, steps }) => ({ epoch, loss, accuracy, valLoss, valAccuracy, steps }));

async function trainedRun(page: Page, session: BrowserSession): Promise<{ epochs: unknown[]; accuracy: number; loss: number }> {
  const state = await waitForPhase(page, session, ['trained'], 180_000);
  return { epochs: exact(state.run!.epochs), accuracy: state.evaluation!.accuracy, loss: state.evaluation!.loss };
}

const stepsSeen = (page: Page, epoch: number, step: number): Promise<unknown> =>
  page.waitForFunction((e: number, s: number) => (window.__lenet.run?.steps ?? []).some((x) => x.epoch === e && x.step >= s), { timeout: 120_000, polling: 50 }, epoch, step);

describe('the training page under faults', () => {
  let session: BrowserSession;
  let page: Page;
  let reference: Awaited<ReturnType<typeof trainedRun>>;
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildPage(join(OUT, 'site'));
    session = await startBrowserSession({ staticDir: join(OUT, 'site') });
    page = await session.openPage(`/${QUERY}`);
    await waitForPhase(page, session, ['ready'], 90_000);
    await page.click('#train');
    reference = await trainedRun(page, session);
    expect(reference.epochs).toHaveLength(2);
  }, 300_000);
  afterAll(async () => {
    await session?.close();
  });

  it('a device lost in epoch 2: the page says so, trains on from the epoch-1 checkpoint on a new device, and ends as the undisturbed run', async () => {
    await page.click('#train');
    await stepsSeen(page, 2, 8);
    await page.evaluate(() => (window as unknown as { __lenetTest: { loseDevice(): Promise<void> } }).__lenetTest.loseDevice());
    await page.waitForFunction(() => (window.__lenet.run?.recoveries.length ?? 0) > 0, { timeout: 60_000, polling: 50 });
    expect(await page.$eval('#train-status', (e) => e.textContent)).toMatch(/The GPU device was lost \(destroyed\) in epoch 2; continuing on a new device from the end of epoch 1/);
    const run = await trainedRun(page, session);
    const state = await pageState(page);
    expect(state.run!.recoveries).toHaveLength(1);
    expect(state.run!.recoveries[0].stepsRedone).toBeGreaterThanOrEqual(8);
    expect(await page.$eval('#train-status', (e) => e.textContent)).toContain('Survived 1 lost device(s)');
    expect(run).toEqual(reference);
    expect(state.errors).toEqual([]);
  }, 240_000);

  it('a tab reloaded in epoch 2 offers the run kept in IndexedDB, and resuming it ends as the undisturbed run', async () => {
    await page.click('#train');
    await page.waitForFunction(() => window.__lenet.run?.savedEpoch === 1, { timeout: 120_000, polling: 50 });
    await stepsSeen(page, 2, 4);
    await page.reload({ waitUntil: 'load' });
    let state = await waitForPhase(page, session, ['ready'], 90_000);
    expect(state.resumable).toMatchObject({ epochs: 1, totalEpochs: 2 });
    expect(await page.$eval('#resume-offer', (e) => (e as HTMLElement).hidden)).toBe(false);
    expect(await page.$eval('#resume-text', (e) => e.textContent)).toMatch(/1 of 2 epoch\(s\) done/);
    await page.click('#resume-run');
    await page.waitForFunction(() => window.__lenet.phase === 'training', { timeout: 30_000, polling: 50 });
    state = await pageState(page);
    expect(state.run!.resumedAfterEpoch).toBe(1);
    expect(exact(state.run!.epochs)).toEqual(reference.epochs.slice(0, 1)); // the curves start with the saved epoch
    const run = await trainedRun(page, session);
    expect(run).toEqual(reference);
    // Finished: nothing is offered any more.
    await page.reload({ waitUntil: 'load' });
    state = await waitForPhase(page, session, ['ready'], 90_000);
    expect(state.resumable).toBeUndefined();
    expect(state.errors).toEqual([]);
  }, 300_000);
});
