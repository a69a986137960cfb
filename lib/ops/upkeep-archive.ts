/**
 * The dead-letter archive: one JSON-lines object per dead-letter queue and
 * day, `dead-letters/<date>/<queue>.jsonl`, one message per line.
 */
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';

/** Where the archive objects start, in the archive bucket. */
export const ARCHIVE_PREFIX = 'dead-letters/';

/** One archived message: enough to send it again, or to audit it. */
export interface ArchivedMessage {
  readonly messageId: string;
  /** The message body, unchanged: the task's envelope as sent. */
  readonly body: string;
  /** Message attributes by name (`tasklane.reason`, ...), as strings. */
  readonly attributes: Readonly<Record<string, string>>;
  /** SQS's own attributes, such as `SentTimestamp`. */
  readonly systemAttributes: Readonly<Record<string, string>>;
}

/** `dead-letters/<YYYY-MM-DD>/<queue>.jsonl` */
export function archiveKey(queueName: string, day: Date): string {
  return `${ARCHIVE_PREFIX}${day.toISOString().slice(0, 10)}/${queueName}.jsonl`;
}

/** A received message as one archive line, without the line break. */
export function archiveLine(message: Message): string {
  const attributes = Object.entries(message.MessageAttributes ?? {}).map(
    ([name, value]) => [name, value.StringValue ?? ''],
  );
  const archived: ArchivedMessage = {
    messageId: message.MessageId ?? '',
    body: message.Body ?? '',
    attributes: Object.fromEntries(attributes),
    systemAttributes: { ...message.Attributes },
  };
  return JSON.stringify(archived);
}

/** Reads an archive object back, one message per line. */
export function parseArchive(text: string): ArchivedMessage[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ArchivedMessage);
}

/**
 * Adds lines to an archive object. A second run on the same day (a retry,
 * a manual run) appends to the object rather than replacing it, so no
 * earlier line is lost.
 */
export async function appendToArchive(
  s3: S3Client,
  bucket: string,
  key: string,
  lines: readonly string[],
): Promise<void> {
  const earlier = await readObject(s3, bucket, key);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${earlier}${lines.join('\n')}\n`,
      ContentType: 'application/x-ndjson',
    }),
  );
}

/** The object's text, or '' when there is none yet. */
async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<string> {
  try {
    const { Body } = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key }),
    );
    return (await Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (error instanceof NoSuchKey) return '';
    throw error;
  }
}
