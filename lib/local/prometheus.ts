import { readFileSync } from 'node:fs';
import { Counter, Gauge, Registry } from 'prom-client';
import { CONSUMER_METRICS } from '../infra/contracts.ts';
import type { LocalMetrics } from './local-metrics.ts';
import { registerCallbackMetrics } from './prometheus-callbacks.ts';
import { registerBucketHistogram } from './prometheus-histogram.ts';
import {
  QUEUE_GAUGES,
  type QueueReader,
  type QueueSource,
  registerQueueGauges,
} from './prometheus-queues.ts';

/**
 * The Prometheus names of the pipeline's metrics. They follow the
 * CloudWatch names, so that the dashboard on AWS and the one in Grafana
 * read alike, in Prometheus's conventions: snake case, `_total` on
 * counters, the unit in the name, the task type as label `task_type`
 * (CloudWatch: dimension `TaskType`).
 *
 * | CloudWatch (namespace `Tasklane`, or AWS/SQS) | Prometheus |
 * | --- | --- |
 * | TaskCompleted (Sum) | tasklane_task_completed_total |
 * | TaskFailed (Sum) | tasklane_task_failed_total |
 * | TaskRetried (Sum) | tasklane_task_retried_total |
 * | TaskDeadLettered (Sum) | tasklane_task_dead_lettered_total |
 * | TaskLatency (p50, p99) | tasklane_task_latency_milliseconds (histogram) |
 * | ApproximateNumberOfMessagesVisible | tasklane_queue_messages |
 * | ApproximateNumberOfMessagesNotVisible | tasklane_queue_messages_in_flight |
 * | ApproximateNumberOfMessagesDelayed | tasklane_queue_messages_delayed |
 * | the same as the first, of a `-dlq` queue | tasklane_dead_letter_messages |
 * | - | tasklane_info{version, prefix} |
 *
 * The callback dispatcher's metrics: see prometheus-callbacks.ts.
 *
 * CloudWatch's ApproximateAgeOfOldestMessage has no counterpart: SQS
 * reports it only to CloudWatch, not through GetQueueAttributes.
 */
export const PROMETHEUS_METRICS = {
  completed: 'tasklane_task_completed_total',
  failed: 'tasklane_task_failed_total',
  retried: 'tasklane_task_retried_total',
  deadLettered: 'tasklane_task_dead_lettered_total',
  latency: 'tasklane_task_latency_milliseconds',
  queueMessages: QUEUE_GAUGES.visible,
  queueMessagesInFlight: QUEUE_GAUGES.inFlight,
  queueMessagesDelayed: QUEUE_GAUGES.delayed,
  deadLetterMessages: QUEUE_GAUGES.deadLetters,
  info: 'tasklane_info',
} as const;

/** What the metrics read of a running pipeline; a LocalPipeline fits. */
export interface MetricsSource {
  /** Start of every resource name, exposed on `tasklane_info`. */
  readonly prefix: string;
  /** The consumers' metrics by task type. */
  readonly metrics: ReadonlyMap<
    string,
    Pick<LocalMetrics, 'totals' | 'histograms'>
  >;
  readonly resources: QueueSource;
  /** The callback dispatcher's metrics. @default none exposed */
  readonly callbackMetrics?: Pick<LocalMetrics, 'totals' | 'histograms'>;
}

/** Options of {@link createPipelineRegistry}. */
export interface PipelineRegistryOptions {
  /** Exposed as label `version` of `tasklane_info`. */
  readonly version: string;
  /** Reads a queue's counts at scrape time, such as sqsQueueReader's. */
  readonly readQueue: QueueReader;
}

type CounterKey = 'completed' | 'failed' | 'retried' | 'deadLettered';

const COUNTER_HELP: Record<CounterKey, string> = {
  completed: 'Tasks completed',
  failed: 'Tasks failed for good: dead-lettered, invalid or out of retries',
  retried: 'Failed attempts followed by a scheduled retry',
  deadLettered: 'Tasks sent to the dead-letter queue',
};

/**
 * A prom-client Registry, apart from the global one, holding the
 * pipeline's metrics. Every value is read when a scrape collects it: the
 * consumers' totals from LocalMetrics, the queue counts from SQS.
 *
 * @example
 * const registry = createPipelineRegistry(pipeline, {
 *   version: '0.1.0',
 *   readQueue: sqsQueueReader(pipeline.clients.sqs),
 * });
 * const text = await registry.metrics();
 */
export function createPipelineRegistry(
  source: MetricsSource,
  options: PipelineRegistryOptions,
): Registry {
  const registry = new Registry();
  for (const key of Object.keys(COUNTER_HELP) as CounterKey[]) {
    registerConsumerCounter(registry, source, key);
  }
  registerLatencyHistogram(registry, source);
  if (source.callbackMetrics) {
    registerCallbackMetrics(registry, source.callbackMetrics);
  }
  registerQueueGauges(registry, source.resources, options.readQueue);
  registerInfo(registry, source.prefix, options.version);
  return registry;
}

/**
 * A counter per task type, set from the consumers' total at each scrape.
 * Every task type gets a series, at 0 until something happens, so that a
 * rate of failures is 0 rather than missing.
 */
function registerConsumerCounter(
  registry: Registry,
  source: MetricsSource,
  key: CounterKey,
): void {
  const cloudWatchName = CONSUMER_METRICS[key];
  new Counter({
    name: PROMETHEUS_METRICS[key],
    help: `${COUNTER_HELP[key]} (CloudWatch: Tasklane ${cloudWatchName})`,
    labelNames: ['task_type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [taskType, metrics] of source.metrics) {
        const total = metrics.totals.get(cloudWatchName)?.sum ?? 0;
        this.inc({ task_type: taskType }, total);
      }
    },
  });
}

function registerLatencyHistogram(
  registry: Registry,
  source: MetricsSource,
): void {
  const name = CONSUMER_METRICS.latency;
  registerBucketHistogram(registry, {
    name: PROMETHEUS_METRICS.latency,
    help:
      'Milliseconds from the sent time of a task to its completion, ' +
      `retry delays included (CloudWatch: Tasklane ${name})`,
    read: () =>
      [...source.metrics].flatMap(([taskType, metrics]) => {
        const histogram = metrics.histograms.get(name);
        if (!histogram) return [];
        const sum = metrics.totals.get(name)?.sum ?? 0;
        return [{ labels: { task_type: taskType }, histogram, sum }];
      }),
  });
}

function registerInfo(registry: Registry, prefix: string, version: string) {
  const info = new Gauge({
    name: PROMETHEUS_METRICS.info,
    help: 'Always 1; the labels tell the version and the resource prefix',
    labelNames: ['version', 'prefix'],
    registers: [registry],
  });
  info.set({ version, prefix }, 1);
}

/** The version in the project's package.json. */
export function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as {
    version: string;
  };
  return version;
}
