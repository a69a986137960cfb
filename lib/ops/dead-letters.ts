import type { Message } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../lambdas/consumer/dead-letter.ts';
import type { AttemptError } from '../outbox.ts';
import { countBy } from './format.ts';

/**
 * Reason of a dead letter without tasklane's attributes: SQS moved it by
 * the queue's redrive policy (the safety net for consumer crashes).
 */
export const UNKNOWN_REASON = 'UNKNOWN';

/** A dead-lettered message with what tasklane recorded about it. */
export interface DeadLetterRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  /** The envelope's `id`; the message id when the body has none. */
  readonly taskId: string;
  readonly taskType?: string;
  readonly businessId?: string;
  /** The envelope's priority, when it has one. */
  readonly priority?: string;
  /** INVALID, RETRIES_EXHAUSTED, or UNKNOWN. */
  readonly reason: string;
  readonly attempts?: number;
  /** Code of the last error, `-` when none was recorded. */
  readonly errorCode: string;
  readonly lastError?: string;
  readonly history: readonly AttemptError[];
  /** ARN of the task queue the task came from, when known. */
  readonly sourceQueueArn?: string;
  readonly deadLetteredAt?: string;
  /** The original body, unchanged. */
  readonly body: string;
  /** The message as received: archives keep all of it. */
  readonly message: Message;
}

/** Dead letters of one reason: how many, by error code, and their tasks. */
export interface ReasonGroup {
  readonly reason: string;
  readonly count: number;
  readonly errorCodes: readonly { code: string; count: number }[];
  readonly taskIds: readonly string[];
}

/** Reads tasklane's attributes and the envelope's identity off a message. */
export function readDeadLetter(message: Message): DeadLetterRecord {
  const names = DEAD_LETTER_ATTRIBUTES;
  const attr = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const body = message.Body ?? '';
  const envelope = parseObject(body);
  const text = (key: string) =>
    typeof envelope[key] === 'string' ? (envelope[key] as string) : undefined;
  const attempts = attr(names.attempts);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    taskId: text('id') ?? message.MessageId ?? '',
    taskType: text('taskType'),
    businessId: text('businessId'),
    priority: text('priority'),
    reason: attr(names.reason) ?? UNKNOWN_REASON,
    attempts: attempts === undefined ? undefined : Number(attempts),
    errorCode: attr(names.errorCode) ?? '-',
    lastError: attr(names.lastError),
    history: parseHistory(attr(names.errorHistory)),
    sourceQueueArn:
      attr(names.sourceQueue) ?? message.Attributes?.DeadLetterQueueSourceArn,
    deadLetteredAt: attr(names.deadLetteredAt),
    body,
    message,
  };
}

function parseObject(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function parseHistory(text: string | undefined): AttemptError[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as AttemptError[]) : [];
  } catch {
    return [];
  }
}

/** Groups dead letters by reason, the largest group first. */
export function groupByReason(
  letters: readonly DeadLetterRecord[],
): ReasonGroup[] {
  return countBy(letters, (letter) => letter.reason).map(({ key, count }) => {
    const group = letters.filter((letter) => letter.reason === key);
    return {
      reason: key,
      count,
      errorCodes: countBy(group, (letter) => letter.errorCode).map((c) => ({
        code: c.key,
        count: c.count,
      })),
      taskIds: group.map((letter) => letter.taskId),
    };
  });
}

/** One queue's groups as text: reasons, their error codes, their tasks. */
export function formatGroups(
  queueName: string,
  groups: readonly ReasonGroup[],
): string {
  const total = groups.reduce((sum, group) => sum + group.count, 0);
  const lines = [`${queueName}: ${total} dead-lettered task(s)`];
  for (const group of groups) {
    lines.push(`  ${group.reason}  ${group.count}`);
    for (const { code, count } of group.errorCodes) {
      lines.push(`    ${code}  ${count}`);
    }
    lines.push(`    tasks: ${group.taskIds.join(', ')}`);
  }
  return lines.join('\n');
}

/** One dead letter in full: identity, reason, error history and body. */
export function formatDeadLetter(
  queueName: string,
  letter: DeadLetterRecord,
): string {
  const field = (name: string, value: unknown) =>
    `${`${name}:`.padEnd(18)}${value ?? '-'}`;
  const lines = [
    field('task', letter.taskId),
    field('task type', letter.taskType),
    field('business id', letter.businessId),
    field('queue', `${queueName} (message ${letter.messageId})`),
    field('source queue', letter.sourceQueueArn),
    field('reason', letter.reason),
    field('attempts', letter.attempts),
    field('last error', `${letter.errorCode}: ${letter.lastError ?? '-'}`),
    field('dead-lettered at', letter.deadLetteredAt),
    `error history (${letter.history.length}):`,
    ...letter.history.map(
      (e) => `  #${e.attempt}  ${e.at}  ${e.code}: ${e.message}`,
    ),
    'body:',
    prettyBody(letter.body),
  ];
  return lines.join('\n');
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A dead letter as `--json` shows it: everything but receipt and message. */
export function deadLetterJson(letter: DeadLetterRecord) {
  const { receiptHandle: _, message: __, ...rest } = letter;
  return rest;
}
