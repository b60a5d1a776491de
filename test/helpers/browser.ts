/**
 * Runs a page of ours in headless Debian Chromium with WebGPU on the adapter
 * LENET_GPU_ADAPTER chooses, the one Node's tests use too (adapter-choice.ts).
 *
 * Pages are served on 127.0.0.1 (about:blank has no navigator.gpu, and a real
 * origin is what users have), either by a Vite dev server at the repository
 * root (test pages: /test/<dir>/<page>.html) or, for the built site, by a
 * tiny static file server over a `vite build` output folder. Puppeteer never
 * downloads a browser here: /usr/bin/chromium, or CHROMIUM_PATH.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumWebGpuFlags } from '../../src/gpu/adapter-choice.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface SessionOptions {
  /** Launch Chromium with the WebGPU flags of the chosen adapter. Default true. */
  webgpu?: boolean;
  /** Serve this folder (a `vite build` output) instead of starting a Vite dev server. */
  staticDir?: string;
  /**
   * Start the dev server with the config's own root (web/), exactly as `npm run dev`
   * does: the training page at /. Default false: the repository root, for test pages.
   */
  devPage?: boolean;
}

export interface OpenPageOptions {
  /** Runs before navigation, e.g. page.evaluateOnNewDocument. */
  beforeLoad?: (page: Page) => Promise<void>;
  viewport?: { width: number; height: number };
}

export interface BrowserSession {
  browser: Browser;
  /** The Vite dev server, when not serving a static folder. */
  server?: ViteDevServer;
  baseUrl: string;
  /** Everything the pages printed to their console, for failure messages. */
  consoleLines: string[];
  openPage(path: string, options?: OpenPageOptions): Promise<Page>;
  close(): Promise<void>;
}

const BROWSER_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

export async function startBrowserSession(options: SessionOptions = {}): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Browser tests need Chromium at ${CHROMIUM_PATH}. Fix: as root, apt-get update && apt-get install -y chromium libvulkan1 (or set CHROMIUM_PATH).`);
  }
  let server: ViteDevServer | undefined;
  let viteCache: string | undefined;
  let staticServer: StaticServer | undefined;
  let baseUrl: string;
  if (options.staticDir) {
    staticServer = await serveStatic(options.staticDir);
    baseUrl = staticServer.baseUrl;
  } else {
    // The config's root is web/ for `vite` and `vite build`; test pages need the repository root.
    server = await createServer({
      configFile: join(REPO_ROOT, 'vite.config.ts'),
      ...(options.devPage ? {} : { root: REPO_ROOT }),
      // Its own dependency cache: dev servers of test files running side by side must not rewrite one another's.
      cacheDir: (viteCache = mkdtempSync(join(tmpdir(), 'lenet-gpu-vite-cache-'))),
      logLevel: 'error',
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    });
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('Vite dev server did not report a port');
    baseUrl = `http://127.0.0.1:${address.port}`;
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'lenet-gpu-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    userDataDir,
    args: [...(options.webgpu === false ? [] : chromiumWebGpuFlags()), ...BROWSER_ARGS],
  });
  const consoleLines: string[] = [];
  return {
    browser,
    server,
    baseUrl,
    consoleLines,
    async openPage(path: string, pageOptions: OpenPageOptions = {}) {
      const page = await browser.newPage();
      page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
      page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${String(err)}`));
      if (pageOptions.viewport) await page.setViewport(pageOptions.viewport);
      await pageOptions.beforeLoad?.(page);
      await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await browser.close();
      await server?.close();
      await staticServer?.close();
      rmSync(userDataDir, { recursive: true, force: true });
      if (viteCache) rmSync(viteCache, { recursive: true, force: true });
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

export interface StaticServer {
  baseUrl: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** A minimal static file server for a build folder on 127.0.0.1 (GET/HEAD, index.html for folders, no listing). */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createHttpServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, pathname));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('static server did not report a port');
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Builds the page with the project's own `vite build` (as `npm run build` does) into outDir. */
export async function buildPage(outDir: string): Promise<void> {
  const vite = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const output: string[] = [];
  const code = await new Promise<number | null>((ok, fail) => {
    const child = spawn(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => output.push(b.toString()));
    child.on('error', fail);
    child.on('close', ok);
  });
  if (code !== 0) throw new Error(`vite build failed (exit ${code}):\n${output.join('')}`);
}
