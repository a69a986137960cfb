import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import {
  DURATION_BUCKETS_MS,
  emptyHistogram,
  LocalMetrics,
  observe,
} from '../../lib/local/local-metrics.ts';
import { histogramValues } from '../../lib/local/prometheus-histogram.ts';

describe('observe', () => {
  it('counts a value into the first bucket whose bound holds it', () => {
    // Prepare
    const histogram = emptyHistogram([10, 100]);

    // Act
    for (const value of [0, 10, 10.5, 100, 101, 5_000]) {
      observe(histogram, value);
    }

    // Assess: a bound holds values equal to it, as `le` says
    expect(histogram.counts).toEqual([2, 2, 2]);
  });
});

describe('LocalMetrics', () => {
  it('counts durations into buckets and leaves counts out', () => {
    // Prepare
    const metrics = new LocalMetrics('demo.flaky');

    // Act
    metrics.addMetric('TaskLatency', MetricUnit.Milliseconds, 1_000);
    metrics.addMetric('TaskLatency', MetricUnit.Milliseconds, 1_001);
    metrics.addMetric('TaskCompleted', MetricUnit.Count, 1);

    // Assess
    const latency = metrics.histograms.get('TaskLatency');
    const at = (bound: number) =>
      latency?.counts[DURATION_BUCKETS_MS.indexOf(bound)];
    expect(at(1_000)).toBe(1);
    expect(at(2_500)).toBe(1);
    expect(metrics.histograms.has('TaskCompleted')).toBe(false);
    expect(metrics.totals.get('TaskLatency')).toEqual({
      count: 2,
      sum: 2_001,
      max: 1_001,
    });
  });

  it('has a bucket bound at the latency threshold of 1000 ms', () => {
    expect(DURATION_BUCKETS_MS).toContain(1_000);
    expect([...DURATION_BUCKETS_MS].sort((a, b) => a - b)).toEqual(
      DURATION_BUCKETS_MS,
    );
  });
});

describe('histogramValues', () => {
  it('gives cumulative buckets ending at +Inf, then sum and count', () => {
    // Prepare
    const histogram = emptyHistogram([10, 100]);
    for (const value of [5, 50, 60, 500]) observe(histogram, value);

    // Act
    const values = histogramValues('latency_ms', [
      { labels: { task_type: 'a' }, histogram, sum: 615 },
    ]);

    // Assess
    expect(values).toEqual([
      { metricName: 'latency_ms_bucket', labels: lbl('10'), value: 1 },
      { metricName: 'latency_ms_bucket', labels: lbl('100'), value: 3 },
      { metricName: 'latency_ms_bucket', labels: lbl('+Inf'), value: 4 },
      { metricName: 'latency_ms_sum', labels: { task_type: 'a' }, value: 615 },
      { metricName: 'latency_ms_count', labels: { task_type: 'a' }, value: 4 },
    ]);
  });

  it('gives nothing for no series', () => {
    expect(histogramValues('latency_ms', [])).toEqual([]);
  });
});

function lbl(le: string) {
  return { task_type: 'a', le };
}
