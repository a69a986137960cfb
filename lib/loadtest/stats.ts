/**
 * Statistics of a load test: percentiles, counts per second and latency
 * histograms, all from plain arrays of milliseconds.
 */

/** Percentiles of a set of latencies, in ms; null when the set is empty. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

/** Counts of latencies in bins of equal width from 0 ms. */
export interface Histogram {
  /** Width of each bin in ms: bin i holds [i * binMs, (i + 1) * binMs). */
  readonly binMs: number;
  readonly counts: readonly number[];
}

/**
 * The p-th percentile (0-100) of ascending values by nearest rank: the
 * smallest value with at least p % of the values at or below it. Always a
 * value of the set, never interpolated; undefined for an empty set.
 *
 * @example percentile([10, 20, 30, 40], 50) // 20
 */
export function percentile(
  sorted: readonly number[],
  p: number,
): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  const index = Math.min(Math.max(rank, 1), sorted.length) - 1;
  return sorted[index];
}

/** p50, p95, p99, max and mean of latencies in any order. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p) ?? null;
  const sum = sorted.reduce((total, v) => total + v, 0);
  return {
    count: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted.at(-1) ?? null,
    mean: sorted.length > 0 ? round(sum / sorted.length, 1) : null,
  };
}

/**
 * How many instants fall in each whole second from `startMs`: entry i
 * counts [start + i s, start + (i + 1) s). Instants before the start count
 * in the first second; the series ends with the last instant.
 */
export function perSecond(
  instants: readonly number[],
  startMs: number,
): number[] {
  const seconds = instants.map((t) => Math.max(0, (t - startMs) / 1000));
  const length = Math.floor(largest(seconds)) + 1;
  const counts = new Array<number>(instants.length > 0 ? length : 0).fill(0);
  for (const second of seconds) {
    const i = Math.floor(second);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

/**
 * Latencies in about `bins` bins of a round width (1, 2 or 5 times a power
 * of ten ms) from 0 ms to the largest latency.
 */
export function histogram(values: readonly number[], bins = 40): Histogram {
  const max = largest(values);
  const binMs = niceStep(max / bins);
  const counts = new Array<number>(Math.floor(max / binMs) + 1).fill(0);
  for (const value of values) {
    const i = Math.floor(Math.max(0, value) / binMs);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return { binMs, counts };
}

/** The smallest of 1, 2, 5, 10, 20, 50, ... ms that is at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * power >= raw) ?? 10;
  return step * power;
}

/** The largest value, at least 0; spreads no arrays into arguments. */
function largest(values: readonly number[]): number {
  return values.reduce((max, v) => Math.max(max, v), 0);
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
