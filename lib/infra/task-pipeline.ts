import { fileURLToPath } from 'node:url';
import { Lazy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import { assertPrefix, DEFAULT_PREFIX } from '../queue-names.ts';
import type { TaskRegistry } from '../registry.ts';
import { PipelineCallbacks } from './callbacks.ts';
import type { AlarmThresholds, SenderAllowlist } from './contracts.ts';
import { PipelineIngress } from './ingress.ts';
import { PipelineMonitoring } from './monitoring.ts';
import {
  denySendersOutsideAllowlist,
  isAllowlistEmpty,
  warnOfEmptyAllowlist,
} from './security.ts';
import {
  checkCidr,
  checkEmail,
  checkNumber,
  checkPollers,
  checkTaskTypes,
  checkThresholds,
  checkVpcEndpointId,
  DEFAULT_QUEUE_CAPACITY,
  type ProvisionedPollers,
  RANGES,
} from './settings.ts';
import { PipelineState } from './state.ts';
import { BUILT_IN_TASK_ACCESS, type TaskAccess } from './task-access.ts';
import { TaskLane } from './task-lane.ts';
import { PipelineUpkeep } from './upkeep.ts';

/** The consumer entry tasklane ships: the built-in registry's handler. */
export const DEFAULT_CONSUMER_ENTRY = fileURLToPath(
  new URL('../../lambdas/consumer/handler.ts', import.meta.url),
);

/** Props of a `TaskPipeline`. */
export interface TaskPipelineProps {
  /**
   * The task types to deploy: one dead-letter queue, a high and a normal
   * queue and one consumer function each. The registry given here must be
   * the one the consumer entry passes to `createConsumer`.
   *
   * @default builtInRegistry (order.notification, data.backup)
   */
  readonly registry?: TaskRegistry;

  /**
   * Start of every resource name: 1-20 lower-case letters, digits or
   * dashes, starting with a letter. Two pipelines in one account and
   * region need different prefixes.
   *
   * @default 'tasklane'
   */
  readonly prefix?: string;

  /**
   * Path of the consumer's Lambda entry, a module exporting `handler`.
   * Another CDK app with its own task types passes its own entry, one
   * that gives its registry to `createConsumer`.
   *
   * @default - lambdas/consumer/handler.ts of tasklane
   */
  readonly consumerEntry?: string;

  /**
   * Path of the HTTPS ingress function's entry. Like `consumerEntry`, a
   * deployment with its own task types passes an entry that hands its
   * registry to `createProducer`.
   *
   * @default - lambdas/ingress/handler.ts of tasklane
   */
  readonly ingressEntry?: string;

  /**
   * Where senders may come from (R17): source CIDR ranges and VPC endpoint
   * ids. Senders elsewhere are denied `sqs:SendMessage` on every queue,
   * except the pipeline's own roles and EventBridge rule deliveries.
   *
   * @default - no allowlist: any principal IAM allows may send from
   * anywhere, and synth warns (tasklane:emptySenderAllowlist)
   */
  readonly allowlist?: SenderAllowlist;

  /**
   * Address subscribed to the alarm topic.
   *
   * @default - no subscription
   */
  readonly alarmEmail?: string;

  /**
   * Maximum concurrency of each task type's normal lane, by task type:
   * 2-1000 concurrent executions.
   *
   * @default - the task module's `defaults.maxConcurrency`
   */
  readonly maxConcurrency?: Readonly<Record<string, number>>;

  /**
   * Provisioned event pollers of each task type's high lane, by task
   * type: minimum 2-200, maximum 2-2000. The minimum is paid for at all
   * times; see docs/capacity-plan.md for sizing.
   *
   * @default - minimum 2, maximum 200 for every task type
   */
  readonly provisionedPollers?: Readonly<Record<string, ProvisionedPollers>>;

  /**
   * Alarm thresholds; fields left out take the standard's values. The
   * queue depth may not exceed `queueCapacity`.
   *
   * @default DEFAULT_THRESHOLDS (8000 messages, 1000 ms, 2 %)
   */
  readonly thresholds?: Partial<AlarmThresholds>;

  /**
   * Most messages a queue may hold before ingress refuses tasks (R4):
   * 1-10000 messages.
   *
   * @default 10000
   */
  readonly queueCapacity?: number;

  /**
   * What each task type's consumer may use beyond its queues, the
   * idempotency and status outbox tables and the key, by task type.
   * Entries here replace the built-in ones of the same task type.
   *
   * @default - the built-in task types' access (orders table and topic
   * for order.notification, S3 reads and backup writes for data.backup)
   */
  readonly taskAccess?: Readonly<Record<string, TaskAccess>>;
}

/**
 * The whole pipeline for a registry of task types: per task type a lane
 * (dead-letter, high and normal queue, consumer function and mappings);
 * the shared tables, bucket, topic and key; the queue policies.
 *
 * @example
 * const pipeline = new TaskPipeline(stack, 'Tasks', {
 *   registry: createRegistry([...builtInTasks, invoiceTask]),
 *   consumerEntry: path.join(import.meta.dirname, 'consumer.ts'),
 *   allowlist: { cidrs: ['203.0.113.0/24'], vpcEndpointIds: [] },
 * });
 */
export class TaskPipeline extends Construct {
  readonly prefix: string;
  /** One lane per task type, in registry order. */
  readonly lanes: readonly TaskLane[];
  /** The shared tables, bucket, topic and key. */
  readonly state: PipelineState;
  readonly key: kms.IKey;
  readonly idempotencyTable: dynamodb.ITable;
  readonly statusOutboxTable: dynamodb.ITable;
  readonly ordersTable: dynamodb.ITable;
  readonly backupBucket: s3.IBucket;
  readonly notificationTopic: sns.ITopic;
  /** The resolved allowlist, thresholds, capacity and alarm address. */
  readonly allowlist: SenderAllowlist;
  readonly thresholds: AlarmThresholds;
  readonly queueCapacity: number;
  readonly alarmEmail?: string;
  /** Alarms, their topic and the dashboard. */
  readonly monitoring: PipelineMonitoring;
  /** The EventBridge bus and the HTTPS endpoint producers send through. */
  readonly ingress: PipelineIngress;
  /** The daily summary and the clean-up of old invalid tasks (R22). */
  readonly upkeep: PipelineUpkeep;
  /** Delivery of final statuses to callback targets (R11). */
  readonly callbacks: PipelineCallbacks;

  constructor(scope: Construct, id: string, props: TaskPipelineProps = {}) {
    super(scope, id);
    // S3 access logs are granted by bucket policy, not by the legacy ACL,
    // which bucket-owner-enforced ownership forbids; whatever the app sets.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const registry = props.registry ?? builtInRegistry;
    const settings = checkProps(props);
    this.prefix = settings.prefix;
    this.allowlist = settings.allowlist;
    this.queueCapacity = settings.queueCapacity;
    this.thresholds = settings.thresholds;
    this.alarmEmail = settings.alarmEmail;

    this.state = new PipelineState(this, 'State', { prefix: this.prefix });
    this.key = this.state.key;
    this.idempotencyTable = this.state.idempotencyTable;
    this.statusOutboxTable = this.state.statusOutboxTable;
    this.ordersTable = this.state.ordersTable;
    this.backupBucket = this.state.backupBucket;
    this.notificationTopic = this.state.notificationTopic;

    const lanes = this.createLanes(registry, props);
    this.lanes = lanes;

    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      prefix: this.prefix,
      lanes,
      thresholds: this.thresholds,
      alarmEmail: this.alarmEmail,
      key: this.key,
    });
    this.callbacks = this.createCallbacks(lanes);
    this.upkeep = new PipelineUpkeep(this, 'Upkeep', {
      prefix: this.prefix,
      lanes,
      statusOutboxTable: this.statusOutboxTable,
      alarmTopic: this.monitoring.alarmTopic,
      key: this.key,
      accessLogBucket: this.state.accessLogBucket,
    });
    // Roles the ingress defines are children of this construct, so the
    // sender allowlist below exempts them too.
    this.ingress = new PipelineIngress(this, 'Ingress', {
      prefix: this.prefix,
      lanes,
      key: this.key,
      allowlist: this.allowlist,
      queueCapacity: this.queueCapacity,
      handlerEntry: props.ingressEntry,
      alarmTopic: this.monitoring.alarmTopic,
    });

    this.secureQueues(lanes);
  }

  /** The dispatcher and its resources; every consumer may ask for deliveries. */
  private createCallbacks(lanes: readonly TaskLane[]): PipelineCallbacks {
    const callbacks = new PipelineCallbacks(this, 'Callbacks', {
      prefix: this.prefix,
      key: this.key,
      statusOutboxTable: this.statusOutboxTable,
      alarmTopic: this.monitoring.alarmTopic,
    });
    const environment = Object.entries(callbacks.consumerEnvironment());
    for (const lane of lanes) {
      for (const [name, value] of environment) {
        lane.consumer.addEnvironment(name, value);
      }
      callbacks.grantNotify(lane.consumer);
    }
    for (const row of callbacks.dashboardWidgets()) {
      this.monitoring.dashboard.addWidgets(...row);
    }
    return callbacks;
  }

  private createLanes(
    registry: TaskRegistry,
    props: TaskPipelineProps,
  ): TaskLane[] {
    const maxConcurrency = props.maxConcurrency ?? {};
    const pollers = props.provisionedPollers ?? {};
    checkTaskTypes(
      'TaskPipeline prop maxConcurrency',
      maxConcurrency,
      registry,
    );
    checkTaskTypes('TaskPipeline prop provisionedPollers', pollers, registry);
    const access = { ...BUILT_IN_TASK_ACCESS, ...props.taskAccess };

    return registry.modules().map((module) => {
      const type = module.taskType;
      return new TaskLane(this, laneId(type), {
        prefix: this.prefix,
        module,
        state: this.state,
        consumerEntry: props.consumerEntry ?? DEFAULT_CONSUMER_ENTRY,
        maxConcurrency: checkNumber(
          `TaskPipeline prop maxConcurrency.${type}`,
          maxConcurrency[type] ?? module.defaults.maxConcurrency,
          RANGES.maxConcurrency,
        ),
        provisionedPollers: checkPollers(
          `TaskPipeline prop provisionedPollers.${type}`,
          pollers[type] ?? {},
        ),
        access: access[type],
      });
    });
  }

  /**
   * TLS is enforced by each queue itself. The allowlist exempts every IAM
   * role defined inside this construct, collected when the template is
   * written, so roles added after the lanes (ingress, scheduler) count.
   */
  private secureQueues(lanes: readonly TaskLane[]): void {
    if (isAllowlistEmpty(this.allowlist)) {
      warnOfEmptyAllowlist(this);
      return;
    }
    const exemptRoleArns = Lazy.list({
      produce: () =>
        this.node
          .findAll()
          .filter((c): c is iam.Role => c instanceof iam.Role)
          .map((role) => role.roleArn),
    });
    const queues = [
      ...lanes.flatMap((lane) => [
        lane.queues.high,
        lane.queues.normal,
        lane.deadLetterQueue,
      ]),
      this.ingress.undeliveredQueue,
      this.callbacks.deadLetterQueue,
    ];
    denySendersOutsideAllowlist(queues, this.allowlist, exemptRoleArns);
  }
}

