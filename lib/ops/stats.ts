import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Priority } from '../envelope.ts';
import { DEFAULT_THRESHOLDS } from '../infra/contracts.ts';
import { formatDuration, formatTable } from './format.ts';

/** What a queue is for: a task queue of a priority, or a dead-letter queue. */
export type QueueKind = Priority | 'dlq';

/** Limits above which a task queue is marked (R18, R19). */
export interface StatsThresholds {
  /** Visible messages. @default 8000 */
  readonly depth: number;
  /** Age of the oldest message, in ms. @default 1000 */
  readonly ageMs: number;
}

/** The standard's values: the stack's alarms use the same. */
export const DEFAULT_STATS_THRESHOLDS: StatsThresholds = {
  depth: DEFAULT_THRESHOLDS.queueDepth,
  ageMs: DEFAULT_THRESHOLDS.latencyMs,
};

/** What one queue holds. */
export interface QueueStats {
  readonly name: string;
  readonly kind: QueueKind;
  /** Visible messages: ApproximateNumberOfMessages. */
  readonly depth: number;
  /** Received, not yet deleted: ApproximateNumberOfMessagesNotVisible. */
  readonly inFlight: number;
  /** Waiting for their delay: ApproximateNumberOfMessagesDelayed. */
  readonly delayed: number;
  /** Age of the oldest message in ms, 0 when empty; null when unknown. */
  readonly oldestAgeMs: number | null;
}

/** A threshold a task queue passes. */
export type Breach = 'depth' | 'age';

/** Queue statistics with the thresholds it passes. */
export interface CheckedQueueStats extends QueueStats {
  readonly breaches: readonly Breach[];
}

/** Reads the age of a queue's oldest message in ms; null when unknown. */
export type AgeReader = (queueName: string) => Promise<number | null>;

/** Ages read just now from the emulator's own view of each queue. */
export interface EmulatorAgeSource {
  readonly source: 'emulator';
}

/** Ages from CloudWatch's metric ApproximateAgeOfOldestMessage. */
export interface CloudWatchAgeSource {
  readonly source: 'cloudwatch';
  /** Minutes looked back for a datapoint; a queue without one shows `-`. */
  readonly lookbackMinutes: number;
  /**
   * The oldest of the datapoints shown (ISO 8601): every age is as recent
   * as this or more. Absent when no queue has a datapoint.
   */
  readonly asOf?: string;
  /** Why CloudWatch gave no ages at all, when the request failed. */
  readonly error?: string;
}

/** Where the ages of the oldest messages of a stats run came from. */
export type AgeSource = EmulatorAgeSource | CloudWatchAgeSource;

const COUNT_ATTRIBUTES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

/** The kind of a queue by the naming rule; undefined for other queues. */
export function queueKind(name: string): QueueKind | undefined {
  const suffix = /-(high|normal|dlq)$/.exec(name)?.[1];
  return suffix as QueueKind | undefined;
}

/** Reads a queue's counts and the age of its oldest message. */
export async function readQueueStats(
  sqs: SQSClient,
  queue: { readonly name: string; readonly url: string },
  ageOf: AgeReader,
): Promise<QueueStats> {
  const kind = queueKind(queue.name);
  if (!kind) throw new Error(`${queue.name} is not a tasklane queue name`);
  const [{ Attributes = {} }, oldestAgeMs] = await Promise.all([
    sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: COUNT_ATTRIBUTES,
      }),
    ),
    ageOf(queue.name),
  ]);
  const count = (name: QueueAttributeName) => Number(Attributes[name] ?? 0);
  return {
    name: queue.name,
    kind,
    depth: count('ApproximateNumberOfMessages'),
    inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    delayed: count('ApproximateNumberOfMessagesDelayed'),
    oldestAgeMs,
  };
}

/**
 * Marks the task queues over a threshold; dead-letter queues have their
 * own alarm (any message) and no mark here.
 */
