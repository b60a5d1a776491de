/**
 * Summary statistics for benchmark repeats: every figure the benchmark
 * reports is a median over repeats with its spread (min, max, and the
 * relative spread (max - min) / median), never a single run. The raw values
 * are kept so the JSON results can be re-analysed.
 */

export interface Spread {
  median: number;
  min: number;
  max: number;
  mean: number;
  /** (max - min) / median: 0.1 means the repeats differed by 10% of the median. */
  relSpread: number;
  n: number;
  values: number[];
}

export function summarize(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('summarize: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { median, min, max, mean, relSpread: median === 0 ? 0 : (max - min) / Math.abs(median), n: values.length, values: [...values] };
}

/** Applies f to every value of a spread (e.g. ms/step -> samples/s); min and max swap if f is decreasing. */
export function mapSpread(s: Spread, f: (v: number) => number): Spread {
  return summarize(s.values.map(f));
}

/** "123.4 ±5%" (median and relative spread), or "123.4" for a single value. */
export function formatSpread(s: Spread | undefined, digits = 1): string {
  if (!s) return 'n/a';
  const m = s.median.toFixed(digits);
  return s.n > 1 ? `${m} ±${Math.round((s.relSpread * 100) / 2)}%` : m;
}

/** Rounds to `sig` significant digits, for JSON and tables. */
export function round(v: number, sig = 4): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const p = Math.pow(10, sig - 1 - Math.floor(Math.log10(Math.abs(v))));
  return Math.round(v * p) / p;
}

export const now = (): number => performance.now();
