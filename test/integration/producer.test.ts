import {
  CreateQueueCommand,
  DeleteQueueCommand,
  type Message,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueFullError, ValidationError } from '../../lib/errors.ts';
import {
  createProducer,
  type Producer,
  type ProducerOptions,
  SendBatchError,
} from '../../lib/producer.ts';
import {
  backupTask,
  blobTask,
  orderTask,
  type ProducerFixture,
  queueDepth,
  receiveAll,
  recordCommands,
  startProducerFixture,
  testRegistry,
} from '../helpers/fixtures-producer.ts';

const ORDER_NORMAL = 'tasklane-order-notification-normal';
const ORDER_HIGH = 'tasklane-order-notification-high';
const BACKUP_NORMAL = 'tasklane-data-backup-normal';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-/;

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

function producer(options: Partial<ProducerOptions> = {}): Producer {
  const { sqs } = fixture.clients;
  return createProducer({ sqs, registry: testRegistry, ...options });
}

function receive(queueName: string): Promise<Message[]> {
  return receiveAll(fixture.clients.sqs, fixture.queueUrl(queueName));
}

function depth(queueName: string): Promise<number> {
  return queueDepth(fixture.clients.sqs, fixture.queueUrl(queueName));
}

function bodyOf(message: Message | undefined): Record<string, unknown> {
  return JSON.parse(message?.Body ?? 'null');
}

describe('send', () => {
  it('puts a task on its normal queue with defaults filled', async () => {
    // Act
    const sent = await producer().send(orderTask());

    // Assess
    const [message, ...others] = await receive(ORDER_NORMAL);
    expect(others).toEqual([]);
    expect(sent).toEqual({
      id: expect.stringMatching(UUID),
      queueName: ORDER_NORMAL,
      messageId: message?.MessageId,
    });
    expect(bodyOf(message)).toEqual({
      schemaVersion: 1,
      id: sent.id,
      taskType: 'order.notification',
      businessId: 'order-1042',
      priority: 'normal',
      timeoutMs: 5_000,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      payload: { event: 'paid', message: 'Payment received' },
    });
    expect(message?.MessageAttributes).toEqual({
      taskType: { DataType: 'String', StringValue: 'order.notification' },
      priority: { DataType: 'String', StringValue: 'normal' },
    });
  });

  it('routes a high-priority task to the -high queue', async () => {
    // Act
    const sent = await producer().send(
      orderTask({
        priority: 'high',
        id: '0b6e8c47-2f8e-4c1a-9d55-7a1f0e2b3c4d',
      }),
    );

    // Assess
    expect(sent.queueName).toBe(ORDER_HIGH);
    const [message] = await receive(ORDER_HIGH);
    expect(bodyOf(message)).toMatchObject({
      id: '0b6e8c47-2f8e-4c1a-9d55-7a1f0e2b3c4d',
      priority: 'high',
    });
    expect(await depth(ORDER_NORMAL)).toBe(0);
  });

  it('accepts an http callback URL when local mode allows it', async () => {
    // Prepare
    const local = producer({ allowHttpCallbacks: true });

    // Act
    await local.send(orderTask({ callbackUrl: 'http://127.0.0.1:8080/cb' }));

    // Assess
    const [message] = await receive(ORDER_NORMAL);
    expect(bodyOf(message).callbackUrl).toBe('http://127.0.0.1:8080/cb');
  });

  it('names the invalid payload field and value, sending nothing', async () => {
    // Act
    const sending = producer().send(
      orderTask({ payload: { event: 'refunded', message: 'x' } }),
    );

    // Assess
    await expect(sending).rejects.toThrow(ValidationError);
    await expect(sending).rejects.toThrow(
      /field payload\.event: .*\(got "refunded"\)/,
    );
    expect(await depth(ORDER_NORMAL)).toBe(0);
  });

  it('rejects a message over 256 KiB by size, sending nothing', async () => {
    // Act
    const sending = producer().send(blobTask(262_200));

    // Assess
    await expect(sending).rejects.toThrow(
      /is 262\d{3} bytes as a message, more than the 262144 bytes/,
    );
    expect(await depth('tasklane-test-blob-normal')).toBe(0);
  });
});

