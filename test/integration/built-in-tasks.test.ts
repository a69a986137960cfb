import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { createProducer, type Producer } from '../../lib/producer.ts';
import { finalStatus, startTestPipeline } from '../helpers/pipeline.ts';

describe('built-in task types against the emulated AWS APIs', () => {
  let pipeline: LocalPipeline;
  let producer: Producer;
  const sourceBucket = 'test-source-data';

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    producer = createProducer({
      sqs: pipeline.clients.sqs,
      registry: pipeline.registry,
      prefix: pipeline.prefix,
    });
    await pipeline.clients.s3.send(
      new CreateBucketCommand({ Bucket: sourceBucket }),
    );
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('order.notification publishes the notification to the topic', async () => {
    // Prepare: an order, and a queue subscribed to the topic to read it.
    const orderId = `order-${randomUUID()}`;
    await pipeline.clients.dynamodb.send(
      new PutCommand({
        TableName: pipeline.resources.names.ordersTable,
        Item: { orderId },
      }),
    );
    const tap = await subscribeQueue(pipeline);

    // Act
    const { id } = await producer.send({
      taskType: 'order.notification',
      businessId: orderId,
      payload: { event: 'shipped', message: 'On its way' },
    });
    const record = await finalStatus(pipeline, id);

    // Assess
    expect(record.status).toBe('completed');
    const { Messages = [] } = await pipeline.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: tap, WaitTimeSeconds: 2 }),
    );
    const notification = JSON.parse(
      JSON.parse(Messages[0]?.Body ?? '{}').Message,
    );
    expect(notification).toEqual({
      orderId,
      event: 'shipped',
      message: 'On its way',
      taskId: id,
    });
  });

  it('order.notification dead-letters an order that does not exist', async () => {
    // Act
    const { id } = await producer.send({
      taskType: 'order.notification',
      businessId: 'order-none',
      payload: { event: 'paid', message: 'Paid' },
    });
    const record = await finalStatus(pipeline, id);

    // Assess
    expect(record).toMatchObject({ status: 'failed', reason: 'INVALID' });
    expect(record.error).toMatch(/"order-none" does not exist/);
  });

  it('data.backup copies the object into the backup bucket', async () => {
    // Prepare
    const key = `exports/${randomUUID()}.csv`;
    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: sourceBucket,
        Key: key,
        Body: 'a,b\n1,2\n',
      }),
    );

    // Act
    const { id } = await producer.send({
      taskType: 'data.backup',
      businessId: 'nightly-export',
      payload: { bucket: sourceBucket, key },
    });
    const record = await finalStatus(pipeline, id);

    // Assess
    expect(record.status).toBe('completed');
    const copy = await pipeline.clients.s3.send(
      new GetObjectCommand({
        Bucket: pipeline.resources.names.backupBucket,
        Key: `${sourceBucket}/${key}`,
      }),
    );
    expect(await copy.Body?.transformToString()).toBe('a,b\n1,2\n');
  });

  it('data.backup dead-letters a source object that does not exist', async () => {
    // Act
    const { id } = await producer.send({
      taskType: 'data.backup',
      businessId: 'nightly-export',
      payload: { bucket: sourceBucket, key: 'nothing/here.csv' },
    });
    const record = await finalStatus(pipeline, id);

    // Assess
    expect(record).toMatchObject({ status: 'failed', reason: 'INVALID' });
    expect(record.error).toMatch(/no object s3:\/\/test-source-data\/nothing/);
  });
});

async function subscribeQueue(pipeline: LocalPipeline): Promise<string> {
  const { QueueUrl } = await pipeline.clients.sqs.send(
    new CreateQueueCommand({ QueueName: `tap-${randomUUID().slice(0, 8)}` }),
  );
  const { Attributes } = await pipeline.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await pipeline.clients.sns.send(
    new SubscribeCommand({
      TopicArn: pipeline.resources.notificationTopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
    }),
  );
  return QueueUrl ?? '';
}
