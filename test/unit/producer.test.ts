import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnknownTaskTypeError, ValidationError } from '../../lib/errors.ts';
import {
  createProducer,
  MAX_BATCH_BYTES,
  type ProducerLogger,
  SendBatchError,
  splitBatches,
} from '../../lib/producer.ts';
import {
  blobTask,
  failEntries,
  orderTask,
  type ProducerFixture,
  queueDepth,
  receiveAll,
  recordCommands,
  startProducerFixture,
  testRegistry,
} from '../helpers/fixtures-producer.ts';

const ORDER_QUEUE = 'tasklane-order-notification-normal';
const FAILING_ID = '5d1f7c2a-8b3e-4f6a-9c0d-1e2f3a4b5c6d';
const SENT_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

describe('splitBatches', () => {
  it('splits 25 entries into batches of 10, 10 and 5', () => {
    // Prepare
    const items = Array.from({ length: 25 }, (_, i) => i);

    // Act
    const batches = splitBatches(items, () => 100);

    // Assess
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(items);
  });

  it('starts a new batch before the 1 MiB total would be passed', () => {
    // Prepare
    const sizes = [400_000, 400_000, 400_000, 300_000, 100_000];

    // Act
    const batches = splitBatches(sizes, (size) => size);

    // Assess
    expect(batches).toEqual([
      [400_000, 400_000],
      [400_000, 300_000, 100_000],
    ]);
  });

  it('fills a batch up to exactly 1 MiB', () => {
    // Prepare
    const half = MAX_BATCH_BYTES / 2;

    // Act
    const batches = splitBatches([half, half, 1], (size) => size);

    // Assess
    expect(batches).toEqual([[half, half], [1]]);
  });
});

