import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QueueFullError } from './errors.ts';
import type { OutgoingMessage, ProducerLogger } from './producer-send.ts';

/** Entries SQS takes in one SendMessageBatch request. */
export const MAX_BATCH_ENTRIES = 10;
/** Bytes SQS takes in one SendMessageBatch request, all entries together. */
export const MAX_BATCH_BYTES = 1_048_576;

const DEPTH_ATTRIBUTES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

/** The messages of one call that go to one queue. */
export interface QueueGroup {
  readonly queueName: string;
  readonly url: string;
  readonly messages: readonly OutgoingMessage[];
  /** The same messages split into SendMessageBatch requests. */
  readonly batches: readonly (readonly OutgoingMessage[])[];
  /** The queue's cached depth, shared by every call within the window. */
  readonly count: { depth: number };
}

/** Queue URLs and depths one producer keeps, and its capacity guard. */
export interface QueueBook {
  /** Groups messages by queue and request, with each queue's URL and depth. */
  group(messages: readonly OutgoingMessage[]): Promise<QueueGroup[]>;
  /** Throws QueueFullError if any queue would pass capacity, else reserves. */
  reserve(groups: readonly QueueGroup[]): void;
  /** Gives back the room of messages that were not sent after all. */
  release(group: QueueGroup, unsent: number): void;
}

/** What the queue book needs; the logger hears of refused tasks. */
export interface QueueBookOptions {
  readonly sqs: SQSClient;
  readonly capacity: number;
  readonly depthCacheMs: number;
  readonly logger: ProducerLogger;
}

/** A queue depth read; sends reserve room by raising `count.depth`. */
interface DepthReading {
  readonly readAt: number;
  readonly count: Promise<{ depth: number }>;
}

/**
 * Creates the queue book. Concurrent calls share one depth read per queue
 * and reserve room in one turn of the event loop, so a burst within the
 * cache window counts in full against the capacity.
 */
export function createQueueBook(options: QueueBookOptions): QueueBook {
  const urls = new Map<string, Promise<string>>();
  const depths = new Map<string, DepthReading>();

  const urlOf = (queueName: string) => {
    const cached = urls.get(queueName);
    if (cached) return cached;
    return remember(urls, queueName, readUrl(options.sqs, queueName));
  };
  const depthOf = (queueName: string, url: string) => {
    const cached = depths.get(queueName);
    if (cached && Date.now() - cached.readAt < options.depthCacheMs) {
      return cached.count;
    }
    const count = readDepth(options.sqs, url);
    remember(depths, queueName, { readAt: Date.now(), count });
    return count;
  };

  return {
    async group(messages) {
      const byQueue = Map.groupBy(messages, (message) => message.queueName);
      return Promise.all(
        [...byQueue].map(async ([queueName, grouped]) => {
          const url = await urlOf(queueName);
          const count = await depthOf(queueName, url);
          const batches = splitBatches(grouped, (m) => m.bytes);
          return { queueName, url, messages: grouped, batches, count };
        }),
      );
    },
    reserve: (groups) => reserve(options, groups),
    release(group, unsent) {
      group.count.depth -= unsent;
    },
  };
}

/**
 * Splits items, in order, into batches of at most `maxEntries` items and
 * `maxBytes` bytes. An item larger than `maxBytes` goes alone in its batch.
 */
export function splitBatches<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  maxEntries = MAX_BATCH_ENTRIES,
  maxBytes = MAX_BATCH_BYTES,
): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (batch.length === maxEntries || bytes + size > maxBytes) {
      if (batch.length > 0) batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Caches a pending read; a failed read is dropped so the next one retries. */
function remember<V extends Promise<unknown> | DepthReading>(
  cache: Map<string, V>,
  key: string,
  value: V,
): V {
  cache.set(key, value);
  const promise = value instanceof Promise ? value : value.count;
  promise.catch(() => {
    if (cache.get(key) === value) cache.delete(key);
  });
  return value;
}

async function readUrl(sqs: SQSClient, queueName: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: queueName }),
  );
  if (!QueueUrl) throw new Error(`SQS returned no URL for ${queueName}`);
  return QueueUrl;
}

async function readDepth(
  sqs: SQSClient,
  url: string,
): Promise<{ depth: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: DEPTH_ATTRIBUTES,
    }),
  );
  const depth = DEPTH_ATTRIBUTES.reduce(
    (sum, name) => sum + Number(Attributes[name] ?? 0),
    0,
  );
  return { depth };
}

/** Checks every queue first, so a full queue stops the call before a send. */
function reserve(options: QueueBookOptions, groups: readonly QueueGroup[]) {
  for (const { queueName, messages, count } of groups) {
    if (count.depth + messages.length > options.capacity) {
      options.logger.warn('queue full, tasks refused', {
        queueName,
        depth: count.depth,
        capacity: options.capacity,
        taskIds: messages.map((m) => m.envelope.id),
      });
      throw new QueueFullError(queueName, count.depth, options.capacity);
    }
  }
  for (const group of groups) group.count.depth += group.messages.length;
}
