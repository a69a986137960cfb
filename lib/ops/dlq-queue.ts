import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DeadLetterRecord, readDeadLetter } from './dead-letters.ts';

/** A dead-letter queue to read. */
export interface DeadLetterQueue {
  readonly sqs: SQSClient;
  readonly url: string;
  /**
   * Long-poll wait of each receive, in seconds. On AWS use 1 or more: a
   * short poll asks only some servers and may come back empty while the
   * queue holds messages. @default 0
   */
  readonly waitSeconds?: number;
}

/** Seconds a listing hides the messages it reads before showing them again. */
export const PEEK_VISIBILITY_SECONDS = 30;
/** Seconds a sweep hides the messages it holds: the longest run it expects. */
export const SWEEP_VISIBILITY_SECONDS = 300;
/** Entries of one SQS batch request. */
export const BATCH = 10;

/** Receives up to 10 dead letters, hidden for `visibilitySeconds`. */
export async function receiveDeadLetters(
  queue: DeadLetterQueue,
  visibilitySeconds: number,
): Promise<DeadLetterRecord[]> {
  const { Messages = [] } = await queue.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: BATCH,
      VisibilityTimeout: visibilitySeconds,
      WaitTimeSeconds: queue.waitSeconds ?? 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages.map(readDeadLetter);
}

/**
 * Makes dead letters visible again at once. Should this fail, they come
 * back by themselves when their visibility timeout ends.
 */
export async function releaseDeadLetters(
  queue: DeadLetterQueue,
  letters: readonly DeadLetterRecord[],
): Promise<void> {
  for (let start = 0; start < letters.length; start += BATCH) {
    const batch = letters.slice(start, start + BATCH);
    await queue.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queue.url,
        Entries: batch.map((letter, i) => ({
          Id: String(i),
          ReceiptHandle: letter.receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** Dead letters read without removing them; `complete` if none was left. */
export interface Peek {
  readonly letters: DeadLetterRecord[];
  readonly complete: boolean;
}

/** How far a peek reads. */
export interface PeekOptions {
  /** Most dead letters to read. @default no limit */
  readonly limit?: number;
  /** Stops reading once a letter matches. @default read to the end */
  readonly until?: (letter: DeadLetterRecord) => boolean;
}

/**
 * Reads dead letters and leaves every one in the queue: each is received
 * hidden, then made visible again when the reading ends. A batch with
 * nothing new ends it too: the first letters came round again, as they do
 * once a reading outlasts their visibility timeout.
 */
export async function peekDeadLetters(
  queue: DeadLetterQueue,
  options: PeekOptions = {},
): Promise<Peek> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const seen = new Map<string, DeadLetterRecord>();
  let complete = false;
  try {
    while (seen.size < limit) {
      const batch = await receiveDeadLetters(queue, PEEK_VISIBILITY_SECONDS);
      const known = seen.size;
      // The latest receipt handle is the one that releases a message.
      for (const letter of batch) seen.set(letter.messageId, letter);
      if (seen.size === known) {
        complete = true;
        break;
      }
      if (options.until && batch.some(options.until)) break;
    }
  } finally {
    await releaseDeadLetters(queue, [...seen.values()]);
  }
  return { letters: [...seen.values()].slice(0, limit), complete };
}

/** What a sweep's step did with the dead letters it was handed. */
export interface StepResult {
  /** Letters no longer in the dead-letter queue. */
  readonly removed: readonly DeadLetterRecord[];
  /** Letters still in it, with the reason. */
  readonly failures: readonly SweepFailure[];
}

/** A dead letter a step could not remove. */
export interface SweepFailure {
  readonly letter: DeadLetterRecord;
  readonly reason: string;
}

/**
 * Deletes dead letters by their receipt handles, exactly those: the
 * letters SQS did not delete come back as failures with its reason.
 */
export async function deleteDeadLetters(
  queue: DeadLetterQueue,
  letters: readonly DeadLetterRecord[],
): Promise<StepResult> {
  const removed: DeadLetterRecord[] = [];
  const failures: SweepFailure[] = [];
  for (let start = 0; start < letters.length; start += BATCH) {
    const batch = letters.slice(start, start + BATCH);
    try {
      const { Failed = [] } = await queue.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: batch.map((letter, i) => ({
            Id: String(i),
            ReceiptHandle: letter.receiptHandle,
          })),
        }),
      );
      const failed = new Map(
        Failed.map((f) => [f.Id, f.Message ?? f.Code ?? 'no reason given']),
      );
      for (const [i, letter] of batch.entries()) {
        const reason = failed.get(String(i));
        if (reason === undefined) removed.push(letter);
        else failures.push({ letter, reason: `not deleted: ${reason}` });
      }
    } catch (error) {
      const reason = `not deleted: ${(error as Error).message}`;
      failures.push(...batch.map((letter) => ({ letter, reason })));
    }
  }
  return { removed, failures };
}
