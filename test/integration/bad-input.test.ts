import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoExecutions } from '../../lib/local/demo-tasks.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { waitForFinalStatus } from '../../lib/local/wait.ts';
import type { TaskRecord } from '../../lib/outbox.ts';
import {
  type BadInput,
  badInputs,
  json,
  refusedBySqs,
  surprisinglyValid,
  taskIdOf,
  validFields,
} from '../fixtures/bad-input.ts';
import {
  type DeadLettered,
  readDeadLetters,
  sendBody,
  startTestPipeline,
} from '../helpers/pipeline.ts';

/** A message sent, with the task id its final status is recorded under. */
interface Sent {
  readonly body: string;
  readonly taskId: string;
}

/** What SQS allows in a message attribute value, astral characters too. */
const SQS_TEXT = /^[\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/** SendMessageBatch allows 10 entries and 1 MiB in all; stay below it. */
const BATCH_BYTES = 1_000_000;

/**
 * Sends bodies to a task type's normal queue with SendMessageBatch, in
 * the order given; resolves to the task id of each.
 */
async function sendAll(
  pipeline: LocalPipeline,
  taskType: string,
  bodies: readonly string[],
): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (const batch of batches(bodies)) {
    const entries = batch.map(
      (body, i): SendMessageBatchRequestEntry => ({
        Id: String(i),
        MessageBody: body,
      }),
    );
    const { Successful = [], Failed = [] } = await pipeline.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl(pipeline, taskType),
        Entries: entries,
      }),
    );
    expect(Failed).toEqual([]);
    for (const entry of Successful) {
      const body = batch[Number(entry.Id)] ?? '';
      sent.push({ body, taskId: taskIdOf(body, entry.MessageId ?? '') });
    }
  }
  return sent;
}

