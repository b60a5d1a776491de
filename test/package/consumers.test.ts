/**
 * lenet-gpu from outside the repository, as its users get it (consumer-setup.ts:
 * `npm pack`, then fresh folders under the system's temp dir with the tarball
 * installed by npm):
 *   1. Node: an ES-module program imports `lenet-gpu` and `lenet-gpu/node`,
 *      trains the classic preset for one epoch on 2,000 MNIST images,
 *      evaluates, writes a checkpoint and predicts from a model restored from it.
 *   2. Types: a strict TypeScript file using the API (fit options, Model.create,
 *      the error classes, the worker API) checks clean against the installed
 *      declarations, and a file with a deliberate error fails.
 *   3. CLI: `npx lenet-gpu --help` and `npx lenet-gpu smoke`.
 *   4. Browser: a Vite app depending on the tarball is built with `vite build`,
 *      served on 127.0.0.1 and run in headless Chromium: one page trains 300
 *      steps in a Web Worker, evaluates and predicts; another only loads the
 *      Node program's checkpoint and predicts, and must agree with Node. The
 *      bundles must hold no Node code, and the predict-only one no ONNX or
 *      protobuf code; their gzipped sizes go to test-output/package/
 *      (and to $LENET_GPU_BUNDLE_RESULTS, for bench/results/).
 *   5. The README's module examples are regions of these apps' files, verbatim.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/engine/checkpoint.ts';
import { pageResult, REPO_ROOT, startBrowserSession, type BrowserSession } from '../helpers/browser.ts';
import { packAndInstall, run, runOk, type Consumers } from './consumer-setup.ts';

interface NodeAppResult {
  adapter: string;
  epochs: { epoch: number; loss: number; accuracy: number; valAccuracy?: number; steps: number }[];
  accuracy: number;
  macroAuc: number;
  restoredAccuracy: number;
  classes: number[];
  labels: number[];
  probabilities: number[];
  digits: number[];
}

/** 10 classes at chance: an untrained LeNet-5 gets about 10%; one epoch on 2,000 images gets 70% or more. */
const TRAINED_ACCURACY = 0.5;
const OUT = join(REPO_ROOT, 'test-output', 'package');

