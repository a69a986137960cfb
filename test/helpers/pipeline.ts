import { randomUUID } from 'node:crypto';
import {
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../lambdas/consumer/dead-letter.ts';
import { builtInTasks } from '../../lambdas/tasks/index.ts';
import type { EnvelopeInput, Priority } from '../../lib/envelope.ts';
import { demoFlaky } from '../../lib/local/demo-tasks.ts';
import {
  type LocalPipeline,
  startLocalPipeline,
} from '../../lib/local/runtime.ts';
import { waitForFinalStatus } from '../../lib/local/wait.ts';
import type { TaskRecord } from '../../lib/outbox.ts';
import { createRegistry } from '../../lib/registry.ts';
import type { RetryPolicy } from '../../lib/retry.ts';
import type { TaskModule } from '../../lib/task-module.ts';

/** Every retry after 1 s, so exhausting 5 retries takes seconds, not minutes. */
export const FAST_RETRY: RetryPolicy = {
  maxRetries: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 1,
};

export const testRegistry = createRegistry([
  ...builtInTasks,
  demoFlaky as TaskModule,
]);

/** The key the test pipeline signs callbacks with. */
export const TEST_SIGNING_KEY = {
  keyId: 'test',
  secret: 'test-secret-0123456789',
};

/** Least time between two callbacks to one target in the test pipeline. */
export const TEST_CALLBACK_INTERVAL_MS = 500;

/** The local pipeline on free ports, quiet, with fast retries. */
export function startTestPipeline(): Promise<LocalPipeline> {
  return startLocalPipeline({
    registry: testRegistry,
    prefix: 'test',
    ports: { messaging: 0, dynamodb: 0 },
    retry: FAST_RETRY,
    logLevel: 'SILENT',
    signingKey: TEST_SIGNING_KEY,
    callbackIntervalMs: TEST_CALLBACK_INTERVAL_MS,
  });
}

/** A valid envelope of `demo.flaky`, with fields overridden as given. */
export function demoEnvelope(
  overrides: Partial<EnvelopeInput> = {},
): EnvelopeInput & { id: string } {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    taskType: 'demo.flaky',
    businessId: `business-${randomUUID().slice(0, 8)}`,
    priority: 'normal',
    createdAt: new Date().toISOString(),
    payload: {},
    ...overrides,
  } as EnvelopeInput & { id: string };
}

/** Sends a raw body to a task queue, as any SQS producer could. */
export async function sendBody(
  pipeline: LocalPipeline,
  taskType: string,
  body: string,
  priority: Priority = 'normal',
): Promise<string> {
  const queue = pipeline.resources.queues.find(
    (q) => q.taskType === taskType && q.priority === priority,
  );
  if (!queue) throw new Error(`no ${priority} queue for ${taskType}`);
  const { MessageId } = await pipeline.clients.sqs.send(
    new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }),
  );
  return MessageId ?? '';
}

/** Waits for one task's final status; throws when it never comes. */
export async function finalStatus(
  pipeline: LocalPipeline,
  taskId: string,
  timeoutMs = 30_000,
): Promise<TaskRecord> {
  const found = await waitForFinalStatus(pipeline.outbox, [taskId], timeoutMs);
  const record = found.get(taskId);
  if (!record) throw new Error(`task ${taskId} has no final status`);
  return record;
}

/** A dead-lettered message with its tasklane attributes read out. */
export interface DeadLettered {
  readonly body: string;
  readonly reason?: string;
  readonly attempts?: number;
  readonly errorCode?: string;
  readonly lastError?: string;
  readonly history: { attempt: number; code: string; message: string }[];
}

/** Receives everything in a task type's dead-letter queue. */
export async function readDeadLetters(
  pipeline: LocalPipeline,
  taskType: string,
): Promise<DeadLettered[]> {
  const url = pipeline.resources.deadLetterQueueUrls.get(taskType);
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await pipeline.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 30,
      }),
    );
    if (Messages.length === 0) break;
    messages.push(...Messages);
  }
  return messages.map(readDeadLetter);
}

function readDeadLetter(message: Message): DeadLettered {
  const attr = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const names = DEAD_LETTER_ATTRIBUTES;
  const attempts = attr(names.attempts);
  return {
    body: message.Body ?? '',
    reason: attr(names.reason),
    attempts: attempts === undefined ? undefined : Number(attempts),
    errorCode: attr(names.errorCode),
    lastError: attr(names.lastError),
    history: JSON.parse(attr(names.errorHistory) ?? '[]'),
  };
}
