import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { CallbackNotifier } from '../../lib/callbacks/notify.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { BusinessIdNotFoundError, TasklaneError } from '../../lib/errors.ts';
import {
  type AttemptError,
  AttemptsExhaustedError,
  type StatusOutbox,
  type TaskIdentity,
} from '../../lib/outbox.ts';
import { deadLetterQueueNameFor, queueNameOf } from '../../lib/queue-names.ts';
import type { QueueUrlResolver } from '../../lib/queue-urls.ts';
import {
  maxAttempts,
  type RetryPolicy,
  retryDelaySeconds,
} from '../../lib/retry.ts';
import {
  DEAD_LETTER_ATTRIBUTES,
  type DeadLetter,
  ERROR_MESSAGE_LIMIT,
  sendToDeadLetterQueue,
} from './dead-letter.ts';
import {
  InvalidTaskError,
  type ReadTaskOptions,
  readTask,
  type ValidTask,
} from './read-task.ts';

/** Runs a valid task once, idempotently; resolves to the attempt number. */
export type TaskExecutor = (
  envelope: Envelope,
  task: ValidTask,
  context: Context,
) => Promise<{ attempt: number }>;

/** Everything one record needs, built once per function. */
export interface RecordDeps extends ReadTaskOptions {
  /** Schedules the delivery of statuses to callback targets. */
  readonly callbacks?: CallbackNotifier;
  /** Callback target of tasks of this type that name none. */
  readonly callbackUrl?: string;
  readonly clients: AwsClients;
  readonly outbox: StatusOutbox;
  readonly retry: RetryPolicy;
  readonly queueUrl: QueueUrlResolver;
  readonly execute: TaskExecutor;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'addMetric'>;
}

/** One execution failed; carries its number for the retry decision. */
export class AttemptFailedError extends TasklaneError {
  readonly attempt: number;

  constructor(attempt: number, cause: unknown) {
    const code = cause instanceof TasklaneError ? cause.code : 'TASK_FAILED';
    super(code, messageOf(cause), { cause });
    this.attempt = attempt;
  }
}

/** The record stays in its queue and comes back after `delaySeconds`. */
export class RetryLaterError extends TasklaneError {
  constructor(message: string, cause?: unknown) {
    super('RETRY_LATER', message, { cause });
  }
}

/**
 * Turns one SQS record into its outcome. Resolves when the record is done
 * with (completed or dead-lettered) and may be deleted; throws when it must
 * stay in the queue for a retry.
 */
export async function processRecord(
  record: SQSRecord,
  deps: RecordDeps,
  context: Context,
): Promise<void> {
  let task: ValidTask;
  try {
    task = readTask(record, deps);
  } catch (error) {
    if (!(error instanceof InvalidTaskError)) throw error;
    await reopenIfRedriven(record, error.identity, deps);
    const letter = letterOf('INVALID', error, 0, []);
    return deadLetter(record, error.identity, letter, deps);
  }
  await reopenIfRedriven(record, task.identity, deps);

  let attempt: number;
  try {
    ({ attempt } = await deps.execute(task.envelope, task, context));
  } catch (error) {
    return handleFailure(record, task, error, deps);
  }
  await complete(record, task, attempt, deps);
}

async function complete(
  record: SQSRecord,
  task: ValidTask,
  attempts: number,
  deps: RecordDeps,
): Promise<void> {
  const identity = withTarget(task.identity, deps);
  const fields = { ...logFields(identity), attempt: attempts };
  const first = await deps.outbox.finish(identity, {
    status: 'completed',
    attempts,
  });
  // Also after a duplicate: a crash between the two calls left the status
  // waiting for a delivery nobody asked for.
  await announce(identity, deps);
  if (!first) {
    deps.logger.info('duplicate of a finished task acknowledged', fields);
    return;
  }
  const latencyMs = Date.now() - Number(record.attributes.SentTimestamp);
  deps.metrics.addMetric('TaskCompleted', MetricUnit.Count, 1);
  deps.metrics.addMetric('TaskLatency', MetricUnit.Milliseconds, latencyMs);
  deps.logger.info('task completed', { ...fields, latencyMs });
}

async function handleFailure(
  record: SQSRecord,
  task: ValidTask,
  error: unknown,
  deps: RecordDeps,
): Promise<void> {
  const { identity } = task;
  if (error instanceof BusinessIdNotFoundError) {
    return deadLetter(
      record,
      identity,
      letterOf('INVALID', error, 0, []),
      deps,
    );
  }
  if (error instanceof AttemptsExhaustedError) {
    const history = (await deps.outbox.get(identity.taskId))?.errors ?? [];
    const letter = letterOf(
      'RETRIES_EXHAUSTED',
      error,
      error.attempts,
      history,
    );
    return deadLetter(record, identity, letter, deps);
  }
  if (!(error instanceof AttemptFailedError)) {
    // Not the task's fault (an in-progress duplicate, an outage of the
    // outbox): the record returns after a short wait, no attempt used.
    await delay(record, deps.retry.baseDelaySeconds, deps);
    throw new RetryLaterError(
      `record left for later: ${messageOf(error)}`,
      error,
    );
  }
  const history = await deps.outbox.recordError(identity.taskId, {
    attempt: error.attempt,
    at: new Date().toISOString(),
    code: error.code,
    message: error.message.slice(0, ERROR_MESSAGE_LIMIT),
  });
  if (error.attempt >= maxAttempts(deps.retry)) {
    const letter = letterOf('RETRIES_EXHAUSTED', error, error.attempt, history);
    return deadLetter(record, identity, letter, deps);
  }
  await scheduleRetry(record, task, error, deps);
}

