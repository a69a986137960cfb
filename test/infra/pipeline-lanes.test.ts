import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import { PRIORITIES } from '../../lib/envelope.ts';
import {
  deadLetterQueueName,
  resourceNames,
  taskQueueName,
} from '../../lib/queue-names.ts';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  REDRIVE_MAX_RECEIVE_COUNT,
  TASK_RETENTION_SECONDS,
} from '../../lib/queue-settings.ts';
import {
  OUTBOX_FINISHED_AT,
  OUTBOX_PENDING_INDEX,
  OUTBOX_PENDING_TARGET,
} from '../../lib/tables.ts';
import {
  mappingOf,
  queueId,
  resourcesOf,
  synthPipeline,
} from '../helpers/pipeline-stack.ts';

const PREFIX = 'tasklane';
const MODULES = builtInRegistry.modules();
const KEY = { 'Fn::GetAtt': [expectStringId('Key'), 'Arn'] };

let template: Template;

beforeAll(() => {
  // GIVEN the built-in task types with overrides for one lane each
  ({ template } = synthPipeline({
    maxConcurrency: { 'data.backup': 50 },
    provisionedPollers: { 'order.notification': { minimum: 20, maximum: 400 } },
  }));
});

function queueProps(name: string) {
  const id = queueId(template, name);
  return resourcesOf(template, 'AWS::SQS::Queue')[id]?.Properties ?? {};
}

function consumerOf(queueName: string) {
  const mapping = mappingOf(template, queueId(template, queueName));
  const ref = (mapping.FunctionName as { Ref: string }).Ref;
  return resourcesOf(template, 'AWS::Lambda::Function')[ref]?.Properties ?? {};
}

function expectStringId(hint: string) {
  return expect.stringContaining(hint);
}

describe('TaskPipeline lanes: queues', () => {
  it('names every queue as the local runtime does', () => {
    // THEN
    for (const { taskType } of MODULES) {
      expect(queueProps(deadLetterQueueName(PREFIX, taskType))).toBeTruthy();
      for (const priority of PRIORITIES) {
        expect(
          queueProps(taskQueueName(PREFIX, taskType, priority)),
        ).toBeTruthy();
      }
    }
  });

  it('redrives each task queue into its dead-letter queue after 10 receives', () => {
    for (const { taskType } of MODULES) {
      const dlqId = queueId(template, deadLetterQueueName(PREFIX, taskType));
      for (const priority of PRIORITIES) {
        // THEN
        expect(
          queueProps(taskQueueName(PREFIX, taskType, priority)),
        ).toMatchObject({
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
            maxReceiveCount: REDRIVE_MAX_RECEIVE_COUNT,
          },
        });
      }
    }
    expect(REDRIVE_MAX_RECEIVE_COUNT).toBeGreaterThan(6);
  });

  it('keeps a dead letter longer than a task: 14 days against 4', () => {
    for (const { taskType } of MODULES) {
      // THEN
      const dlq = queueProps(deadLetterQueueName(PREFIX, taskType));
      const high = queueProps(taskQueueName(PREFIX, taskType, 'high'));
      expect(dlq.MessageRetentionPeriod).toBe(DEAD_LETTER_RETENTION_SECONDS);
      expect(high.MessageRetentionPeriod).toBe(TASK_RETENTION_SECONDS);
      expect(DEAD_LETTER_RETENTION_SECONDS).toBeGreaterThan(
        TASK_RETENTION_SECONDS,
      );
    }
  });

  it('lets only its own lane redrive into a dead-letter queue', () => {
    for (const { taskType } of MODULES) {
      // THEN
      const dlq = queueProps(deadLetterQueueName(PREFIX, taskType));
      const policy = JSON.stringify(dlq.RedriveAllowPolicy);
      expect(dlq.RedriveAllowPolicy).toMatchObject({
        redrivePermission: 'byQueue',
      });
      for (const priority of PRIORITIES) {
        expect(policy).toContain(
          `:${taskQueueName(PREFIX, taskType, priority)}"`,
        );
      }
    }
  });

  it('sets each visibility timeout to at least 6 times the consumer timeout', () => {
    for (const { taskType } of MODULES) {
      for (const priority of PRIORITIES) {
        // THEN
        const name = taskQueueName(PREFIX, taskType, priority);
        const timeout = consumerOf(name).Timeout as number;
        expect(queueProps(name).VisibilityTimeout).toBeGreaterThanOrEqual(
          6 * timeout,
        );
      }
    }
  });

  it('encrypts every queue with the pipeline key, TLS only', () => {
    for (const queue of Object.values(
      resourcesOf(template, 'AWS::SQS::Queue'),
    )) {
      // THEN
      expect(queue.Properties.KmsMasterKeyId).toEqual(KEY);
    }
  });
});

