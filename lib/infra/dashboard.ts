import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { Priority } from '../envelope.ts';
import {
  type AlarmThresholds,
  CONSUMER_METRICS,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type TaskLaneResources,
} from './contracts.ts';

/** Every metric the alarms and the dashboard read for one task type. */
export interface LaneMetrics {
  /** The task type the metrics belong to. */
  readonly taskType: string;
  /** Visible messages of each task queue, maximum per minute. */
  readonly depth: Readonly<Record<Priority, cloudwatch.Metric>>;
  /** Age of each task queue's oldest message in seconds, maximum per minute. */
  readonly age: Readonly<Record<Priority, cloudwatch.Metric>>;
  /** Tasks completed, failed and retried, sums per minute. */
  readonly completed: cloudwatch.Metric;
  readonly failed: cloudwatch.Metric;
  readonly retried: cloudwatch.Metric;
  /** Milliseconds from sent time to completion, per minute. */
  readonly latencyP50: cloudwatch.Metric;
  readonly latencyP99: cloudwatch.Metric;
  /** Failed tasks in percent of finished ones, per 5 minutes. */
  readonly failureRate: cloudwatch.MathExpression;
  /** Visible messages of the dead-letter queue, maximum per minute. */
  readonly deadLetters: cloudwatch.Metric;
  /** The consumer function's errors and throttles, sums per minute. */
  readonly errors: cloudwatch.Metric;
  readonly throttles: cloudwatch.Metric;
}

/**
 * The period of the failure rate. A share needs volume: one minute of light
 * traffic holds too few finished tasks for a percentage to mean much.
 */
const FAILURE_RATE_PERIOD = Duration.minutes(5);

const MINUTE = Duration.minutes(1);

/** The metrics of one task type, from its queues, function and consumer. */
export function laneMetrics(lane: TaskLaneResources): LaneMetrics {
  const queue = (priority: Priority) => lane.queues[priority];
  const consumer = (name: string, statistic: string) =>
    consumerMetric(lane.taskType, name, statistic);
  const completed = consumer(CONSUMER_METRICS.completed, 'Sum');
  const failed = consumer(CONSUMER_METRICS.failed, 'Sum');

  return {
    taskType: lane.taskType,
    depth: byPriority((p) =>
      queue(p).metricApproximateNumberOfMessagesVisible({ period: MINUTE }),
    ),
    age: byPriority((p) =>
      queue(p).metricApproximateAgeOfOldestMessage({ period: MINUTE }),
    ),
    completed,
    failed,
    retried: consumer(CONSUMER_METRICS.retried, 'Sum'),
    latencyP50: consumer(CONSUMER_METRICS.latency, 'p50'),
    latencyP99: consumer(CONSUMER_METRICS.latency, 'p99'),
    failureRate: failureRateOf(completed, failed),
    deadLetters: lane.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: MINUTE,
    }),
    errors: lane.consumer.metricErrors({ period: MINUTE, statistic: 'Sum' }),
    throttles: lane.consumer.metricThrottles({
      period: MINUTE,
      statistic: 'Sum',
    }),
  };
}

function byPriority<T>(of: (priority: Priority) => T): Record<Priority, T> {
  return { high: of('high'), normal: of('normal') };
}

/**
 * A metric the consumer emits through Powertools. CloudWatch matches the
 * whole dimension set, so both dimensions the consumer sets are named here.
 */
function consumerMetric(taskType: string, name: string, statistic: string) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE, TaskType: taskType },
    statistic,
    period: MINUTE,
  });
}

/**
 * 100 × failed / (completed + failed). FILL turns a period without one of
 * the two metrics into 0; a period without any finished task divides 0 by
 * 0, which CloudWatch drops, so the alarm sees missing data there.
 */
function failureRateOf(
  completed: cloudwatch.Metric,
  failed: cloudwatch.Metric,
): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression:
      '100 * FILL(failed, 0) / (FILL(completed, 0) + FILL(failed, 0))',
    // The counts are summed over the rate's own period, so that CloudWatch
    // has no periods to reconcile.
    usingMetrics: {
      completed: completed.with({ period: FAILURE_RATE_PERIOD }),
      failed: failed.with({ period: FAILURE_RATE_PERIOD }),
    },
    period: FAILURE_RATE_PERIOD,
    label: 'failure rate (%)',
  });
}

