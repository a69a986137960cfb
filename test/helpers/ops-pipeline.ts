/**
 * The operations CLI against a local test pipeline: running `tasklane`
 * on it, reading queue depths, and queues of an `idle` task type that no
 * consumer reads, with dead letters planted as the consumer writes them.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { runTasklane } from './control-cli.ts';

/** A queue by URL and ARN. */
export interface TestQueue {
  readonly url: string;
  readonly arn: string;
}

/** The queues of the `idle` task type. */
export type IdleQueues = Record<'high' | 'normal' | 'dlq', TestQueue>;

/** Runs `tasklane <args>` as a child process on the pipeline. */
export function tasklaneOn(pipeline: LocalPipeline) {
  return (...args: string[]) =>
    runTasklane([
      ...args,
      '--endpoint',
      pipeline.endpoint,
      '--prefix',
      pipeline.prefix,
    ]);
}

/** Visible and in-flight messages of a queue. */
export async function queueDepth(
  pipeline: LocalPipeline,
  url: string,
): Promise<number> {
  const { Attributes = {} } = await pipeline.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/** Creates `<prefix>-idle-high`, `-normal` and `-dlq`. */
export async function createIdleQueues(
  pipeline: LocalPipeline,
): Promise<IdleQueues> {
  const queues: Partial<IdleQueues> = {};
  for (const kind of ['high', 'normal', 'dlq'] as const) {
    const { QueueUrl = '' } = await pipeline.clients.sqs.send(
      new CreateQueueCommand({ QueueName: `${pipeline.prefix}-idle-${kind}` }),
    );
    const { Attributes } = await pipeline.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['QueueArn'],
      }),
    );
    queues[kind] = { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
  }
  return queues as IdleQueues;
}

/**
 * Puts a dead letter into the idle dead-letter queue with the attributes
 * the consumer writes; resolves to its body.
 */
export async function plantDeadLetter(
  pipeline: LocalPipeline,
  idle: IdleQueues,
  reason: string,
  source: 'high' | 'normal',
): Promise<string> {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const body = JSON.stringify({ id: crypto.randomUUID(), reason, source });
  await pipeline.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: idle.dlq.url,
      MessageBody: body,
      MessageAttributes: {
        'tasklane.reason': text(reason),
        'tasklane.errorCode': text('PLANTED'),
        'tasklane.sourceQueue': text(idle[source].arn),
      },
    }),
  );
  return body;
}

/** Receives up to 10 bodies from a queue. */
export async function receiveBodies(
  pipeline: LocalPipeline,
  url: string,
): Promise<string[]> {
  const { Messages = [] } = await pipeline.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
  );
  return Messages.map((m) => m.Body ?? '');
}