function* batches(bodies: readonly string[]): Generator<string[]> {
  let batch: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (batch.length === 10 || bytes + size > BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(body);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function queueUrl(pipeline: LocalPipeline, taskType: string): string {
  const queue = pipeline.resources.queues.find(
    (q) => q.taskType === taskType && q.priority === 'normal',
  );
  if (!queue) throw new Error(`no normal queue for ${taskType}`);
  return queue.url;
}

/** Spreads `good` evenly among `bad`, so that every batch holds both. */
function interleave(bad: string[], good: string[]): string[] {
  const mixed: string[] = [];
  let placed = 0;
  bad.forEach((body, i) => {
    mixed.push(body);
    const due = Math.floor(((i + 1) * good.length) / bad.length);
    for (; placed < due; placed++) mixed.push(good[placed] as string);
  });
  return [...mixed, ...good.slice(placed)];
}

/** Final statuses of the tasks sent; throws naming those without one. */
async function finalStatuses(
  pipeline: LocalPipeline,
  sent: readonly Sent[],
  nameOf: (body: string) => string = (body) => body.slice(0, 80),
): Promise<Map<string, TaskRecord>> {
  const ids = sent.map((s) => s.taskId);
  const found = await waitForFinalStatus(pipeline.outbox, ids, 20_000);
  const lost = sent.filter((s) => !found.has(s.taskId));
  if (lost.length > 0) {
    const names = lost.map((s) => nameOf(s.body)).join('\n');
    throw new Error(`no final status for ${lost.length} tasks:\n${names}`);
  }
  return found;
}

const TASK_TYPES = ['demo.flaky', 'order.notification', 'data.backup'];

describe('bad input on the local pipeline', () => {
  let pipeline: LocalPipeline;
  const corpus = badInputs();
  const surprising = surprisinglyValid();
  let sentBad: Map<BadInput, Sent>;
  let sentGood: Sent[];
  let statuses: Map<string, TaskRecord>;
  let letters: Map<string, DeadLettered>;

  /** Valid tasks of each type, ready to run against the seeded data. */
  async function validBodies(): Promise<Record<string, string[]>> {
    const orderIds = Array.from({ length: 4 }, () => `order-${randomUUID()}`);
    for (const orderId of orderIds) {
      await pipeline.clients.dynamodb.send(
        new PutCommand({
          TableName: pipeline.resources.names.ordersTable,
          Item: { orderId },
        }),
      );
    }
    await pipeline.clients.s3.send(
      new CreateBucketCommand({ Bucket: 'source-data' }),
    );
    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: 'source-data',
        Key: 'reports/2026-12.csv',
        Body: 'day,total\n1,42\n',
      }),
    );
    const of = (type: string, count: number, fields = {}) =>
      Array.from({ length: count }, () =>
        json({ ...validFields(type), ...fields }),
      );
    return {
      'demo.flaky': [
        ...of('demo.flaky', 30, { payload: { workMs: 5 } }),
        ...surprising.map((c) => c.body),
      ],
      'order.notification': orderIds.flatMap((orderId) =>
        of('order.notification', 1, { businessId: orderId }),
      ),
      'data.backup': of('data.backup', 3),
    };
  }

  beforeAll(async () => {
    // Prepare: every corpus message mixed with valid tasks, per queue.
    pipeline = await startTestPipeline();
    const good = await validBodies();
    const sent: Sent[] = [];
    for (const type of TASK_TYPES) {
      const bad = corpus.filter((c) => c.queue === type).map((c) => c.body);
      sent.push(
        ...(await sendAll(pipeline, type, interleave(bad, good[type] ?? []))),
      );
    }

    // Act: wait for all of them to end, then read the dead letters.
    const names = new Map(corpus.map((c) => [c.body, `${c.kind}: ${c.name}`]));
    statuses = await finalStatuses(
      pipeline,
      sent,
      (body) => names.get(body) ?? body.slice(0, 80),
    );
    const all = await Promise.all(
      TASK_TYPES.map((type) => readDeadLetters(pipeline, type)),
    );
    letters = new Map(all.flat().map((letter) => [letter.body, letter]));
    const byBody = new Map(sent.map((s) => [s.body, s]));
    sentBad = new Map(corpus.map((c) => [c, byBody.get(c.body) as Sent]));
    const badBodies = new Set(corpus.map((c) => c.body));
    sentGood = sent.filter((s) => !badBodies.has(s.body));
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it.each(corpus)('dead-letters $kind: $name', (c) => {
    // Prepare
    const sent = sentBad.get(c) as Sent;
    const status = statuses.get(sent.taskId);
    const letter = letters.get(c.body);

    // Assess: failed as invalid, never run, the reason naming the field.
    expect(status).toMatchObject({
      status: 'failed',
      reason: 'INVALID',
      attempts: 0,
    });
    expect(status?.error).toMatch(c.lastError);
    expect(letter).toMatchObject({
      reason: 'INVALID',
      errorCode: c.errorCode,
      attempts: 0,
      history: [],
    });
    expect(letter?.lastError).toMatch(c.lastError);
    expect(letter?.lastError).toMatch(SQS_TEXT);
    expect(demoExecutions.has(sent.taskId)).toBe(false);
    // The status outbox keeps only identity fields that pass their schema.
    expect((status?.businessId ?? '').length).toBeLessThanOrEqual(256);
  });

  it('completes every valid task sent in the same batches', () => {
    // Assess
    expect(sentGood.length).toBeGreaterThanOrEqual(50);
    for (const sent of sentGood) {
      expect(statuses.get(sent.taskId)?.status, sent.body).toBe('completed');
      expect(letters.has(sent.body), sent.body).toBe(false);
    }
  });

  it.each(surprising)('completes the surprisingly valid: $name', (c) => {
    // Prepare
    const sent = sentGood.find((s) => s.body === c.body);

    // Assess
    expect(statuses.get(sent?.taskId ?? '')?.status, c.because).toBe(
      'completed',
    );
  });

  it.each(refusedBySqs())('has SQS refuse the $name', async (c) => {
    // Act
    const sending = sendBody(pipeline, 'demo.flaky', c.body);

    // Assess
    await expect(sending).rejects.toMatchObject({
      name: expect.stringMatching(c.error),
    });
  });

  it('pollutes no prototype', () => {
    // Assess
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

/** A demo.flaky body: valid, broken in one field, or anything at all. */
const wireBody: fc.Arbitrary<string> = fc.oneof(
  fc
    .integer({ min: 0, max: 20 })
    .map((workMs) => json({ ...validFields(), payload: { workMs } })),
  fc
    .constantFrom('id', 'taskType', 'businessId', 'createdAt', 'payload')
    .map((field) => json({ ...validFields(), [field]: undefined })),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }))
    .map(([key, value]) => json({ ...validFields(), [key]: value })),
  fc
    .tuple(
      fc.constantFrom('id', 'businessId', 'priority', 'timeoutMs', 'payload'),
      fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 2 })),
    )
    .map(([field, value]) => json({ ...validFields(), [field]: value })),
  fc.jsonValue({ maxDepth: 3 }).map(json),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 200 })
    .filter(
      (body) => SQS_TEXT.test(body) && !/[\u{10000}-\u{10ffff}]/u.test(body),
    ),
);

describe('generated bodies over the wire', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('ends each of 30 bodies completed or dead-lettered as invalid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(wireBody, { minLength: 30, maxLength: 30 }),
        async (bodies) => {
          // Act
          const sent = await sendAll(pipeline, 'demo.flaky', bodies);
          const statuses = await finalStatuses(pipeline, sent);
          const letters = await readDeadLetters(pipeline, 'demo.flaky');

          // Assess: every body ended once, completed or dead-lettered.
          const ends = sent.map((s) => statuses.get(s.taskId)?.status);
          const completed = ends.filter((end) => end === 'completed');
          const failed = sent.filter((_, i) => ends[i] === 'failed');
          expect(sent).toHaveLength(bodies.length);
          expect(completed.length + failed.length).toBe(bodies.length);
          for (const s of failed) {
            expect(statuses.get(s.taskId)).toMatchObject({
              reason: 'INVALID',
              attempts: 0,
            });
            const letter = letters.find((l) => l.body === s.body);
            expect(letter?.reason, s.body).toBe('INVALID');
            expect(letter?.lastError, s.body).toMatch(
              /^(field \S|body is not valid JSON: )/,
            );
          }
        },
      ),
      // One run of 30 bodies; a failure reports its seed, not a shrink.
      { numRuns: 1, endOnFailure: true },
    );
  });
});
