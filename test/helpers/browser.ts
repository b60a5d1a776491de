/**
 * Runs a page of ours in headless Debian Chromium on SwiftShader WebGPU.
 *
 * The page is served by a Vite dev server on 127.0.0.1 (about:blank has no
 * navigator.gpu, and a real origin is what users have). Puppeteer never
 * downloads a browser here: /usr/bin/chromium, or CHROMIUM_PATH.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';
import { CHROMIUM_WEBGPU_FLAGS } from '../../src/gpu/errors.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface BrowserSession {
  browser: Browser;
  server: ViteDevServer;
  baseUrl: string;
  /** Everything the pages printed to their console, for failure messages. */
  consoleLines: string[];
  openPage(path: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startBrowserSession(): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Browser tests need Chromium at ${CHROMIUM_PATH}. Fix: as root, apt-get update && apt-get install -y chromium libvulkan1 (or set CHROMIUM_PATH).`);
  }
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false } });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('Vite dev server did not report a port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'lenet-gpu-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    userDataDir,
    args: [
      ...CHROMIUM_WEBGPU_FLAGS,
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-dev-shm-usage',
    ],
  });
  const consoleLines: string[] = [];
  return {
    browser,
    server,
    baseUrl,
    consoleLines,
    async openPage(path: string) {
      const page = await browser.newPage();
      page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
      page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${String(err)}`));
      await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Waits for the page to publish `window.__testResult` and returns it. */
export async function pageResult<T>(page: Page, session: BrowserSession, timeoutMs = 300_000): Promise<T> {
  try {
    await page.waitForFunction('window.__testResult !== undefined', { timeout: timeoutMs, polling: 250 });
  } catch (error) {
    throw new Error(`page published no result: ${String(error)}\npage console:\n${session.consoleLines.join('\n')}`);
  }
  return (await page.evaluate('window.__testResult')) as T;
}
