import {
  type CloudWatchClient,
  type GetMetricDataCommandInput,
  type MetricDataResult,
  paginateGetMetricData,
} from '@aws-sdk/client-cloudwatch';
import type { AgeReader, CloudWatchAgeSource } from './stats.ts';

interface InspectedMessage {
  readonly sentTimestamp?: number;
}

/** What fauxqs's inspection endpoint returns for one queue. */
interface QueueInspection {
  readonly messages?: {
    readonly ready?: readonly InspectedMessage[];
    readonly delayed?: readonly InspectedMessage[];
    readonly inflight?: readonly { readonly message?: InspectedMessage }[];
  };
}

/**
 * Reads ages from the emulator's inspection endpoint
 * (`GET /_fauxqs/queues/<name>`), which lists every message, ready, delayed
 * or in flight, without receiving any: unlike a ReceiveMessage peek it
 * leaves receive counts and visibility untouched. Another emulator, or an
 * error, gives null.
 */
export function emulatorAgeReader(
  endpoint: string,
  now: () => number = Date.now,
): AgeReader {
  return async (queueName) => {
    const url = new URL(
      `/_fauxqs/queues/${encodeURIComponent(queueName)}`,
      endpoint,
    );
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) return null;
      return oldestAgeMs((await response.json()) as QueueInspection, now());
    } catch {
      return null;
    }
  };
}

/** The age of the oldest message at `now`: 0 when empty, null if unreadable. */
export function oldestAgeMs(
  inspection: QueueInspection,
  now: number,
): number | null {
  const { messages } = inspection;
  if (!messages) return null;
  const sent = [
    ...(messages.ready ?? []),
    ...(messages.delayed ?? []),
    ...(messages.inflight ?? []).map((entry) => entry.message ?? {}),
  ].map((message) => message.sentTimestamp);
  let oldest = now;
  for (const time of sent) {
    if (typeof time !== 'number') return null;
    oldest = Math.min(oldest, time);
  }
  return now - oldest;
}

/**
 * Minutes looked back for a datapoint: SQS publishes the metric once a
 * minute and it arrives a few minutes late. 15 one-minute datapoints of
 * 500 queues (7,500) stay far below the 100,800 one response holds.
 */
export const AGE_LOOKBACK_MINUTES = 15;

/** Metric queries one GetMetricData request takes at most. */
const QUERIES_PER_REQUEST = 500;

/** A queue's newest datapoint of the age metric. */
interface AgeDatapoint {
  readonly ageMs: number;
  readonly at: Date;
}

/** CloudWatch's ages of a stats run, and where they came from. */
export interface CloudWatchAges {
  readonly reader: AgeReader;
  readonly source: CloudWatchAgeSource;
}

/**
 * Reads the age of the oldest message of every queue from CloudWatch
 * (SQS has no attribute for it) and answers each queue from what it read.
 *
 * All queues go into one GetMetricData request (one query each, up to 500
 * a request) before any queue is read, rather than one request per call
 * of the reader: a stats run knows its queues up front, so one round trip
 * replaces one per queue and the reader stays a lookup. The SDK retries
 * as usual; a request that still fails leaves every age unknown and names
 * the error, as the counts are worth printing without ages.
 */
export async function cloudWatchAges(
  cloudwatch: CloudWatchClient,
  queueNames: readonly string[],
  now: number = Date.now(),
): Promise<CloudWatchAges> {
  const base = {
    source: 'cloudwatch',
    lookbackMinutes: AGE_LOOKBACK_MINUTES,
  } as const;
  let ages: Map<string, AgeDatapoint>;
  try {
    ages = await readNewestAges(cloudwatch, queueNames, now);
  } catch (error) {
    return { reader: async () => null, source: { ...base, error: `${error}` } };
  }

  const times = [...ages.values()].map((datapoint) => datapoint.at.getTime());
  const asOf = times.length > 0 && new Date(Math.min(...times)).toISOString();
  return {
    reader: async (queueName) => ages.get(queueName)?.ageMs ?? null,
    source: asOf ? { ...base, asOf } : base,
  };
}

/** The GetMetricData request for the ages of some queues, `q<i>` each. */
export function ageRequest(
  queueNames: readonly string[],
  now: number,
): GetMetricDataCommandInput {
  return {
    StartTime: new Date(now - AGE_LOOKBACK_MINUTES * 60_000),
    EndTime: new Date(now),
    ScanBy: 'TimestampDescending',
    MetricDataQueries: queueNames.map((queueName, i) => ({
      Id: `q${i}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: queueName }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
      ReturnData: true,
    })),
  };
}

async function readNewestAges(
  cloudwatch: CloudWatchClient,
  queueNames: readonly string[],
  now: number,
): Promise<Map<string, AgeDatapoint>> {
  const ages = new Map<string, AgeDatapoint>();
  for (let i = 0; i < queueNames.length; i += QUERIES_PER_REQUEST) {
    const names = queueNames.slice(i, i + QUERIES_PER_REQUEST);
    const pages = paginateGetMetricData(
      { client: cloudwatch },
      ageRequest(names, now),
    );
    for await (const page of pages) {
      for (const result of page.MetricDataResults ?? []) {
        const name = names[Number(result.Id?.slice(1))];
        const newest = newestDatapoint(result);
        if (name && newest) keepNewer(ages, name, newest);
      }
    }
  }
  return ages;
}

/** The newest datapoint of a result, its value in seconds made ms. */
function newestDatapoint(result: MetricDataResult): AgeDatapoint | undefined {
  const { Timestamps = [], Values = [] } = result;
  let newest: AgeDatapoint | undefined;
  for (const [i, at] of Timestamps.entries()) {
    const seconds = Values[i];
    if (seconds === undefined || (newest && newest.at >= at)) continue;
    newest = { ageMs: seconds * 1_000, at };
  }
  return newest;
}

/** Keeps a queue's newest datapoint, should pages repeat a query. */
function keepNewer(
  ages: Map<string, AgeDatapoint>,
  queueName: string,
  datapoint: AgeDatapoint,
): void {
  const known = ages.get(queueName);
  if (!known || known.at < datapoint.at) ages.set(queueName, datapoint);
}
