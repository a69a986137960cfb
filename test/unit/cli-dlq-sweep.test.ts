import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { peekDeadLetters } from '../../lib/ops/dlq-queue.ts';
import { sweepDeadLetters } from '../../lib/ops/dlq-sweep.ts';
import { scriptedAws } from '../helpers/control-cli.ts';
import { deadLetterMessage, type Entries } from '../helpers/ops-cli.ts';

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q-dlq';

/** SQS answering receives from `batches` in turn, then nothing. */
function sqsReceiving(batches: Message[][]) {
  const pending = [...batches];
  const ok = (input: Entries) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id })),
  });
  const aws = scriptedAws({
    ReceiveMessageCommand: () => ({ Messages: pending.shift() ?? [] }),
    ChangeMessageVisibilityBatchCommand: ok,
    DeleteMessageBatchCommand: ok,
  });
  const handles = (command: string) =>
    aws.requests
      .filter((r) => r.command === command)
      .flatMap((r) => (r.input as Entries).Entries.map((e) => e.ReceiptHandle));
  return { queue: { sqs: aws.targetClients().sqs, url: URL }, handles };
}

const letter = (n: number, handle: string) => ({
  ...deadLetterMessage(n, 'INVALID', 'X'),
  ReceiptHandle: handle,
});

describe('peekDeadLetters', () => {
  it('ends when letters come round again, releasing the latest handles', async () => {
    // Prepare: the first letter comes back after its visibility ran out.
    const sqs = sqsReceiving([
      [letter(1, 'a'), letter(2, 'b')],
      [letter(1, 'c')],
    ]);

    // Act
    const peek = await peekDeadLetters(sqs.queue);

    // Assess
    expect(peek.complete).toBe(true);
    expect(peek.letters.map((l) => l.taskId)).toEqual(['task-1', 'task-2']);
    expect(sqs.handles('ChangeMessageVisibilityBatchCommand')).toEqual([
      'c',
      'b',
    ]);
  });

  it('stops at the first letter that matches', async () => {
    const sqs = sqsReceiving([
      [letter(1, 'a')],
      [letter(2, 'b')],
      [letter(3, 'c')],
    ]);
    const peek = await peekDeadLetters(sqs.queue, {
      until: (l) => l.taskId === 'task-2',
    });
    expect(peek.letters.map((l) => l.taskId)).toEqual(['task-1', 'task-2']);
    expect(peek.complete).toBe(false);
  });
});

describe('sweepDeadLetters', () => {
  it('deletes with the latest receipt handle of a letter received twice', async () => {
    // Prepare
    const sqs = sqsReceiving([
      [letter(1, 'old'), letter(2, 'b')],
      [letter(1, 'new')],
    ]);

    // Act
    const result = await sweepDeadLetters(sqs.queue, {
      select: (l) => l.taskId === 'task-1',
      step: async (letters) => {
        expect(letters.map((l) => l.receiptHandle)).toEqual(['new']);
        return { removed: letters, failures: [] };
      },
    });

    // Assess
    expect(result).toEqual({ seen: 2, removed: 1, failures: [] });
    expect(sqs.handles('ChangeMessageVisibilityBatchCommand')).toEqual(['b']);
  });

  it('hands at most `limit` letters to the step and releases the rest', async () => {
    const sqs = sqsReceiving([[1, 2, 3].map((n) => letter(n, `r-${n}`))]);
    const handed: string[] = [];
    const result = await sweepDeadLetters(sqs.queue, {
      limit: 2,
      step: async (letters) => {
        handed.push(...letters.map((l) => l.taskId));
        return { removed: letters, failures: [] };
      },
    });
    expect(handed).toEqual(['task-1', 'task-2']);
    expect(result).toEqual({ seen: 3, removed: 2, failures: [] });
    expect(sqs.handles('ChangeMessageVisibilityBatchCommand')).toEqual(['r-3']);
  });

  it('releases every held letter when a step throws', async () => {
    const sqs = sqsReceiving([[1, 2].map((n) => letter(n, `r-${n}`))]);
    const sweep = sweepDeadLetters(sqs.queue, {
      step: async () => {
        throw new Error('archive unavailable');
      },
    });
    await expect(sweep).rejects.toThrow('archive unavailable');
    expect(sqs.handles('ChangeMessageVisibilityBatchCommand')).toEqual([
      'r-1',
      'r-2',
    ]);
  });
});
