import { describe, expect, it } from 'vitest';
import {
  alarmNamed,
  alarmsOf,
  build,
  consumerDimensions,
  NAME,
  TYPE,
  topicRef,
} from '../helpers/monitoring-stack.ts';

describe('PipelineMonitoring alarms', () => {
  it('alarms on a depth above 8,000 on each task queue (R18)', () => {
    // GIVEN / WHEN
    const { template, ref } = build();

    // THEN
    for (const priority of ['high', 'normal'] as const) {
      expect(alarmNamed(template, `${NAME}-${priority}-depth`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: ref[priority] }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 8000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on an oldest message older than 1 s on each queue (R19)', () => {
    // GIVEN / WHEN
    const { template, ref } = build();

    // THEN
    for (const priority of ['high', 'normal'] as const) {
      expect(alarmNamed(template, `${NAME}-${priority}-age`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: ref[priority] }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
      });
    }
  });

  it('alarms on a p99 consumer latency above 1,000 ms (R19)', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const alarm = alarmNamed(template, `${NAME}-latency-p99`);
    expect(alarm).toMatchObject({
      Namespace: 'Tasklane',
      MetricName: 'TaskLatency',
      Dimensions: consumerDimensions(TYPE),
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Statistic).toBeUndefined();
  });

  it('alarms on a failure rate above 2 % by metric math (R20)', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const alarm = alarmNamed(template, `${NAME}-failure-rate`);
    const counted = (id: string, metricName: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'Tasklane',
          MetricName: metricName,
          Dimensions: consumerDimensions(TYPE),
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    expect(alarm).toMatchObject({
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Expression:
            '100 * FILL(failed, 0) / (FILL(completed, 0) + FILL(failed, 0))',
          ReturnData: true,
        }),
        counted('completed', 'TaskCompleted'),
        counted('failed', 'TaskFailed'),
      ]),
    );
    expect(alarm.Metrics).toHaveLength(3);
  });

  it('alarms as soon as the dead-letter queue is not empty', () => {
    // GIVEN / WHEN
    const { template, ref } = build();

    // THEN
    expect(alarmNamed(template, `${NAME}-dlq-not-empty`)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: ref.dlq }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
  });

  it("alarms on the consumer function's errors and throttles", () => {
    // GIVEN / WHEN
    const { template, ref } = build();

    // THEN
    const onFunction = { Name: 'FunctionName', Value: ref.consumer };
    expect(alarmNamed(template, `${NAME}-consumer-errors`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [onFunction],
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    expect(alarmNamed(template, `${NAME}-consumer-throttles`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [onFunction],
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
  });

  it('wires every alarm to the one topic, firing and clearing', () => {
    // GIVEN / WHEN
    const { template, monitoring } = build({
      taskTypes: [TYPE, 'order.export'],
    });

    // THEN
    const alarms = alarmsOf(template);
    expect(alarms).toHaveLength(18);
    expect(monitoring.alarms).toHaveLength(18);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([topicRef(template)]);
      expect(alarm.OKActions).toEqual([topicRef(template)]);
      expect(alarm.AlarmName).toMatch(/^tl-order-(notification|export)-/);
      expect(alarm.AlarmDescription).toMatch(
        /^R\d\d.*: .*Dashboard: tl-pipeline\.$/,
      );
    }
  });

  it('names the requirement, the window and what to look at', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    expect(alarmNamed(template, `${NAME}-high-depth`).AlarmDescription).toBe(
      'R18 backlog: the high queue of task type order.notification holds ' +
        'over 8000 messages, in 2 of 2 consecutive 1-min periods. Check the ' +
        "consumer's errors and throttles; then add consumers (maximum " +
        'concurrency) or lower the send rate. Dashboard: tl-pipeline.',
    );
    expect(
      alarmNamed(template, `${NAME}-failure-rate`).AlarmDescription,
    ).toMatch(/^R20 failure rate: .*, over 2 % failed, within 5 min\./);
  });

  it('measures each task type by its own TaskType dimension', () => {
    // GIVEN / WHEN
    const { template } = build({ taskTypes: [TYPE, 'order.export'] });

    // THEN
    expect(
      alarmNamed(template, 'tl-order-export-latency-p99').Dimensions,
    ).toEqual(consumerDimensions('order.export'));
  });

  it('takes configured thresholds, converting the latency to seconds', () => {
    // GIVEN
    const thresholds = {
      queueDepth: 500,
      latencyMs: 250,
      failureRatePercent: 5,
    };

    // WHEN
    const { template } = build({ thresholds });

    // THEN
    const threshold = (name: string) =>
      alarmNamed(template, `${NAME}-${name}`).Threshold;
    expect(threshold('normal-depth')).toBe(500);
    expect(threshold('normal-age')).toBe(0.25);
    expect(threshold('latency-p99')).toBe(250);
    expect(threshold('failure-rate')).toBe(5);
  });
});
