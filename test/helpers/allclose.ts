/**
 * The one closeness helper every numeric test uses. Reports the relative error
 * ‖actual − expected‖ / ‖expected‖, the largest absolute difference, and the
 * first mismatching elements, so a failure says where and by how much.
 */
export type Numeric = ArrayLike<number>;

export interface Closeness {
  relError: number;
  maxAbsError: number;
  /** Index of the largest absolute difference. */
  worstIndex: number;
  /** Elements that are NaN/infinite in actual but finite in expected (e.g. never written). */
  nonFinite: number;
}

export function closeness(actual: Numeric, expected: Numeric): Closeness {
  if (actual.length !== expected.length) throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  let diff2 = 0;
  let ref2 = 0;
  let maxAbsError = 0;
  let worstIndex = -1;
  let nonFinite = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(a) && Number.isFinite(e)) {
      nonFinite++;
      if (worstIndex < 0 || Number.isFinite(maxAbsError)) { maxAbsError = Infinity; worstIndex = i; }
      continue;
    }
    const d = Math.abs(a - e);
    diff2 += d * d;
    ref2 += e * e;
    if (d > maxAbsError) { maxAbsError = d; worstIndex = i; }
  }
  const relError = nonFinite > 0 ? Infinity : ref2 === 0 ? Math.sqrt(diff2) : Math.sqrt(diff2 / ref2);
  return { relError, maxAbsError, worstIndex, nonFinite };
}

function firstMismatches(actual: Numeric, expected: Numeric, atol: number, rtol: number, count = 5): string {
  const lines: string[] = [];
  for (let i = 0; i < actual.length && lines.length < count; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
      lines.push(`  [${i}] actual ${actual[i]} expected ${expected[i]}`);
    }
  }
  return lines.join('\n');
}

/**
 * Throws unless ‖actual − expected‖/‖expected‖ <= relTol. Returns the
 * closeness so callers can log it. `label` names the tensor and seed.
 */
export function expectRelClose(actual: Numeric, expected: Numeric, relTol: number, label: string): Closeness {
  const c = closeness(actual, expected);
  if (!(c.relError <= relTol)) {
    throw new Error(
      `${label}: relative error ${c.relError.toExponential(3)} > ${relTol.toExponential(1)} ` +
        `(max abs ${c.maxAbsError.toExponential(3)} at [${c.worstIndex}], ${c.nonFinite} non-finite)\n` +
        firstMismatches(actual, expected, 0, relTol),
    );
  }
  return c;
}
