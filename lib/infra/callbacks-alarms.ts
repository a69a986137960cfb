/** The alarms of the callback deliveries (R11), on the pipeline's topic. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CALLBACK_METRIC_NAMES } from '../callbacks/metrics.ts';
import { METRICS_NAMESPACE } from './contracts.ts';
import { alarmStatus, graph, heading, line } from './dashboard.ts';

/**
 * The dispatcher's metrics, as lambdas/callbacks/dispatcher.ts publishes
 * them with Powertools: namespace Tasklane, dimension `service`.
 */
export const CALLBACK_METRICS = {
  service: 'tasklane-callbacks',
  deliveryFailed: CALLBACK_METRIC_NAMES.deliveryFailed,
  oldestStatusAge: CALLBACK_METRIC_NAMES.oldestStatusAge,
} as const;

// Deliveries run at most once a minute per target: five minutes hold a
// few of them, and one period decides, since a failure is already final
// for its attempt.
const PERIOD = Duration.minutes(5);

/** What the alarms watch. */
export interface CallbackAlarmsProps {
  readonly prefix: string;
  readonly alarmTopic: sns.ITopic;
  readonly dispatcher: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Longest wait of a status before its alarm fires. */
  readonly maxStatusWait: Duration;
}

interface AlarmSpec {
  /** Construct id and end of the alarm name. */
  readonly name: string;
  readonly metric: cloudwatch.IMetric;
  /** The alarm fires above this value. */
  readonly threshold: number;
  readonly missingData: cloudwatch.TreatMissingData;
  /** Requirement, condition and what to do. */
  readonly description: string;
}

/**
 * Four alarms named `<prefix>-callbacks-<name>`, each notifying the topic
 * when it fires and when it clears: failed deliveries, statuses waiting
 * too long, a callback dead-letter queue that is not empty, and failed
 * dispatcher invocations.
 */
export function createCallbackAlarms(
  scope: Construct,
  props: CallbackAlarmsProps,
): cloudwatch.Alarm[] {
  const group = new Construct(scope, 'Alarms');
  const action = new SnsAction(props.alarmTopic);
  return alarmSpecs(props).map((spec) => {
    const alarm = new cloudwatch.Alarm(group, spec.name, {
      alarmName: `${props.prefix}-callbacks-${spec.name}`,
      alarmDescription: spec.description,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: spec.missingData,
    });
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  });
}

function alarmSpecs(props: CallbackAlarmsProps): AlarmSpec[] {
  const period = { period: PERIOD };
  const waitMs = props.maxStatusWait.toMilliseconds();
  const waitMinutes = props.maxStatusWait.toMinutes({ integral: false });
  const within = `in a ${PERIOD.toMinutes()}-min period`;
  return [
    {
      name: 'delivery-failed',
      metric: dispatcherMetric(CALLBACK_METRICS.deliveryFailed, 'Sum'),
      threshold: 0,
      missingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description:
        `R11 callbacks: a delivery to a callback target failed or was ` +
        `refused ${within}. Failed statuses are kept and retried with ` +
        'growing delays; the dispatcher log names the target, the HTTP ' +
        'status and the error code.',
    },
    {
      name: 'status-waiting',
      metric: dispatcherMetric(CALLBACK_METRICS.oldestStatusAge, 'Maximum'),
      threshold: waitMs,
      // Measured by the deliveries that run, and by the sweep, which
      // publishes the wait of targets nobody scheduled any more; no data
      // means no status waited.
      missingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description:
        `R11 callbacks: a status waited over ${waitMinutes} min for its ` +
        `callback ${within}. Look for failing deliveries to its target ` +
        '(delivery-failed alarm) or dispatcher errors.',
    },
    {
      name: 'dlq-not-empty',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        ...period,
        statistic: 'Maximum',
      }),
      threshold: 0,
      // SQS may stop reporting an idle queue even while it holds messages;
      // ignoring the gap keeps the alarm raised until the queue is empty.
      missingData: cloudwatch.TreatMissingData.IGNORE,
      description:
        `R11 callbacks: the callback dead-letter queue held statuses ` +
        `${within}. Each message names its target, reason (TARGET_GONE, ` +
        'TARGET_REFUSED, DELIVERY_EXPIRED) and last error: tell the ' +
        'business system what it missed, then delete them.',
    },
    {
      name: 'dispatcher-errors',
      metric: props.dispatcher.metricErrors({ ...period, statistic: 'Sum' }),
      threshold: 0,
      missingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description:
        `R11 callbacks: invocations of the callback dispatcher failed ` +
        `${within}. A failed dispatch reschedules its target a slot ` +
        'later; look in its log for crashes, timeouts or denied AWS calls.',
    },
  ];
}

/** A metric the dispatcher publishes, over the alarms' period. */
function dispatcherMetric(metricName: string, statistic: string) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: CALLBACK_METRICS.service },
    statistic,
    period: PERIOD,
  });
}

/** What the callbacks' dashboard row shows. */
export interface CallbackWidgetsProps {
  readonly deadLetterQueue: sqs.IQueue;
  readonly maxStatusWait: Duration;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * The callbacks' part of the pipeline dashboard: a heading, then statuses
 * delivered and dead-lettered with failed requests and swept targets, the
 * wait of the oldest status, the callback dead-letter queue, the alarms.
 */
export function callbackWidgets(
  props: CallbackWidgetsProps,
): cloudwatch.IWidget[][] {
  const sum = (name: string, label: string) =>
    dispatcherMetric(name, 'Sum').with({ label, period: Duration.minutes(1) });
  const waitMs = props.maxStatusWait.toMilliseconds();
  return [
    [heading('## Callbacks (R11)')],
    [
      graph('Callback statuses (per minute)', [
        sum(CALLBACK_METRIC_NAMES.delivered, 'delivered'),
        sum(CALLBACK_METRIC_NAMES.deadLettered, 'dead-lettered'),
        sum(CALLBACK_METRIC_NAMES.deliveryFailed, 'failed requests'),
        sum(CALLBACK_METRIC_NAMES.targetsRescheduled, 'swept targets'),
      ]),
      graph(
        'Callback wait, oldest status (ms)',
        [
          dispatcherMetric(CALLBACK_METRICS.oldestStatusAge, 'Maximum').with({
            label: 'oldest status',
            period: Duration.minutes(1),
          }),
        ],
        [line(waitMs, `R11 alarm above ${waitMs} ms`)],
      ),
      graph(
        'Callback dead-letter queue depth',
        [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: 'callbacks dlq',
          }),
        ],
        [line(0, 'alarm above 0')],
      ),
      alarmStatus(props.alarms),
    ],
  ];
}
