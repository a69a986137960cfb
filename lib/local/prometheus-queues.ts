import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Gauge, type Registry } from 'prom-client';
import { queueNameOf } from '../queue-names.ts';
import type { LocalResources } from './resources.ts';

/** Messages of one queue by state, as SQS approximates them. */
export interface QueueCounts {
  /** Ready to be received (ApproximateNumberOfMessages). */
  readonly visible: number;
  /** Received and not yet deleted (ApproximateNumberOfMessagesNotVisible). */
  readonly inFlight: number;
  /** Sent with a delay not yet over (ApproximateNumberOfMessagesDelayed). */
  readonly delayed: number;
}

/** Reads the counts of the queue at a URL. */
export type QueueReader = (queueUrl: string) => Promise<QueueCounts>;

/** The queues whose counts the gauges expose. */
export type QueueSource = Pick<
  LocalResources,
  'queues' | 'deadLetterQueueUrls'
>;

/** A {@link QueueReader} that asks SQS with GetQueueAttributes. */
export function sqsQueueReader(sqs: SQSClient): QueueReader {
  return async (queueUrl) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const count = (name: QueueAttributeName) => Number(Attributes[name] ?? 0);
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
      delayed: count('ApproximateNumberOfMessagesDelayed'),
    };
  };
}

/**
 * Shares one read among the callers that ask while it runs; the next call
 * after it settles reads anew. A scrape collects every gauge at once, so
 * each queue is asked once per scrape, not once per gauge.
 */
export function coalesce<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** A queue's labels and its counts at one scrape. */
interface QueueSample {
  readonly labels: Record<string, string>;
  readonly counts: QueueCounts;
}

interface QueuesSample {
  readonly taskQueues: readonly QueueSample[];
  readonly deadLetterQueues: readonly QueueSample[];
}

async function sampleQueues(
  source: QueueSource,
  read: QueueReader,
): Promise<QueuesSample> {
  const taskQueues = source.queues.map(async (queue) => ({
    labels: {
      queue: queue.name,
      task_type: queue.taskType,
      priority: queue.priority,
    },
    counts: await read(queue.url),
  }));
  const deadLetterQueues = [...source.deadLetterQueueUrls].map(
    async ([taskType, url]) => ({
      labels: { queue: queueNameOf(url), task_type: taskType },
      counts: await read(url),
    }),
  );
  // One Promise.all over both, so that a failure of either is the
  // scrape's, and no read is left rejected with nobody waiting on it.
  const [tasks, deadLetters] = await Promise.all([
    Promise.all(taskQueues),
    Promise.all(deadLetterQueues),
  ]);
  return { taskQueues: tasks, deadLetterQueues: deadLetters };
}

/** Names of the queue gauges. */
export const QUEUE_GAUGES = {
  visible: 'tasklane_queue_messages',
  inFlight: 'tasklane_queue_messages_in_flight',
  delayed: 'tasklane_queue_messages_delayed',
  deadLetters: 'tasklane_dead_letter_messages',
} as const;

const HELP = {
  visible:
    'Visible messages of a task queue (CloudWatch: AWS/SQS ' +
    'ApproximateNumberOfMessagesVisible)',
  inFlight:
    'Messages of a task queue received and not yet deleted, retries ' +
    'waiting out their delay included (CloudWatch: AWS/SQS ' +
    'ApproximateNumberOfMessagesNotVisible)',
  delayed:
    'Messages of a task queue sent with a delay not yet over (CloudWatch: ' +
    'AWS/SQS ApproximateNumberOfMessagesDelayed)',
  deadLetters:
    'Visible messages of a dead-letter queue (CloudWatch: AWS/SQS ' +
    'ApproximateNumberOfMessagesVisible of the -dlq queue)',
} as const;

/**
 * Registers the queue gauges. Their values are read from SQS when a scrape
 * collects them, once per queue and scrape.
 */
export function registerQueueGauges(
  registry: Registry,
  source: QueueSource,
  read: QueueReader,
): void {
  const sample = coalesce(() => sampleQueues(source, read));
  const taskQueueGauge = (state: 'visible' | 'inFlight' | 'delayed') =>
    new Gauge({
      name: QUEUE_GAUGES[state],
      help: HELP[state],
      labelNames: ['queue', 'task_type', 'priority'],
      registers: [registry],
      async collect() {
        const { taskQueues } = await sample();
        this.reset();
        for (const q of taskQueues) this.set(q.labels, q.counts[state]);
      },
    });

  taskQueueGauge('visible');
  taskQueueGauge('inFlight');
  taskQueueGauge('delayed');
  new Gauge({
    name: QUEUE_GAUGES.deadLetters,
    help: HELP.deadLetters,
    labelNames: ['queue', 'task_type'],
    registers: [registry],
    async collect() {
      const { deadLetterQueues } = await sample();
      this.reset();
      for (const q of deadLetterQueues) this.set(q.labels, q.counts.visible);
    },
  });
}
