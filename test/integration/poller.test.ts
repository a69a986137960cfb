import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  vi,
} from 'vitest';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../../lib/aws-clients.ts';
import { type Emulators, startEmulators } from '../../lib/local/emulators.ts';
import {
  type Poller,
  type PollerOptions,
  startPoller,
} from '../../lib/local/poller.ts';

interface TestQueue {
  readonly url: string;
  readonly arn: string;
}

let emulators: Emulators;
let clients: AwsClients;
const running: Poller[] = [];

beforeAll(async () => {
  emulators = await startEmulators({ messaging: 0, dynamodb: 0 });
  clients = createAwsClients(emulators.clientOptions);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  destroyAwsClients(clients);
  await emulators.stop();
});

/** A fresh queue whose failed messages come back after 1 s. */
async function createTestQueue(): Promise<TestQueue> {
  const { QueueUrl = '' } = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: `poller-test-${randomUUID().slice(0, 8)}`,
      Attributes: { VisibilityTimeout: '1' },
    }),
  );
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['QueueArn'],
    }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

async function sendBodies(queue: TestQueue, bodies: string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, index) => ({
      Id: String(index),
      MessageBody: body,
    }));
    await clients.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }),
    );
  }
}

/** Messages still on the queue, visible or not. */
async function countMessages(queue: TestQueue): Promise<number> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

function testLogger() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

function poll(
  queue: TestQueue,
  options: Partial<PollerOptions> & Pick<PollerOptions, 'handler'>,
): Poller {
  const poller = startPoller({
    sqs: clients.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    functionName: 'tasklane-test',
    functionTimeoutMs: 2_000,
    logger: testLogger(),
    ...options,
  });
  running.push(poller);
  return poller;
}

/** An SQS client that tells each command it sends to `onCommand`. */
function watchedSqsClient(onCommand: (name: string) => void): SQSClient {
  const { sqs } = createAwsClients(emulators.clientOptions);
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      onCommand(context.commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'watchCommands' },
  );
  return sqs;
}

const WAIT = { timeout: 5_000, interval: 20 };

