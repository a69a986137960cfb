/**
 * Cleans invalid tasks out of a dead-letter queue (R22): those dead-lettered
 * as INVALID longer ago than the allowed age are archived to S3, then
 * deleted; every other message is left in the queue.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../lambdas/consumer/dead-letter.ts';
import { queueNameOf } from '../queue-names.ts';
import { appendToArchive, archiveKey, archiveLine } from './upkeep-archive.ts';
import { UPKEEP_TIMEOUT_SECONDS } from './upkeep-config.ts';
import { ArchiveWriteError } from './upkeep-errors.ts';

/**
 * Messages read from one queue in one run. It bounds the run's time and
 * memory (5,000 envelopes of a few KiB each); what is left is read the
 * next day, and the result says so.
 */
export const SWEEP_LIMIT = 5_000;

/**
 * How long a read message stays hidden: longer than a run may last, so no
 * message is read twice in one run. Those not deleted are made visible at
 * the end; after a crash they return once this time is up.
 */
export const SWEEP_VISIBILITY_SECONDS = UPKEEP_TIMEOUT_SECONDS + 300;

const DAY_MS = 24 * 3600 * 1000;

/** Which queue to clean, where to archive, and the age limit. */
export interface SweepOptions {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly queueUrl: string;
  readonly archiveBucket: string;
  /** Invalid tasks dead-lettered at least this many days ago go. */
  readonly maxAgeDays: number;
  /** The run's time: the age limit and the archive's date count from it. */
  readonly now: Date;
}

/** What a sweep did to one queue. Every message read is counted once. */
export interface SweepResult {
  readonly queue: string;
  /** Messages read. */
  readonly read: number;
  /** Messages written to the archive. */
  readonly archived: number;
  /** Archived messages deleted from the queue. */
  readonly removed: number;
  /** Messages left in the queue: not due, and archived but not deleted. */
  readonly kept: number;
  /** The archive object; absent when nothing was archived. */
  readonly archiveKey?: string;
  /** True when the sweep stopped at SWEEP_LIMIT with messages unread. */
  readonly more: boolean;
}

/**
 * Reads the whole queue, archives the due invalid tasks first, deletes
 * exactly those, and makes every other message visible again. When the
 * archive cannot be written, nothing is deleted and it throws
 * ArchiveWriteError.
 *
 * @example
 * const result = await sweepDeadLetterQueue({
 *   sqs, s3, queueUrl, archiveBucket: 'tasklane-archive',
 *   maxAgeDays: 7, now: new Date(),
 * });
 */
export async function sweepDeadLetterQueue(
  options: SweepOptions,
): Promise<SweepResult> {
  const { sqs, queueUrl } = options;
  const queue = queueNameOf(queueUrl);
  const { messages, more } = await receiveAll(sqs, queueUrl);
  const cutoff = options.now.getTime() - options.maxAgeDays * DAY_MS;
  const due = messages.filter((m) => isDueInvalid(m, cutoff));
  const dueSet = new Set(due);
  const others = messages.filter((m) => !dueSet.has(m));
  const counts = { queue, read: messages.length, more };
  if (due.length === 0) {
    await release(sqs, queueUrl, others);
    return { ...counts, archived: 0, removed: 0, kept: others.length };
  }

  const key = archiveKey(queue, options.now);
  try {
    await appendToArchive(
      options.s3,
      options.archiveBucket,
      key,
      due.map(archiveLine),
    );
  } catch (error) {
    await release(sqs, queueUrl, messages);
    throw new ArchiveWriteError(queue, key, error);
  }
  const notRemoved = await remove(sqs, queueUrl, due);
  await release(sqs, queueUrl, [...others, ...notRemoved]);
  const removed = due.length - notRemoved.length;
  return {
    ...counts,
    archived: due.length,
    removed,
    kept: messages.length - removed,
    archiveKey: key,
  };
}

/** Dead-lettered as INVALID no later than `cutoff` (ms since the epoch). */
export function isDueInvalid(message: Message, cutoff: number): boolean {
  const attribute = (name: string) =>
    message.MessageAttributes?.[name]?.StringValue;
  const names = DEAD_LETTER_ATTRIBUTES;
  if (attribute(names.reason) !== 'INVALID') return false;
  const at = Date.parse(attribute(names.deadLetteredAt) ?? '');
  return Number.isFinite(at) && at <= cutoff;
}

/** Every visible message, up to SWEEP_LIMIT, each hidden while it is held. */
async function receiveAll(sqs: SQSClient, queueUrl: string) {
  const messages: Message[] = [];
  while (messages.length < SWEEP_LIMIT) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: SWEEP_VISIBILITY_SECONDS,
        // A short poll samples some SQS servers and may come back empty
        // while messages remain; a long poll asks them all.
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    if (Messages.length === 0) return { messages, more: false };
    messages.push(...Messages);
  }
  return { messages, more: true };
}

/** Deletes the messages; returns those SQS failed to delete. */
async function remove(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<Message[]> {
  const failed: Message[] = [];
  for (const batch of batchesOf(messages)) {
    const { Failed = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
        })),
      }),
    );
    failed.push(...Failed.map((f) => batch[Number(f.Id)] as Message));
  }
  return failed;
}

/**
 * Makes the messages visible again at once. One SQS failed to release
 * returns by itself when SWEEP_VISIBILITY_SECONDS are up.
 */
async function release(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<void> {
  for (const batch of batchesOf(messages)) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** SQS batch requests take at most 10 entries. */
function batchesOf<T>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += 10) {
    batches.push(items.slice(i, i + 10));
  }
  return batches;
}
