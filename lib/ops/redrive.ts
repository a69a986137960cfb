import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { splitBatches } from '../producer.ts';
import { queueNameOf } from '../queue-names.ts';
import type { DeadLetterRecord } from './dead-letters.ts';
import {
  type DeadLetterQueue,
  deleteDeadLetters,
  type StepResult,
  type SweepFailure,
} from './dlq-queue.ts';
import {
  type FailureSummary,
  type SweepOptions,
  summarizeFailures,
  sweepDeadLetters,
} from './dlq-sweep.ts';

/** What redriving message by message needs. */
export interface RedriveContext {
  readonly sqs: SQSClient;
  /** The dead-letter queue, by name and URL. */
  readonly deadLetterQueue: { readonly name: string; readonly url: string };
  /** Resolves a task queue's name to its URL. */
  readonly queueUrl: (name: string) => Promise<string>;
  /** Long-poll wait of each receive; 1 or more on AWS. @default 0 */
  readonly waitSeconds?: number;
}

/** What a redrive did: every message seen was redriven or is left. */
export interface RedriveReport {
  readonly queue: string;
  readonly seen: number;
  readonly redriven: number;
  /** Seen and still in the dead-letter queue. */
  readonly left: number;
  /** Tasks redriven, by task queue. */
  readonly destinations: Record<string, number>;
  readonly failures: readonly FailureSummary[];
}

/**
 * Redrives the dead letters `options` selects, message by message, to the
 * queues they came from, and accounts for every message seen.
 */
export async function redriveDeadLetters(
  ctx: RedriveContext,
  options: Pick<SweepOptions, 'select' | 'limit' | 'onSeen'> = {},
): Promise<RedriveReport> {
  const { name, url } = ctx.deadLetterQueue;
  const destinations: Record<string, number> = {};
  const step = redriveStep(ctx);
  const queue = { sqs: ctx.sqs, url, waitSeconds: ctx.waitSeconds };
  const result = await sweepDeadLetters(queue, {
    ...options,
    async step(letters) {
      const stepped = await step(letters);
      for (const letter of stepped.removed) {
        const to = sourceQueueName(letter, name);
        destinations[to] = (destinations[to] ?? 0) + 1;
      }
      return stepped;
    },
  });
  return {
    queue: name,
    seen: result.seen,
    redriven: result.removed,
    left: result.seen - result.removed,
    destinations,
    failures: summarizeFailures(result.failures),
  };
}

/**
 * The task queue a dead letter goes back to: the one its tasklane
 * attribute (or SQS's own source attribute) names, if it is a task queue
 * of the dead-letter queue's task type; else the queue of its envelope's
 * priority, else the normal one.
 */
export function sourceQueueName(
  letter: DeadLetterRecord,
  deadLetterQueueName: string,
): string {
  const lane = deadLetterQueueName.replace(/-dlq$/, '');
  const lanes = [`${lane}-high`, `${lane}-normal`];
  const named = letter.sourceQueueArn && queueNameOf(letter.sourceQueueArn);
  if (named && lanes.includes(named)) return named;
  return letter.priority === 'high' ? `${lane}-high` : `${lane}-normal`;
}

/**
 * A sweep step that sends each dead letter's body, unchanged, to its
 * source queue, then deletes it from the dead-letter queue. A letter that
 * was not sent stays in the dead-letter queue; one sent but not deleted is
 * in both, and the task's id keeps it from running twice.
 */
export function redriveStep(ctx: RedriveContext) {
  return async (letters: readonly DeadLetterRecord[]): Promise<StepResult> => {
    const byQueue = Map.groupBy(letters, (letter) =>
      sourceQueueName(letter, ctx.deadLetterQueue.name),
    );
    const results = await Promise.all(
      [...byQueue].map(([name, group]) => moveGroup(ctx, name, group)),
    );
    return {
      removed: results.flatMap((r) => r.removed),
      failures: results.flatMap((r) => r.failures),
    };
  };
}

async function moveGroup(
  ctx: RedriveContext,
  queueName: string,
  letters: readonly DeadLetterRecord[],
): Promise<StepResult> {
  let url: string;
  try {
    url = await ctx.queueUrl(queueName);
  } catch (error) {
    return failAll(letters, `source queue ${queueName}: ${messageOf(error)}`);
  }
  const sent: DeadLetterRecord[] = [];
  const failures: SweepFailure[] = [];
  const batches = splitBatches(letters, (l) => Buffer.byteLength(l.body));
  for (const batch of batches) {
    const result = await sendBatch(ctx.sqs, url, queueName, batch);
    sent.push(...result.removed);
    failures.push(...result.failures);
  }
  const queue: DeadLetterQueue = { sqs: ctx.sqs, url: ctx.deadLetterQueue.url };
  const deleted = await deleteDeadLetters(queue, sent);
  const both = deleted.failures.map((f) => ({
    letter: f.letter,
    reason: `sent to ${queueName} but ${f.reason}`,
  }));
  return { removed: deleted.removed, failures: [...failures, ...both] };
}

/** Sends bodies to a task queue; `removed` here means sent. */
async function sendBatch(
  sqs: SQSClient,
  url: string,
  queueName: string,
  letters: readonly DeadLetterRecord[],
): Promise<StepResult> {
  try {
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        // The dead-lettering's attributes go along, as with an SQS move
        // task: they tell the consumer the task starts over.
        Entries: letters.map((letter, i) => ({
          Id: String(i),
          MessageBody: letter.body,
          MessageAttributes: letter.message.MessageAttributes,
        })),
      }),
    );
    const failed = new Map(Failed.map((f) => [f.Id, f.Message ?? f.Code]));
    return {
      removed: letters.filter((_, i) => !failed.has(String(i))),
      failures: letters.flatMap((letter, i) =>
        failed.has(String(i))
          ? [{ letter, reason: `not sent: ${failed.get(String(i))}` }]
          : [],
      ),
    };
  } catch (error) {
    return failAll(letters, `not sent to ${queueName}: ${messageOf(error)}`);
  }
}

function failAll(letters: readonly DeadLetterRecord[], reason: string) {
  return {
    removed: [],
    failures: letters.map((letter) => ({ letter, reason })),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
