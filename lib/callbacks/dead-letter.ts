/**
 * The callback dead-letter queue: statuses that will not be delivered,
 * one message each, so that an operator can read, replay or drop them one
 * by one.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CallbackError } from './errors.ts';
import type { StatusEntry } from './pending.ts';

/** Why a status was dead-lettered instead of delivered. */
export type CallbackDeadLetterReason =
  /** The receiver answered 410 Gone: the target is disabled. */
  | 'TARGET_GONE'
  /** The target failed the safety checks (scheme, allowlist, address). */
  | 'TARGET_REFUSED'
  /** Deliveries kept failing until the status grew older than the limit. */
  | 'DELIVERY_EXPIRED';

/** Message attributes of a callback dead-letter message. */
export const CALLBACK_DEAD_LETTER_ATTRIBUTES = {
  reason: 'tasklane.reason',
  target: 'tasklane.callbackTarget',
  lastError: 'tasklane.lastError',
  deadLetteredAt: 'tasklane.deadLetteredAt',
} as const;

/** What the messages of one dead-lettering share. */
export interface CallbackDeadLetter {
  readonly target: string;
  readonly reason: CallbackDeadLetterReason;
  readonly lastError: string;
  readonly at: string;
}

const SQS_BATCH = 10;
// SQS caps a message attribute with the rest of the message at 256 KiB;
// an error excerpt needs far less.
const ERROR_LIMIT = 2000;

/**
 * Sends each status to the queue as its own message: the body is the
 * status entry as a receiver would have got it, the attributes say where
 * it was going, why it stopped and the last error.
 */
export async function sendCallbackDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  statuses: readonly StatusEntry[],
  letter: CallbackDeadLetter,
): Promise<void> {
  const names = CALLBACK_DEAD_LETTER_ATTRIBUTES;
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const attributes = {
    [names.reason]: text(letter.reason),
    [names.target]: text(letter.target),
    [names.lastError]: text(letter.lastError.slice(0, ERROR_LIMIT) || '-'),
    [names.deadLetteredAt]: text(letter.at),
  };

  for (let i = 0; i < statuses.length; i += SQS_BATCH) {
    const slice = statuses.slice(i, i + SQS_BATCH);
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: slice.map((status, n) => ({
          Id: String(n),
          MessageBody: JSON.stringify(status),
          MessageAttributes: attributes,
        })),
      }),
    );
    if (Failed.length > 0) {
      throw new CallbackError(
        'DEAD_LETTER_FAILED',
        `callback dead-letter queue refused ${Failed.length} messages: ` +
          (Failed[0]?.Message ?? Failed[0]?.Code ?? 'no reason given'),
      );
    }
  }
}
