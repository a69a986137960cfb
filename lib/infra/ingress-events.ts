import { Annotations, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PRIORITIES, type Priority } from '../envelope.ts';
import { resourceNames } from '../queue-names.ts';
import {
  TASK_EVENT_DETAIL_TYPE,
  TASK_EVENT_SOURCE,
  taskBusName,
} from '../task-events.ts';
import type { SenderAllowlist, TaskLaneResources } from './contracts.ts';
import { allowlistDenyConditions } from './ingress-allowlist.ts';

const EVENTS = new iam.ServicePrincipal('events.amazonaws.com');

/** Props of the task event routes; the ingress construct passes its own. */
export interface TaskEventRoutesProps {
  readonly prefix: string;
  readonly lanes: readonly TaskLaneResources[];
  readonly key: kms.IKey;
  readonly allowlist: SenderAllowlist;
}

/**
 * The pipeline's EventBridge bus and the rules that route task events to
 * the task queues.
 *
 * Each task type gets two rules, one per priority: a rule sends every
 * matching event to all of its targets, so one rule cannot send some events
 * to the high queue and others to the normal one. The high rule matches
 * `priority: "high"`; the normal rule matches everything else, an absent
 * priority included, since the envelope's priority defaults to normal.
 * The two patterns never overlap, so a task lands on one queue only.
 * Two rules per type keep 150 task types within EventBridge's default quota
 * of 300 rules per bus.
 */
export class TaskEventRoutes extends Construct {
  /** The bus `<prefix>-tasks`, encrypted with the pipeline's key. */
  readonly bus: events.EventBus;
  /**
   * Queue `<prefix>-tasks-undelivered`: task events of no known task type,
   * and events EventBridge could not deliver after its retries.
   */
  readonly undeliveredQueue: sqs.Queue;
  /** The routing rules, by task type and priority. */
  readonly rules: ReadonlyMap<string, Readonly<Record<Priority, events.Rule>>>;

  constructor(scope: Construct, id: string, props: TaskEventRoutesProps) {
    super(scope, id);
    const { prefix, key } = props;

    this.undeliveredQueue = new sqs.Queue(this, 'Undelivered', {
      // Not `-dlq`: that ending belongs to the dead-letter queue of a task
      // type, and a task type may well be called `tasks`.
      queueName: resourceNames(prefix).undeliveredQueue,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeUndelivered(this.undeliveredQueue);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: taskBusName(prefix),
      description: `Task events of the ${prefix} pipeline`,
      kmsKey: key,
      deadLetterQueue: this.undeliveredQueue,
    });

    allowEventsToEncrypt(key);
    this.allowBusToDeadLetter();
    restrictSenders(this.bus, props.allowlist);
    this.rules = new Map(
      props.lanes.map((lane) => [lane.taskType, this.routeLane(lane)]),
    );
    this.catchUnrouted(props.lanes.map((lane) => lane.taskType));
  }

  private routeLane(lane: TaskLaneResources): Record<Priority, events.Rule> {
    const rules = {} as Record<Priority, events.Rule>;
    for (const priority of PRIORITIES) {
      const rule = new events.Rule(this, `${lane.taskType}-${priority}`, {
        eventBus: this.bus,
        description:
          `Routes ${lane.taskType} task events of priority ${priority} ` +
          `to its ${priority} queue`,
        eventPattern: taskPattern({
          taskType: [lane.taskType],
          priority: priorityMatch(priority),
        }),
      });
      rule.addTarget(
        new QueueTarget(lane.queues[priority], {
          // The envelope alone becomes the message body.
          input: events.RuleTargetInput.fromEventPath('$.detail'),
          deadLetterQueue: this.undeliveredQueue,
        }),
      );
      rules[priority] = rule;
    }
    return rules;
  }

  /**
   * Task events of no known task type go to the undelivered queue whole.
   * The pattern lists every task type; EventBridge takes patterns of up to
   * 4,096 characters, room for about 80 task types of the longest names.
   */
  private catchUnrouted(taskTypes: readonly string[]): void {
    const rule = new events.Rule(this, 'Unrouted', {
      eventBus: this.bus,
      description: 'Keeps task events of no known task type',
      eventPattern: taskPattern({
        taskType: events.Match.anyOf(
          events.Match.anythingBut(...taskTypes),
          events.Match.doesNotExist(),
        ),
      }),
    });
    // The queue policy already admits every rule on the bus.
    rule.addTarget(new QueueTarget(this.undeliveredQueue, { allowed: true }));
  }

