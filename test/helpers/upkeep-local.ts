/** What the upkeep's integration test needs around a local pipeline. */
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { parseArchive } from '../../lib/ops/upkeep-archive.ts';
import type { UpkeepDeps } from '../../lib/ops/upkeep-run.ts';

/** A logger that keeps what it was given, call by call. */
export function recordingLogger() {
  const calls: { level: string; message: string; fields: unknown }[] = [];
  const record = (level: string) => (message: string, fields: unknown) =>
    calls.push({ level, message, fields });
  const logger = {
    info: record('info'),
    error: record('error'),
  } as unknown as UpkeepDeps['logger'];
  return { logger, calls };
}

/**
 * A topic, as the alarm topic, with an SQS queue subscribed to it so a
 * test can read what was published: each message is the SNS envelope.
 */
export async function topicWithInbox(pipeline: LocalPipeline, name: string) {
  const { sns, sqs } = pipeline.clients;
  const { TopicArn = '' } = await sns.send(
    new CreateTopicCommand({ Name: name }),
  );
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-inbox` }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
    }),
  );
  /** Everything delivered so far, as SNS envelopes. */
  const receive = async (): Promise<Record<string, string>[]> => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
      }),
    );
    return Messages.map((m: Message) => JSON.parse(m.Body ?? '{}'));
  };
  return { topicArn: TopicArn, receive };
}

export async function createBucket(pipeline: LocalPipeline, bucket: string) {
  await pipeline.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** The messages of an archive object. */
export async function readArchive(
  pipeline: LocalPipeline,
  bucket: string,
  key: string,
) {
  const { Body } = await pipeline.clients.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
  );
  return parseArchive((await Body?.transformToString()) ?? '');
}

/** Messages in a queue, visible or held. */
export async function messageCount(
  pipeline: LocalPipeline,
  queueUrl: string,
): Promise<number> {
  const { Attributes = {} } = await pipeline.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
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
