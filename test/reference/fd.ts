/**
 * Finite-difference helpers for the reference gradient tests (float64 only).
 *
 * Gradients are checked on the scalar objective L = sum(out * R) with a fixed
 * random R, so the analytic backward gets dout = R, and the numeric gradient
 * is the central difference (L(x + h e_i) - L(x - h e_i)) / 2h, whose
 * truncation error is O(h^2) and round-off O(eps * |L| / h): with h = 1e-5
 * both are far below the 1e-6 relative tolerance.
 */
import { createRng, type Rng } from '../../src/util/random.ts';

export const FD_STEP = 1e-5;
export const FD_TOL = 1e-6;

/** Central-difference gradient of `objective` with respect to x at `indices` (default: all). */
export function centralDiff(objective: () => number, x: Float64Array, indices?: readonly number[], h = FD_STEP): Float64Array {
  const at = indices ?? Array.from(x, (_, i) => i);
  const grad = new Float64Array(at.length);
  at.forEach((i, k) => {
    const saved = x[i];
    x[i] = saved + h;
    const plus = objective();
    x[i] = saved - h;
    const minus = objective();
    x[i] = saved;
    grad[k] = (plus - minus) / (2 * h);
  });
  return grad;
}

export function randomF64(rng: Rng, length: number, low = -1, high = 1): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.uniform(low, high);
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function pick<T extends ArrayLike<number>>(values: T, indices: readonly number[]): Float64Array {
  return Float64Array.from(indices, (i) => values[i]);
}

/** Collected relative errors, printed once per file so the report can quote ranges. */
export class ErrorLog {
  private readonly entries: { label: string; rel: number }[] = [];
  add(label: string, rel: number): void {
    this.entries.push({ label, rel });
  }
  print(title: string): void {
    if (this.entries.length === 0) return;
    const rels = this.entries.map((e) => e.rel);
    const lines = this.entries.map((e) => `  ${e.rel.toExponential(2)}  ${e.label}`);
    console.log(`${title}: relative error ${Math.min(...rels).toExponential(2)} .. ${Math.max(...rels).toExponential(2)} over ${rels.length} checks\n${lines.join('\n')}`);
  }
}

export { createRng };