describe('TaskPipeline lanes: consumers and mappings', () => {
  it('runs each consumer on nodejs24.x, arm64, with the handler environment', () => {
    for (const { taskType } of MODULES) {
      // THEN
      const fn = consumerOf(taskQueueName(PREFIX, taskType, 'normal'));
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: {
          Variables: {
            TASKLANE_TASK_TYPE: taskType,
            TASKLANE_IDEMPOTENCY_TABLE: { Ref: expectStringId('Idempotency') },
            TASKLANE_STATUS_OUTBOX_TABLE: {
              Ref: expectStringId('StatusOutbox'),
            },
            TASKLANE_ORDERS_TABLE: { Ref: expectStringId('Orders') },
            TASKLANE_NOTIFICATION_TOPIC_ARN: { Ref: expectStringId('Topic') },
            TASKLANE_BACKUP_BUCKET: { Ref: expectStringId('BackupBucket') },
            POWERTOOLS_SERVICE_NAME: 'tasklane',
            POWERTOOLS_METRICS_NAMESPACE: 'Tasklane',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      });
    }
  });

  it('maps both queues with partial batch responses and no batching window', () => {
    for (const module of MODULES) {
      for (const priority of PRIORITIES) {
        // THEN
        const name = taskQueueName(PREFIX, module.taskType, priority);
        expect(mappingOf(template, queueId(template, name))).toMatchObject({
          BatchSize: module.defaults.batchSize,
          MaximumBatchingWindowInSeconds: 0,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
        expect(module.defaults.batchSize).toBeLessThanOrEqual(10);
      }
    }
  });

  it('caps the normal lane at the task default or the override', () => {
    // THEN
    const normal = (type: string) =>
      mappingOf(
        template,
        queueId(template, taskQueueName(PREFIX, type, 'normal')),
      );
    const notification = builtInRegistry.get('order.notification');
    expect(normal('order.notification').ScalingConfig).toEqual({
      MaximumConcurrency: notification.defaults.maxConcurrency,
    });
    expect(normal('data.backup').ScalingConfig).toEqual({
      MaximumConcurrency: 50,
    });
  });

  it('gives the high lane provisioned pollers, 2-200 unless overridden', () => {
    // THEN
    const high = (type: string) =>
      mappingOf(
        template,
        queueId(template, taskQueueName(PREFIX, type, 'high')),
      );
    expect(high('data.backup')).toMatchObject({
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 200 },
    });
    expect(high('order.notification')).toMatchObject({
      ProvisionedPollerConfig: { MinimumPollers: 20, MaximumPollers: 400 },
    });
    expect(high('data.backup').ScalingConfig).toBeUndefined();
  });
});

describe('TaskPipeline state', () => {
  const tableNamed = (name: string) =>
    Object.values(resourcesOf(template, 'AWS::DynamoDB::Table')).find(
      (table) => table.Properties.TableName === name,
    )?.Properties;

  it('makes the three tables on demand, with PITR and the pipeline key', () => {
    const names = resourceNames(PREFIX);
    for (const name of [
      names.idempotencyTable,
      names.statusOutboxTable,
      names.ordersTable,
    ]) {
      // THEN
      expect(tableNamed(name)).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: KEY,
        },
      });
    }
  });

  it('expires idempotency records and outbox items by TTL', () => {
    const names = resourceNames(PREFIX);
    // THEN
    expect(tableNamed(names.idempotencyTable)).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    expect(tableNamed(names.statusOutboxTable)).toMatchObject({
      KeySchema: [{ AttributeName: 'taskId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('indexes pending outbox items by callback target, oldest first', () => {
    // THEN
    const outbox = tableNamed(resourceNames(PREFIX).statusOutboxTable);
    expect(outbox?.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: OUTBOX_PENDING_INDEX,
        KeySchema: [
          { AttributeName: OUTBOX_PENDING_TARGET, KeyType: 'HASH' },
          { AttributeName: OUTBOX_FINISHED_AT, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  it('rotates the key and encrypts the notification topic with it', () => {
    // THEN
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: resourceNames(PREFIX).notificationTopic,
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
    });
  });
});
