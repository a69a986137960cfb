import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { EnvelopeInput } from '../lib/envelope.ts';

/**
 * A valid `demo.flaky` envelope with a fresh id, whose work is instant
 * (`workMs` 0) and never fails, so a benchmark weighs the consumer alone.
 */
export function instantEnvelope(): EnvelopeInput & { id: string } {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    taskType: 'demo.flaky',
    businessId: `bench-${randomUUID().slice(0, 8)}`,
    priority: 'normal',
    createdAt: new Date().toISOString(),
    payload: { failTimes: 0, workMs: 0 },
  };
}

/** The record Lambda would hand over for a message with this body. */
export function sqsRecord(body: string, queueArn: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `bench-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'AIDABENCH',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** `count` records of fresh instant envelopes, in batches of `size`. */
export function recordBatches(
  count: number,
  size: number,
  queueArn: string,
): SQSRecord[][] {
  const batches: SQSRecord[][] = [];
  for (let start = 0; start < count; start += size) {
    const length = Math.min(size, count - start);
    batches.push(
      Array.from({ length }, () =>
        sqsRecord(JSON.stringify(instantEnvelope()), queueArn),
      ),
    );
  }
  return batches;
}