/** The props every lane shares, checked, with their defaults filled in. */
function checkProps(props: TaskPipelineProps) {
  const prefix = props.prefix ?? DEFAULT_PREFIX;
  assertPrefix(prefix);
  const queueCapacity = checkNumber(
    'TaskPipeline prop queueCapacity',
    props.queueCapacity ?? DEFAULT_QUEUE_CAPACITY,
    RANGES.queueCapacity,
  );
  const thresholds = checkThresholds(
    'TaskPipeline prop thresholds',
    props.thresholds,
    queueCapacity,
  );
  const alarmEmail =
    props.alarmEmail === undefined
      ? undefined
      : checkEmail('TaskPipeline prop alarmEmail', props.alarmEmail);
  const allowlist = checkAllowlist(props.allowlist);
  return { prefix, queueCapacity, thresholds, alarmEmail, allowlist };
}

function checkAllowlist(
  allowlist: SenderAllowlist | undefined,
): SenderAllowlist {
  const setting = 'TaskPipeline prop allowlist';
  return {
    cidrs: (allowlist?.cidrs ?? []).map((cidr) =>
      checkCidr(`${setting}.cidrs`, cidr),
    ),
    vpcEndpointIds: (allowlist?.vpcEndpointIds ?? []).map((id) =>
      checkVpcEndpointId(`${setting}.vpcEndpointIds`, id),
    ),
  };
}

/** `order.notification` → `OrderNotification`. */
function laneId(taskType: string): string {
  return taskType
    .split('.')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
