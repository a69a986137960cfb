import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Count, sum and largest value of one metric of one task type. */
export interface MetricTotal {
  count: number;
  sum: number;
  max: number;
}

/**
 * Values of one metric counted into fixed buckets, as a Prometheus
 * histogram reports them.
 */
export interface MetricHistogram {
  /** Upper bounds of the buckets, ascending; a last bucket is unbounded. */
  readonly bounds: readonly number[];
  /**
   * Values per bucket, not cumulative: `counts[i]` holds the values above
   * `bounds[i - 1]` and at most `bounds[i]`; the last entry, one past the
   * bounds, those above every bound.
   */
  readonly counts: number[];
}

/**
 * Upper bounds of the duration buckets in ms, from sent time to completion.
 * 1,000 ms is one of them, so a p99 above the latency threshold (R19) is
 * told exactly; the bounds past it reach the retry delays, which add up to
 * about a minute over five retries, and 300,000 ms is the longest a
 * status may wait for its callback (R11's alarm).
 */
export const DURATION_BUCKETS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 750, 1_000, 2_500, 5_000, 10_000, 30_000,
  60_000, 120_000, 300_000,
];

/** An empty histogram with the given bucket bounds. */
export function emptyHistogram(bounds: readonly number[]): MetricHistogram {
  return { bounds, counts: new Array<number>(bounds.length + 1).fill(0) };
}

/** Counts one value into the first bucket whose bound holds it. */
export function observe(histogram: MetricHistogram, value: number): void {
  const index = histogram.bounds.findIndex((bound) => value <= bound);
  const bucket = index === -1 ? histogram.bounds.length : index;
  histogram.counts[bucket] = (histogram.counts[bucket] ?? 0) + 1;
}

/**
 * Powertools Metrics for local mode: the consumers add metrics exactly as
 * on AWS, but instead of printing CloudWatch's embedded format, which
 * nothing reads here, the values are totalled in memory per task type.
 * Durations (unit Milliseconds, such as TaskLatency) are also counted into
 * {@link DURATION_BUCKETS_MS}, which give percentiles to Prometheus.
 */
export class LocalMetrics extends Metrics {
  readonly taskType: string;
  readonly totals = new Map<string, MetricTotal>();
  /** Histograms of the duration metrics, by metric name. */
  readonly histograms = new Map<string, MetricHistogram>();

  constructor(taskType: string) {
    super({
      namespace: 'Tasklane',
      serviceName: 'tasklane',
      defaultDimensions: { TaskType: taskType },
    });
    this.taskType = taskType;
  }

  override addMetric(name: string, unit: unknown, value: number): this {
    const total = this.totals.get(name) ?? { count: 0, sum: 0, max: 0 };
    total.count += 1;
    total.sum += value;
    total.max = Math.max(total.max, value);
    this.totals.set(name, total);

    if (unit === MetricUnit.Milliseconds) this.observe(name, value);
    return this;
  }

  /** Nothing to flush: the totals are read in this process. */
  override publishStoredMetrics(): this {
    return this;
  }

  private observe(name: string, value: number): void {
    let histogram = this.histograms.get(name);
    if (!histogram) {
      histogram = emptyHistogram(DURATION_BUCKETS_MS);
      this.histograms.set(name, histogram);
    }
    observe(histogram, value);
  }
}
