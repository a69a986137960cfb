import { readFileSync } from 'node:fs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../lib/infra/contracts.ts';
import {
  type MetricsServer,
  startMetricsServer,
} from '../../lib/local/metrics-server.ts';
import { PROMETHEUS_METRICS as M } from '../../lib/local/prometheus.ts';
import { CALLBACK_PROMETHEUS as C } from '../../lib/local/prometheus-callbacks.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  deliveredIds,
  type Receiver,
  startReceiver,
} from '../helpers/callbacks.ts';
import {
  demoEnvelope,
  finalStatus,
  sendBody,
  startTestPipeline,
} from '../helpers/pipeline.ts';
import {
  dashboardQueries,
  metricNamesOf,
  parseExposition,
  ruleExpressions,
  type Sample,
  sampleValue,
} from '../helpers/prometheus.ts';

const DASHBOARD = 'ops/grafana/tasklane-dashboard.json';
const ALERTS = 'ops/prometheus/alerts.yml';
const DEMO = { task_type: 'demo.flaky' };
const NORMAL = { queue: 'test-demo-flaky-normal', ...DEMO, priority: 'normal' };
const HIGH = { queue: 'test-demo-flaky-high', ...DEMO, priority: 'high' };

describe('metrics server on the local pipeline', () => {
  let pipeline: LocalPipeline;
  let server: MetricsServer;
  let receiver: Receiver;
  let samples: Sample[];

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    server = await startMetricsServer({ pipeline, port: 0 });
    receiver = await startReceiver();
    await runWorkload(pipeline, receiver.url('/statuses'));
    await vi.waitFor(
      () => expect(deliveredIds(receiver.requests)).toHaveLength(3),
      { timeout: 10_000, interval: 100 },
    );
    // A task's status is written before its message is deleted: wait for
    // the deletion, so that the queue counts are settled.
    await vi.waitFor(
      async () => {
        samples = await scrape(server);
        expect(sampleValue(samples, M.queueMessagesInFlight, NORMAL)).toBe(0);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  afterAll(async () => {
    await server?.stop();
    await pipeline?.stop();
    await receiver?.close();
  });

  it('counts completed, failed, retried and dead-lettered tasks', () => {
    expect(sampleValue(samples, M.completed, DEMO)).toBe(2);
    expect(sampleValue(samples, M.failed, DEMO)).toBe(1);
    expect(sampleValue(samples, M.retried, DEMO)).toBe(1);
    expect(sampleValue(samples, M.deadLettered, DEMO)).toBe(1);
    expect(
      sampleValue(samples, M.completed, { task_type: 'order.notification' }),
    ).toBe(0);
  });

  it('puts the retried task, over 1 s late, above the 1000 ms bucket', () => {
    const bucket = (le: string) =>
      sampleValue(samples, `${M.latency}_bucket`, { ...DEMO, le });
    expect(bucket('+Inf')).toBe(2);
    expect(bucket('1000')).toBeLessThanOrEqual(1);
    expect(sampleValue(samples, `${M.latency}_count`, DEMO)).toBe(2);
    expect(sampleValue(samples, `${M.latency}_sum`, DEMO)).toBeGreaterThan(
      1_000,
    );
  });

  it('reads the queue counts from SQS at scrape time', () => {
    expect(sampleValue(samples, M.queueMessages, NORMAL)).toBe(0);
    expect(sampleValue(samples, M.queueMessagesDelayed, HIGH)).toBe(1);
    expect(sampleValue(samples, M.queueMessagesDelayed, NORMAL)).toBe(0);
    expect(
      sampleValue(samples, M.deadLetterMessages, {
        queue: 'test-demo-flaky-dlq',
        ...DEMO,
      }),
    ).toBe(1);
    const version = samples.find((s) => s.name === M.info)?.labels.version;
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(sampleValue(samples, M.info, { prefix: 'test' })).toBe(1);
  });

  it('counts the callback statuses each dispatch delivered', () => {
    expect(sampleValue(samples, C.delivered, {})).toBe(3);
    expect(sampleValue(samples, C.deliveryFailed, {})).toBe(0);
    expect(sampleValue(samples, C.deadLettered, {})).toBe(0);
    const count = sampleValue(samples, `${C.oldestStatusAge}_count`, {});
    expect(count).toBe(receiver.requests.length);
    expect(
      sampleValue(samples, `${C.oldestStatusAge}_bucket`, { le: '300000' }),
    ).toBe(count);
  });

  it('serves the text format on /metrics only', async () => {
    const metrics = await fetch(server.url);
    const other = await fetch(server.url.replace('/metrics', '/'));
    const post = await fetch(server.url, { method: 'POST' });

    expect(metrics.headers.get('content-type')).toMatch(
      /^text\/plain; version=0\.0\.4/,
    );
    expect(other.status).toBe(404);
    expect(post.status).toBe(405);
  });

  it('names in every dashboard query only metrics that it serves', () => {
    const served = new Set(samples.map((s) => s.name));
    const queries = dashboardQueries(DASHBOARD);

    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const { panel, expr } of queries) {
      const names = [...metricNamesOf(expr)];
      expect(names, `${panel}: ${expr}`).not.toHaveLength(0);
      const missing = names.filter((name) => !served.has(name));
      expect(missing, `${panel}: ${expr}`).toEqual([]);
    }
  });

  it('names in every alerting rule only metrics that it serves', () => {
    const served = new Set(samples.map((s) => s.name));
    const exprs = ruleExpressions(readFileSync(ALERTS, 'utf8'));

    expect(exprs).toHaveLength(6);
    for (const expr of exprs) {
      const names = [...metricNamesOf(expr)];
      expect(names, expr).not.toHaveLength(0);
      expect(
        names.filter((name) => !served.has(name)),
        expr,
      ).toEqual([]);
    }
  });
});

describe('alerting rules and dashboard thresholds', () => {
  const t = DEFAULT_THRESHOLDS;

  it("use the CloudWatch alarms' default thresholds (R18-R20)", () => {
    const exprs = ruleExpressions(readFileSync(ALERTS, 'utf8')).join('\n');

    expect(exprs).toContain(`${M.queueMessages} > ${t.queueDepth}`);
    expect(exprs).toMatch(new RegExp(`\\) > ${t.latencyMs}\\b`));
    expect(exprs).toMatch(new RegExp(`> ${t.failureRatePercent}\\s*$`, 'm'));
    expect(exprs).toContain(`${M.deadLetterMessages} > 0`);
  });

  it('draws the thresholds on the depth, latency and failure panels', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
    const red = (title: RegExp) =>
      dashboard.panels
        .find((panel: { title: string }) => title.test(panel.title))
        ?.fieldConfig.defaults.thresholds.steps.find(
          (step: { color: string }) => step.color === 'red',
        )?.value;

    expect(red(/^Queue depth/)).toBe(t.queueDepth);
    expect(red(/^Latency/)).toBe(t.latencyMs);
    expect(red(/^Failure rate/)).toBe(t.failureRatePercent);
  });
});

