import {
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { builtInTasks } from '../../lambdas/tasks/index.ts';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../../lib/aws-clients.ts';
import { type Emulators, startEmulators } from '../../lib/local/emulators.ts';
import {
  createLocalResources,
  type LocalResources,
} from '../../lib/local/resources.ts';
import type { TaskInput } from '../../lib/producer.ts';
import { createRegistry } from '../../lib/registry.ts';
import { defineTask, type TaskModule } from '../../lib/task-module.ts';

/**
 * A task type whose payload may be as large as a test needs: the built-in
 * ones bound every field, so their envelopes stay a few KiB.
 */
export const blobTaskModule = defineTask({
  taskType: 'test.blob',
  description: 'Carries a string of any length; does nothing',
  payloadSchema: z.strictObject({ data: z.string() }),
  defaults: { timeoutMs: 1_000, maxConcurrency: 1, batchSize: 10 },
  findMissingBusinessId: async () => undefined,
  handle: async () => {},
});

/** The built-in task types and `test.blob`. */
export const testRegistry = createRegistry([
  ...builtInTasks,
  blobTaskModule as TaskModule,
]);

/** Emulators on free ports with every queue of `testRegistry`. */
export interface ProducerFixture {
  readonly emulators: Emulators;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  /** The URL of a task queue made by the fixture, by name. */
  queueUrl(name: string): string;
  /** A fresh SQS client, for tests that add middleware; closed by stop. */
  newSqsClient(): SQSClient;
  /** Empties every task queue. */
  purge(): Promise<void>;
  stop(): Promise<void>;
}

export async function startProducerFixture(
  prefix = 'tasklane',
): Promise<ProducerFixture> {
  const emulators = await startEmulators({ messaging: 0, dynamodb: 0 });
  const clients = createAwsClients(emulators.clientOptions);
  const resources = await createLocalResources(clients, testRegistry, prefix);
  const queueUrl = (name: string) => {
    const queue = resources.queues.find((q) => q.name === name);
    if (!queue) throw new Error(`the fixture made no queue ${name}`);
    return queue.url;
  };
  const purge = async () => {
    for (const { url } of resources.queues) {
      await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    }
  };
  const extra: SQSClient[] = [];
  const newSqsClient = () => {
    const { sqs } = createAwsClients(emulators.clientOptions);
    extra.push(sqs);
    return sqs;
  };
  const stop = async () => {
    for (const sqs of extra) sqs.destroy();
    destroyAwsClients(clients);
    await emulators.stop();
  };
  return {
    emulators,
    clients,
    resources,
    queueUrl,
    newSqsClient,
    purge,
    stop,
  };
}

/** A valid `order.notification` task; fields of `overrides` win. */
export function orderTask(overrides: Partial<TaskInput> = {}): TaskInput {
  return {
    taskType: 'order.notification',
    businessId: 'order-1042',
    payload: { event: 'paid', message: 'Payment received' },
    ...overrides,
  };
}

/** A valid `data.backup` task; fields of `overrides` win. */
export function backupTask(overrides: Partial<TaskInput> = {}): TaskInput {
  return {
    taskType: 'data.backup',
    businessId: 'dataset-7',
    payload: { bucket: 'reports', key: 'daily/2024-05-01.csv' },
    ...overrides,
  };
}

/** A `test.blob` task whose message is about `bytes` bytes. */
export function blobTask(bytes: number): TaskInput {
  return {
    taskType: 'test.blob',
    businessId: 'blob-1',
    payload: { data: 'x'.repeat(bytes - 300) },
  };
}

/** Receives every visible message of a queue, with all its attributes. */
export async function receiveAll(
  sqs: SQSClient,
  url: string,
): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

/** Messages in a queue: visible, in flight and delayed. */
export async function queueDepth(sqs: SQSClient, url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
}

/** Decides whether SQS fails an entry at the given call, counted from 1. */
export type FailurePlan = (
  entry: SendMessageBatchRequestEntry,
  call: number,
) => boolean;

/**
 * Makes SQS fail entries on its side, as it does under internal errors,
 * which the emulator never does: the planned entries are taken out of the
 * request, the rest go to the emulator, and the planned ones come back in
 * `Failed` with `SenderFault: false`. Returns every SendMessageBatch
 * request the client made, as the producer built it.
 */
export function failEntries(
  sqs: SQSClient,
  plan: FailurePlan,
): SendMessageBatchCommandInput[] {
  const requests: SendMessageBatchCommandInput[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      requests.push(structuredClone(input));
      const call = requests.length;
      const entries = input.Entries ?? [];
      const kept = entries.filter((entry) => !plan(entry, call));
      const failed = entries
        .filter((entry) => plan(entry, call))
        .map((entry) => ({
          Id: entry.Id,
          SenderFault: false,
          Code: 'InternalError',
          Message: 'We encountered an internal error. Please try again.',
        }));
      const result =
        kept.length > 0
          ? await next({ ...args, input: { ...input, Entries: kept } })
          : { output: { $metadata: {}, Successful: [] }, response: {} };
      const output = result.output as SendMessageBatchCommandOutput;
      const allFailed = [...(output.Failed ?? []), ...failed];
      return { ...result, output: { ...output, Failed: allFailed } };
    },
    { step: 'initialize', name: 'failEntries' },
  );
  return requests;
}

/** A command a client sent, by name, and when. */
export interface SentCommand {
  readonly name: string;
  readonly at: number;
}

/** Records every command the client sends. */
export function recordCommands(sqs: SQSClient): SentCommand[] {
  const commands: SentCommand[] = [];
  sqs.middlewareStack.add(
    (next, context) => (args) => {
      commands.push({ name: context.commandName ?? '', at: Date.now() });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return commands;
}
