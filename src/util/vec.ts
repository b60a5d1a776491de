/**
 * The tensor type of the CPU reference: a flat typed array, float32 or float64.
 *
 * Every reference function takes `Vec`, so the same code runs in float32 (the
 * storage precision of the GPU engine, used when comparing against it) and in
 * float64 (used by the finite-difference gradient checks, where float32 would
 * drown a 1e-6 relative error in rounding). Shapes are not carried by the
 * array: each function takes its dimensions (or a geometry) as trailing
 * arguments, and each buffer is documented with a shape comment like
 * `// (B, C, H, W)`.
 */
export type Vec = Float32Array | Float64Array;

/** The constructor of a Vec type; lets a caller pick float32 or float64 storage. */
export interface VecConstructor {
  new (length: number): Vec;
  new (values: ArrayLike<number>): Vec;
}
