/**
 * The one closeness rule every numeric test uses, elementwise:
 *
 *   |actual[i] − expected[i]| <= atol + rtol·|expected[i]|   for every i
 *
 * A norm ratio lets a few wrong small elements (or one wrong row of a big
 * tensor) pass; this does not. A failure names the tensor, how many elements
 * failed, the first mismatches and the largest error, so it says where and by
 * how much. NaN or an infinity where the reference is finite always fails
 * (outputs are poisoned with NaN first, so an element a kernel never wrote
 * fails too). Norms are reported beside, for the logs.
 */
export type Numeric = ArrayLike<number>;

export interface Tolerance {
  /** Absolute slack: covers elements near zero, where cancellation leaves fp32 no relative accuracy. */
  atol: number;
  /** Relative slack, times |expected[i]|. */
  rtol: number;
}

export interface AllClose {
  /** Elements outside atol + rtol·|expected|. */
  mismatches: number;
  /** Largest |actual − expected|, and where. */
  maxAbsError: number;
  worstIndex: number;
  /** Largest |actual − expected| / (atol + rtol·|expected|): under 1 passes; how close to the edge a pass was. */
  worstRatio: number;
  /** ‖actual − expected‖ / ‖expected‖, for logs only. */
  relError: number;
  /** Elements that are NaN/infinite in actual but finite in expected (e.g. never written). */
  nonFinite: number;
}

/** Largest |v|: the scale a tensor's absolute tolerance is taken from. */
export function maxAbs(values: Numeric): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/**
 * A tolerance for a tensor whose small elements are sums with cancellation:
 * rtol for each element, and atol = `scaleTol` times the tensor's largest
 * magnitude (default: rtol), so an element near zero may be off by what
 * rounding leaves of the tensor's scale, and no more.
 */
export function tolFor(expected: Numeric, rtol: number, scaleTol = rtol): Tolerance {
  return { rtol, atol: scaleTol * maxAbs(expected) };
}

export function allClose(actual: Numeric, expected: Numeric, tol: Tolerance): AllClose {
  if (actual.length !== expected.length) throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  let mismatches = 0;
  let maxAbsError = 0;
  let worstIndex = -1;
  let worstRatio = 0;
  let nonFinite = 0;
  let diff2 = 0;
  let ref2 = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const d = Math.abs(a - e);
    const bound = tol.atol + tol.rtol * Math.abs(e);
    // Written so that NaN fails: !(NaN <= bound).
    if (!(d <= bound)) mismatches++;
    if (!Number.isFinite(a) && Number.isFinite(e)) {
      nonFinite++;
      if (Number.isFinite(maxAbsError)) { maxAbsError = Infinity; worstIndex = i; worstRatio = Infinity; }
      continue;
    }
    diff2 += d * d;
    ref2 += e * e;
    if (d > maxAbsError) { maxAbsError = d; worstIndex = i; }
    const ratio = bound > 0 ? d / bound : d > 0 ? Infinity : 0;
    if (ratio > worstRatio) worstRatio = ratio;
  }
  const relError = nonFinite > 0 ? Infinity : ref2 === 0 ? Math.sqrt(diff2) : Math.sqrt(diff2 / ref2);
  return { mismatches, maxAbsError, worstIndex, worstRatio, relError, nonFinite };
}

function firstMismatches(actual: Numeric, expected: Numeric, tol: Tolerance, count = 5): string {
  const lines: string[] = [];
  for (let i = 0; i < actual.length && lines.length < count; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol.atol + tol.rtol * Math.abs(expected[i]))) {
      lines.push(`  [${i}] actual ${actual[i]} expected ${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i]).toExponential(3)})`);
    }
  }
  return lines.join('\n');
}

/**
 * Throws unless every element is within atol + rtol·|expected|. Returns the
 * measurement so callers can log it. `label` names the tensor and seed.
 */
export function expectAllClose(actual: Numeric, expected: Numeric, tol: Tolerance, label: string): AllClose {
  const c = allClose(actual, expected, tol);
  if (c.mismatches > 0) {
    throw new Error(
      `${label}: ${c.mismatches} of ${actual.length} elements outside atol ${tol.atol.toExponential(2)} + rtol ${tol.rtol.toExponential(2)}·|expected|; ` +
        `largest error ${c.maxAbsError.toExponential(3)} at [${c.worstIndex}], ${c.nonFinite} non-finite, relative norm error ${c.relError.toExponential(3)}\n` +
        firstMismatches(actual, expected, tol),
    );
  }
  return c;
}

/** Norms only, for logs and for comparisons that are not parity claims (e.g. how far two models drift apart). */
export function closeness(actual: Numeric, expected: Numeric): Pick<AllClose, 'relError' | 'maxAbsError' | 'worstIndex' | 'nonFinite'> {
  const c = allClose(actual, expected, { atol: Infinity, rtol: 0 });
  return { relError: c.relError, maxAbsError: c.maxAbsError, worstIndex: c.worstIndex, nonFinite: c.nonFinite };
}

/** The usual call: expectAllClose with tolFor(expected, rtol) (atol = rtol·max|expected|). */
export function expectNear(actual: Numeric, expected: Numeric, rtol: number, label: string): AllClose {
  return expectAllClose(actual, expected, tolFor(expected, rtol), label);
}
