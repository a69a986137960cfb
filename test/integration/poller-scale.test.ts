import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { demoEnvelope, startTestPipeline } from '../helpers/pipeline.ts';

describe('scaling a task type of the local pipeline', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('runs as many batches at once as the new maximum concurrency', async () => {
    // Prepare: 40 tasks of 1.5 s each, in batches of up to 10, on a type
    // whose normal lane starts at 5 concurrent batches.
    const tasks = Array.from({ length: 40 }, () =>
      demoEnvelope({ payload: { workMs: 1_500 } }),
    );
    const queue = pipeline.resources.queues.find(
      (q) => q.name === 'test-demo-flaky-normal',
    );

    // Act: lower the lane to 1, send, and watch the outbox fill.
    pipeline.setMaxConcurrency('demo.flaky', 1);
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
    const slow = await completedAfter(pipeline, tasks, 2_000);
    pipeline.setMaxConcurrency('demo.flaky', 5);
    const fast = await completedAfter(pipeline, tasks, 2_000);

    // Assess: one batch at a time finishes one batch in 2 s; five at a
    // time finish the other three in the next 2 s.
    expect(fast - slow).toBeGreaterThan(slow);
    expect(() => pipeline.setMaxConcurrency('demo.flaky', 0)).toThrow(
      /maxConcurrency must be an integer of 1-1000, got 0/,
    );
  });
});

async function completedAfter(
  pipeline: LocalPipeline,
  tasks: readonly { id: string }[],
  ms: number,
): Promise<number> {
  await sleep(ms);
  const records = await Promise.all(
    tasks.map((task) => pipeline.outbox.get(task.id)),
  );
  return records.filter((r) => r?.status === 'completed').length;
}
