import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { waitForFinalStatus } from '../../lib/local/wait.ts';
import { createProducer, type TaskInput } from '../../lib/producer.ts';
import {
  demoEnvelope,
  readDeadLetters,
  startTestPipeline,
} from '../helpers/pipeline.ts';

describe('local runtime under 1,000 tasks', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('accounts for every task: completed + dead-lettered = sent', async () => {
    // Prepare: 900 valid tasks (every tenth fails once), 50 whose business
    // id does not exist, 50 with an invalid envelope sent around the client.
    const valid: TaskInput[] = Array.from({ length: 950 }, (_, i) => ({
      taskType: 'demo.flaky',
      businessId: i < 900 ? `business-${i}` : `missing-${i}`,
      priority: i % 5 === 0 ? 'high' : 'normal',
      payload: { failTimes: i % 10 === 0 && i < 900 ? 1 : 0 },
    }));
    const invalid = Array.from({ length: 50 }, () =>
      demoEnvelope({ timeoutMs: 1 }),
    );
    const producer = createProducer({
      sqs: pipeline.clients.sqs,
      registry: pipeline.registry,
      prefix: pipeline.prefix,
    });
    const started = performance.now();

    // Act
    const sent = await producer.sendBatch(valid);
    await sendRaw(pipeline, invalid);
    const ids = [...sent.map((task) => task.id), ...invalid.map((t) => t.id)];
    const records = await waitForFinalStatus(pipeline.outbox, ids, 120_000);
    const seconds = (performance.now() - started) / 1000;

    // Assess
    const statuses = [...records.values()];
    const completed = statuses.filter((r) => r.status === 'completed');
    const failed = statuses.filter((r) => r.status === 'failed');
    const deadLetters = await readDeadLetters(pipeline, 'demo.flaky');
    expect(records.size).toBe(1000);
    expect(completed.length).toBe(900);
    expect(failed.length).toBe(100);
    expect(deadLetters.length).toBe(100);
    expect(completed.filter((r) => r.attempts === 2).length).toBe(90);
    console.log(
      `1,000 tasks through the local runtime in ${seconds.toFixed(1)} s: ` +
        `${Math.round(1000 / seconds)} tasks/s (90 of them retried once)`,
    );
  }, 180_000);
});

async function sendRaw(pipeline: LocalPipeline, tasks: object[]) {
  const queue = pipeline.resources.queues.find(
    (q) => q.name === 'test-demo-flaky-normal',
  );
  for (let i = 0; i < tasks.length; i += 10) {
    await pipeline.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue?.url,
        Entries: tasks.slice(i, i + 10).map((task, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify(task),
        })),
      }),
    );
  }
}