async function scheduleRetry(
  record: SQSRecord,
  task: ValidTask,
  error: AttemptFailedError,
  deps: RecordDeps,
): Promise<never> {
  const delaySeconds = retryDelaySeconds(error.attempt, deps.retry);
  await delay(record, delaySeconds, deps);
  deps.metrics.addMetric('TaskRetried', MetricUnit.Count, 1);
  deps.logger.warn('task attempt failed, retry scheduled', {
    ...logFields(task.identity),
    attempt: error.attempt,
    delaySeconds,
    error: error.message,
  });
  throw error;
}

/** Keeps the record invisible for `seconds`, which is its retry delay. */
async function delay(record: SQSRecord, seconds: number, deps: RecordDeps) {
  const queueUrl = await deps.queueUrl(queueNameOf(record.eventSourceARN));
  await deps.clients.sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}

async function deadLetter(
  record: SQSRecord,
  task: TaskIdentity,
  letter: DeadLetter,
  deps: RecordDeps,
): Promise<void> {
  const identity = withTarget(task, deps);
  const dlqName = deadLetterQueueNameFor(queueNameOf(record.eventSourceARN));
  await sendToDeadLetterQueue(
    deps.clients.sqs,
    await deps.queueUrl(dlqName),
    record,
    letter,
  );
  await deps.outbox.finish(identity, {
    status: 'failed',
    attempts: letter.attempts,
    reason: letter.reason,
    error: letter.lastError.slice(0, ERROR_MESSAGE_LIMIT),
  });
  // The task is in the dead-letter queue already: failing the record now
  // would dead-letter it twice. The status stays pending in the outbox and
  // goes out with the target's next delivery.
  await announce(identity, deps).catch((error: unknown) =>
    deps.logger.error('callback delivery not scheduled', {
      ...logFields(identity),
      error: messageOf(error),
    }),
  );
  deps.metrics.addMetric('TaskDeadLettered', MetricUnit.Count, 1);
  deps.metrics.addMetric('TaskFailed', MetricUnit.Count, 1);
  deps.logger.error('task dead-lettered', {
    ...logFields(identity),
    reason: letter.reason,
    attempts: letter.attempts,
    errorCode: letter.code,
    error: letter.lastError,
  });
}

function letterOf(
  reason: DeadLetter['reason'],
  error: unknown,
  attempts: number,
  history: readonly AttemptError[],
): DeadLetter {
  const last = history.at(-1);
  const code = error instanceof TasklaneError ? error.code : 'TASK_FAILED';
  return {
    reason,
    attempts,
    code: last?.code ?? code,
    lastError: last?.message ?? messageOf(error),
    history,
  };
}

/**
 * A message redriven from a dead-letter queue still carries the attributes
 * the dead-lettering gave it, whether an operator's tool or an SQS message
 * move task sent it back. Such a task starts over: a fresh budget of
 * executions and, in time, a new final status.
 */
async function reopenIfRedriven(
  record: SQSRecord,
  identity: TaskIdentity,
  deps: RecordDeps,
): Promise<void> {
  const attribute =
    record.messageAttributes[DEAD_LETTER_ATTRIBUTES.deadLetteredAt];
  const deadLetteredAt = attribute?.stringValue;
  if (!deadLetteredAt) return;
  if (await deps.outbox.reopen(identity.taskId, deadLetteredAt)) {
    deps.logger.info('redriven task starts over', {
      ...logFields(identity),
      deadLetteredAt,
    });
  }
}

/** The task with its callback target: its own, or its task type's. */
function withTarget(identity: TaskIdentity, deps: RecordDeps): TaskIdentity {
  if (identity.callbackUrl || !deps.callbackUrl) return identity;
  return { ...identity, callbackUrl: deps.callbackUrl };
}

/** Asks for a delivery of the task's status to its callback target. */
async function announce(identity: TaskIdentity, deps: RecordDeps) {
  if (identity.callbackUrl && deps.callbacks) {
    await deps.callbacks.notifyPending(identity.callbackUrl);
  }
}

function logFields(identity: TaskIdentity) {
  return {
    taskId: identity.taskId,
    taskType: identity.taskType,
    businessId: identity.businessId,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