/**
 * One task that succeeds, one dead-lettered at once (its business id does
 * not exist), one that fails once and succeeds on its retry, each with a
 * callback URL, and one sent with a 10-minute delay, which stays delayed
 * through the test.
 */
async function runWorkload(
  pipeline: LocalPipeline,
  callbackUrl: string,
): Promise<void> {
  const tasks = [
    demoEnvelope({ callbackUrl }),
    demoEnvelope({ businessId: 'missing-1', callbackUrl }),
    demoEnvelope({ payload: { failTimes: 1 }, callbackUrl }),
  ];
  for (const task of tasks) {
    await sendBody(pipeline, 'demo.flaky', JSON.stringify(task));
  }
  const high = pipeline.resources.queues.find((q) => q.name === HIGH.queue);
  await pipeline.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: high?.url,
      MessageBody: JSON.stringify(demoEnvelope({ priority: 'high' })),
      DelaySeconds: 600,
    }),
  );

  const statuses = await Promise.all(
    tasks.map((task) => finalStatus(pipeline, task.id)),
  );
  expect(statuses.map((s) => s.status)).toEqual([
    'completed',
    'failed',
    'completed',
  ]);
}

async function scrape(server: MetricsServer): Promise<Sample[]> {
  const response = await fetch(server.url);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}
