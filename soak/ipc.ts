/**
 * What the soak's parent process and its consumer process tell each other
 * over the IPC channel of `child_process.fork`, and the configuration the
 * consumer process starts with.
 */
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import type { PollerStats } from '../lib/local/poller.ts';
import type { RetryPolicy } from '../lib/retry.ts';

/** Environment variable carrying the consumer process's configuration. */
export const CONSUMER_CONFIG_ENV = 'TASKLANE_SOAK_CONSUMER';

/** One task queue the consumer process polls. */
export interface ConsumerQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** Everything the consumer process needs to attach to the emulators. */
export interface ConsumerConfig {
  readonly messagingEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly queues: readonly ConsumerQueue[];
  readonly tables: {
    readonly idempotency: string;
    readonly statusOutbox: string;
    readonly callbackTargets: string;
    readonly effects: string;
  };
  /** Number of this consumer process, from 1. */
  readonly generation: number;
  readonly retry: RetryPolicy;
  readonly callbackIntervalMs: number;
  readonly functionTimeoutMs: number;
  readonly concurrency: number;
  readonly logLevel: LogLevel;
}

/** A consumer process's pollers' counts, summed, and its batch durations. */
export interface ConsumerStats extends PollerStats {
  /** Longest time a handler took for one batch, in ms. */
  readonly longestBatchMs: number;
  /** Batches whose handler ran past the function timeout. */
  readonly overruns: number;
}

/** Sent by the consumer process. */
export type ChildMessage =
  /** Its pollers run. */
  | { readonly kind: 'ready'; readonly generation: number }
  /** Its counts, every 100 ms and when it stops. */
  | {
      readonly kind: 'stats';
      readonly generation: number;
      readonly stats: ConsumerStats;
    }
  /** A delivery to schedule: the parent runs the scheduler. */
  | { readonly kind: 'schedule'; readonly target: string; readonly at: number };

/** Sent by the parent: stop polling, finish the batches in flight, exit. */
export interface StopMessage {
  readonly kind: 'stop';
}

/** The counts of two processes (or pollers) together. */
export function addStats(a: ConsumerStats, b: ConsumerStats): ConsumerStats {
  return {
    batches: a.batches + b.batches,
    received: a.received + b.received,
    deleted: a.deleted + b.deleted,
    failed: a.failed + b.failed,
    longestBatchMs: Math.max(a.longestBatchMs, b.longestBatchMs),
    overruns: a.overruns + b.overruns,
  };
}

export const NO_STATS: ConsumerStats = {
  batches: 0,
  received: 0,
  deleted: 0,
  failed: 0,
  longestBatchMs: 0,
  overruns: 0,
};

/** Records received and not yet deleted or left for a retry. */
export function inFlight(stats: PollerStats): number {
  return stats.received - stats.deleted - stats.failed;
}
