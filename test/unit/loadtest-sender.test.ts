import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../../lib/errors.ts';
import type { PlannedBatch } from '../../lib/loadtest/pacing.ts';
import { sendPaced, stampSendTimes } from '../../lib/loadtest/sender.ts';
import {
  type Producer,
  SendBatchError,
  type TaskInput,
} from '../../lib/producer.ts';

/** `count` batches of `size` demo.flaky tasks, due `gapMs` apart. */
function batches(count: number, size = 10, gapMs = 0): PlannedBatch[] {
  return Array.from({ length: count }, (_, b) => ({
    dueMs: b * gapMs,
    taskType: 'demo.flaky',
    priority: 'normal' as const,
    tasks: Array.from({ length: size }, (_, i) => ({
      index: b * size + i,
      kind: 'plain' as const,
      taskType: 'demo.flaky',
      priority: 'normal' as const,
    })),
  }));
}

/** A producer that takes `ms` per call and answers with `answer`. */
function fakeProducer(
  ms: number,
  answer: (tasks: readonly TaskInput[], call: number) => void = () => {},
) {
  const seen = { calls: 0, inFlight: 0, mostInFlight: 0, startedAt: [0] };
  seen.startedAt.length = 0;
  const producer: Producer = {
    send: () => Promise.reject(new Error('not used')),
    async sendBatch(tasks) {
      const call = seen.calls++;
      seen.startedAt.push(Date.now());
      seen.inFlight += 1;
      seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
      try {
        await sleep(ms);
        answer(tasks, call);
        return tasks.map((t) => ({
          id: t.id as string,
          queueName: 'x-demo-flaky-normal',
          messageId: `m-${t.id}`,
        }));
      } finally {
        seen.inFlight -= 1;
      }
    },
  };
  return { producer, seen };
}

const sqs = new SQSClient({ region: 'us-east-1' });
const options = { sqs, templates: {} };

describe('sendPaced', () => {
  it('keeps at most `senders` calls in flight', async () => {
    // Prepare
    const { producer, seen } = fakeProducer(20);

    // Act
    const outcome = await sendPaced(batches(9), {
      ...options,
      producer,
      senders: 3,
    });

    // Assess
    expect(seen.mostInFlight).toBe(3);
    expect(outcome.sent.size).toBe(90);
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(55);
  });

  it('sends no batch before it is due', async () => {
    // Prepare
    const { producer, seen } = fakeProducer(1);

    // Act
    const outcome = await sendPaced(batches(4, 10, 40), {
      ...options,
      producer,
      senders: 4,
    });

    // Assess: timers may fire a little early, never a whole gap.
    seen.startedAt.forEach((at, b) => {
      expect(at - outcome.startedAt).toBeGreaterThanOrEqual(b * 40 - 2);
    });
  });

  it('counts a full queue as refused and rejected entries, then goes on', async () => {
    // Prepare
    const { producer } = fakeProducer(1, (tasks, call) => {
      if (call === 0) throw new QueueFullError('x-demo-flaky-normal', 1, 1);
      if (call === 1) {
        const [first, ...rest] = tasks.map((t) => ({
          id: t.id as string,
          queueName: 'x-demo-flaky-normal',
          messageId: 'm',
        }));
        const failed = rest.map((t) => ({
          ...t,
          code: 'Throttled',
          reason: 'slow down',
          senderFault: false,
        }));
        throw new SendBatchError(first ? [first] : [], failed);
      }
    });

    // Act
    const outcome = await sendPaced(batches(3), {
      ...options,
      producer,
      senders: 1,
    });

    // Assess
    expect(outcome.refused).toBe(10);
    expect(outcome.rejected).toBe(9);
    expect(outcome.sent.size).toBe(11);
    expect(outcome.problems).toEqual([
      expect.stringMatching(/^QUEUE_FULL: queue x-demo-flaky-normal is full/),
      expect.stringMatching(/^SEND_FAILED: 9 of 10 tasks were not sent/),
    ]);
  });

  it('stops at any other error once the calls in flight settle', async () => {
    // Prepare
    const { producer, seen } = fakeProducer(5, (_, call) => {
      if (call === 1) throw new Error('connect ECONNREFUSED');
    });

    // Act
    const sending = sendPaced(batches(20, 10, 2), {
      ...options,
      producer,
      senders: 2,
    });

    // Assess
    await expect(sending).rejects.toThrow('ECONNREFUSED');
    expect(seen.inFlight).toBe(0);
    expect(seen.calls).toBeLessThan(20);
  });
});

describe('stampSendTimes', () => {
  it('records each task id just before its SendMessageBatch call', async () => {
    // Prepare
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const times = new Map<string, number>();
    const unstamp = stampSendTimes(client, times);
    const before = Date.now();

    // Act: nothing listens on port 9, so the call fails after the stamp.
    const entry = (id: string) => ({
      Id: id,
      MessageBody: JSON.stringify({ id: `task-${id}` }),
    });
    await client
      .send(
        new SendMessageBatchCommand({
          QueueUrl: 'http://127.0.0.1:9/000000000000/q',
          Entries: [entry('1'), entry('2'), { Id: '3', MessageBody: 'x' }],
        }),
      )
      .catch(() => undefined);
    unstamp();

    // Assess
    expect([...times.keys()]).toEqual(['task-1', 'task-2']);
    expect(times.get('task-1')).toBeGreaterThanOrEqual(before);
    client.destroy();
  });
});
