import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS takes at most 10 messages per batch call. */
const SQS_BATCH = 10;

/** How the raw consumer reads, set as the pipeline's poller reads. */
export interface DrainOptions {
  /** Receive loops at once: the poller's maximum concurrency. */
  readonly workers: number;
  /** Messages per receive: the task type's batch size. */
  readonly batchSize: number;
  /** Past this the drain fails rather than hang. */
  readonly deadlineMs: number;
}

/** Runs `worker` `count` times at once and waits for every one. */
export async function inParallel(
  count: number,
  worker: () => Promise<void>,
): Promise<void> {
  await Promise.all(Array.from({ length: count }, worker));
}

/**
 * Sends the bodies in batches of 10, `concurrency` batches in flight, as a
 * producer would; throws when the queue refuses any message.
 */
export async function sendAll(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  await inParallel(concurrency, async () => {
    while (next < bodies.length) {
      const chunk = bodies.slice(next, next + SQS_BATCH);
      next += SQS_BATCH;
      const { Failed = [] } = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((body, i) => ({
            Id: String(i),
            MessageBody: body,
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`${Failed.length} sends failed`);
    }
  });
}

/**
 * Receives and deletes until `expected` messages are gone: the poller's
 * receive (same batch size, long poll and attributes) and batch delete,
 * with no handler between them. Calls `onDrained` at the last delete,
 * then waits for the receives still polling the empty queue to come back
 * empty (up to their 1 s long poll): cancelling them instead would leave
 * fauxqs polling on their behalf, and the next run's messages would go to
 * nobody until their visibility timeout.
 */
export async function drain(
  sqs: SQSClient,
  queueUrl: string,
  expected: number,
  options: DrainOptions & { readonly onDrained?: () => void },
): Promise<void> {
  const deadline = Date.now() + options.deadlineMs;
  let deleted = 0;
  await inParallel(options.workers, async () => {
    while (deleted < expected) {
      if (Date.now() > deadline) throw new Error(`drained ${deleted} only`);
      const messages = await receive(sqs, queueUrl, options);
      if (messages.length === 0) continue;
      // Awaited first: `deleted += await …` would add to the value read
      // before the await and lose the other loops' deletes.
      const count = await deleteAll(sqs, queueUrl, messages);
      deleted += count;
      if (deleted >= expected) options.onDrained?.();
    }
  });
}

async function receive(
  sqs: SQSClient,
  queueUrl: string,
  options: DrainOptions,
): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.batchSize,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/** Deletes the messages in one call; resolves to how many went. */
async function deleteAll(
  sqs: SQSClient,
  queueUrl: string,
  messages: Message[],
): Promise<number> {
  const { Successful = [] } = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((message, i) => ({
        Id: String(i),
        ReceiptHandle: message.ReceiptHandle,
      })),
    }),
  );
  return Successful.length;
}
