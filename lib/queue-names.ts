import type { Priority } from './envelope.ts';

/** The prefix every resource name starts with, unless configured. */
export const DEFAULT_PREFIX = 'tasklane';

const PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Throws when a prefix cannot start a queue, table or bucket name. */
export function assertPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `prefix must be 1-20 lower-case letters, digits or dashes starting ` +
        `with a letter (got ${JSON.stringify(prefix)})`,
    );
  }
}

function slug(taskType: string): string {
  return taskType.replaceAll('.', '-');
}

/** `<prefix>-<taskType with dots as dashes>-<priority>` */
export function taskQueueName(
  prefix: string,
  taskType: string,
  priority: Priority,
): string {
  return `${prefix}-${slug(taskType)}-${priority}`;
}

/** `<prefix>-<taskType with dots as dashes>-dlq` */
export function deadLetterQueueName(prefix: string, taskType: string): string {
  return `${prefix}-${slug(taskType)}-dlq`;
}

/** The dead-letter queue that serves a task queue, by the naming rule. */
export function deadLetterQueueNameFor(taskQueue: string): string {
  const base = taskQueue.replace(/-(high|normal)$/, '');
  if (base === taskQueue) {
    throw new Error(`${taskQueue} is not a task queue name`);
  }
  return `${base}-dlq`;
}

/** The queue name at the end of an SQS ARN or queue URL. */
export function queueNameOf(arnOrUrl: string): string {
  const name = arnOrUrl.split(/[:/]/).pop();
  if (!name) throw new Error(`no queue name in ${JSON.stringify(arnOrUrl)}`);
  return name;
}

/** Names of the shared resources, the same locally and on AWS. */
export function resourceNames(prefix: string) {
  return {
    idempotencyTable: `${prefix}-idempotency`,
    statusOutboxTable: `${prefix}-status-outbox`,
    ordersTable: `${prefix}-orders`,
    backupBucket: `${prefix}-backup`,
    notificationTopic: `${prefix}-notifications`,
    callbackTargetsTable: `${prefix}-callback-targets`,
    callbacksDeadLetterQueue: `${prefix}-callbacks-dlq`,
    undeliveredQueue: `${prefix}-tasks-undelivered`,
  } as const;
}
