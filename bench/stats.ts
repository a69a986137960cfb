/**
 * The few statistics the benchmarks report: medians of repeated rounds and
 * ratios of two medians measured in the same run.
 */

/**
 * The middle value of a sample, or the mean of the two middle values when
 * the sample has an even size. Throws on an empty sample, which would
 * otherwise print as a figure.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as number;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] as number) + upper) / 2;
}

/** `part / whole`; NaN when `whole` is 0, so a missing figure shows. */
export function ratio(part: number, whole: number): number {
  return whole === 0 ? Number.NaN : part / whole;
}

/** Rounds to `digits` significant digits, for tables and JSON alike. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

/** Events per second of `count` events in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ratio(count * 1000, ms);
}