/** What the dashboard shows of one task type. */
export interface LaneView {
  readonly metrics: LaneMetrics;
  /** The task type's alarms, shown with their state. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** Props of {@link addPipelineDashboard}. */
export interface PipelineDashboardProps {
  /** Start of the dashboard name, `<prefix>-pipeline`. */
  readonly prefix: string;
  /** Drawn as horizontal lines on the graphs they apply to. */
  readonly thresholds: AlarmThresholds;
  /** One section per task type, in this order. */
  readonly lanes: readonly LaneView[];
}

/** The name of the pipeline's dashboard. */
export function dashboardNameOf(prefix: string): string {
  return `${prefix}-pipeline`;
}

/**
 * The CloudWatch dashboard of a pipeline: per task type a heading and two
 * rows of graphs, four to a row (a dashboard is 24 units wide).
 */
export function addPipelineDashboard(
  scope: Construct,
  id: string,
  props: PipelineDashboardProps,
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, id, {
    dashboardName: dashboardNameOf(props.prefix),
    defaultInterval: Duration.hours(3),
  });
  for (const lane of props.lanes) {
    dashboard.addWidgets(heading(`## Task type \`${lane.metrics.taskType}\``));
    for (const row of laneRows(lane, props.thresholds)) {
      dashboard.addWidgets(...row);
    }
  }
  return dashboard;
}

const WIDTH = 6;
const HEIGHT = 6;

/** A full-width heading in markdown. */
export function heading(markdown: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({
    markdown,
    width: 24,
    height: 1,
  });
}

function laneRows(
  { metrics: m, alarms }: LaneView,
  t: AlarmThresholds,
): cloudwatch.IWidget[][] {
  const queues = (metric: LaneMetrics['depth']) => [
    metric.high.with({ label: 'high' }),
    metric.normal.with({ label: 'normal' }),
  ];
  const seconds = t.latencyMs / 1000;

  return [
    [
      graph('Queue depth (visible messages)', queues(m.depth), [
        line(t.queueDepth, `R18 alarm above ${t.queueDepth}`),
      ]),
      graph('Age of oldest message (s)', queues(m.age), [
        line(seconds, `R19 alarm above ${seconds} s`),
      ]),
      graph(
        'Latency p50 / p99 (ms)',
        [
          m.latencyP50.with({ label: 'p50' }),
          m.latencyP99.with({ label: 'p99' }),
        ],
        [line(t.latencyMs, `R19 alarm above ${t.latencyMs} ms`)],
      ),
      graph(
        'Failure rate (%)',
        [m.failureRate],
        [
          line(
            t.failureRatePercent,
            `R20 alarm above ${t.failureRatePercent} %`,
          ),
        ],
      ),
    ],
    [
      graph('Throughput (tasks per minute)', [
        m.completed.with({ label: 'completed' }),
        m.failed.with({ label: 'failed' }),
        m.retried.with({ label: 'retried' }),
      ]),
      graph(
        'Dead-letter queue depth',
        [m.deadLetters.with({ label: 'dlq' })],
        [line(0, 'alarm above 0')],
      ),
      graph('Consumer errors and throttles', [
        m.errors.with({ label: 'errors' }),
        m.throttles.with({ label: 'throttles' }),
      ]),
      alarmStatus(alarms),
    ],
  ];
}

/** A graph of one row's width, from 0 up, with red threshold lines. */
export function graph(
  title: string,
  left: cloudwatch.IMetric[],
  leftAnnotations: cloudwatch.HorizontalAnnotation[] = [],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left,
    leftAnnotations,
    leftYAxis: { min: 0 },
    width: WIDTH,
    height: HEIGHT,
  });
}

/** A red horizontal line at a threshold. */
export function line(
  value: number,
  label: string,
): cloudwatch.HorizontalAnnotation {
  return { value, label, color: cloudwatch.Color.RED };
}

/** The state of some alarms, one row's width. */
export function alarmStatus(
  alarms: readonly cloudwatch.IAlarm[],
): cloudwatch.AlarmStatusWidget {
  return new cloudwatch.AlarmStatusWidget({
    title: 'Alarms',
    alarms: [...alarms],
    width: WIDTH,
    height: HEIGHT,
  });
}
