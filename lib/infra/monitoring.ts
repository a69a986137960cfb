import { Annotations, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { PRIORITIES, type Priority } from '../envelope.ts';
import type {
  AlarmThresholds,
  PipelineMonitoringProps,
  PipelineMonitoringResources,
} from './contracts.ts';
import {
  addPipelineDashboard,
  dashboardNameOf,
  type LaneMetrics,
  laneMetrics,
} from './dashboard.ts';

/**
 * Alarms, alarm topic and dashboard of a pipeline (R18-R21). Nine alarms per
 * task type: depth and age of both queues, latency p99, failure rate, dead
 * letters, function errors and throttles; each notifies one topic.
 *
 * @example
 * const monitoring = new PipelineMonitoring(this, 'Monitoring', {
 *   prefix: 'tasklane',
 *   lanes,
 *   thresholds: DEFAULT_THRESHOLDS,
 *   alarmEmail: 'oncall@example.com',
 *   key,
 * });
 */
export class PipelineMonitoring
  extends Construct
  implements PipelineMonitoringResources
{
  /** The topic every alarm notifies, encrypted with the pipeline's key. */
  readonly alarmTopic: sns.ITopic;
  /** Every alarm, in the order of the lanes. */
  readonly alarms: readonly cloudwatch.Alarm[];
  /** The dashboard `<prefix>-pipeline`. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    this.alarmTopic = this.createAlarmTopic(props);
    const action = new SnsAction(this.alarmTopic);

    const views = props.lanes.map((lane) => {
      const metrics = laneMetrics(lane);
      const alarms = this.createLaneAlarms(props, metrics, action);
      return { metrics, alarms };
    });
    this.alarms = views.flatMap((view) => view.alarms);

    this.dashboard = addPipelineDashboard(this, 'Dashboard', {
      prefix: props.prefix,
      thresholds: props.thresholds,
      lanes: views,
    });
  }

  private createLaneAlarms(
    props: PipelineMonitoringProps,
    metrics: LaneMetrics,
    action: cloudwatch.IAlarmAction,
  ): cloudwatch.Alarm[] {
    const scope = new Construct(this, metrics.taskType);
    // `<prefix>-<task type with dots as dashes>-<alarm>`
    const names = `${props.prefix}-${metrics.taskType.replaceAll('.', '-')}`;
    const dashboard = dashboardNameOf(props.prefix);
    const specs = laneAlarmSpecs(metrics, props.thresholds);

    return specs.map((spec) => {
      const alarm = new cloudwatch.Alarm(scope, spec.name, {
        alarmName: `${names}-${spec.name}`,
        alarmDescription: describe(spec, dashboard),
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator:
          cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: spec.evaluation.evaluationPeriods,
        datapointsToAlarm: spec.evaluation.datapointsToAlarm,
        treatMissingData:
          spec.missingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    });
  }

  private createAlarmTopic(props: PipelineMonitoringProps): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${props.prefix}-alarms`,
      displayName: `${props.prefix} alarms`,
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    this.allowAlarmsToPublish(topic, props);
    return topic;
  }

  /**
   * CloudWatch publishes alarm notifications as its service principal: the
   * topic policy must let it publish, and since the topic is encrypted, the
   * key policy must let it encrypt. Both are limited to this account's alarms
   * whose names start with the prefix. Without them an alarm still changes
   * state, but its notification is dropped.
   */
  private allowAlarmsToPublish(
    topic: sns.Topic,
    props: PipelineMonitoringProps,
  ): void {
    const { account, partition, region } = Stack.of(this);
    const alarms = `arn:${partition}:cloudwatch:${region}:${account}:alarm:`;
    const allow = (sid: string, actions: string[], resources: string[]) =>
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions,
        resources,
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `${alarms}${props.prefix}-*` },
        },
      });

    topic.addToResourcePolicy(
      allow('AllowAlarmPublish', ['sns:Publish'], [topic.topicArn]),
    );
    // In a key policy, "*" is the key the policy belongs to.
    const { statementAdded } = props.key.addToResourcePolicy(
      allow(
        'AllowAlarmPublishToEncryptedTopic',
        ['kms:Decrypt', 'kms:GenerateDataKey*'],
        ['*'],
      ),
    );
    if (!statementAdded) {
      Annotations.of(this).addWarningV2(
        'tasklane:monitoring:imported-key',
        'the key of the alarm topic is imported, so its policy cannot be ' +
          'changed here: grant cloudwatch.amazonaws.com kms:Decrypt and ' +
          'kms:GenerateDataKey* on it, or alarm notifications are dropped',
      );
    }
  }
}

