import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Priority } from '../envelope.ts';

/**
 * What the stack makes for one task type, as the monitoring and ingress
 * constructs consume it.
 */
export interface TaskLaneResources {
  readonly taskType: string;
  /** The high and the normal queue of the task type. */
  readonly queues: Readonly<Record<Priority, sqs.IQueue>>;
  readonly deadLetterQueue: sqs.IQueue;
  /** The consumer function that serves both queues. */
  readonly consumer: lambda.IFunction;
}

/** Alarm thresholds; the defaults are the standard's values (R18-R20). */
export interface AlarmThresholds {
  /** Messages in a queue before the depth alarm fires. @default 8000 */
  readonly queueDepth: number;
  /** Consumer latency in ms before the latency alarm fires. @default 1000 */
  readonly latencyMs: number;
  /** Failed tasks as a percentage of finished ones. @default 2 */
  readonly failureRatePercent: number;
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  queueDepth: 8_000,
  latencyMs: 1_000,
  failureRatePercent: 2,
};

/**
 * The consumer's metrics: Powertools Metrics in this namespace, with the
 * dimensions `service` (always `tasklane`) and `TaskType`.
 */
export const METRICS_NAMESPACE = 'Tasklane';
export const METRICS_SERVICE = 'tasklane';
export const CONSUMER_METRICS = {
  completed: 'TaskCompleted',
  failed: 'TaskFailed',
  retried: 'TaskRetried',
  deadLettered: 'TaskDeadLettered',
  /** Milliseconds from the message's sent time to the task's completion. */
  latency: 'TaskLatency',
} as const;

/** Props of the monitoring construct (alarms, alarm topic, dashboard). */
export interface PipelineMonitoringProps {
  readonly prefix: string;
  readonly lanes: readonly TaskLaneResources[];
  readonly thresholds: AlarmThresholds;
  /** Address subscribed to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
  /** Key the alarm topic is encrypted with. */
  readonly key: kms.IKey;
}

/** Where senders may come from (R17). */
export interface SenderAllowlist {
  /** Source CIDR ranges allowed to send, such as 203.0.113.0/24. */
  readonly cidrs: readonly string[];
  /** VPC endpoint ids (vpce-...) allowed to send. */
  readonly vpcEndpointIds: readonly string[];
}

/** Props of the ingress construct (EventBridge bus, HTTPS endpoint). */
export interface PipelineIngressProps {
  readonly prefix: string;
  readonly lanes: readonly TaskLaneResources[];
  readonly key: kms.IKey;
  readonly allowlist: SenderAllowlist;
  /** The R4 cap the HTTPS endpoint enforces. @default 10000 */
  readonly queueCapacity: number;
}

/** What the monitoring construct exposes. */
export interface PipelineMonitoringResources {
  readonly alarmTopic: sns.ITopic;
}
