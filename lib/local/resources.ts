import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { BACKUP_BUCKET_ENV } from '../../lambdas/tasks/data-backup.ts';
import {
  NOTIFICATION_TOPIC_ENV,
  ORDERS_TABLE_ENV,
} from '../../lambdas/tasks/order-notification.ts';
import type { AwsClients } from '../aws-clients.ts';
import { PRIORITIES, type Priority } from '../envelope.ts';
import {
  deadLetterQueueName,
  resourceNames,
  taskQueueName,
} from '../queue-names.ts';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  taskQueueAttributes,
} from '../queue-settings.ts';
import type { TaskRegistry } from '../registry.ts';
import {
  CALLBACK_TARGETS_KEY,
  IDEMPOTENCY_KEY,
  ORDERS_KEY,
  OUTBOX_FINISHED_AT,
  OUTBOX_KEY,
  OUTBOX_PENDING_INDEX,
  OUTBOX_PENDING_TARGET,
} from '../tables.ts';

/** A task queue made locally. */
export interface LocalQueue {
  readonly taskType: string;
  readonly priority: Priority;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** Everything the stack would create, made on the emulators. */
export interface LocalResources {
  readonly queues: readonly LocalQueue[];
  readonly deadLetterQueueUrls: ReadonlyMap<string, string>;
  readonly names: ReturnType<typeof resourceNames>;
  readonly notificationTopicArn: string;
  /** Where the callback dispatcher dead-letters statuses it cannot deliver. */
  readonly callbacksDeadLetterQueueUrl: string;
  /** Queue of task events of no known task type. */
  readonly undeliveredQueueUrl: string;
  /** The environment the consumer functions get on AWS. */
  readonly env: Readonly<Record<string, string>>;
}

/** Creates queues, tables, buckets and the topic with the stack's names. */
export async function createLocalResources(
  clients: AwsClients,
  registry: TaskRegistry,
  prefix: string,
): Promise<LocalResources> {
  const names = resourceNames(prefix);
  const queues: LocalQueue[] = [];
  const deadLetterQueueUrls = new Map<string, string>();

  for (const module of registry.modules()) {
    const dlq = await createQueue(
      clients,
      deadLetterQueueName(prefix, module.taskType),
      {
        MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS),
      },
    );
    deadLetterQueueUrls.set(module.taskType, dlq.url);
    for (const priority of PRIORITIES) {
      const name = taskQueueName(prefix, module.taskType, priority);
      const attributes = taskQueueAttributes(module.defaults, dlq.arn);
      const queue = await createQueue(clients, name, attributes);
      queues.push({ taskType: module.taskType, priority, name, ...queue });
    }
  }

  const callbacksDlq = await createQueue(
    clients,
    names.callbacksDeadLetterQueue,
    { MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS) },
  );
  // On AWS the bus sends events of no known task type here; locally there
  // is no bus, but the queue exists as it does there.
  const undelivered = await createQueue(clients, names.undeliveredQueue, {
    MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS),
  });
  await createTables(clients, names);
  for (const bucket of [names.backupBucket]) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  const { TopicArn } = await clients.sns.send(
    new CreateTopicCommand({ Name: names.notificationTopic }),
  );
  const notificationTopicArn = TopicArn ?? '';

  return {
    queues,
    deadLetterQueueUrls,
    names,
    notificationTopicArn,
    callbacksDeadLetterQueueUrl: callbacksDlq.url,
    undeliveredQueueUrl: undelivered.url,
    env: {
      [ORDERS_TABLE_ENV]: names.ordersTable,
      [NOTIFICATION_TOPIC_ENV]: notificationTopicArn,
      [BACKUP_BUCKET_ENV]: names.backupBucket,
    },
  };
}

async function createQueue(
  clients: AwsClients,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['QueueArn'],
    }),
  );
  return { url: QueueUrl ?? '', arn: Attributes?.QueueArn ?? '' };
}

async function createTables(
  clients: AwsClients,
  names: ReturnType<typeof resourceNames>,
): Promise<void> {
  const simple = (TableName: string, key: string) =>
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    });

  await clients.dynamodb.send(simple(names.idempotencyTable, IDEMPOTENCY_KEY));
  await clients.dynamodb.send(simple(names.ordersTable, ORDERS_KEY));
  await clients.dynamodb.send(
    simple(names.callbackTargetsTable, CALLBACK_TARGETS_KEY),
  );
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: names.statusOutboxTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: OUTBOX_KEY, AttributeType: 'S' },
        { AttributeName: OUTBOX_PENDING_TARGET, AttributeType: 'S' },
        { AttributeName: OUTBOX_FINISHED_AT, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: OUTBOX_KEY, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: OUTBOX_PENDING_INDEX,
          KeySchema: [
            { AttributeName: OUTBOX_PENDING_TARGET, KeyType: 'HASH' },
            { AttributeName: OUTBOX_FINISHED_AT, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}