describe('sendBatch', () => {
  it('lands 25 tasks of two types in their queues, in order', async () => {
    // Prepare
    const tasks = Array.from({ length: 25 }, (_, i) =>
      i % 3 === 0
        ? backupTask({ businessId: `dataset-${i}` })
        : orderTask({ businessId: `order-${i}` }),
    );

    // Act
    const sent = await producer().sendBatch(tasks);

    // Assess
    expect(sent.map((t) => t.queueName)).toEqual(
      tasks.map((t) =>
        t.taskType === 'data.backup' ? BACKUP_NORMAL : ORDER_NORMAL,
      ),
    );
    const orders = await receive(ORDER_NORMAL);
    const backups = await receive(BACKUP_NORMAL);
    expect(orders).toHaveLength(16);
    expect(backups).toHaveLength(9);
    const byId = new Map(
      [...orders, ...backups].map((m) => [bodyOf(m).id, bodyOf(m)]),
    );
    sent.forEach((task, i) => {
      expect(byId.get(task.id)?.businessId).toBe(tasks[i]?.businessId);
    });
  });

  it('splits a batch of over 1 MiB into requests SQS accepts', async () => {
    // Prepare: 8 messages of 200 KB each, 1.6 MB in all.
    const sqs = fixture.newSqsClient();
    const commands = recordCommands(sqs);
    const tasks = Array.from({ length: 8 }, () => blobTask(200_000));

    // Act
    const sent = await producer({ sqs }).sendBatch(tasks);

    // Assess
    expect(sent).toHaveLength(8);
    const batches = commands.filter(
      (c) => c.name === 'SendMessageBatchCommand',
    );
    expect(batches).toHaveLength(2);
    expect(await depth('tasklane-test-blob-normal')).toBe(8);
  });

  it('reports sender faults without retrying and sends the rest', async () => {
    // Prepare: SQS refuses U+FFFF in a body, and JSON leaves it as is.
    const sqs = fixture.newSqsClient();
    const commands = recordCommands(sqs);
    const tasks = [
      orderTask({ businessId: 'order-1' }),
      orderTask({ payload: { event: 'paid', message: 'bad \uffff' } }),
      orderTask({ businessId: 'order-3' }),
    ];

    // Act
    const error = await producer({ sqs })
      .sendBatch(tasks)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SendBatchError);
    const { sent, failed, message } = error as SendBatchError;
    expect(message).toMatch(/^1 of 3 tasks were not sent: [0-9a-f-]{36} \(/);
    expect(failed).toEqual([
      expect.objectContaining({
        queueName: ORDER_NORMAL,
        code: 'InvalidMessageContents',
        senderFault: true,
      }),
    ]);
    expect(sent).toHaveLength(2);
    const sends = commands.filter((c) => c.name === 'SendMessageBatchCommand');
    expect(sends).toHaveLength(1);
    const received = await receive(ORDER_NORMAL);
    expect(received.map((m) => bodyOf(m).businessId).sort()).toEqual([
      'order-1',
      'order-3',
    ]);
  });

  it('names every task of a failed request and keeps those sent', async () => {
    // Prepare: queues of their own, so one can be deleted.
    const { sqs } = fixture.clients;
    const names = ['gone-order-notification-normal', 'gone-data-backup-normal'];
    const [orderUrl, backupUrl] = await Promise.all(
      names.map(async (QueueName) => {
        const { QueueUrl } = await sqs.send(
          new CreateQueueCommand({ QueueName }),
        );
        return QueueUrl ?? '';
      }),
    );
    const gone = producer({ prefix: 'gone' });
    await gone.sendBatch([orderTask(), backupTask()]);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: orderUrl }));

    // Act
    const error = await gone
      .sendBatch([orderTask(), orderTask(), backupTask()])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SendBatchError);
    const { sent, failed } = error as SendBatchError;
    expect(failed.map((t) => [t.queueName, t.senderFault])).toEqual([
      [names[0], true],
      [names[0], true],
    ]);
    expect(failed[0]?.code).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(sent.map((t) => t.queueName)).toEqual([names[1]]);
    expect(await queueDepth(sqs, backupUrl ?? '')).toBe(2);
  });
});

