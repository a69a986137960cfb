import type { TaskDefaults } from './task-module.ts';

/** Source queues keep a task 4 days, so a weekend outage loses nothing. */
export const TASK_RETENTION_SECONDS = 4 * 24 * 3600;

/** Dead-letter queues keep a task 14 days, the SQS maximum. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * Receives after which SQS itself dead-letters a message. The consumer
 * dead-letters after 6 executions; this safety net sits above it so that
 * throttled receives, which raise the receive count too, never cost a task.
 */
export const REDRIVE_MAX_RECEIVE_COUNT = 10;

/** The consumer function's timeout: the task budget plus 10 s, 30-900 s. */
export function functionTimeoutSeconds(defaults: TaskDefaults): number {
  const seconds = Math.ceil(defaults.timeoutMs / 1000) + 10;
  return Math.min(900, Math.max(30, seconds));
}

/** At least 6 times the function timeout, as AWS advises for mappings. */
export function visibilityTimeoutSeconds(defaults: TaskDefaults): number {
  return Math.min(43_200, 6 * functionTimeoutSeconds(defaults));
}

/** Attributes of a task queue as SQS CreateQueue takes them. */
export function taskQueueAttributes(
  defaults: TaskDefaults,
  deadLetterQueueArn: string,
): Record<string, string> {
  return {
    VisibilityTimeout: String(visibilityTimeoutSeconds(defaults)),
    MessageRetentionPeriod: String(TASK_RETENTION_SECONDS),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterQueueArn,
      maxReceiveCount: REDRIVE_MAX_RECEIVE_COUNT,
    }),
  };
}
