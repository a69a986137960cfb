/**
 * What Lambda hands an SQS-triggered function and how it reads the answer:
 * the context, the records of the event, and the partial batch response.
 * The local poller uses these so that a handler cannot tell it from Lambda.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttribute,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { preview, TasklaneError } from '../errors.ts';

/** What a local invocation needs to look like one in Lambda. */
export interface LambdaContextOptions {
  /** Name of the function, as it is deployed. */
  readonly functionName: string;
  /** The function timeout in milliseconds; the countdown starts at it. */
  readonly timeoutMs: number;
  /** Region in the function ARN. @default 'us-east-1' */
  readonly region?: string;
  /** Account in the function ARN. @default '000000000000' */
  readonly accountId?: string;
}

/** A Lambda handler for SQS batches, the same one that runs on AWS. */
export type SqsBatchHandler = (
  event: SQSEvent,
  context: Context,
  // Lambda's own SQSHandler type returns void here; handlers typed with it
  // must fit.
  // biome-ignore lint/suspicious/noConfusingVoidType: as in SQSHandler
) => Promise<SQSBatchResponse | void>;

/** How one invocation ended, as the SQS event source mapping sees it. */
export type InvocationOutcome = { readonly awsRequestId: string } & (
  | { readonly kind: 'completed'; readonly succeeded: SQSRecord[] }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'timed-out' }
);

const noop = (): void => undefined;
const TIMED_OUT = Symbol('timed out');

/**
 * Invokes a handler with one batch of records as Lambda does: a fresh
 * context, the function timeout enforced, the partial batch response read
 * into the records that succeeded, which the caller deletes.
 * A handler that throws, answers invalidly or outlives its timeout fails
 * the whole batch. Lambda would stop a timed-out function; here it runs
 * on, but its answer no longer counts.
 */
export async function invokeSqsHandler(
  handler: SqsBatchHandler,
  records: SQSRecord[],
  options: LambdaContextOptions,
): Promise<InvocationOutcome> {
  const context = createLambdaContext(options);
  const { awsRequestId } = context;
  try {
    const call = (async () => handler({ Records: records }, context))();
    const answer = await settleWithin(call, options.timeoutMs);
    if (answer === TIMED_OUT) return { awsRequestId, kind: 'timed-out' };
    const failed = failedMessageIds(answer, records);
    const succeeded = records.filter(({ messageId }) => !failed.has(messageId));
    return { awsRequestId, kind: 'completed', succeeded };
  } catch (error) {
    return { awsRequestId, kind: 'failed', error };
  }
}

function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Builds the context Lambda passes to a handler, for one invocation that
 * starts now: a fresh request id, the names and ARN of the function, and a
 * remaining time that counts down from `timeoutMs`.
 *
 * @example
 * const context = createLambdaContext({
 *   functionName: 'tasklane-email-send',
 *   timeoutMs: 30_000,
 * });
 * await handler(event, context);
 */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const startedAt = Date.now();
  const { functionName, timeoutMs } = options;
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const arn = ['arn:aws:lambda', region, accountId, 'function', functionName];

  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: arn.join(':'),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: logStreamName(new Date(startedAt)),
    getRemainingTimeInMillis: () =>
      Math.max(0, timeoutMs - (Date.now() - startedAt)),
    // Callback-style completion is gone from async handlers; these exist
    // only so that code written against the full type still runs.
    done: noop,
    fail: noop,
    succeed: noop,
  };
}

/** Lambda's stream name: the UTC date, the version, an instance id. */
function logStreamName(startedAt: Date): string {
  const date = startedAt.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${date}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** The handler's answer does not follow the partial batch response. */
export class InvalidBatchResponseError extends TasklaneError {
  constructor(detail: string) {
    super('INVALID_BATCH_RESPONSE', `invalid batch response: ${detail}`);
  }
}

/**
 * The ids a partial batch response lists as failed; none for no answer or
 * no list. Throws, as Lambda then fails the whole batch, when the answer is
 * not an object or an entry names no message of the batch.
 */
function failedMessageIds(
  response: unknown,
  records: SQSRecord[],
): Set<string> {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') {
    throw new InvalidBatchResponseError(`got ${preview(response)}`);
  }
  const failures = (response as { batchItemFailures?: unknown })
    .batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) {
    throw new InvalidBatchResponseError('batchItemFailures is not a list');
  }
  const ids = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) {
      throw new InvalidBatchResponseError(
        `itemIdentifier ${preview(id)} names no message of the batch`,
      );
    }
    failed.add(id);
  }
  return failed;
}

/** Turns a received message into the record Lambda's event carries. */
export function toSqsRecord(
  message: Message,
  queueArn: string,
  region: string,
): SQSRecord {
  const md5 = message.MD5OfMessageAttributes;
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: recordAttributes(message.Attributes ?? {}),
    messageAttributes: recordMessageAttributes(message.MessageAttributes),
    ...(md5 === undefined ? {} : { md5OfMessageAttributes: md5 }),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function recordAttributes(
  attributes: Partial<Record<string, string>>,
): SQSRecordAttributes {
  const { ApproximateReceiveCount, SentTimestamp, SenderId } = attributes;
  return {
    ApproximateReceiveCount: ApproximateReceiveCount ?? '',
    SentTimestamp: SentTimestamp ?? '',
    SenderId: SenderId ?? '',
    ApproximateFirstReceiveTimestamp:
      attributes.ApproximateFirstReceiveTimestamp ?? '',
    ...attributes,
  };
}

function recordMessageAttributes(
  attributes: Record<string, MessageAttributeValue> = {},
): Record<string, SQSMessageAttribute> {
  const entries = Object.entries(attributes).map(([name, value]) => {
    const binary = value.BinaryValue;
    const attribute: SQSMessageAttribute = {
      ...(value.StringValue === undefined
        ? {}
        : { stringValue: value.StringValue }),
      ...(binary === undefined
        ? {}
        : { binaryValue: Buffer.from(binary).toString('base64') }),
      // Lambda always sends the list fields, and always empty.
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
    return [name, attribute] as const;
  });
  return Object.fromEntries(entries);
}
