import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageResult, startBrowserSession, type BrowserSession } from '../helpers/browser.ts';

interface CaseResult { name: string; mismatches: number; worstRatio: number; relError: number; nonFinite: number }

describe('kernel parity inside headless Chromium (the browser path, not assumed)', () => {
  let session: BrowserSession;
  beforeAll(async () => { session = await startBrowserSession(); });
  afterAll(async () => { await session?.close(); });

  it('conv2d, dense (both variants), pooling, softmax-xent and Adam match the CPU reference', async () => {
    const page = await session.openPage('/test/browser/parity.html');
    const result = await pageResult<{ results?: CaseResult[]; error?: string }>(page, session);
    expect(result.error, session.consoleLines.join('\n')).toBeUndefined();
    const results = result.results!;
    console.log(`browser parity:\n${results.map((c) => `  ${c.name.padEnd(48)} worst ${c.worstRatio.toFixed(3)} of bound, rel ${c.relError.toExponential(2)}`).join('\n')}`);
    expect(results.length).toBe(3 * 4 + 6 * 4 + 3 * 2 + 6);
    for (const c of results) {
      expect(c.nonFinite, c.name).toBe(0);
      expect(c.mismatches, `${c.name}: elements outside 1e-5·|ref| + 1e-5·max|ref|`).toBe(0);
    }
  });
});
