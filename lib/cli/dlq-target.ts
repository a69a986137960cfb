import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { InvalidArgumentError } from 'commander';
import { TaskTypeSchema } from '../envelope.ts';
import type { DeadLetterQueue } from '../ops/dlq-queue.ts';
import { queueKind } from '../ops/stats.ts';
import { deadLetterQueueName } from '../queue-names.ts';
import type { QueueRef, Target, TargetOptions } from './target.ts';

/** Options of every `dlq` command. */
export interface DlqOptions extends TargetOptions {
  /** The task type whose dead-letter queue to use. */
  readonly type?: string;
}

/** Dead-letter reasons a command may filter by. */
export const REASONS = ['INVALID', 'RETRIES_EXHAUSTED'] as const;

/** Parses a task type option by the envelope's rule. */
export function taskTypeOption(value: string): string {
  const parsed = TaskTypeSchema.safeParse(value);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? 'invalid';
    throw new InvalidArgumentError(`${why} (got ${value})`);
  }
  return value;
}

/** The dead-letter queue of `type`, or every one of the target. */
export async function deadLetterQueues(
  target: Target,
  type: string | undefined,
): Promise<QueueRef[]> {
  if (type) {
    const name = deadLetterQueueName(target.prefix, type);
    return [{ name, url: await target.queueUrl(name) }];
  }
  const queues = await target.queues();
  return queues
    .filter((queue) => queueKind(queue.name) === 'dlq')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A dead-letter queue as the sweeps read it on this target. */
export function sweepQueue(target: Target, url: string): DeadLetterQueue {
  // On AWS a short poll asks only some servers and may come back empty.
  return { sqs: target.clients.sqs, url, waitSeconds: target.local ? 0 : 1 };
}

/** Messages in a queue, visible and in flight, for a progress total. */
export async function queueDepth(target: Target, url: string) {
  const { Attributes = {} } = await target.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}