describe('createProducer validation', () => {
  // Nothing listens on port 9: a request that slipped out would fail loudly.
  const sqs = new SQSClient({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const commands = recordCommands(sqs);
  const producer = createProducer({ sqs, registry: testRegistry });

  afterAll(() => sqs.destroy());

  it('names the payload field and its value before any request', async () => {
    // Act
    const sending = producer.send(
      orderTask({ payload: { event: 'opened', message: 'hi' } }),
    );

    // Assess
    await expect(sending).rejects.toThrow(ValidationError);
    await expect(sending).rejects.toMatchObject({
      code: 'INVALID_TASK',
      issues: [expect.objectContaining({ field: 'payload.event' })],
    });
    await expect(sending).rejects.toThrow(
      /field payload\.event: .*\(got "opened"\)/,
    );
    expect(commands).toEqual([]);
  });

  it('names envelope and payload problems in one error', async () => {
    // Act
    const sending = producer.send(
      orderTask({
        priority: 'urgent' as 'high',
        payload: { event: 'paid', message: '' },
      }),
    );

    // Assess
    await expect(sending).rejects.toMatchObject({
      issues: [
        expect.objectContaining({ field: 'priority', value: 'urgent' }),
        expect.objectContaining({ field: 'payload.message', value: '' }),
      ],
    });
    expect(commands).toEqual([]);
  });

  it('rejects fields the envelope does not define', async () => {
    // Prepare
    const task = { ...orderTask(), tenant: 'acme' };

    // Act
    const sending = producer.send(task);

    // Assess
    await expect(sending).rejects.toThrow(/field tenant: is not allowed/);
    expect(commands).toEqual([]);
  });

  it('rejects an http callback URL unless local mode allows it', async () => {
    // Act
    const sending = producer.send(
      orderTask({ callbackUrl: 'http://shop.example/callbacks' }),
    );

    // Assess
    await expect(sending).rejects.toThrow(
      /field callbackUrl: must be an https URL/,
    );
    expect(commands).toEqual([]);
  });

  it('throws UnknownTaskTypeError for a type the registry lacks', async () => {
    // Act
    const sending = producer.send(orderTask({ taskType: 'invoice.send' }));

    // Assess
    await expect(sending).rejects.toThrow(UnknownTaskTypeError);
    await expect(sending).rejects.toThrow(/"invoice\.send"/);
    expect(commands).toEqual([]);
  });

  it('names each invalid task of a batch by its position', async () => {
    // Prepare
    const tasks = [
      orderTask(),
      orderTask({ businessId: '' }),
      orderTask({ payload: { event: 'paid' } }),
    ];

    // Act
    const sending = producer.sendBatch(tasks);

    // Assess
    await expect(sending).rejects.toMatchObject({
      issues: [
        expect.objectContaining({ field: 'tasks[1].businessId', value: '' }),
        expect.objectContaining({ field: 'tasks[2].payload.message' }),
      ],
    });
    expect(commands).toEqual([]);
  });

  it('rejects a message over 256 KiB naming its size', async () => {
    // Act
    const sending = producer.send(blobTask(300_000));

    // Assess
    await expect(sending).rejects.toThrow(ValidationError);
    await expect(sending).rejects.toThrow(
      /is \d{6} bytes as a message, more than the 262144 bytes \(256 KiB\)/,
    );
    expect(commands).toEqual([]);
  });

  it('throws a RangeError naming a capacity below 1', () => {
    // Act
    const create = () =>
      createProducer({ sqs, registry: testRegistry, capacity: 0 });

    // Assess
    expect(create).toThrow(RangeError);
    expect(create).toThrow(/capacity must be a whole number of 1 .*got 0/);
  });
});

describe('sendBatch when SQS fails entries on its side', () => {
  let fixture: ProducerFixture;

  beforeAll(async () => {
    fixture = await startProducerFixture();
  });
  afterEach(async () => {
    await fixture.purge();
  });
  afterAll(async () => {
    await fixture.stop();
  });

  it('sends failed entries again and resolves with every task', async () => {
    // Prepare: a client of its own, since the fault injection stays on it.
    const client = fixture.newSqsClient();
    const requests = failEntries(
      client,
      (e, call) => call === 1 && e.Id === '1',
    );
    const producer = createProducer({ sqs: client, registry: testRegistry });
    const tasks = [1, 2, 3].map((n) => orderTask({ businessId: `order-${n}` }));

    // Act
    const sent = await producer.sendBatch(tasks);

    // Assess
    expect(requests.map((r) => r.Entries?.map((e) => e.Id))).toEqual([
      ['0', '1', '2'],
      ['1'],
    ]);
    const first = requests[0]?.Entries?.[1];
    expect(requests[1]).toEqual({
      QueueUrl: fixture.queueUrl(ORDER_QUEUE),
      Entries: [
        {
          Id: '1',
          MessageBody: first?.MessageBody,
          MessageAttributes: {
            taskType: { DataType: 'String', StringValue: 'order.notification' },
            priority: { DataType: 'String', StringValue: 'normal' },
          },
        },
      ],
    });
    expect(JSON.parse(first?.MessageBody ?? '')).toMatchObject({
      id: sent[1]?.id,
      businessId: 'order-2',
    });
    const received = await receiveAll(client, fixture.queueUrl(ORDER_QUEUE));
    const ids = received.map((m) => JSON.parse(m.Body ?? '').id).sort();
    expect(ids).toEqual(sent.map((t) => t.id).sort());
  });

  it('gives up after 3 retries with growing pauses, naming tasks', async () => {
    // Prepare
    const client = fixture.newSqsClient();
    // Recorded first, so outside the fault injection: it sees every request.
    const times = recordCommands(client);
    const requests = failEntries(client, (entry) => entry.Id === '0');
    const warnings: unknown[][] = [];
    const logger: ProducerLogger = {
      debug() {},
      info() {},
      warn: (...args) => warnings.push(args),
    };
    const producer = createProducer({
      sqs: client,
      registry: testRegistry,
      logger,
    });
    const tasks = [
      orderTask({ id: FAILING_ID, businessId: 'order-1' }),
      orderTask({ id: SENT_ID }),
    ];

    // Act
    const error = await producer.sendBatch(tasks).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SendBatchError);
    const { failed, sent, code } = error as SendBatchError;
    expect(code).toBe('SEND_FAILED');
    expect(failed).toEqual([
      {
        id: FAILING_ID,
        queueName: ORDER_QUEUE,
        code: 'InternalError',
        reason: expect.stringMatching(/internal error/),
        senderFault: false,
      },
    ]);
    expect(sent).toEqual([
      {
        id: SENT_ID,
        queueName: ORDER_QUEUE,
        messageId: expect.any(String),
      },
    ]);
    expect(requests.map((r) => r.Entries?.map((e) => e.Id))).toEqual([
      ['0', '1'],
      ['0'],
      ['0'],
      ['0'],
    ]);
    const at = times
      .filter((c) => c.name === 'SendMessageBatchCommand')
      .map((c) => c.at);
    const pauses = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // Timers never fire early; 2 ms covers the clock's rounding.
    [50, 100, 200].forEach((ms, i) => {
      expect(pauses[i]).toBeGreaterThanOrEqual(ms - 2);
    });
    expect(warnings.at(-1)).toEqual([
      'task not sent',
      expect.objectContaining({
        taskId: FAILING_ID,
        taskType: 'order.notification',
        businessId: 'order-1',
        code: 'InternalError',
      }),
    ]);
    expect(JSON.stringify(warnings)).not.toContain('Payment received');
  });

  it('gives back the capacity reserved for tasks that failed', async () => {
    // Prepare: the first task fails in all 4 requests of the first call.
    const client = fixture.newSqsClient();
    failEntries(client, (entry, call) => call <= 4 && entry.Id === '0');
    const producer = createProducer({
      sqs: client,
      registry: testRegistry,
      capacity: 2,
      depthCacheMs: 60_000,
    });
    const first = producer.sendBatch([orderTask(), orderTask()]);
    await expect(first).rejects.toThrow(SendBatchError);

    // Act
    const third = await producer.send(orderTask());

    // Assess
    expect(third.queueName).toBe(ORDER_QUEUE);
    expect(await queueDepth(client, fixture.queueUrl(ORDER_QUEUE))).toBe(2);
  });
});
