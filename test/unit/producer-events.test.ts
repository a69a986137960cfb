import {
  EventBridgeClient,
  type PutEventsCommandInput,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { UnknownTaskTypeError, ValidationError } from '../../lib/errors.ts';
import {
  createEventPublisher,
  type EventPublisherOptions,
  MAX_EVENT_BYTES,
  type PublishBatchError,
} from '../../lib/producer-events.ts';
import {
  blobTask,
  orderTask,
  testRegistry,
} from '../helpers/fixtures-producer.ts';

const TASK_ID = '0b6e8c47-2f8e-4c1a-9d55-7a1f0e2b3c4d';
const CREATED_AT = '2026-05-01T08:30:00.000Z';

/** Answers one PutEvents request: a result per entry, or an error. */
type Responder = (
  entries: readonly PutEventsRequestEntry[],
  call: number,
) => PutEventsResultEntry[] | Error;

const acceptAll: Responder = (entries, call) =>
  entries.map((_, i) => ({ EventId: `event-${call}-${i}` }));

const clients: EventBridgeClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/**
 * An EventBridgeClient that never reaches the network: a middleware
 * records each PutEvents request, as the publisher built it, and answers
 * with the responder's results.
 */
function fakeEventBridge(respond: Responder = acceptAll) {
  const client = new EventBridgeClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  clients.push(client);
  const requests: PutEventsCommandInput[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      const input = structuredClone(args.input as PutEventsCommandInput);
      requests.push(input);
      const results = respond(input.Entries ?? [], requests.length);
      if (results instanceof Error) throw results;
      const failed = results.filter((result) => result.ErrorCode).length;
      const output = { $metadata: {}, FailedEntryCount: failed };
      return { output: { ...output, Entries: results }, response: {} };
    },
    { step: 'initialize', name: 'fakePutEvents' },
  );
  return { client, requests };
}

function publisher(
  client: EventBridgeClient,
  options: Partial<EventPublisherOptions> = {},
) {
  return createEventPublisher({
    eventBridge: client,
    registry: testRegistry,
    ...options,
  });
}

function failWith(code: string, message: string): PutEventsResultEntry {
  return { ErrorCode: code, ErrorMessage: message };
}

describe('publish', () => {
  it('puts the envelope as the detail of a task event on the bus', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();

    // Act
    const published = await publisher(client).publish(
      orderTask({ id: TASK_ID, createdAt: CREATED_AT, priority: 'high' }),
    );

    // Assess
    expect(published).toEqual({ id: TASK_ID, eventId: 'event-1-0' });
    expect(requests).toEqual([
      {
        Entries: [
          {
            Source: 'tasklane.producer',
            DetailType: 'Task',
            EventBusName: 'tasklane-tasks',
            Detail: expect.any(String),
          },
        ],
      },
    ]);
    expect(JSON.parse(requests[0]?.Entries?.[0]?.Detail ?? '')).toEqual({
      schemaVersion: 1,
      id: TASK_ID,
      taskType: 'order.notification',
      businessId: 'order-1042',
      priority: 'high',
      timeoutMs: 5_000,
      createdAt: CREATED_AT,
      payload: { event: 'paid', message: 'Payment received' },
    });
  });

  it('fills id, createdAt and priority, and names the bus given', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();
    const busArn = 'arn:aws:events:eu-west-1:111111111111:event-bus/x-tasks';

    // Act
    const published = await publisher(client, { busName: busArn }).publish(
      orderTask(),
    );

    // Assess
    const entry = requests[0]?.Entries?.[0];
    expect(entry?.EventBusName).toBe(busArn);
    expect(JSON.parse(entry?.Detail ?? '')).toMatchObject({
      id: published.id,
      priority: 'normal',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('names the invalid field and its value, and puts nothing', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();
    const task = orderTask({ businessId: '', priority: 'urgent' as 'high' });

    // Act
    const failure = publisher(client).publish(task);

    // Assess
    await expect(failure).rejects.toThrow(ValidationError);
    await expect(failure).rejects.toMatchObject({
      issues: expect.arrayContaining([
        expect.objectContaining({ field: 'businessId', value: '' }),
        expect.objectContaining({ field: 'priority', value: 'urgent' }),
      ]),
    });
    expect(requests).toEqual([]);
  });

  it('refuses a task type the registry does not know', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();

    // Act
    const failure = publisher(client).publish(
      orderTask({ taskType: 'invoice.print', payload: {} }),
    );

    // Assess
    await expect(failure).rejects.toThrow(UnknownTaskTypeError);
    expect(requests).toEqual([]);
  });

  it('refuses an event larger than 256 KiB before any request', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();

    // Act
    const failure = publisher(client).publish(
      blobTask(MAX_EVENT_BYTES + 1_000),
    );

    // Assess
    await expect(failure).rejects.toThrow(
      /bytes as an event, more than the 262144 bytes \(256 KiB\) allowed/,
    );
    expect(requests).toEqual([]);
  });
});

