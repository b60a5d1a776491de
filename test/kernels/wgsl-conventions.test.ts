/**
 * One convention across the shaders: bindings numbered inputs first
 * (`var<storage, read>`), then outputs (`read_write`), then the uniforms, with
 * no gaps; the layer kernels' entry points named `<op>_<pass>[_<variant>]`.
 * The TypeScript side binds by name (reflect.ts), so the numbers are for
 * people reading the shaders and the bind group layouts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SHADERS = fileURLToPath(new URL('../../shaders', import.meta.url));
const files = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl'));
const RANK: Record<string, number> = { 'storage, read': 0, 'storage, read_write': 1, uniform: 2 };

describe('WGSL conventions', () => {
  it('bindings: inputs, then outputs, then uniforms, numbered from 0 without gaps', () => {
    for (const file of files) {
      const decls = [...readFileSync(join(SHADERS, file), 'utf8').matchAll(/@group\(0\) @binding\((\d+)\) var<(uniform|storage, read|storage, read_write)> (\w+)/g)]
        .map((m) => ({ binding: Number(m[1]), kind: m[2], name: m[3] }))
        .sort((a, b) => a.binding - b.binding);
      expect(decls.map((d) => d.binding), file).toEqual(decls.map((_, i) => i));
      const ranks = decls.map((d) => RANK[d.kind]);
      expect(ranks, `${file}: ${decls.map((d) => `${d.binding} ${d.name} (${d.kind})`).join(', ')}`).toEqual([...ranks].sort((a, b) => a - b));
    }
  });

  it('layer kernels are named <op>_<pass>[_<variant>]', () => {
    const layerFiles = ['conv2d.wgsl', 'conv2d-window.wgsl', 'dense.wgsl', 'pool.wgsl', 'activation.wgsl'];
    const scheme = /^(conv2d|dense|avg_pool|max_pool|activation)_(forward|backward|backward_input|backward_weight)(_[a-z]+)*$/;
    const entries = layerFiles.flatMap((file) => [...readFileSync(join(SHADERS, file), 'utf8').matchAll(/@compute[^\n]*\nfn (\w+)/g)].map((m) => m[1]));
    expect(entries.length).toBeGreaterThan(20);
    expect(entries.filter((e) => !scheme.test(e))).toEqual([]);
  });
});
