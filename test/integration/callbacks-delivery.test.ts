import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../lib/aws-clients.ts';
import type { LocalCallbacks } from '../../lib/callbacks/local.ts';
import { verifyCallback } from '../../lib/callbacks/signature.ts';
import {
  type Answer,
  type CallbackFixture,
  deliveredIds,
  FAST_TIMING,
  finishTasks,
  fixtureCallbacks,
  type ReceivedRequest,
  type Receiver,
  sleep,
  startCallbackFixture,
  startReceiver,
  TEST_KEY,
  waitUntil,
} from '../helpers/callbacks.ts';

const INTERVAL = FAST_TIMING.intervalMs ?? 0;
/**
 * For tests of what goes out at once: an interval long enough that a
 * request held back for it cannot pass for one sent at once, even on a
 * loaded machine.
 */
const SLOW_TIMING = { ...FAST_TIMING, intervalMs: 2_000 };
const AT_ONCE_MS = 1_000;

/** Milliseconds between consecutive requests. */
function gaps(requests: readonly ReceivedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - (requests[i]?.at ?? 0));
}

describe('callback delivery to a local receiver', () => {
  let fixture: CallbackFixture;
  let receiver: Receiver;
  let callbacks: LocalCallbacks;

  beforeAll(async () => {
    fixture = await startCallbackFixture();
  });

  afterAll(async () => {
    await fixture.stop();
  });

  afterEach(async () => {
    await callbacks.stop();
    await receiver.close();
  });

  /** Reads an item until `settled` holds for it (or 5 s pass). */
  async function itemOnceSettled(
    table: string,
    key: Record<string, string>,
    settled = (item: Record<string, unknown>) => 'callbackState' in item,
  ) {
    let item: Record<string, unknown> = {};
    await waitUntil(
      async () => {
        const { Item } = await fixture.clients.dynamodb.send(
          new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
        );
        item = Item ?? {};
        return settled(item);
      },
      5_000,
      `item ${JSON.stringify(key)} to settle`,
    ).catch(() => undefined);
    return item;
  }

  async function start(answer?: Answer, timing = FAST_TIMING) {
    receiver = await startReceiver(answer);
    callbacks = fixtureCallbacks(fixture, timing);
  }

  it('sends the first status for an idle target at once', async () => {
    // Prepare
    await start(undefined, SLOW_TIMING);
    const target = receiver.url('/idle');

    // Act
    const [taskId] = await finishTasks(fixture.outbox, target, 1);
    const finishedAt = Date.now();
    await callbacks.notifyPending(target);
    await waitUntil(() => receiver.requests.length === 1, 5_000, 'delivery');

    // Assess
    const delayMs = (receiver.requests[0]?.at ?? 0) - finishedAt;
    console.log(`idle target: first delivery ${delayMs} ms after the status`);
    expect(delayMs).toBeLessThan(AT_ONCE_MS);
    expect(deliveredIds(receiver.requests)).toEqual([taskId]);
  });

  it('sends at once even when the index lists a new status late', async () => {
    // Prepare: a client whose first two reads of the index find nothing,
    // as DynamoDB's index may right after the write
    receiver = await startReceiver();
    const lagging = createAwsClients(fixture.emulators.clientOptions);
    let hidden = 2;
    lagging.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const lagged = args.input as { IndexName?: string };
        if (lagged.IndexName && hidden > 0) {
          hidden -= 1;
          return { output: { Items: [], $metadata: {} }, response: {} };
        }
        return next(args);
      },
      { step: 'initialize', name: 'laggingIndex' },
    );
    const timing = { ...SLOW_TIMING, indexLagMs: 2_000 };
    callbacks = fixtureCallbacks(fixture, timing, lagging);
    const target = receiver.url('/lagging');

    // Act
    const [taskId] = await finishTasks(fixture.outbox, target, 1);
    const finishedAt = Date.now();
    await callbacks.notifyPending(target);
    await waitUntil(() => receiver.requests.length === 1, 5_000, 'delivery');

    // Assess: two re-reads 250 ms apart, not the next 2 s slot
    const delayMs = (receiver.requests[0]?.at ?? 0) - finishedAt;
    console.log(`lagging index: first delivery ${delayMs} ms after the status`);
    expect(hidden).toBe(0);
    expect(delayMs).toBeLessThan(AT_ONCE_MS + 500);
    expect(deliveredIds(receiver.requests)).toEqual([taskId]);
    await callbacks.stop();
    destroyAwsClients(lagging);
  });

  it('delivers 1,000 statuses once each, at most one request per interval', async () => {
    // Prepare
    await start();
    const target = receiver.url('/orders');
    const startedAt = Date.now();

    // Act
    const ids = await finishTasks(
      fixture.outbox,
      target,
      1000,
      callbacks.notifyPending,
    );
    await waitUntil(
      () => deliveredIds(receiver.requests).length >= 1000,
      30_000,
      '1,000 statuses',
    );
    await sleep(INTERVAL * 3);

    // Assess
    const { requests } = receiver;
    const elapsed = (requests.at(-1)?.at ?? 0) - startedAt;
    console.log(
      `1,000 statuses: ${requests.length} requests over ${elapsed} ms ` +
        `(interval ${INTERVAL} ms, shortest gap ` +
        `${Math.min(...gaps(requests))} ms), first after ` +
        `${(requests[0]?.at ?? 0) - startedAt} ms; sizes ` +
        requests.map((r) => r.statuses.length).join(', '),
    );
    expect(deliveredIds(requests).sort()).toEqual([...ids].sort());
    expect(Math.min(...gaps(requests))).toBeGreaterThanOrEqual(INTERVAL);
    expect(requests.length).toBeLessThanOrEqual(
      Math.floor(elapsed / INTERVAL) + 1,
    );
    for (const request of requests) {
      const verdict = verifyCallback({
        body: request.body,
        header: request.signature,
        secrets: { [TEST_KEY.keyId]: TEST_KEY.secret },
      });
      expect(verdict).toMatchObject({ valid: true, keyId: TEST_KEY.keyId });
    }
  });

  it('carries at most 1,000 statuses a request, the rest in the next slot', async () => {
    // Prepare: statuses gathered while nothing was scheduled.
    await start();
    const target = receiver.url('/backlog');
    const ids = await finishTasks(fixture.outbox, target, 1005, undefined, 50);

    // Act
    await callbacks.notifyPending(target);
    await waitUntil(() => deliveredIds(receiver.requests).length >= 1005);

    // Assess
    const { requests } = receiver;
    expect(requests.map((r) => r.statuses.length)).toEqual([1000, 5]);
    expect(gaps(requests)[0]).toBeGreaterThanOrEqual(INTERVAL);
    expect(deliveredIds(requests).sort()).toEqual(ids.sort());
  });

  it('sends the fields of each status, the error only when failed', async () => {
    // Prepare
    await start();
    const target = receiver.url('/fields');

    // Act
    const ids = await finishTasks(fixture.outbox, target, 2);
    await callbacks.notifyPending(target);
    await waitUntil(() => deliveredIds(receiver.requests).length === 2);

    // Assess
    const sent = receiver.requests.flatMap((r) => r.statuses);
    const failed = sent.find((s) => s.taskId === ids[0]);
    const completed = sent.find((s) => s.taskId === ids[1]);
    expect(failed).toEqual({
      taskId: ids[0],
      taskType: 'order.notification',
      businessId: 'order-0',
      status: 'failed',
      attempts: 6,
      error: 'payment service down',
      finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(completed).not.toHaveProperty('error');
    // The dispatcher settles the statuses once the answer is back.
    const item = await itemOnceSettled(fixture.tables.statusOutbox, {
      taskId: ids[1] ?? '',
    });
    expect(item).toMatchObject({ callbackState: 'delivered' });
    expect(item).not.toHaveProperty('pendingTarget');
  });

  it('throttles several targets independently', async () => {
    // Prepare
    await start(undefined, SLOW_TIMING);
    const paths = ['/a', '/b', '/c'];
    const startedAt = Date.now();

    // Act
    const waves = await Promise.all(
      paths.map(async (path) => {
        const target = receiver.url(path);
        const first = await finishTasks(
          fixture.outbox,
          target,
          5,
          callbacks.notifyPending,
        );
        await waitUntil(() => receiver.requestsTo(path).length > 0);
        const second = await finishTasks(
          fixture.outbox,
          target,
          5,
          callbacks.notifyPending,
        );
        return [...first, ...second];
      }),
    );
    await waitUntil(() => deliveredIds(receiver.requests).length === 30);

    // Assess
    paths.forEach((path, n) => {
      const requests = receiver.requestsTo(path);
      expect(deliveredIds(requests).sort()).toEqual(waves[n]?.sort());
      expect(requests).toHaveLength(2);
      expect(gaps(requests)[0]).toBeGreaterThanOrEqual(SLOW_TIMING.intervalMs);
      // No target waits for another's slot: each starts at once.
      expect((requests[0]?.at ?? 0) - startedAt).toBeLessThan(AT_ONCE_MS);
    });
  });

  it('keeps statuses through failures and delivers each once on recovery', async () => {
    // Prepare: three 500s, then 200s.
    await start((_path, n) => (n < 3 ? 500 : 200));
    const target = receiver.url('/flaky');

    // Act
    const ids = await finishTasks(
      fixture.outbox,
      target,
      20,
      callbacks.notifyPending,
    );
    await waitUntil(() => deliveredIds(receiver.requests).length >= 20);
    await sleep(INTERVAL * 3);

    // Assess
    const { requests } = receiver;
    expect(deliveredIds(requests).sort()).toEqual([...ids].sort());
    expect(requests.filter((r) => r.answeredWith === 500)).toHaveLength(3);
    const waits = gaps(requests.slice(0, 4));
    console.log(`back-off after 1, 2, 3 failures: ${waits.join(', ')} ms`);
    expect(waits[0]).toBeGreaterThanOrEqual(INTERVAL);
    expect(waits[1]).toBeGreaterThanOrEqual(INTERVAL * 2);
    expect(waits[2]).toBeGreaterThanOrEqual(INTERVAL * 4);
    const state = await itemOnceSettled(
      fixture.tables.callbackTargets,
      { target },
      (item) => item.consecutiveFailures === 0,
    );
    expect(state).toMatchObject({ consecutiveFailures: 0 });
  });
});