export function checkThresholds(
  stats: readonly QueueStats[],
  thresholds: StatsThresholds,
): CheckedQueueStats[] {
  return stats.map((queue) => {
    const breaches: Breach[] = [];
    if (queue.kind !== 'dlq') {
      if (queue.depth > thresholds.depth) breaches.push('depth');
      const age = queue.oldestAgeMs ?? 0;
      if (age > thresholds.ageMs) breaches.push('age');
    }
    return { ...queue, breaches };
  });
}

const KIND_ORDER: Record<QueueKind, number> = { high: 0, normal: 1, dlq: 2 };

/** By task type, then high, normal, dead-letter queue. */
export function sortQueues<T extends QueueStats>(stats: readonly T[]): T[] {
  const lane = (q: QueueStats) => q.name.replace(/-(high|normal|dlq)$/, '');
  return [...stats].sort(
    (a, b) =>
      lane(a).localeCompare(lane(b)) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind],
  );
}

/**
 * The statistics as an aligned table; a `!` marks each value over its
 * threshold, and a footer names the thresholds, the dead letters and,
 * when given, where the ages came from.
 */
export function formatStats(
  stats: readonly CheckedQueueStats[],
  thresholds: StatsThresholds,
  age?: AgeSource,
): string {
  const mark = (queue: CheckedQueueStats, breach: Breach, text: string) =>
    queue.breaches.includes(breach) ? `${text} !` : `${text}  `;
  const rows = stats.map((q) => [
    q.name,
    q.kind,
    mark(q, 'depth', String(q.depth)),
    String(q.inFlight),
    String(q.delayed),
    mark(q, 'age', formatDuration(q.oldestAgeMs)),
  ]);
  const table = formatTable(
    [
      { header: 'QUEUE' },
      { header: 'KIND' },
      { header: 'DEPTH  ', align: 'right' },
      { header: 'IN FLIGHT', align: 'right' },
      { header: 'DELAYED', align: 'right' },
      { header: 'OLDEST  ', align: 'right' },
    ],
    rows,
  );
  const source = age ? [describeAgeSource(age)] : [];
  return [table, '', ...footer(stats, thresholds), ...source].join('\n');
}

/** One line on where the ages came from and how fresh they are. */
export function describeAgeSource(age: AgeSource): string {
  if (age.source === 'emulator') return 'ages: read from the emulator now';
  if (age.error) return `ages unknown: CloudWatch: ${age.error}`;
  const lookback = `no datapoint in ${age.lookbackMinutes} min`;
  if (!age.asOf) return `ages unknown: CloudWatch has ${lookback}`;
  const at = `${age.asOf.slice(0, 16).replace('T', ' ')} UTC`;
  return (
    `ages: CloudWatch ApproximateAgeOfOldestMessage as of ${at} or ` +
    `later (it lags a few minutes); - = ${lookback}`
  );
}

function footer(
  stats: readonly CheckedQueueStats[],
  thresholds: StatsThresholds,
): string[] {
  const breached = stats.filter((q) => q.breaches.length > 0).length;
  const letters = stats.filter((q) => q.kind === 'dlq' && q.depth > 0);
  const total = letters.reduce((sum, q) => sum + q.depth + q.inFlight, 0);
  const where = letters.map((q) => `${q.name} ${q.depth + q.inFlight}`);
  return [
    `thresholds: depth > ${thresholds.depth} messages (R18), oldest ` +
      `message > ${thresholds.ageMs} ms (R19); ! marks a breach`,
    breached === 0
      ? 'no task queue over a threshold'
      : `${breached} task queue(s) over a threshold`,
    total === 0
      ? 'dead letters: none'
      : `dead letters: ${total} (${where.join(', ')})`,
  ];
}

/** True when any queue passes a threshold. */
export function anyBreach(stats: readonly CheckedQueueStats[]): boolean {
  return stats.some((queue) => queue.breaches.length > 0);
}
