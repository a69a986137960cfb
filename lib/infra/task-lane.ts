import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PRIORITIES, type Priority } from '../envelope.ts';
import { deadLetterQueueName, taskQueueName } from '../queue-names.ts';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  REDRIVE_MAX_RECEIVE_COUNT,
  TASK_RETENTION_SECONDS,
  visibilityTimeoutSeconds,
} from '../queue-settings.ts';
import type { TaskModule } from '../task-module.ts';
import { createConsumerFunction } from './consumer-function.ts';
import type { TaskLaneResources } from './contracts.ts';
import type { PipelineState } from './state.ts';
import type { TaskAccess } from './task-access.ts';

/** Props of one task type's lane. */
export interface TaskLaneProps {
  readonly prefix: string;
  readonly module: TaskModule;
  readonly state: PipelineState;
  /** Path of the consumer's Lambda entry (exports `handler`). */
  readonly consumerEntry: string;
  /** Maximum concurrency of the normal lane's mapping, 2-1000. */
  readonly maxConcurrency: number;
  /** Provisioned pollers of the high lane's mapping. */
  readonly provisionedPollers: {
    readonly minimum: number;
    readonly maximum: number;
  };
  /** What the task type's handler uses besides queues and tables. */
  readonly access?: TaskAccess;
}

/**
 * One task type's lane: a dead-letter queue, a high and a normal queue that
 * redrive into it, and one consumer function serving both queues.
 */
export class TaskLane extends Construct implements TaskLaneResources {
  readonly taskType: string;
  readonly queues: Readonly<Record<Priority, sqs.Queue>>;
  readonly deadLetterQueue: sqs.Queue;
  readonly consumer: nodejs.NodejsFunction;
  /** The consumer's execution role. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TaskLaneProps) {
    super(scope, id);
    const { module, prefix, state } = props;
    this.taskType = module.taskType;
    assertBatchSize(module);

    this.deadLetterQueue = this.queue('DeadLetterQueue', state.key, {
      queueName: deadLetterQueueName(prefix, module.taskType),
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: this.sourceQueueRefs(prefix, module.taskType),
      },
    });
    const deadLetterQueue = {
      queue: this.deadLetterQueue,
      maxReceiveCount: REDRIVE_MAX_RECEIVE_COUNT,
    };
    const taskQueue = (priority: Priority) =>
      this.queue(priority === 'high' ? 'HighQueue' : 'NormalQueue', state.key, {
        queueName: taskQueueName(prefix, module.taskType, priority),
        retentionPeriod: Duration.seconds(TASK_RETENTION_SECONDS),
        visibilityTimeout: Duration.seconds(
          visibilityTimeoutSeconds(module.defaults),
        ),
        deadLetterQueue,
      });
    this.queues = { high: taskQueue('high'), normal: taskQueue('normal') };

    this.role = new iam.Role(this, 'ConsumerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Consumer of ${module.taskType} tasks`,
    });
    this.consumer = createConsumerFunction(this, {
      module,
      state,
      entry: props.consumerEntry,
      role: this.role,
    });
    this.grantConsumerAccess(props);
    this.mapQueues(props);
  }

  /**
   * The lane's own queues, by ARN built from their names: the dead-letter
   * queue accepts redrives from them only, and referring to the queues
   * themselves would make each depend on the other.
   */
  private sourceQueueRefs(prefix: string, taskType: string): sqs.IQueue[] {
    return PRIORITIES.map((priority) =>
      sqs.Queue.fromQueueArn(
        this,
        `${priority}SourceRef`,
        Stack.of(this).formatArn({
          service: 'sqs',
          resource: taskQueueName(prefix, taskType, priority),
        }),
      ),
    );
  }

  /** KMS with the pipeline's key, TLS only. */
  private queue(id: string, key: kms.IKey, props: sqs.QueueProps): sqs.Queue {
    return new sqs.Queue(this, id, {
      ...props,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
    });
  }

  private grantConsumerAccess(props: TaskLaneProps): void {
    const { state } = props;
    this.deadLetterQueue.grantSendMessages(this.consumer);
    tableAccess(this.role, state.idempotencyTable.tableArn, [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
    tableAccess(this.role, state.statusOutboxTable.tableArn, [
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    // DynamoDB reads the key's metadata for tables with a customer key.
    state.key.grantEncryptDecrypt(this.role);
    state.key.grant(this.role, 'kms:DescribeKey');
    props.access?.(this.consumer, state);
    acknowledgeKeyActions(this.role);
  }

  /** Both queues: partial batch responses, no batching window. */
  private mapQueues(props: TaskLaneProps): void {
    const common = {
      batchSize: props.module.defaults.batchSize,
      maxBatchingWindow: Duration.seconds(0),
      reportBatchItemFailures: true,
    };
    this.consumer.addEventSource(
      new SqsEventSource(this.queues.normal, {
        ...common,
        maxConcurrency: props.maxConcurrency,
      }),
    );
    this.consumer.addEventSource(
      new SqsEventSource(this.queues.high, {
        ...common,
        provisionedPollerConfig: {
          minimumPollers: props.provisionedPollers.minimum,
          maximumPollers: props.provisionedPollers.maximum,
        },
      }),
    );
  }
}

/** Item actions on a table itself, never on its indexes. */
function tableAccess(role: iam.Role, tableArn: string, actions: string[]) {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions, resources: [tableArn] }),
  );
}

/**
 * The consumer uses the key for SQS (decrypt received, encrypt
 * dead-lettered), DynamoDB and SNS; `grantEncryptDecrypt` names the KMS
 * actions those services call, two of them as families.
 */
function acknowledgeKeyActions(role: iam.Role): void {
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason:
        `${action} covers the variants SQS, DynamoDB and SNS call with ` +
        'the pipeline key; the resource is that one key only.',
    });
  }
}

function assertBatchSize(module: TaskModule): void {
  const size = module.defaults.batchSize;
  if (!Number.isInteger(size) || size < 1 || size > 10) {
    throw new Error(
      `task type ${module.taskType}: defaults.batchSize must be a whole ` +
        `number of records from 1 to 10 (got ${size})`,
    );
  }
}
