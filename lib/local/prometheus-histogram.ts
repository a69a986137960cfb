import type { Metric, Registry } from 'prom-client';
import type { MetricHistogram } from './local-metrics.ts';

/** One labelled series of a histogram: its buckets and the sum of values. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly histogram: MetricHistogram;
  readonly sum: number;
}

/** One line of the exposition: a series name, its labels and value. */
export interface ExposedValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * The lines of a Prometheus histogram: per series, cumulative
 * `<name>_bucket{le}` counts ending with `le="+Inf"`, then `<name>_sum` and
 * `<name>_count`.
 */
export function histogramValues(
  name: string,
  series: readonly HistogramSeries[],
): ExposedValue[] {
  return series.flatMap(({ labels, histogram, sum }) => {
    const les = [...histogram.bounds.map(String), '+Inf'];
    let total = 0;
    const buckets = les.map((le, i) => {
      total += histogram.counts[i] ?? 0;
      return {
        metricName: `${name}_bucket`,
        labels: { ...labels, le },
        value: total,
      };
    });
    return [
      ...buckets,
      { metricName: `${name}_sum`, labels, value: sum },
      { metricName: `${name}_count`, labels, value: total },
    ];
  });
}

/** What {@link registerBucketHistogram} exposes. */
export interface BucketHistogramConfig {
  /** Metric name without the `_bucket`, `_sum` and `_count` suffixes. */
  readonly name: string;
  readonly help: string;
  /** Reads the series at scrape time. */
  readonly read: () => readonly HistogramSeries[];
}

/**
 * Registers a histogram whose buckets are counted elsewhere (by
 * LocalMetrics, as the consumers add values) and only read at scrape time.
 *
 * prom-client's own Histogram can only count values it observes itself,
 * and has no way to take bucket counts. Its Registry, though, reads any
 * metric through `name`, `get()` and `reset()`; its type declarations list
 * only its own four classes, hence the one cast below. The integration test
 * scrapes this metric through the Registry, so a prom-client that read
 * metrics differently would fail it.
 */
export function registerBucketHistogram(
  registry: Registry,
  config: BucketHistogramConfig,
): void {
  const metric = {
    name: config.name,
    help: config.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      return {
        name: config.name,
        help: config.help,
        type: 'histogram',
        aggregator: 'sum',
        values: histogramValues(config.name, config.read()),
      };
    },
    // Nothing to reset: the counts belong to LocalMetrics.
    reset() {},
  };
  registry.registerMetric(metric as unknown as Metric);
}