describe('publishBatch', () => {
  it('puts 23 tasks in requests of 10, 10 and 3, results in order', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();
    const tasks = Array.from({ length: 23 }, (_, i) =>
      orderTask({ businessId: `order-${i}` }),
    );

    // Act
    const published = await publisher(client).publishBatch(tasks);

    // Assess
    expect(requests.map((r) => r.Entries?.length)).toEqual([10, 10, 3]);
    const details = requests.flatMap((r) => r.Entries ?? []);
    const businessIds = details.map(
      (e) => JSON.parse(e.Detail ?? '').businessId,
    );
    expect(businessIds).toEqual(tasks.map((t) => t.businessId));
    expect(published.map((p) => p.id)).toEqual(
      details.map((e) => JSON.parse(e.Detail ?? '').id),
    );
  });

  it('keeps each request within 256 KiB of entries', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();
    const tasks = Array.from({ length: 5 }, () => blobTask(100_000));

    // Act
    await publisher(client).publishBatch(tasks);

    // Assess
    expect(requests.map((r) => r.Entries?.length)).toEqual([2, 2, 1]);
  });

  it('names every invalid task by its position, and puts nothing', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge();
    const tasks = [
      orderTask(),
      orderTask({ payload: { event: 'lost' } }),
      orderTask({ businessId: '' }),
    ];

    // Act
    const failure = publisher(client).publishBatch(tasks);

    // Assess
    await expect(failure).rejects.toMatchObject({
      issues: expect.arrayContaining([
        expect.objectContaining({ field: 'tasks[1].payload.event' }),
        expect.objectContaining({ field: 'tasks[2].businessId', value: '' }),
      ]),
    });
    expect(requests).toEqual([]);
  });

  it('puts again only the entries EventBridge failed', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge((entries, call) =>
      entries.map((_, i) =>
        call === 1 && i === 1
          ? failWith('ThrottlingException', 'Rate exceeded')
          : { EventId: `event-${call}-${i}` },
      ),
    );
    const tasks = [orderTask(), orderTask({ id: TASK_ID }), orderTask()];

    // Act
    const published = await publisher(client).publishBatch(tasks);

    // Assess
    expect(requests).toHaveLength(2);
    expect(requests[1]?.Entries).toEqual([requests[0]?.Entries?.[1]]);
    expect(published.map((p) => p.eventId)).toEqual([
      'event-1-0',
      'event-2-0',
      'event-1-2',
    ]);
    expect(published[1]?.id).toBe(TASK_ID);
  });

  it('lists the tasks still failed after three retries', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge((entries, call) =>
      entries.map((entry, i) =>
        JSON.parse(entry.Detail ?? '').id === TASK_ID
          ? failWith('InternalException', 'Internal failure')
          : { EventId: `event-${call}-${i}` },
      ),
    );

    // Act
    const failure = publisher(client).publishBatch([
      orderTask(),
      orderTask({ id: TASK_ID }),
    ]);

    // Assess
    await expect(failure).rejects.toThrow(
      new RegExp(`1 of 2 tasks were not published: ${TASK_ID} \\(Internal`),
    );
    const error = (await failure.catch((e) => e)) as PublishBatchError;
    expect(error.failed).toEqual([
      { id: TASK_ID, code: 'InternalException', reason: 'Internal failure' },
    ]);
    expect(error.published).toHaveLength(1);
    expect(requests).toHaveLength(4);
  });

  it('does not put again an entry EventBridge calls malformed', async () => {
    // Prepare
    const { client, requests } = fakeEventBridge((entries) =>
      entries.map(() => failWith('MalformedDetail', 'Detail is malformed.')),
    );

    // Act
    const failure = publisher(client).publishBatch([
      orderTask({ id: TASK_ID }),
    ]);

    // Assess
    await expect(failure).rejects.toMatchObject({
      code: 'PUBLISH_FAILED',
      failed: [{ id: TASK_ID, code: 'MalformedDetail' }],
    });
    expect(requests).toHaveLength(1);
  });

  it('fails every task of a request that failed as a whole', async () => {
    // Prepare
    const denied = Object.assign(new Error('not allowed to put events'), {
      name: 'AccessDeniedException',
    });
    const { client, requests } = fakeEventBridge(() => denied);

    // Act
    const failure = publisher(client).publishBatch([orderTask(), orderTask()]);

    // Assess
    await expect(failure).rejects.toMatchObject({
      published: [],
      failed: [
        { code: 'AccessDeniedException', reason: 'not allowed to put events' },
        { code: 'AccessDeniedException', reason: 'not allowed to put events' },
      ],
    });
    expect(requests).toHaveLength(1);
  });
});