describe('capacity guard', () => {
  it('throws QueueFullError naming queue and depth when full', async () => {
    // Prepare
    await producer().sendBatch([1, 2, 3, 4, 5].map(() => orderTask()));

    // Act
    const sending = producer({ capacity: 5 }).send(orderTask());

    // Assess
    await expect(sending).rejects.toThrow(QueueFullError);
    await expect(sending).rejects.toMatchObject({
      code: 'QUEUE_FULL',
      queueName: ORDER_NORMAL,
      depth: 5,
      capacity: 5,
    });
    await expect(sending).rejects.toThrow(
      `queue ${ORDER_NORMAL} is full: 5 messages of at most 5`,
    );
    expect(await depth(ORDER_NORMAL)).toBe(5);
  });

  it('counts a burst within the depth cache window', async () => {
    // Prepare
    const guarded = producer({ capacity: 5 });
    await guarded.sendBatch([1, 2, 3].map(() => orderTask()));

    // Act
    const sending = guarded.sendBatch([1, 2, 3].map(() => orderTask()));

    // Assess
    await expect(sending).rejects.toMatchObject({ depth: 3, capacity: 5 });
    expect(await depth(ORDER_NORMAL)).toBe(3);
  });

  it('counts calls made at the same time against each other', async () => {
    // Prepare
    const guarded = producer({ capacity: 5 });
    const burst = [1, 2, 3].map(() => orderTask());

    // Act
    const outcomes = await Promise.allSettled([
      guarded.sendBatch(burst),
      guarded.sendBatch(burst),
    ]);

    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual([
      'fulfilled',
      'rejected',
    ]);
    expect(await depth(ORDER_NORMAL)).toBe(3);
  });

  it('sends nothing of a batch when one of its queues is full', async () => {
    // Prepare
    await producer().sendBatch([1, 2].map(() => backupTask()));
    const tasks = [orderTask(), backupTask(), orderTask()];

    // Act
    const sending = producer({ capacity: 2 }).sendBatch(tasks);

    // Assess
    await expect(sending).rejects.toMatchObject({
      queueName: BACKUP_NORMAL,
      depth: 2,
    });
    expect(await depth(ORDER_NORMAL)).toBe(0);
    expect(await depth(BACKUP_NORMAL)).toBe(2);
  });

  it('reads the depth again once the cache window has passed', async () => {
    // Prepare
    const guarded = producer({ capacity: 2, depthCacheMs: 0 });
    await guarded.sendBatch([orderTask(), orderTask()]);
    await fixture.purge();

    // Act
    const sent = await guarded.sendBatch([orderTask(), orderTask()]);

    // Assess
    expect(sent).toHaveLength(2);
    expect(await depth(ORDER_NORMAL)).toBe(2);
  });

  it('counts messages that other producers sent', async () => {
    // Prepare
    await fixture.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: fixture.queueUrl(ORDER_HIGH),
        Entries: [1, 2, 3].map((n) => ({ Id: `${n}`, MessageBody: '{}' })),
      }),
    );

    // Act
    const sending = producer({ capacity: 3 }).send(
      orderTask({ priority: 'high' }),
    );

    // Assess
    await expect(sending).rejects.toMatchObject({
      queueName: ORDER_HIGH,
      depth: 3,
    });
  });
});
