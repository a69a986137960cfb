import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Resolves queue names to URLs with GetQueueUrl, once per name. */
export function createQueueUrlResolver(sqs: SQSClient) {
  const urls = new Map<string, Promise<string>>();

  return (queueName: string): Promise<string> => {
    let url = urls.get(queueName);
    if (!url) {
      url = lookUp(sqs, queueName);
      // A failed look-up is not cached, so the next call asks again.
      url.catch(() => urls.delete(queueName));
      urls.set(queueName, url);
    }
    return url;
  };
}

export type QueueUrlResolver = ReturnType<typeof createQueueUrlResolver>;

async function lookUp(sqs: SQSClient, queueName: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: queueName }),
  );
  if (!QueueUrl) throw new Error(`no URL returned for queue ${queueName}`);
  return QueueUrl;
}