/** How many periods a condition must hold before its alarm fires. */
interface Evaluation {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

const EVALUATION = {
  // SQS reports once a minute; two minutes in a row tell a backlog from a
  // burst that the consumers drain within the minute.
  queue: { evaluationPeriods: 2, datapointsToAlarm: 2 },
  // The p99 of a quiet minute rests on a handful of tasks: three slow
  // minutes out of five fire the alarm, a single one does not.
  latency: { evaluationPeriods: 5, datapointsToAlarm: 3 },
  // A dead letter, a failed task or a crashed invocation is final: there is
  // nothing to wait for, one period decides.
  once: { evaluationPeriods: 1, datapointsToAlarm: 1 },
  // The poller retries a throttled batch by itself; throttles two minutes
  // in a row mean the concurrency is used up.
  throttles: { evaluationPeriods: 2, datapointsToAlarm: 2 },
} as const satisfies Record<string, Evaluation>;

/** One alarm of a task type, before it is created. */
interface AlarmSpec {
  /** Construct id and end of the alarm name, such as `high-depth`. */
  readonly name: string;
  readonly metric: cloudwatch.Metric | cloudwatch.MathExpression;
  /** The alarm fires when the metric is above this value. */
  readonly threshold: number;
  readonly evaluation: Evaluation;
  /** @default - not breaching, as no data means no traffic */
  readonly missingData?: cloudwatch.TreatMissingData;
  /** The requirement and the condition in words, without the window. */
  readonly summary: string;
  /** Where to look and what to do. */
  readonly advice: string;
}

function laneAlarmSpecs(m: LaneMetrics, t: AlarmThresholds): AlarmSpec[] {
  const type = `task type ${m.taskType}`;
  const consumer = `the consumer function of ${type}`;
  const percent = t.failureRatePercent;
  return [
    ...PRIORITIES.flatMap((priority) => queueAlarmSpecs(m, t, priority)),
    {
      name: 'latency-p99',
      metric: m.latencyP99,
      threshold: t.latencyMs,
      evaluation: EVALUATION.latency,
      summary: `R19 consumer latency: p99 of ${type} above ${t.latencyMs} ms`,
      advice:
        'It runs from the sent time to completion, retry delays included: ' +
        "compare retries with completions, then the consumer's duration.",
    },
    {
      name: 'failure-rate',
      metric: m.failureRate,
      threshold: t.failureRatePercent,
      evaluation: EVALUATION.once,
      summary: `R20 failure rate: ${type}, over ${percent} % failed`,
      advice:
        "Read the dead-letter queue's messages and the consumer's error " +
        'logs for the cause; clean out invalid tasks.',
    },
    {
      name: 'dlq-not-empty',
      metric: m.deadLetters,
      threshold: 0,
      evaluation: EVALUATION.once,
      // SQS may stop reporting a queue nobody has called for six hours, even
      // while it holds messages; ignoring the gap keeps the alarm raised
      // until the queue is seen empty.
      missingData: cloudwatch.TreatMissingData.IGNORE,
      summary: `R20 dead letters: dead-letter queue of ${type} not empty`,
      advice:
        'Each message carries its reason and error history: fix the cause, ' +
        'then redrive or delete the messages.',
    },
    {
      name: 'consumer-errors',
      metric: m.errors,
      threshold: 0,
      evaluation: EVALUATION.once,
      summary: `R19/R20 consumer errors: ${consumer} failed invocations`,
      advice:
        'A failed invocation returns its whole batch to the queue: look in ' +
        "the function's logs for crashes, timeouts or memory exhaustion.",
    },
    {
      name: 'consumer-throttles',
      metric: m.throttles,
      threshold: 0,
      evaluation: EVALUATION.throttles,
      summary: `R18 backlog risk: ${consumer} was throttled`,
      advice:
        "Raise the function's reserved concurrency or the account's limit, " +
        'or lower the maximum concurrency of its event source mappings.',
    },
  ];
}

function queueAlarmSpecs(
  m: LaneMetrics,
  t: AlarmThresholds,
  priority: Priority,
): AlarmSpec[] {
  const queue = `the ${priority} queue of task type ${m.taskType}`;
  const seconds = t.latencyMs / 1000;
  return [
    {
      name: `${priority}-depth`,
      metric: m.depth[priority],
      threshold: t.queueDepth,
      evaluation: EVALUATION.queue,
      summary: `R18 backlog: ${queue} holds over ${t.queueDepth} messages`,
      advice:
        "Check the consumer's errors and throttles; then add consumers " +
        '(maximum concurrency) or lower the send rate.',
    },
    {
      name: `${priority}-age`,
      metric: m.age[priority],
      threshold: seconds,
      evaluation: EVALUATION.queue,
      summary: `R19 latency: ${queue} holds a message over ${seconds} s old`,
      advice:
        'Messages waiting for a retry count too: compare with retries. A ' +
        'rising age without completions means a blocked consumer: look for ' +
        'a loop or an exhausted resource.',
    },
  ];
}

/** Requirement, condition, window, advice and where the graphs are. */
function describe(spec: AlarmSpec, dashboard: string): string {
  const { evaluationPeriods: n, datapointsToAlarm: k } = spec.evaluation;
  const minutes = spec.metric.period.toMinutes();
  const window =
    n === 1
      ? `within ${minutes} min`
      : `in ${k} of ${n} consecutive ${minutes}-min periods`;
  const { summary, advice } = spec;
  return `${summary}, ${window}. ${advice} Dashboard: ${dashboard}.`;
}
