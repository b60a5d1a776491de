/**
 * The GPU machine's kit, end to end on this machine: bench/device/pack.sh
 * builds it (Node and Dawn compressed, the bundles, the Vulkan loader where
 * apt's cache has it), then bench/device/run.sh --dry-run unpacks and runs
 * every step on SwiftShader with small counts, so the real run works the
 * first time a GPU is lent. Asserts the results file has every section.
 *
 * Cost: about 65 s alone on a 2-core machine (pack 10-13 s; the run ~48 s,
 * mostly SwiftShader compiling and stepping the bench's two LeNet-5 models,
 * the CLI's one and one whole-step parity test). The CLI is the test run's
 * own build (LENET_GPU_TEST_CLI, test/global-setup.ts), not built again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function sh(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): { status: number | null; output: string } {
  const r = spawnSync('bash', [join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${String(r.error)}` : ''}` };
}

describe('the device kit (bench/device)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lenet-gpu-kit-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('packs within its budget, and the dry run fills every section of the results', () => {
    const kit = join(dir, 'kit');
    const results = join(dir, 'results');
    // apt's cache only: a test must not wait on the network. $OUT belongs to the device tool.
    const env: NodeJS.ProcessEnv = { ...process.env, LENET_GPU_KIT_DEBS: 'cache' };
    delete env.OUT;

    const pack = sh('bench/device/pack.sh', [kit], env, 240_000);
    expect(pack.status, pack.output).toBe(0);
    const manifest = JSON.parse(readFileSync(join(kit, 'manifest.json'), 'utf8')) as { commit: string; parts: Record<string, number>; debs: string[] };
    const bytes = Object.values(manifest.parts).reduce((a, b) => a + b, 0);
    expect(bytes).toBeLessThan(60 * 2 ** 20);
    for (const part of ['node.xz', 'runtime.tar.xz', 'app']) expect(manifest.parts[part], part).toBeGreaterThan(0);
    for (const bundle of ['cli.js', 'bench.js', 'parity.js', 'report.js']) expect(existsSync(join(kit, 'app', bundle)), bundle).toBe(true);

    const run = sh('bench/device/run.sh', ['--dry-run', kit, '--out', results], env, 280_000);
    expect(run.status, run.output).toBe(0);
    const files = readdirSync(results);
    const json = files.find((f) => f.endsWith('.json'));
    expect(json, files.join(', ')).toMatch(/^\d{4}-\d\d-\d\d-dry-run-swiftshader.*\.json$/);
    const stem = json!.slice(0, -'.json'.length);
    expect(files).toContain(`${stem}.md`);
    expect(statSync(join(results, `${stem}.logs.tar.gz`)).size).toBeGreaterThan(0);

    const r = JSON.parse(readFileSync(join(results, json!), 'utf8'));
    expect(r.mode).toBe('dry-run');
    expect(r.command).toContain('--dry-run');
    expect(r.kit.commit).toBe(manifest.commit);
    expect(r.adapter.vendor, 'adapter report').toBeTruthy();
    // The kit's own Node, unpacked from node.xz, ran the steps (it is this machine's binary, so also the same).
    expect(r.host.nodePath).toMatch(/lenet-gpu-device-run\.[^/]+\/bin\/node$/);
    expect(r.run.nodeSameAsLocal).toBe('yes');
    expect(r.errors, JSON.stringify(r.errors)).toEqual([]);
    expect(r.steps.map((s: { name: string }) => s.name)).toEqual(['smoke', 'adapter', 'parity-kernels', 'bench', 'torch', 'train', 'parity-steps']);

    expect(r.smoke.ok).toBe(true);
    expect(r.parity.ok).toBe(true);
    expect(r.parity.passed).toBeGreaterThan(0);
    expect(r.parity.failed).toBe(0);
    // Kernel tests and a whole-step test ran; every parity file was loaded and collected, the ones not run too.
    expect(r.parity.parts.map((p: { name: string; passed: number }) => [p.name, p.passed > 0])).toEqual([
      ['parity-kernels', true],
      ['parity-steps', true],
    ]);
    expect(r.parity.filesLoaded).toBeGreaterThanOrEqual(9);
    expect(r.parity.collected).toBeGreaterThan(r.parity.passed);
    expect(r.parity.notRun).toBe(r.parity.collected - r.parity.passed);

    const variants = r.bench.rows.map((row: { variant: string }) => row.variant).sort();
    expect(variants).toEqual(['blocked', 'tiled']);
    for (const row of r.bench.rows) {
      expect(row.samplesPerSecond).toBeGreaterThan(0);
      expect(row.msPerStep).toBeGreaterThan(0);
      expect(row.dispatchesPerStep).toBeGreaterThan(10);
      expect(row.submitsPerStep).toBeGreaterThan(0);
      // SwiftShader has timestamp queries: per-kernel times and the gaps between dispatches.
      expect(row.gpuMsPerStep).toBeGreaterThan(0);
      expect(row.gapMsPerStep).toBeGreaterThanOrEqual(0);
      expect(row.topKernels.length).toBeGreaterThan(0);
    }
    // The kit's own Vulkan loader, where the kit has one, is the one the bench's process loaded.
    if (manifest.debs.some((d) => d.startsWith('libvulkan1_'))) expect(r.bench.vulkanLoader).toMatch(/debroot/);

    expect(r.train.epochs.length).toBeGreaterThanOrEqual(1);
    expect(r.train.epochs[0].seconds).toBeGreaterThan(0);
    expect(r.train.testAccuracy).toBeGreaterThan(0);

    expect(r.torch.skipped !== undefined || Array.isArray(r.torch.rows), JSON.stringify(r.torch)).toBe(true);
  }, 300_000);
});
