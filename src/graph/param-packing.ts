/**
 * Between the two forms of the flat parameters: packed (tensors back to
 * back: what initParameters, the CPU reference and checkpoints use) and
 * aligned (each tensor at a 256-byte boundary: what the GPU binds).
 */
import type { ParameterLayout } from '../model/params.ts';

export const packedSize = (layout: ParameterLayout): number => layout.tensors.reduce((n, t) => n + t.size, 0);

export function packParams(layout: ParameterLayout, aligned: Float32Array): Float32Array {
  const out = new Float32Array(packedSize(layout));
  let to = 0;
  for (const t of layout.tensors) {
    out.set(aligned.subarray(t.offset, t.offset + t.size), to);
    to += t.size;
  }
  return out;
}

export function alignParams(layout: ParameterLayout, packed: Float32Array): Float32Array {
  if (packed.length !== packedSize(layout)) throw new RangeError(`got ${packed.length} parameter values, the layout holds ${packedSize(layout)}`);
  const out = new Float32Array(layout.total);
  let from = 0;
  for (const t of layout.tensors) {
    out.set(packed.subarray(from, from + t.size), t.offset);
    from += t.size;
  }
  return out;
}
