import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '../../lambdas/consumer/consumer.ts';
import { demoExecutions } from '../../lib/local/demo-tasks.ts';
import { createLambdaContext } from '../../lib/local/lambda-context.ts';
import { LocalMetrics } from '../../lib/local/local-metrics.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  demoEnvelope,
  FAST_RETRY,
  finalStatus,
  readDeadLetters,
  sendBody,
  startTestPipeline,
  testRegistry,
} from '../helpers/pipeline.ts';

describe('consumer on fauxqs and dynalite', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  const send = (task: object, taskType = 'demo.flaky') =>
    sendBody(pipeline, taskType, JSON.stringify(task));

  const deadLettersOf = async (taskId: string) =>
    (await readDeadLetters(pipeline, 'demo.flaky')).filter((letter) =>
      letter.body.includes(taskId),
    );

  it('completes a valid task once and records one final status', async () => {
    // Prepare
    const task = demoEnvelope({ payload: { workMs: 10 } });

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id);

    // Assess
    expect(record).toMatchObject({
      status: 'completed',
      attempts: 1,
      taskType: 'demo.flaky',
      businessId: task.businessId,
    });
    expect(demoExecutions.get(task.id)).toBe(1);
  });

  it('dead-letters an invalid envelope at once, naming field and value', async () => {
    // Prepare
    const task = demoEnvelope({ priority: 'urgent' as 'high' });

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id);
    const [letter] = await deadLettersOf(task.id);

    // Assess
    expect(record).toMatchObject({
      status: 'failed',
      reason: 'INVALID',
      attempts: 0,
    });
    expect(letter?.reason).toBe('INVALID');
    expect(letter?.errorCode).toBe('INVALID_ENVELOPE');
    expect(letter?.lastError).toMatch(/field priority: .*\(got "urgent"\)/);
    expect(letter?.body).toBe(JSON.stringify(task));
    expect(demoExecutions.has(task.id)).toBe(false);
  });

  it('rejects unknown top-level fields instead of dropping them', async () => {
    // Prepare
    const task = { ...demoEnvelope(), color: 'blue' };

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id);

    // Assess
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/field color: is not allowed/);
  });

  it('dead-letters a body that is not JSON, keeping it unchanged', async () => {
    // Prepare
    const body = `{"id": "broken ${randomUUID()}`;

    // Act
    const messageId = await sendBody(pipeline, 'demo.flaky', body);
    const record = await finalStatus(pipeline, `message-${messageId}`);
    const letters = await readDeadLetters(pipeline, 'demo.flaky');

    // Assess
    expect(record).toMatchObject({ status: 'failed', reason: 'INVALID' });
    const letter = letters.find((l) => l.body === body);
    expect(letter?.errorCode).toBe('INVALID_JSON');
  });

  it('dead-letters a payload that breaks its schema, naming the payload field', async () => {
    // Prepare
    const task = demoEnvelope({ payload: { failTimes: 'twice' } });

    // Act
    await send(task);
    const [letter] = await (async () => {
      await finalStatus(pipeline, task.id);
      return deadLettersOf(task.id);
    })();

    // Assess
    expect(letter?.errorCode).toBe('INVALID_PAYLOAD');
    expect(letter?.lastError).toMatch(
      /field payload\.failTimes: .*\(got "twice"\)/,
    );
  });

  it('dead-letters a task whose business id does not exist, without running it', async () => {
    // Prepare
    const task = demoEnvelope({ businessId: 'missing-42' });

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id);
    const [letter] = await deadLettersOf(task.id);

    // Assess
    expect(record).toMatchObject({ status: 'failed', reason: 'INVALID' });
    expect(letter?.errorCode).toBe('BUSINESS_ID_NOT_FOUND');
    expect(letter?.lastError).toMatch(
      /field businessId: "missing-42" does not exist/,
    );
    expect(demoExecutions.has(task.id)).toBe(false);
  });

  it('dead-letters a task sent to the queue of another task type', async () => {
    // Prepare
    const task = demoEnvelope();

    // Act
    await send(task, 'data.backup');
    const record = await finalStatus(pipeline, task.id);

    // Assess
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/taskType: this queue carries data\.backup/);
  });

  it('retries a transient failure and then completes', async () => {
    // Prepare
    const task = demoEnvelope({ payload: { failTimes: 2 } });

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id);

    // Assess
    expect(record).toMatchObject({ status: 'completed', attempts: 3 });
    expect(record.errors?.map((e) => e.attempt)).toEqual([1, 2]);
    expect(demoExecutions.get(task.id)).toBe(3);
  });

  it('dead-letters after 6 executions with the whole error history', async () => {
    // Prepare
    const task = demoEnvelope({ payload: { failTimes: 10 } });

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id, 45_000);
    const [letter] = await deadLettersOf(task.id);

    // Assess
    expect(record).toMatchObject({
      status: 'failed',
      reason: 'RETRIES_EXHAUSTED',
      attempts: 6,
    });
    expect(demoExecutions.get(task.id)).toBe(6);
    expect(letter?.reason).toBe('RETRIES_EXHAUSTED');
    expect(letter?.attempts).toBe(6);
    expect(letter?.history.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(letter?.lastError).toBe('demo failure 6 of 10');
  });

  it('counts a run past its time budget as a failed attempt', async () => {
    // Prepare: the work takes 5 s, the budget allows 200 ms, once.
    const task = demoEnvelope({
      timeoutMs: 200,
      payload: { workMs: 5_000 },
    });

    // Act
    await send(task);
    const record = await finalStatus(pipeline, task.id, 45_000);

    // Assess
    expect(record).toMatchObject({ status: 'failed', attempts: 6 });
    expect(record.errors?.[0]).toMatchObject({
      code: 'TASK_TIMEOUT',
      message: 'task ran longer than its 200 ms budget',
    });
  });

  it('runs a redelivered task that already succeeded only once', async () => {
    // Prepare
    const task = demoEnvelope();
    await send(task);
    await finalStatus(pipeline, task.id);

    // Act: the same envelope arrives again, as a redelivery would.
    await send(task);
    await waitForEmptyQueue(pipeline, 'test-demo-flaky-normal');

    // Assess
    expect(demoExecutions.get(task.id)).toBe(1);
    expect((await pipeline.outbox.get(task.id))?.attempts).toBe(1);
    expect(await deadLettersOf(task.id)).toEqual([]);
  });

  it('gives each task of a mixed batch its own outcome', async () => {
    // Prepare
    const ok = demoEnvelope();
    const flaky = demoEnvelope({ payload: { failTimes: 1 } });
    const invalid = demoEnvelope({ businessId: '' });
    const missing = demoEnvelope({ businessId: 'missing-7' });
    const exhausted = demoEnvelope({ payload: { failTimes: 9 } });
    const slow = demoEnvelope({ timeoutMs: 100, payload: { workMs: 3_000 } });
    const tasks = [ok, flaky, invalid, missing, exhausted, slow];
    const queue = pipeline.resources.queues.find(
      (q) => q.name === 'test-demo-flaky-high',
    );

    // Act: one SendMessageBatch, so the records can share a batch.
    await pipeline.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue?.url,
        Entries: tasks.map((task, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({ ...task, priority: 'high' }),
        })),
      }),
    );
    const records = await Promise.all(
      tasks.map((task) => finalStatus(pipeline, task.id, 45_000)),
    );

    // Assess
    expect(records.map((r) => [r.status, r.reason, r.attempts])).toEqual([
      ['completed', undefined, 1],
      ['completed', undefined, 2],
      ['failed', 'INVALID', 0],
      ['failed', 'INVALID', 0],
      ['failed', 'RETRIES_EXHAUSTED', 6],
      ['failed', 'RETRIES_EXHAUSTED', 6],
    ]);
  });

  it('gives a redriven task a fresh budget of executions', async () => {
    // Prepare: a task that fails 6 times, so it is dead-lettered.
    const task = demoEnvelope({ payload: { failTimes: 6 } });
    await send(task);
    await finalStatus(pipeline, task.id, 45_000);
    const letter = await receiveDeadLetter(pipeline, task.id);

    // Act: send it back with the dead-lettering's attributes, as a redrive
    // (tasklane dlq redrive, or an SQS message move task) does.
    await pipeline.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl(pipeline, 'test-demo-flaky-normal'),
        MessageBody: letter.Body,
        MessageAttributes: letter.MessageAttributes,
      }),
    );
    const record = await waitForStatus(pipeline, task.id, 'completed');

    // Assess
    expect(record).toMatchObject({ status: 'completed', attempts: 1 });
    expect(record.errors).toEqual([]);
    expect(demoExecutions.get(task.id)).toBe(7);
  });

  it('counts executions, not receives: a ninth receive still runs as attempt 1', async () => {
    // Prepare: a record SQS has handed out 8 times before, none of which
    // reached the handler (throttled receives, a crash before start).
    const metrics = new LocalMetrics('demo.flaky');
    const handler = createConsumer({
      taskType: 'demo.flaky',
      registry: testRegistry,
      clients: pipeline.clients,
      tables: {
        idempotency: pipeline.resources.names.idempotencyTable,
        statusOutbox: pipeline.resources.names.statusOutboxTable,
      },
      retry: FAST_RETRY,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics,
    });
    const task = demoEnvelope();
    const record = recordOf(JSON.stringify(task), '9', pipeline);

    // Act
    const response = await handler(
      { Records: [record] },
      createLambdaContext({
        functionName: 'test-demo-flaky',
        timeoutMs: 30_000,
      }),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await pipeline.outbox.get(task.id)).toMatchObject({
      status: 'completed',
      attempts: 1,
    });
    expect(metrics.totals.get('TaskCompleted')?.count).toBe(1);
    expect(metrics.totals.get('TaskLatency')?.count).toBe(1);
  });
});

