/**
 * Every unrolled section of the WGSL kernels is what scripts/wgsl/unrolled.ts
 * generates, to the character: nobody edits those lines by hand, and a change
 * to the generator reaches the shaders only through `npm run gen:wgsl` (which
 * runs this file with LENET_GPU_WRITE_WGSL=1 and rewrites the sections).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, generatedSections, regenerate } from '../../scripts/wgsl/unrolled.ts';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const write = process.env.LENET_GPU_WRITE_WGSL === '1';

describe('generated WGSL sections', () => {
  for (const [file, sections] of Object.entries(generatedSections())) {
    it(`shaders/${file}: ${Object.keys(sections).join(', ')} are the generator's`, () => {
      const path = join(REPO_ROOT, 'shaders', file);
      const code = readFileSync(path, 'utf8');
      const fresh = regenerate(file, code, sections);
      if (write && fresh !== code) writeFileSync(path, fresh);
      for (const name of Object.keys(sections)) {
        const at = (text: string): string => text.slice(text.indexOf(BEGIN(name)), text.indexOf(END(name)));
        expect(at(code), `shaders/${file}, section ${name}: differs from scripts/wgsl/unrolled.ts; run npm run gen:wgsl`).toBe(at(fresh));
      }
      // Every marker belongs to a section the generator knows (none left behind by a rename).
      const marked = [...code.matchAll(/\/\/ @generated (\w+):/g)].map((m) => m[1]);
      expect(marked.sort()).toEqual(Object.keys(sections).sort());
    });
  }

  it('the long unrolled lines of the window and blocked kernels all lie inside generated sections', () => {
    for (const file of ['conv2d-window.wgsl', 'dense.wgsl']) {
      let inside = false;
      const outside: number[] = [];
      readFileSync(join(REPO_ROOT, 'shaders', file), 'utf8').split('\n').forEach((line, i) => {
        if (line.startsWith('// @generated ')) inside = true;
        else if (line.startsWith('// @end ')) inside = false;
        else if (!inside && line.length > 150 && !line.startsWith('fn ')) outside.push(i + 1); // a long signature is no unrolled code
      });
      expect(outside, `shaders/${file}: long lines outside generated sections`).toEqual([]);
    }
  });

  it('regenerate refuses a shader whose markers are missing', () => {
    expect(() => regenerate('x.wgsl', 'fn f() {}', { out_row: '' })).toThrow('shaders/x.wgsl: no section "out_row"');
  });
});
