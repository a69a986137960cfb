import { describe, expect, it } from 'vitest';
import { build, dashboardBody, TYPE } from '../helpers/monitoring-stack.ts';

describe('PipelineMonitoring dashboard', () => {
  it('is named after the prefix and has a section per task type', () => {
    // GIVEN / WHEN
    const { template } = build({ taskTypes: [TYPE, 'order.export'] });

    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'tl-pipeline',
    });
    const headings = dashboardBody(template)
      .widgets.filter((w) => w.type === 'text')
      .map((w) => w.properties.markdown);
    expect(headings).toEqual([
      '## Task type `order.notification`',
      '## Task type `order.export`',
    ]);
  });

  it('graphs depth, age, throughput, latency, failures, dead letters', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const widgets = dashboardBody(template).widgets;
    const byTitle = new Map(
      widgets.map((w) => [w.properties.title, JSON.stringify(w.properties)]),
    );
    const expected: Record<string, string[]> = {
      'Queue depth (visible messages)': ['ApproximateNumberOfMessagesVisible'],
      'Age of oldest message (s)': ['ApproximateAgeOfOldestMessage'],
      'Latency p50 / p99 (ms)': ['TaskLatency', '"p50"', '"p99"'],
      'Failure rate (%)': ['FILL(failed, 0)', 'TaskCompleted', 'TaskFailed'],
      'Throughput (tasks per minute)': [
        'TaskCompleted',
        'TaskFailed',
        'TaskRetried',
      ],
      'Dead-letter queue depth': ['ApproximateNumberOfMessagesVisible'],
      'Consumer errors and throttles': ['"Errors"', '"Throttles"'],
      Alarms: ['alarms'],
    };
    expect([...byTitle.keys()].filter(Boolean).sort()).toEqual(
      Object.keys(expected).sort(),
    );
    for (const [title, names] of Object.entries(expected)) {
      for (const name of names) expect(byTitle.get(title)).toContain(name);
    }
  });

  it('draws the thresholds as horizontal annotations', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const annotations = Object.fromEntries(
      dashboardBody(template)
        .widgets.filter((w) => w.properties.annotations)
        .map((w) => [
          w.properties.title,
          (w.properties.annotations as { horizontal: { value: number }[] })
            .horizontal[0]?.value,
        ]),
    );
    expect(annotations).toEqual({
      'Queue depth (visible messages)': 8000,
      'Age of oldest message (s)': 1,
      'Latency p50 / p99 (ms)': 1000,
      'Failure rate (%)': 2,
      'Dead-letter queue depth': 0,
    });
  });

  it('graphs the consumer metrics with both Powertools dimensions', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const latency = dashboardBody(template).widgets.find(
      (w) => w.properties.title === 'Latency p50 / p99 (ms)',
    );
    expect(latency?.properties.metrics).toEqual(
      ['p50', 'p99'].map((stat) => [
        'Tasklane',
        'TaskLatency',
        'TaskType',
        TYPE,
        'service',
        'tasklane',
        { label: stat, period: 60, stat },
      ]),
    );
  });
});
