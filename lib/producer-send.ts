import { setTimeout as sleep } from 'node:timers/promises';
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchResult,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Envelope } from './envelope.ts';
import { TasklaneError } from './errors.ts';
import type { QueueGroup } from './producer-queues.ts';

// Pauses before each retry of entries SQS failed on its side: 350 ms in all.
const RETRY_DELAYS_MS = [50, 100, 200];

/**
 * Where the producer writes what it does, never a payload. Powertools'
 * Logger and `console` both fit.
 */
export interface ProducerLogger {
  debug(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

/** A task SQS accepted. */
export interface SentTask {
  readonly id: string;
  readonly queueName: string;
  readonly messageId: string;
}

/** A task SQS did not accept, with the reason it gave. */
export interface FailedTask {
  readonly id: string;
  readonly queueName: string;
  readonly code: string;
  readonly reason: string;
  /** True when the request was at fault: sending it again cannot help. */
  readonly senderFault: boolean;
}

/** Some tasks were not sent; `sent` and `failed` together name every task. */
export class SendBatchError extends TasklaneError {
  readonly sent: readonly SentTask[];
  readonly failed: readonly FailedTask[];

  constructor(sent: readonly SentTask[], failed: readonly FailedTask[]) {
    const shown = failed.slice(0, 3).map((t) => `${t.id} (${t.code})`);
    const more = failed.length > 3 ? ` and ${failed.length - 3} more` : '';
    super(
      'SEND_FAILED',
      `${failed.length} of ${sent.length + failed.length} tasks were not ` +
        `sent: ${shown.join(', ')}${more}`,
    );
    this.sent = sent;
    this.failed = failed;
  }
}

/** A validated task rendered as an SQS message. */
export interface OutgoingMessage {
  /** Position in the caller's input; also the batch entry id. */
  readonly index: number;
  readonly envelope: Envelope;
  readonly queueName: string;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** Size as SQS counts it, body and attributes. */
  readonly bytes: number;
}

/** What sending needs from the producer. */
export interface SendContext {
  readonly sqs: SQSClient;
  readonly logger: ProducerLogger;
}

/** What happened to each message of a call, by input position. */
export interface Results {
  readonly sent: Map<number, SentTask>;
  readonly failed: Map<number, FailedTask>;
}

interface Rejection {
  readonly message: OutgoingMessage;
  readonly task: FailedTask;
  /** False for sender faults and for requests the SDK already retried. */
  readonly retryable: boolean;
}

/**
 * Sends a queue's messages in batches within the SQS limits, recording each
 * outcome in `results`. Resolves to the number of messages not sent.
 */
export async function sendToQueue(
  ctx: SendContext,
  group: QueueGroup,
  results: Results,
): Promise<number> {
  const failures = await Promise.all(
    group.batches.map((batch) => sendWithRetries(ctx, group, batch, results)),
  );
  return failures.reduce((sum, n) => sum + n, 0);
}

/** The sent tasks in input order; throws SendBatchError if any failed. */
export function sentInOrder(
  messages: readonly OutgoingMessage[],
  results: Results,
): SentTask[] {
  const sent = messages.flatMap((m) => results.sent.get(m.index) ?? []);
  if (results.failed.size === 0) return sent;
  const failed = messages.flatMap((m) => results.failed.get(m.index) ?? []);
  throw new SendBatchError(sent, failed);
}

/** Sends one batch; retries what SQS failed on its side. Returns failures. */
async function sendWithRetries(
  ctx: SendContext,
  group: QueueGroup,
  batch: readonly OutgoingMessage[],
  results: Results,
): Promise<number> {
  let pending = batch;
  for (let retry = 0; pending.length > 0; retry += 1) {
    if (retry > 0) await sleep(RETRY_DELAYS_MS[retry - 1]);
    const rejections = await sendOnce(ctx, group, pending, results);
    const last = retry === RETRY_DELAYS_MS.length;
    pending = settle(ctx, rejections, last, results);
    if (pending.length > 0) logRetry(ctx.logger, group, pending, retry);
  }
  return batch.filter((message) => results.failed.has(message.index)).length;
}

/** Records final failures; returns the messages worth sending again. */
function settle(
  ctx: SendContext,
  rejections: readonly Rejection[],
  last: boolean,
  results: Results,
): OutgoingMessage[] {
  const again: OutgoingMessage[] = [];
  for (const { message, task, retryable } of rejections) {
    if (retryable && !last) {
      again.push(message);
    } else {
      results.failed.set(message.index, task);
      logFailure(ctx.logger, message, task);
    }
  }
  return again;
}

async function sendOnce(
  ctx: SendContext,
  group: QueueGroup,
  batch: readonly OutgoingMessage[],
  results: Results,
): Promise<Rejection[]> {
  let output: SendMessageBatchResult;
  try {
    output = await ctx.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: group.url,
        Entries: batch.map(toEntry),
      }),
    );
  } catch (error) {
    // The SDK has already retried what a transport error allows.
    return batch.map((message) => requestRejection(group, message, error));
  }
  const rejections = collect(group, batch, output, results);
  ctx.logger.debug('batch sent', {
    queueName: group.queueName,
    accepted: batch.length - rejections.length,
    rejected: rejections.length,
  });
  return rejections;
}

