/**
 * CPU reference of shaders/augment.wgsl: the same per-image random affine
 * resample (rotation, scaling, shift about the image centre; bilinear, zero
 * outside), the same counter-and-seed hash, and the same f32 arithmetic in
 * the same order (Math.fround after every operation), so the GPU kernel can
 * be held to it by a parity test. See the shader for the algorithm.
 *
 *   augmented (B, C, H, W) <- images (B, C, H, W), counter (the step), options
 */
import type { Vec } from '../util/vec.ts';

export interface AugmentOptions {
  /** Largest rotation either way, degrees (at most 45). LeCun et al.: about 15. */
  maxRotationDegrees: number;
  /** Largest relative change of size either way, e.g. 0.1 for 0.9x..1.1x (below 1). */
  maxScale: number;
  /** Largest shift either way, pixels, per axis. */
  maxShift: number;
  /** Mixed into every draw; default 0. */
  seed?: number;
}

export class AugmentOptionsError extends RangeError {
  override name = 'AugmentOptionsError';
}

/** Checks the options and returns what the shader's uniforms hold (the rotation in radians, as f32). */
export function augmentUniforms(o: AugmentOptions): { seed: number; max_rotation: number; max_scale: number; max_shift: number } {
  const { maxRotationDegrees: r, maxScale: s, maxShift: t } = o;
  const seed = o.seed ?? 0;
  if (!(r >= 0 && r <= 45)) throw new AugmentOptionsError(`maxRotationDegrees must be in [0, 45], got ${r}`);
  if (!(s >= 0 && s < 1)) throw new AugmentOptionsError(`maxScale must be in [0, 1), got ${s}`);
  if (!(t >= 0 && Number.isFinite(t))) throw new AugmentOptionsError(`maxShift must be a finite number >= 0, got ${t}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new AugmentOptionsError(`seed must be a u32, got ${seed}`);
  return { seed, max_rotation: Math.fround((r * Math.PI) / 180), max_scale: Math.fround(s), max_shift: Math.fround(t) };
}

/** PCG-RXS-M-XS output permutation on u32, as the shader's pcg_hash. */
export function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

const f = Math.fround;
const signedUnit = (r: number): number => f(f((r >>> 8) * (2 / 16777216)) - 1);

// Horner forms written out step by step, in the shader's order.
function cosPoly(x: number): number {
  const x2 = f(x * x);
  let t = f(f(1 / 720) - f(x2 * f(1 / 40320)));
  t = f(f(1 / 24) - f(x2 * t));
  t = f(0.5 - f(x2 * t));
  return f(1 - f(x2 * t));
}

function sinPoly(x: number): number {
  const x2 = f(x * x);
  let t = f(f(1 / 5040) - f(x2 * f(1 / 362880)));
  t = f(f(1 / 120) - f(x2 * t));
  t = f(f(1 / 6) - f(x2 * t));
  return f(x * f(1 - f(x2 * t)));
}

/** The transform of image b at step `counter`: angle (radians), scale and shift, as the shader draws them. */
export function augmentTransform(counter: number, b: number, u: ReturnType<typeof augmentUniforms>): { angle: number; scale: number; shiftX: number; shiftY: number } {
  const key = pcgHash((u.seed ^ pcgHash(counter)) >>> 0);
  const draw = (k: number): number => signedUnit(pcgHash((key ^ (4 * b + k)) >>> 0));
  return {
    angle: f(draw(0) * u.max_rotation),
    scale: f(1 + f(draw(1) * u.max_scale)),
    shiftX: f(draw(2) * u.max_shift),
    shiftY: f(draw(3) * u.max_shift),
  };
}

export function augmentBatch(
  augmented: Vec, // (B, C, H, W)
  images: Vec, // (B, C, H, W)
  counter: number,
  options: AugmentOptions,
  batch: number,
  channels: number,
  height: number,
  width: number,
): void {
  const u = augmentUniforms(options);
  const plane = height * width;
  const imageSize = channels * plane;
  if (images.length < batch * imageSize || augmented.length < batch * imageSize) {
    throw new RangeError(`augmentBatch: buffers hold ${images.length} / ${augmented.length} values, need ${batch * imageSize}`);
  }
  const cx = f((width - 1) * 0.5);
  const cy = f((height - 1) * 0.5);
  for (let b = 0; b < batch; b++) {
    const t = augmentTransform(counter, b, u);
    const a = f(cosPoly(t.angle) / t.scale);
    const s = f(sinPoly(t.angle) / t.scale);
    for (let c = 0; c < channels; c++) {
      const base = b * imageSize + c * plane;
      const pixel = (y: number, x: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : images[base + y * width + x]);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const dx = f(f(x - cx) - t.shiftX);
          const dy = f(f(y - cy) - t.shiftY);
          const qx = f(f(f(a * dx) + f(s * dy)) + cx);
          const qy = f(f(f(a * dy) - f(s * dx)) + cy);
          const x0 = Math.floor(qx);
          const y0 = Math.floor(qy);
          const fx = f(qx - x0);
          const fy = f(qy - y0);
          const top = f(f(pixel(y0, x0) * f(1 - fx)) + f(pixel(y0, x0 + 1) * fx));
          const bottom = f(f(pixel(y0 + 1, x0) * f(1 - fx)) + f(pixel(y0 + 1, x0 + 1) * fx));
          augmented[base + y * width + x] = f(f(top * f(1 - fy)) + f(bottom * fy));
        }
      }
    }
  }
}