describe('startPoller', () => {
  it('hands records to the handler in the shape Lambda gives', async () => {
    // Prepare
    const queue = await createTestQueue();
    const { MessageId, MD5OfMessageBody } = await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"id":"t-1"}',
        MessageAttributes: {
          taskType: { DataType: 'String', StringValue: 'email.send' },
          attempt: { DataType: 'Number', StringValue: '2' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      }),
    );
    const events: SQSEvent[] = [];
    const handler = async (event: SQSEvent) => {
      events.push(event);
    };

    // Act
    poll(queue, { handler, region: 'eu-west-1' });
    await vi.waitFor(() => expect(events).toHaveLength(1), WAIT);

    // Assess
    expect(events[0]?.Records).toHaveLength(1);
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      messageId: MessageId,
      receiptHandle: expect.stringMatching(/.+/),
      body: '{"id":"t-1"}',
      md5OfBody: MD5OfMessageBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'eu-west-1',
    });
    expect(record?.attributes).toMatchObject({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d+$/),
      SenderId: expect.stringMatching(/.+/),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
    });
    const lists = { stringListValues: [], binaryListValues: [] };
    expect(record?.messageAttributes).toEqual({
      taskType: { stringValue: 'email.send', ...lists, dataType: 'String' },
      attempt: { stringValue: '2', ...lists, dataType: 'Number' },
      blob: { binaryValue: 'aGk=', ...lists, dataType: 'Binary' },
    });
  });

  it('hands the handler a Lambda context for the function', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['a']);
    const calls: { context: Context; leftMs: number }[] = [];
    const handler = async (_event: SQSEvent, context: Context) => {
      calls.push({ context, leftMs: context.getRemainingTimeInMillis() });
    };

    // Act
    poll(queue, { handler, region: 'eu-west-1', functionName: 'email' });
    await vi.waitFor(() => expect(calls).toHaveLength(1), WAIT);

    // Assess
    const account = queue.arn.split(':')[4];
    expect(calls[0]?.context).toMatchObject({
      functionName: 'email',
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:eu-west-1:${account}:function:email`,
      memoryLimitInMB: '1024',
      logGroupName: '/aws/lambda/email',
      logStreamName: expect.stringMatching(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\]/),
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(calls[0]?.leftMs).toBeGreaterThan(1_500);
    expect(calls[0]?.leftMs).toBeLessThanOrEqual(2_000);
  });

  it('deletes successes and leaves listed failures to return', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['a', 'b', 'c']);
    const seen: string[] = [];
    const handler = async (event: SQSEvent) => {
      const firstTries = event.Records.filter((record) => {
        const count = record.attributes.ApproximateReceiveCount;
        seen.push(`${record.body}:${count}`);
        return record.body === 'b' && count === '1';
      });
      return {
        batchItemFailures: firstTries.map((record) => ({
          itemIdentifier: record.messageId,
        })),
      };
    };

    // Act
    const poller = poll(queue, { handler });
    await vi.waitFor(() => expect(poller.stats().deleted).toBe(3), WAIT);

    // Assess
    expect(seen.sort()).toEqual(['a:1', 'b:1', 'b:2', 'c:1']);
    expect(poller.stats()).toMatchObject({ failed: 1, deleted: 3 });
    expect(await countMessages(queue)).toBe(0);
  });

  it('deletes nothing when the handler throws', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['a', 'b']);
    const logger = testLogger();
    const handler = async () => {
      throw new Error('boom');
    };

    // Act
    const poller = poll(queue, { handler, logger });
    await vi.waitFor(() => expect(poller.stats().failed).toBe(2), WAIT);
    await poller.stop();

    // Assess
    expect(poller.stats().deleted).toBe(0);
    expect(await countMessages(queue)).toBe(2);
    expect(logger.error).toHaveBeenCalledWith(
      'function failed; the batch will return',
      expect.objectContaining({ error: { name: 'Error', message: 'boom' } }),
    );
  });

  it('deletes nothing when a failure names no record of it', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['a']);
    const logger = testLogger();
    const handler = async () => ({
      batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }],
    });

    // Act
    const poller = poll(queue, { handler, logger });
    await vi.waitFor(() => expect(poller.stats().failed).toBe(1), WAIT);
    await poller.stop();

    // Assess
    expect(poller.stats().deleted).toBe(0);
    expect(await countMessages(queue)).toBe(1);
    const [, fields] = logger.error.mock.calls[0] ?? [];
    expect(fields.error.message).toMatch(/names no message of the batch/);
  });

  it('deletes nothing when the handler outlives its timeout', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['slow']);
    const logger = testLogger();
    let finished = 0;
    const handler = async () => {
      await sleep(400);
      finished += 1;
    };

    // Act
    const poller = poll(queue, { handler, logger, functionTimeoutMs: 100 });
    await vi.waitFor(() => expect(poller.stats().failed).toBe(1), WAIT);
    await poller.stop();
    await vi.waitFor(() => expect(finished).toBe(1), WAIT);

    // Assess
    expect(poller.stats().deleted).toBe(0);
    expect(await countMessages(queue)).toBe(1);
    expect(logger.error).toHaveBeenCalledWith(
      'function timed out; the batch will return',
      expect.objectContaining({ functionTimeoutMs: 100 }),
    );
  });

  it('caps concurrent handler invocations at maxConcurrency', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(
      queue,
      Array.from({ length: 12 }, (_, i) => `m${i}`),
    );
    let inFlight = 0;
    let mostInFlight = 0;
    const handler = async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await sleep(150);
      inFlight -= 1;
    };

    // Act
    const poller = poll(queue, { handler, maxConcurrency: 3, batchSize: 1 });
    await vi.waitFor(() => expect(poller.stats().deleted).toBe(12), WAIT);

    // Assess
    expect(mostInFlight).toBe(3);
    expect(poller.stats().batches).toBe(12);
  });

  it('hands the handler at most batchSize records', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(
      queue,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    const sizes: number[] = [];
    const handler = async (event: SQSEvent) => {
      sizes.push(event.Records.length);
    };

    // Act
    const poller = poll(queue, { handler, batchSize: 4, maxConcurrency: 1 });
    await vi.waitFor(() => expect(poller.stats().deleted).toBe(10), WAIT);

    // Assess
    expect(Math.max(...sizes)).toBe(4);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(10);
  });

  it('gathers records until the batching window passes', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['first']);
    const sizes: number[] = [];
    const handler = async (event: SQSEvent) => {
      sizes.push(event.Records.length);
    };

    // Act
    const poller = poll(queue, {
      handler,
      batchSize: 5,
      batchingWindowMs: 600,
      maxConcurrency: 1,
    });
    await vi.waitFor(() => expect(poller.stats().received).toBe(1), WAIT);
    await sendBodies(queue, ['b', 'c', 'd', 'e']);
    await vi.waitFor(() => expect(poller.stats().deleted).toBe(5), WAIT);

    // Assess
    expect(sizes).toEqual([5]);
  });

  it('keeps polling after a receive fails', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['a']);
    let receives = 0;
    const sqs = watchedSqsClient((name) => {
      if (name !== 'ReceiveMessageCommand') return;
      receives += 1;
      if (receives === 1) throw new Error('connection reset');
    });
    const logger = testLogger();
    const handler = async () => undefined;

    // Act
    const poller = poll(queue, { sqs, handler, logger, maxConcurrency: 1 });
    await vi.waitFor(() => expect(poller.stats().deleted).toBe(1), WAIT);

    // Assess
    expect(logger.warn).toHaveBeenCalledWith(
      'receiving from the queue failed; retrying',
      expect.objectContaining({ delayMs: 200 }),
    );
    await poller.stop();
    sqs.destroy();
  });

  it('stops only after the batch in flight and its delete', async () => {
    // Prepare
    const queue = await createTestQueue();
    await sendBodies(queue, ['a']);
    let stopCalled = false;
    const afterStop: string[] = [];
    const sqs = watchedSqsClient((name) => {
      if (stopCalled) afterStop.push(name);
    });
    let started = false;
    let finished = false;
    const handler = async () => {
      started = true;
      await sleep(300);
      finished = true;
    };
    const poller = poll(queue, { sqs, handler });
    await vi.waitFor(() => expect(started).toBe(true), WAIT);

    // Act
    stopCalled = true;
    await poller.stop();

    // Assess
    expect(finished).toBe(true);
    expect(afterStop).toEqual(['DeleteMessageBatchCommand']);
    expect(poller.stats().deleted).toBe(1);
    expect(await countMessages(queue)).toBe(0);
    sqs.destroy();
  });

  it('rejects a batchSize outside 1-10', () => {
    // Prepare
    const handler = async () => undefined;
    const queue = { url: 'http://127.0.0.1:1/q', arn: 'arn:aws:sqs:::q' };

    // Act
    const start = () => poll(queue, { handler, batchSize: 11 });

    // Assess
    expect(start).toThrow('batchSize must be an integer of 1-10, got 11');
  });
});
