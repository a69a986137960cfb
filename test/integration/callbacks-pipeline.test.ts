import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyCallback } from '../../lib/callbacks/signature.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  type Receiver,
  sleep,
  startReceiver,
  waitUntil,
} from '../helpers/callbacks.ts';
import {
  demoEnvelope,
  finalStatus,
  readDeadLetters,
  sendBody,
  startTestPipeline,
  TEST_CALLBACK_INTERVAL_MS,
  TEST_SIGNING_KEY,
} from '../helpers/pipeline.ts';

/** Every status the receiver got, by task id. */
function statusesById(receiver: Receiver) {
  return new Map(
    receiver.requests.flatMap((r) => r.statuses.map((s) => [s.taskId, s])),
  );
}

describe('callbacks from the consumer to a receiver', () => {
  let pipeline: LocalPipeline;
  let receiver: Receiver;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  afterEach(async () => {
    await receiver.close();
  });

  const send = (task: object) =>
    sendBody(pipeline, 'demo.flaky', JSON.stringify(task));

  it('tells the target of a completed and of an invalid task', async () => {
    // Prepare
    receiver = await startReceiver();
    const callbackUrl = receiver.url(`/hooks/${randomUUID()}`);
    const valid = demoEnvelope({ callbackUrl });
    const invalid = { ...demoEnvelope({ callbackUrl }), color: 'blue' };

    // Act
    await send(valid);
    await send(invalid);
    await finalStatus(pipeline, valid.id);
    await finalStatus(pipeline, invalid.id);
    await waitUntil(
      () => statusesById(receiver).size >= 2,
      10_000,
      'both statuses',
    );

    // Assess
    const statuses = statusesById(receiver);
    expect(statuses.get(valid.id)).toMatchObject({
      taskType: 'demo.flaky',
      status: 'completed',
      attempts: 1,
    });
    expect(statuses.get(invalid.id)).toMatchObject({
      taskType: 'demo.flaky',
      status: 'failed',
      attempts: 0,
    });
    expect(statuses.get(invalid.id)?.error).toMatch(/field color/);
    for (const request of receiver.requests) {
      const verdict = verifyCallback({
        body: request.body,
        header: request.signature ?? '',
        secrets: { [TEST_SIGNING_KEY.keyId]: TEST_SIGNING_KEY.secret },
      });
      expect(verdict.valid).toBe(true);
    }
  });

  it('sends nothing for a body that names no readable callback URL', async () => {
    // Prepare
    receiver = await startReceiver();
    const callbackUrl = receiver.url('/unreadable');
    const id = randomUUID();
    const body = `{"id":"${id}","callbackUrl":"${callbackUrl}"`;

    // Act
    await sendBody(pipeline, 'demo.flaky', body);
    await waitUntil(
      async () =>
        (await readDeadLetters(pipeline, 'demo.flaky')).some((letter) =>
          letter.body.includes(id),
        ),
      10_000,
      'the dead letter',
    );
    await sleep(TEST_CALLBACK_INTERVAL_MS * 3);

    // Assess: not JSON, so not even the URL can be trusted
    expect(receiver.requests).toEqual([]);
  });
});