function recordOf(
  body: string,
  receiveCount: string,
  pipeline: LocalPipeline,
): SQSRecord {
  const queue = pipeline.resources.queues.find(
    (q) => q.name === 'test-demo-flaky-normal',
  );
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: receiveCount,
      SentTimestamp: String(Date.now() - 50),
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue?.arn ?? '',
    awsRegion: 'us-east-1',
  };
}

async function waitForEmptyQueue(pipeline: LocalPipeline, name: string) {
  const queue = pipeline.resources.queues.find((q) => q.name === name);
  for (let i = 0; i < 100; i++) {
    const { Attributes = {} } = await pipeline.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue?.url,
        AttributeNames: ['All'],
      }),
    );
    const depth =
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    if (depth === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`queue ${name} never emptied`);
}

function queueUrl(pipeline: LocalPipeline, name: string): string {
  const queue = pipeline.resources.queues.find((q) => q.name === name);
  if (!queue) throw new Error(`no queue ${name}`);
  return queue.url;
}

/** Takes a task's message off the demo dead-letter queue, attributes and all. */
async function receiveDeadLetter(pipeline: LocalPipeline, taskId: string) {
  const url = pipeline.resources.deadLetterQueueUrls.get('demo.flaky');
  for (let i = 0; i < 50; i++) {
    const { Messages = [] } = await pipeline.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    const found = Messages.find((m) => m.Body?.includes(taskId));
    if (found) return found;
  }
  throw new Error(`no dead letter for task ${taskId}`);
}

/** Waits until the outbox shows the task with the given status. */
async function waitForStatus(
  pipeline: LocalPipeline,
  taskId: string,
  status: string,
) {
  for (let i = 0; i < 300; i++) {
    const record = await pipeline.outbox.get(taskId);
    if (record?.status === status) return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId} never reached ${status}`);
}