describe('the packed package, installed outside the repository', () => {
  let apps: Consumers;
  let node: NodeAppResult;
  beforeAll(async () => {
    apps = await packAndInstall();
  }, 300_000);
  afterAll(() => {
    // LENET_GPU_KEEP_CONSUMERS=1 leaves the folders for a look after a failure.
    if (apps && !process.env.LENET_GPU_KEEP_CONSUMERS) rmSync(apps.root, { recursive: true, force: true });
    else if (apps) console.log(`consumer folders kept in ${apps.root}`);
  });

  it('holds the built library, declarations and CLI, and no sources', () => {
    const pkg = JSON.parse(readFileSync(join(apps.nodeApp, 'node_modules', 'lenet-gpu', 'package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string> };
    const installed = join(apps.nodeApp, 'node_modules', 'lenet-gpu');
    const files = readdirSync(installed, { recursive: true }).map(String);
    expect(files).toContain(join('dist', 'lib', 'index.js'));
    expect(files).toContain(join('dist', 'lib', 'index.d.ts'));
    expect(files).toContain(join('dist', 'lib', 'worker', 'index.d.ts'));
    expect(files).toContain(pkg.bin['lenet-gpu']);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.wgsl'))).toEqual([]); // shaders are inlined
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './node', './worker', './vite']));
  });

  it('Node: trains the classic preset on 2,000 images, evaluates, checkpoints and predicts from the restored model', async () => {
    const result = await runOk('node', ['train.mjs'], { cwd: apps.nodeApp, timeoutMs: 280_000 });
    node = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as NodeAppResult;
    console.log(`Node consumer (${node.adapter}): ${result.stderr.trim()}; test accuracy ${node.accuracy.toFixed(4)}, macro AUC ${node.macroAuc.toFixed(4)}`);
    expect(result.stderr).not.toContain('XDG_RUNTIME_DIR');
    expect(node.epochs).toHaveLength(1);
    expect(node.epochs[0].steps).toBe(Math.ceil(1600 / 64)); // 20% of 2,000 held out, batch 64
    expect(node.accuracy).toBeGreaterThan(TRAINED_ACCURACY);
    expect(node.macroAuc).toBeGreaterThan(0.9);
    expect(node.restoredAccuracy).toBe(node.accuracy);
    expect(node.classes.filter((c, i) => c === node.labels[i]).length).toBeGreaterThanOrEqual(6);
    const checkpoint = decodeCheckpoint(readFileSync(join(apps.nodeApp, 'model.ckpt')));
    expect(checkpoint.header.spec.name).toBe('lenet5');
    expect(checkpoint.header.epoch).toBe(1);
  }, 300_000);

  it('types: a strict consumer checks clean against the installed declarations, and a deliberate error is reported', async () => {
    const tsc = join(apps.nodeApp, 'node_modules', 'typescript', 'bin', 'tsc');
    const clean = await run('node', [tsc, '-p', 'tsconfig.json'], { cwd: apps.nodeApp });
    expect(clean.stdout + clean.stderr).toBe('');
    expect(clean.status).toBe(0);
    const broken = await run('node', [tsc, '-p', 'tsconfig.error.json'], { cwd: apps.nodeApp });
    expect(broken.status).not.toBe(0);
    expect(broken.stdout).toMatch(/types-error\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    // The browser app is a TypeScript project too (bundler resolution, the package's browser build).
    const page = await run('node', [tsc, '-p', join(apps.browserApp, 'tsconfig.json')], { cwd: apps.browserApp });
    expect(page.stdout + page.stderr).toBe('');
  });

  it('CLI: npx lenet-gpu --help and smoke from the installed package', async () => {
    // npm_config_yes=false: npx must find the installed bin, never fetch a package of that name.
    const env = { ...process.env, npm_config_yes: 'false' };
    const help = await runOk('npx', ['lenet-gpu', '--help'], { cwd: apps.nodeApp, env });
    expect(help.stdout).toContain('usage: lenet-gpu <command>');
    expect(help.stdout).toContain('train ');
    const smoke = await runOk('npx', ['lenet-gpu', 'smoke'], { cwd: apps.nodeApp, env });
    expect(smoke.stdout).toMatch(/adapter: /);
    expect(smoke.stdout).toContain('smoke check passed: 1000 elements');
    expect(smoke.stderr).toBe('');
  });

  describe('browser: a Vite app built against the tarball, in headless Chromium', () => {
    let session: BrowserSession;
    let dist: string;
    beforeAll(async () => {
      await runOk('node', [join(apps.browserApp, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: apps.browserApp });
      dist = join(apps.browserApp, 'dist');
      session = await startBrowserSession({ staticDir: dist });
    }, 300_000);
    afterAll(async () => {
      await session?.close();
    });

    it('trains a few hundred steps in a worker, evaluates and predicts', async () => {
      const page = await session.openPage('/index.html');
      const result = await pageResult<{
        adapter: { runtime: string };
        history: { epochs: { steps: number; loss: number; accuracy: number }[]; stopReason: string };
        accuracy: number;
        macroAuc: number;
        confusionTotal: number;
        classes: number[];
        labels: number[];
        checkpointBytes: number;
        checkpointMagic: string;
      }>(page, session, 240_000);
      expect(session.consoleLines.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
      const epoch = result.history.epochs[0];
      console.log(`browser consumer (${result.adapter.runtime}): ${epoch.steps} steps, loss ${epoch.loss.toFixed(4)}, test accuracy ${result.accuracy.toFixed(4)}, macro AUC ${result.macroAuc.toFixed(4)}`);
      expect(result.adapter.runtime).toBe('worker');
      expect(epoch.steps).toBe(300);
      expect(result.history.stopReason).toBe('completed');
      expect(result.confusionTotal).toBe(1000);
      expect(result.accuracy).toBeGreaterThan(0.8);
      expect(result.classes.filter((c, i) => c === result.labels[i]).length).toBeGreaterThanOrEqual(8);
      expect(result.checkpointMagic).toBe('LENETGPU');
      expect(result.checkpointBytes).toBeGreaterThan(61_706 * 4 * 3); // weights and Adam's two slots
      await page.close();
    }, 300_000);

    it('loads the Node program\'s checkpoint on the main thread and predicts what Node predicted', async () => {
      copyFileSync(join(apps.nodeApp, 'model.ckpt'), join(dist, 'model.ckpt'));
      writeFileSync(join(dist, 'digits.bin'), Uint8Array.from(node.digits));
      const page = await session.openPage('/predict.html');
      const result = await pageResult<{ adapter: string; classes: number[]; probabilities: number[] }>(page, session, 120_000);
      expect(result.adapter).toBe('browser');
      expect(result.classes).toEqual(node.classes);
      const largest = Math.max(...result.probabilities.map((p, i) => Math.abs(p - node.probabilities[i])));
      console.log(`browser vs Node predictions from one checkpoint: max |difference| ${largest.toExponential(2)}`);
      expect(largest).toBeLessThan(1e-5);
      await page.close();
    }, 180_000);

    it('keeps Node code out of every bundle, and ONNX/protobuf out of the predict-only one; reports gzipped sizes', () => {
      const sizes = bundleSizes(dist);
      mkdirSync(OUT, { recursive: true });
      const vite = (JSON.parse(readFileSync(join(apps.browserApp, 'node_modules', 'vite', 'package.json'), 'utf8')) as { version: string }).version;
      const report = {
        measured: new Date().toISOString(),
        command: 'LENET_GPU_BUNDLE_RESULTS=<file> npx vitest run test/package',
        bundler: `vite ${vite} (production build, minified; gzip level 9)`,
        pages: { page: 'index.html: drives the training worker', worker: 'the training worker (serveTrainer)', predict: 'predict.html: loads a checkpoint and predicts on the main thread', training: 'page + worker' },
        bytesGzipped: sizes.gzipped,
        files: sizes.files,
      };
      writeFileSync(join(OUT, 'bundle-sizes.json'), JSON.stringify(report, null, 2));
      if (process.env.LENET_GPU_BUNDLE_RESULTS) writeFileSync(process.env.LENET_GPU_BUNDLE_RESULTS, JSON.stringify(report, null, 2) + '\n');
      console.log(`bundles, gzipped: ${Object.entries(sizes.gzipped).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} KiB`).join(', ')}`);
      for (const [name, text] of Object.entries(sizes.text)) {
        expect(text, name).not.toMatch(/["']node:[a-z]/); // no Node built-ins
        expect(text, name).not.toMatch(/from\s*["']webgpu["']|import\(["']webgpu["']\)/); // no Dawn
      }
      expect(sizes.text.predict).not.toMatch(/protobuf|ModelProto|onnx/i);
      // fit's own message is in the worker's bundle, and not in the predict-only one.
      const fitMessage = 'no training samples left after holding out';
      expect(sizes.text.worker).toContain(fitMessage);
      expect(sizes.text.predict).not.toContain(fitMessage);
      expect(sizes.gzipped.predict).toBeLessThan(sizes.gzipped.worker);
      // The page that only drives the worker carries none of the engine.
      expect(sizes.gzipped.page).toBeLessThan(10 * 1024);
    });
  });

  it('the README\'s module examples are these apps\' code, verbatim', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const regions: [string, string][] = [
      ['node-app/train.mjs', 'readme'],
      ['browser-app/main.ts', 'readme-page'],
      ['browser-app/train-worker.ts', 'readme-worker'],
      ['browser-app/predict.ts', 'readme-predict'],
    ];
    for (const [file, name] of regions) {
      const text = readFileSync(join(REPO_ROOT, 'test', 'package', file), 'utf8');
      const match = new RegExp(`// #region ${name}\\n([\\s\\S]*?)// #endregion ${name}\\n`).exec(text);
      expect(match, `${file} has a #region ${name}`).not.toBeNull();
      expect(readme, `README.md holds ${file}'s region ${name}`).toContain(match![1]);
    }
    const viteConfig = readFileSync(join(REPO_ROOT, 'test', 'package', 'browser-app', 'vite.config.ts'), 'utf8');
    expect(readme, "README.md holds browser-app/vite.config.ts").toContain(viteConfig);
  });
});

/**
 * Each page's JavaScript, gzipped: the entry chunk named in its HTML with the
 * chunks it imports statically, and the worker chunk the training page starts.
 */
function bundleSizes(dist: string): { gzipped: Record<string, number>; text: Record<string, string>; files: Record<string, string[]> } {
  const assets = join(dist, 'assets');
  const read = (file: string): string => readFileSync(join(assets, file), 'utf8');
  const closure = (entry: string): string[] => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of read(file).matchAll(/(?:import|from)\s*["']\.\/([\w.-]+\.js)["']/g)) visit(m[1]);
    };
    visit(entry);
    return [...seen];
  };
  const entryOf = (html: string): string => {
    const m = /<script type="module"[^>]*src="[^"]*assets\/([\w.-]+\.js)"/.exec(readFileSync(join(dist, html), 'utf8'));
    if (!m) throw new Error(`no module script in ${html}`);
    return m[1];
  };
  const pageFiles = closure(entryOf('index.html'));
  const workerFile = readdirSync(assets).find((f) => /^train-worker-[\w-]+\.js$/.test(f));
  if (!workerFile) throw new Error(`no worker chunk in ${assets}: ${readdirSync(assets).join(', ')}`);
  const files = { page: pageFiles, worker: closure(workerFile), predict: closure(entryOf('predict.html')) };
  const gzipped: Record<string, number> = {};
  const text: Record<string, string> = {};
  for (const [name, list] of Object.entries(files)) {
    text[name] = list.map(read).join('\n');
    gzipped[name] = list.reduce((total, f) => total + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
  }
  gzipped.training = gzipped.page + gzipped.worker;
  return { gzipped, text, files };
}
