import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { archiveLine, parseArchiveTarget } from '../../lib/ops/archive.ts';
import {
  formatDeadLetter,
  formatGroups,
  groupByReason,
  readDeadLetter,
} from '../../lib/ops/dead-letters.ts';
import { sourceQueueName } from '../../lib/ops/redrive.ts';
import { deadLetterMessage } from '../helpers/ops-cli.ts';

const ARN = 'arn:aws:sqs:eu-west-1:123456789012';

describe('dead letters', () => {
  it('reads the attributes and the envelope identity of a dead letter', () => {
    const letter = readDeadLetter(
      deadLetterMessage(1, 'RETRIES_EXHAUSTED', 'TASK_FAILED'),
    );
    expect(letter).toMatchObject({
      messageId: 'm-1',
      receiptHandle: 'r-1',
      taskId: 'task-1',
      taskType: 'order.notification',
      businessId: 'order-1',
      priority: 'normal',
      reason: 'RETRIES_EXHAUSTED',
      attempts: 1,
      errorCode: 'TASK_FAILED',
      lastError: 'boom 1',
      history: [{ attempt: 1, code: 'TASK_FAILED', message: 'boom 1' }],
      sourceQueueArn: `${ARN}:tasklane-order-notification-normal`,
      deadLetteredAt: '2026-12-01T10:00:01.000Z',
    });
  });

  it('falls back to the message id and UNKNOWN for a bare message', () => {
    const letter = readDeadLetter({
      MessageId: 'm-9',
      Body: 'not json',
      Attributes: { DeadLetterQueueSourceArn: `${ARN}:q-high` },
    });
    expect(letter).toMatchObject({
      taskId: 'm-9',
      reason: 'UNKNOWN',
      errorCode: '-',
      history: [],
      sourceQueueArn: `${ARN}:q-high`,
    });
  });

  it('groups by reason with counts per error code and the task ids', () => {
    // Prepare
    const letters = [
      deadLetterMessage(1, 'INVALID', 'INVALID_PAYLOAD'),
      deadLetterMessage(2, 'RETRIES_EXHAUSTED', 'TASK_FAILED'),
      deadLetterMessage(3, 'INVALID', 'BUSINESS_ID_NOT_FOUND'),
      deadLetterMessage(4, 'INVALID', 'INVALID_PAYLOAD'),
    ].map(readDeadLetter);

    // Act
    const groups = groupByReason(letters);

    // Assess
    expect(groups).toEqual([
      {
        reason: 'INVALID',
        count: 3,
        errorCodes: [
          { code: 'INVALID_PAYLOAD', count: 2 },
          { code: 'BUSINESS_ID_NOT_FOUND', count: 1 },
        ],
        taskIds: ['task-1', 'task-3', 'task-4'],
      },
      {
        reason: 'RETRIES_EXHAUSTED',
        count: 1,
        errorCodes: [{ code: 'TASK_FAILED', count: 1 }],
        taskIds: ['task-2'],
      },
    ]);
    expect(formatGroups('q-dlq', groups).split('\n')).toEqual([
      'q-dlq: 4 dead-lettered task(s)',
      '  INVALID  3',
      '    INVALID_PAYLOAD  2',
      '    BUSINESS_ID_NOT_FOUND  1',
      '    tasks: task-1, task-3, task-4',
      '  RETRIES_EXHAUSTED  1',
      '    TASK_FAILED  1',
      '    tasks: task-2',
    ]);
  });

  it('shows one dead letter with its error history and body', () => {
    const text = formatDeadLetter(
      'q-dlq',
      readDeadLetter(deadLetterMessage(1, 'RETRIES_EXHAUSTED', 'TASK_FAILED')),
    );
    expect(text).toContain('reason:           RETRIES_EXHAUSTED');
    expect(text).toContain(
      'error history (1):\n  #1  2026-12-01T10:00:00.000Z  TASK_FAILED: boom 1',
    );
    expect(text).toContain('"businessId": "order-1"');
  });
});

describe('redrive destination', () => {
  const letter = (message: Message) => readDeadLetter(message);
  const dlq = 'tasklane-order-notification-dlq';

  it('is the source queue the dead letter names', () => {
    const named = deadLetterMessage(
      1,
      'INVALID',
      'X',
      'tasklane-order-notification-high',
    );
    expect(sourceQueueName(letter(named), dlq)).toBe(
      'tasklane-order-notification-high',
    );
  });

  it("is the envelope's priority lane when the source is unknown or foreign", () => {
    const foreign = deadLetterMessage(1, 'INVALID', 'X', 'other-queue-high');
    expect(sourceQueueName(letter(foreign), dlq)).toBe(
      'tasklane-order-notification-normal',
    );
    const bare = { MessageId: 'm', Body: '{"priority":"high"}' };
    expect(sourceQueueName(letter(bare), dlq)).toBe(
      'tasklane-order-notification-high',
    );
  });
});

describe('archive', () => {
  it('takes a file path or an S3 bucket and prefix', () => {
    expect(parseArchiveTarget('out/dead.jsonl')).toEqual({
      kind: 'file',
      path: 'out/dead.jsonl',
    });
    expect(parseArchiveTarget('s3://my-bucket/a/b/')).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'a/b',
    });
    expect(() => parseArchiveTarget('s3://')).toThrow(/valid bucket name/);
  });

  it('keeps the body and every attribute in one JSON line', () => {
    const message = deadLetterMessage(1, 'INVALID', 'INVALID_PAYLOAD');
    const line = JSON.parse(
      archiveLine('q-dlq', readDeadLetter(message), '2026-12-02T00:00:00Z'),
    );
    expect(line).toEqual({
      archivedAt: '2026-12-02T00:00:00Z',
      queue: 'q-dlq',
      messageId: 'm-1',
      taskId: 'task-1',
      reason: 'INVALID',
      body: message.Body,
      messageAttributes: message.MessageAttributes,
      attributes: {},
    });
  });
});
