import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { LocalMetrics } from '../../lib/local/local-metrics.ts';
import {
  createPipelineRegistry,
  PROMETHEUS_METRICS as M,
  type MetricsSource,
} from '../../lib/local/prometheus.ts';
import {
  coalesce,
  type QueueCounts,
  type QueueReader,
} from '../../lib/local/prometheus-queues.ts';
import type { LocalQueue } from '../../lib/local/resources.ts';
import { parseExposition, sampleValue } from '../helpers/prometheus.ts';

const QUEUES_AT = 'http://sqs.localhost:4566/000000000000';

function queue(taskType: string, priority: 'high' | 'normal'): LocalQueue {
  const name = `t-${taskType.replace('.', '-')}-${priority}`;
  return { taskType, priority, name, url: `${QUEUES_AT}/${name}`, arn: name };
}

/** Two task types; only demo.flaky has done anything. */
function fakeSource(): MetricsSource {
  const demo = new LocalMetrics('demo.flaky');
  demo.addMetric('TaskCompleted', MetricUnit.Count, 1);
  demo.addMetric('TaskCompleted', MetricUnit.Count, 1);
  demo.addMetric('TaskFailed', MetricUnit.Count, 1);
  demo.addMetric('TaskLatency', MetricUnit.Milliseconds, 40);
  demo.addMetric('TaskLatency', MetricUnit.Milliseconds, 1_200);
  return {
    prefix: 't',
    metrics: new Map([
      ['demo.flaky', demo],
      ['data.backup', new LocalMetrics('data.backup')],
    ]),
    resources: {
      queues: [queue('demo.flaky', 'high'), queue('demo.flaky', 'normal')],
      deadLetterQueueUrls: new Map([
        ['demo.flaky', `${QUEUES_AT}/t-demo-flaky-dlq`],
      ]),
    },
  };
}

/** Counts derived from the queue name, so each value is told apart. */
const COUNTS: Record<string, QueueCounts> = {
  't-demo-flaky-high': { visible: 9_000, inFlight: 3, delayed: 1 },
  't-demo-flaky-normal': { visible: 5, inFlight: 0, delayed: 0 },
  't-demo-flaky-dlq': { visible: 2, inFlight: 1, delayed: 0 },
};
const reader = () =>
  vi.fn<QueueReader>(async (url) => {
    const counts = COUNTS[url.split('/').pop() ?? ''];
    if (!counts) throw new Error(`no queue at ${url}`);
    return counts;
  });

async function scrape(readQueue: QueueReader, source = fakeSource()) {
  const registry = createPipelineRegistry(source, {
    version: '9.9.9',
    readQueue,
  });
  return parseExposition(await registry.metrics());
}

describe('createPipelineRegistry', () => {
  it('exposes the consumer totals per task type, 0 where nothing ran', async () => {
    const samples = await scrape(reader());

    const demo = { task_type: 'demo.flaky' };
    const backup = { task_type: 'data.backup' };
    expect(sampleValue(samples, M.completed, demo)).toBe(2);
    expect(sampleValue(samples, M.failed, demo)).toBe(1);
    expect(sampleValue(samples, M.retried, demo)).toBe(0);
    expect(sampleValue(samples, M.deadLettered, demo)).toBe(0);
    expect(sampleValue(samples, M.completed, backup)).toBe(0);
    expect(sampleValue(samples, M.failed, backup)).toBe(0);
  });

  it('exposes the latency histogram of the task types that have one', async () => {
    const samples = await scrape(reader());

    const bucket = (le: string) =>
      sampleValue(samples, `${M.latency}_bucket`, {
        task_type: 'demo.flaky',
        le,
      });
    expect(bucket('25')).toBe(0);
    expect(bucket('50')).toBe(1);
    expect(bucket('1000')).toBe(1);
    expect(bucket('2500')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
    expect(sampleValue(samples, `${M.latency}_sum`)).toBe(1_240);
    expect(sampleValue(samples, `${M.latency}_count`)).toBe(2);
  });

  it('exposes the queue counts with queue, task type and priority', async () => {
    const samples = await scrape(reader());

    const high = {
      queue: 't-demo-flaky-high',
      task_type: 'demo.flaky',
      priority: 'high',
    };
    expect(sampleValue(samples, M.queueMessages, high)).toBe(9_000);
    expect(sampleValue(samples, M.queueMessagesInFlight, high)).toBe(3);
    expect(sampleValue(samples, M.queueMessagesDelayed, high)).toBe(1);
    expect(
      sampleValue(samples, M.queueMessages, { queue: 't-demo-flaky-normal' }),
    ).toBe(5);
    expect(
      sampleValue(samples, M.deadLetterMessages, {
        queue: 't-demo-flaky-dlq',
        task_type: 'demo.flaky',
      }),
    ).toBe(2);
    expect(
      sampleValue(samples, M.info, { version: '9.9.9', prefix: 't' }),
    ).toBe(1);
  });

  it('asks each queue once per scrape, however many gauges read it', async () => {
    const read = reader();

    await scrape(read);

    expect(read).toHaveBeenCalledTimes(3);
  });

  it('fails the scrape when a queue cannot be read', async () => {
    const registry = createPipelineRegistry(fakeSource(), {
      version: '1',
      readQueue: async () => {
        throw new Error('connection refused');
      },
    });

    await expect(registry.metrics()).rejects.toThrow(/connection refused/);
  });
});

describe('coalesce', () => {
  it('shares a read among concurrent callers, then reads anew', async () => {
    // Prepare
    let reads = 0;
    const read = coalesce(async () => ++reads);

    // Act
    const concurrent = await Promise.all([read(), read(), read()]);
    const later = await read();

    // Assess
    expect(concurrent).toEqual([1, 1, 1]);
    expect(later).toBe(2);
  });
});