function toEntry(message: OutgoingMessage) {
  return {
    Id: String(message.index),
    MessageBody: message.body,
    MessageAttributes: message.attributes,
  };
}

/** Records accepted entries; returns the rest, those SQS named or not. */
function collect(
  group: QueueGroup,
  batch: readonly OutgoingMessage[],
  output: SendMessageBatchResult,
  results: Results,
): Rejection[] {
  const accepted = new Map(output.Successful?.map((s) => [s.Id, s]));
  const failed = new Map(output.Failed?.map((f) => [f.Id, f]));
  const rejections: Rejection[] = [];
  for (const message of batch) {
    const entryId = String(message.index);
    const messageId = accepted.get(entryId)?.MessageId;
    if (messageId) {
      const { id } = message.envelope;
      const { queueName } = group;
      results.sent.set(message.index, { id, queueName, messageId });
      continue;
    }
    const { Code, Message, SenderFault = false } = failed.get(entryId) ?? {};
    const reason = Message ?? 'SQS returned no result for this entry';
    const code = Code ?? 'NoResult';
    const task = failure(group, message, code, reason, SenderFault);
    rejections.push({ message, task, retryable: !SenderFault });
  }
  return rejections;
}

/** The request itself failed: every entry fails with its error. */
function requestRejection(
  group: QueueGroup,
  message: OutgoingMessage,
  error: unknown,
): Rejection {
  const cause = error instanceof Error ? error : new Error(String(error));
  const senderFault = (cause as { $fault?: string }).$fault === 'client';
  const task = failure(group, message, cause.name, cause.message, senderFault);
  return { message, task, retryable: false };
}

function failure(
  group: QueueGroup,
  message: OutgoingMessage,
  code: string,
  reason: string,
  senderFault: boolean,
): FailedTask {
  const { id } = message.envelope;
  return { id, queueName: group.queueName, code, reason, senderFault };
}

function logFailure(
  logger: ProducerLogger,
  message: OutgoingMessage,
  task: FailedTask,
): void {
  logger.warn('task not sent', {
    taskId: task.id,
    taskType: message.envelope.taskType,
    businessId: message.envelope.businessId,
    queueName: task.queueName,
    code: task.code,
    reason: task.reason,
  });
}

function logRetry(
  logger: ProducerLogger,
  group: QueueGroup,
  pending: readonly OutgoingMessage[],
  retry: number,
): void {
  logger.warn('SQS failed tasks on its side, sending them again', {
    queueName: group.queueName,
    taskIds: pending.map((m) => m.envelope.id),
    retry: retry + 1,
  });
}