  /**
   * Lets the bus and every rule on it write to the undelivered queue. One
   * statement for all rules keeps the queue policy within its 8 KiB however
   * many task types there are.
   */
  private allowBusToDeadLetter(): void {
    const ruleArns = Stack.of(this).formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: `${this.bus.eventBusName}/*`,
    });
    this.undeliveredQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowPipelineBusAndRules',
        principals: [EVENTS],
        actions: ['sqs:SendMessage'],
        resources: [this.undeliveredQueue.queueArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': [this.bus.eventBusArn, ruleArns] },
        },
      }),
    );
  }
}

/** The undelivered queue has no dead-letter queue, on purpose. */
function acknowledgeUndelivered(queue: sqs.Queue): void {
  const checks = ['AwsSolutions-SQS3', 'cdk-validator-cfnguard::sqs_dlq_check'];
  for (const id of checks) {
    Validations.of(queue).acknowledge({
      id,
      reason:
        'This queue is itself the dead-letter queue of the bus and its ' +
        'rules (through EventBridge DeadLetterConfig, which the checks do ' +
        'not see); operators read it, no consumer that could fail does.',
    });
  }
}

function taskPattern(detail: Record<string, unknown>): events.EventPattern {
  return {
    source: [TASK_EVENT_SOURCE],
    detailType: [TASK_EVENT_DETAIL_TYPE],
    detail,
  };
}

function priorityMatch(priority: Priority): string[] {
  if (priority === 'high') return ['high'];
  return events.Match.anyOf(
    events.Match.anythingBut('high'),
    events.Match.doesNotExist(),
  );
}

/**
 * EventBridge writes to the KMS-encrypted queues in its own name, so the
 * key must let it make data keys; only through SQS, which the queues' own
 * policies narrow down to the pipeline's rules.
 */
function allowEventsToEncrypt(key: kms.IKey): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowEventBridgeToWriteEncryptedQueues',
      principals: [EVENTS],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` },
      },
    }),
  );
}

/**
 * With an allowlist, PutEvents from anywhere else is denied, whatever IAM
 * allows: the same rule the HTTPS endpoint and the queues apply (R17).
 */
function restrictSenders(bus: events.EventBus, allowlist: SenderAllowlist) {
  const conditions = allowlistDenyConditions(allowlist);
  if (!conditions) return;
  bus.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyPutEventsOutsideAllowlist',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions,
    }),
  );
}

interface QueueTargetOptions {
  /** What is sent. @default - the whole event */
  readonly input?: events.RuleTargetInput;
  /** Where events go that could not be delivered. @default - nowhere */
  readonly deadLetterQueue?: sqs.IQueue;
  /** The queue policy already lets the rule send. @default false */
  readonly allowed?: boolean;
}

/**
 * A queue as a rule target. Unlike `targets.SqsQueue`, which drops the
 * `aws:SourceArn` condition for KMS-encrypted queues (to avoid a cycle
 * through the key policy), the queue policy names the one rule that may
 * send; the key's side is granted once, by `allowEventsToEncrypt`.
 */
class QueueTarget implements events.IRuleTarget {
  private readonly queue: sqs.IQueue;
  private readonly options: QueueTargetOptions;

  constructor(queue: sqs.IQueue, options: QueueTargetOptions) {
    this.queue = queue;
    this.options = options;
  }

  bind(rule: events.IRuleRef): events.RuleTargetConfig {
    const { input, deadLetterQueue, allowed = false } = this.options;
    if (!allowed) allowRuleToSend(this.queue, rule);
    return {
      arn: this.queue.queueArn,
      input,
      targetResource: this.queue,
      deadLetterConfig: deadLetterQueue && { arn: deadLetterQueue.queueArn },
      // EventBridge's own defaults, stated: retry for a day, then give up.
      retryPolicy: {
        maximumEventAgeInSeconds: 86_400,
        maximumRetryAttempts: 185,
      },
    };
  }
}

function allowRuleToSend(queue: sqs.IQueue, rule: events.IRuleRef): void {
  const { statementAdded } = queue.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [EVENTS],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: {
        ArnEquals: { 'aws:SourceArn': events.CfnRule.arnForRule(rule) },
      },
    }),
  );
  if (!statementAdded) {
    Annotations.of(rule).addWarningV2(
      'tasklane:importedRuleTargetQueue',
      `queue ${queue.node.path} is imported: give events.amazonaws.com ` +
        'sqs:SendMessage on it for this rule, or no task event arrives',
    );
  }
}
