/**
 * Every import points down the data flow (README, "Layout"): a module may
 * import from its own layer or a lower one, never a higher one. The layers,
 * lowest first, are below; a folder not listed is an error here, so a new
 * folder has to take its place in the order. Type-only imports count too: a
 * type from a higher layer is a dependency on it all the same.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/browser.ts';

const SRC = join(REPO_ROOT, 'src');

/** Lowest first. A module's layer is its folder's (or, at src/'s root, its file's). */
const LAYERS: string[][] = [
  ['util', 'types', 'geometry.ts', 'metrics'], // plain data and math, no engine notions
  ['model'], // the network as a description: spec, shape inference, parameter layout and init, FLOPs, summary
  ['data', 'reference'], // data sets; the CPU reference kernels and network (the ground truth)
  ['gpu'], // devices, buffers, waits
  ['kernels', 'shaders'], // the WGSL kernels, their launchers and the kernel plan
  ['graph'], // a model plan recorded as GPU work
  ['engine'], // models, training, evaluation, checkpoints and their run cards
  ['interop', 'report', 'research', 'bench'], // formats, reports, sweeps, benchmarks
  ['worker', 'cli', 'index.ts', 'index.node.ts', 'node.ts', 'vite-plugin.ts'], // entry points
];

function layerOf(path: string): number {
  const rel = relative(SRC, path);
  const top = rel.startsWith('..') ? relative(REPO_ROOT, path).split('/')[0] : rel.split('/')[0];
  const index = LAYERS.findIndex((names) => names.includes(top));
  if (index < 0) throw new Error(`${relative(REPO_ROOT, path)}: its folder "${top}" has no layer; add it to LAYERS in test/layout/imports.test.ts`);
  return index;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^'?]+)(?:\?[^']*)?'|import\(\s*'(\.{1,2}\/[^'?]+)'/g;

describe('imports point down the layers', () => {
  it('no module under src/ imports from a higher layer', () => {
    const upward: string[] = [];
    let imports = 0;
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const target = normalize(join(dirname(file), m[1] ?? m[2]));
        imports++;
        const to = layerOf(target);
        if (to > from) upward.push(`${relative(REPO_ROOT, file)} (${LAYERS[from][0]}) -> ${relative(REPO_ROOT, target)} (${LAYERS[to][0]})`);
      }
    }
    console.log(`${imports} relative imports under src/, ${upward.length} pointing up`);
    expect(imports).toBeGreaterThan(200);
    expect(upward).toEqual([]);
  });
});
