import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { AttemptError } from '../../lib/outbox.ts';

/** Why a task was dead-lettered. */
export type DeadLetterReason = 'INVALID' | 'RETRIES_EXHAUSTED';

/** Message attributes a dead-lettered task carries. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'tasklane.reason',
  attempts: 'tasklane.attempts',
  lastError: 'tasklane.lastError',
  errorCode: 'tasklane.errorCode',
  errorHistory: 'tasklane.errorHistory',
  sourceQueue: 'tasklane.sourceQueue',
  deadLetteredAt: 'tasklane.deadLetteredAt',
} as const;

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly attempts: number;
  readonly code: string;
  readonly lastError: string;
  readonly history: readonly AttemptError[];
}

/**
 * Longest error message kept, in characters. Attributes count towards the
 * message size: 6 entries of this size stay far below the 1 MiB limit.
 */
export const ERROR_MESSAGE_LIMIT = 1_000;

/**
 * Sends a message to the dead-letter queue with its body unchanged and the
 * reason, attempt count, last error and error history as attributes.
 */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  queueUrl: string,
  record: SQSRecord,
  letter: DeadLetter,
): Promise<void> {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const names = DEAD_LETTER_ATTRIBUTES;
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        [names.reason]: text(letter.reason),
        [names.attempts]: {
          DataType: 'Number',
          StringValue: String(letter.attempts),
        },
        [names.errorCode]: text(letter.code),
        [names.lastError]: text(
          letter.lastError.slice(0, ERROR_MESSAGE_LIMIT) || '-',
        ),
        [names.errorHistory]: text(JSON.stringify(letter.history)),
        [names.sourceQueue]: text(record.eventSourceARN),
        [names.deadLetteredAt]: text(new Date().toISOString()),
      },
    }),
  );
}
