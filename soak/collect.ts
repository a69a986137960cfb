/**
 * Reads what the soak left behind, once the consumers have stopped: the
 * status outbox, the dead-letter queue, the effects table and whatever
 * is still in the task queues.
 */
import {
  GetQueueAttributesCommand,
  type Message,
  type QueueAttributeName,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DEAD_LETTER_ATTRIBUTES } from '../lambdas/consumer/dead-letter.ts';
import type { AwsClients } from '../lib/aws-clients.ts';
import type { TaskRecord } from '../lib/outbox.ts';
import type { SoakEnvironment } from './environment.ts';
import { SOAK_TASK_TYPE } from './task.ts';

/** A task's item in the effects table. */
export interface EffectRecord {
  readonly taskId: string;
  readonly executions?: number;
  readonly effects?: number;
  readonly firstEffectAt?: number;
  readonly firstEffectGeneration?: number;
  readonly lastEffectAt?: number;
  readonly lastEffectGeneration?: number;
}

/** One task's messages in the dead-letter queue. */
export interface DeadLetterCopies {
  /** Messages of this task; more than 1 is a repeat. */
  copies: number;
  /** `tasklane.reason`; absent when SQS's redrive policy moved it. */
  readonly reason?: string;
  readonly attempts?: number;
}

/** Everything the soak reads back. */
export interface Collected {
  readonly outbox: ReadonlyMap<string, TaskRecord>;
  readonly deadLetters: ReadonlyMap<string, DeadLetterCopies>;
  readonly effects: ReadonlyMap<string, EffectRecord>;
  /** Messages left in the task queues, visible or not. */
  readonly leftInQueues: number;
}

/** Reads the outbox, the dead-letter queue, the effects and the queues. */
export async function collect(env: SoakEnvironment): Promise<Collected> {
  const { clients, resources } = env;
  const outbox = await scanAll<TaskRecord>(
    clients,
    resources.names.statusOutboxTable,
  );
  const effects = await scanAll<EffectRecord>(clients, env.effectsTable);
  const dlqUrl = resources.deadLetterQueueUrls.get(SOAK_TASK_TYPE) ?? '';
  const deadLetters = await drainDeadLetters(clients, dlqUrl);
  const queueUrls = resources.queues.map((queue) => queue.url);
  return {
    outbox: byTaskId(outbox),
    effects: byTaskId(effects),
    deadLetters,
    leftInQueues: await countMessages(clients, queueUrls),
  };
}

/** Every item of a table. */
async function scanAll<T>(clients: AwsClients, table: string): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.dynamodb.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

function byTaskId<T extends { taskId: string }>(items: T[]): Map<string, T> {
  return new Map(items.map((item) => [item.taskId, item]));
}

/** Receives every message of the dead-letter queue, grouped by task id. */
async function drainDeadLetters(
  clients: AwsClients,
  url: string,
): Promise<Map<string, DeadLetterCopies>> {
  const byTask = new Map<string, DeadLetterCopies>();
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        // Long enough that none comes back while the rest are read.
        VisibilityTimeout: 600,
      }),
    );
    for (const message of Messages) addDeadLetter(byTask, message);
    if (Messages.length > 0) continue;
    const visible = await countMessages(clients, [url], VISIBLE);
    if (visible === 0) return byTask;
  }
}

function addDeadLetter(
  byTask: Map<string, DeadLetterCopies>,
  message: Message,
): void {
  const attribute = (name: string) =>
    message.MessageAttributes?.[name]?.StringValue;
  const taskId = String(
    (JSON.parse(message.Body ?? '{}') as { id?: unknown }).id,
  );
  const known = byTask.get(taskId);
  if (known) {
    known.copies += 1;
    return;
  }
  const attempts = attribute(DEAD_LETTER_ATTRIBUTES.attempts);
  byTask.set(taskId, {
    copies: 1,
    reason: attribute(DEAD_LETTER_ATTRIBUTES.reason),
    attempts: attempts === undefined ? undefined : Number(attempts),
  });
}

const VISIBLE: QueueAttributeName[] = ['ApproximateNumberOfMessages'];
const ALL: QueueAttributeName[] = [
  ...VISIBLE,
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

/** Messages of the queues, visible, in flight and delayed unless told. */
async function countMessages(
  clients: AwsClients,
  urls: readonly string[],
  attributes = ALL,
): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: attributes,
      }),
    );
    for (const value of Object.values(Attributes)) total += Number(value);
  }
  return total;
}
