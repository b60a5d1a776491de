import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageResult, startBrowserSession, type BrowserSession } from '../helpers/browser.ts';

describe('GPU smoke check in headless Chromium', () => {
  let session: BrowserSession;
  beforeAll(async () => { session = await startBrowserSession(); });
  afterAll(async () => { await session?.close(); });

  it('gets a WebGPU device from navigator.gpu and computes correctly', async () => {
    const page = await session.openPage('/test/browser/smoke.html');
    const result = await pageResult<{ ok?: boolean; elements?: number; error?: string; report?: { runtime: string; vendor: string } }>(page, session);
    expect(result.error, session.consoleLines.join('\n')).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.elements).toBe(1000);
    expect(result.report?.runtime).toBe('browser');
  });
});
