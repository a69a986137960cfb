/** The alarm of the ingress's undelivered queue, on the pipeline's topic. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { resourceNames } from '../queue-names.ts';

/** What the alarm watches and whom it tells. */
export interface UndeliveredAlarmProps {
  readonly prefix: string;
  /** The queue `<prefix>-tasks-undelivered`. */
  readonly queue: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
}

/** Where the runbook explains the alarm. */
const UNDELIVERED_RUNBOOK = 'docs/runbook.md#undelivered-events';

/**
 * `<prefix>-ingress-undelivered-events`: the undelivered queue held a
 * message within a minute. Every message there is a task that reached no
 * task queue, so one is enough, and one period decides. It notifies the
 * topic when it fires and when it clears.
 *
 * Missing data is ignored, as on the dead-letter queues' alarms: SQS may
 * stop reporting a queue nobody has called for six hours even while it
 * holds messages, and the alarm must not clear on that gap. A queue that
 * never held a message stays in insufficient data.
 */
export function createUndeliveredAlarm(
  scope: Construct,
  props: UndeliveredAlarmProps,
): cloudwatch.Alarm {
  const queueName = resourceNames(props.prefix).undeliveredQueue;
  const alarm = new cloudwatch.Alarm(scope, 'UndeliveredAlarm', {
    alarmName: `${props.prefix}-ingress-undelivered-events`,
    alarmDescription:
      `R3 ingress: the queue ${queueName} holds task events ` +
      'that reached no task queue (no known task type, or delivery ' +
      'failed), within 1 min. Read their ERROR_CODE and ERROR_MESSAGE ' +
      `attributes; see ${UNDELIVERED_RUNBOOK}.`,
    metric: props.queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 1,
    comparisonOperator:
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
  });
  const action = new SnsAction(props.alarmTopic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}
