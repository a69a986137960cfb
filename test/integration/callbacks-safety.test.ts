import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryTiming } from '../../lib/callbacks/config.ts';
import {
  createDispatcher,
  type Dispatcher,
} from '../../lib/callbacks/dispatcher.ts';
import { createCallbackNotifier } from '../../lib/callbacks/notify.ts';
import { staticSecretSource } from '../../lib/callbacks/secrets.ts';
import type { TargetPolicy } from '../../lib/callbacks/target-guard.ts';
import { CALLBACK_TARGETS_KEY } from '../../lib/tables.ts';
import {
  type Answer,
  type CallbackFixture,
  deliveredIds,
  FAST_TIMING,
  finishTasks,
  type Receiver,
  readCallbackDeadLetters,
  sleep,
  startCallbackFixture,
  startReceiver,
  TEST_KEY,
} from '../helpers/callbacks.ts';

const INTERVAL = FAST_TIMING.intervalMs ?? 0;

/**
 * One of two overlapping dispatches delivers. The other usually finds the
 * target busy; on a loaded machine it may start only after the first
 * ended, and then finds the slot taken (not due) or nothing pending.
 */
function expectOneDelivery(outcomes: readonly string[]) {
  expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(1);
  const other = outcomes.find((o) => o !== 'delivered');
  expect(['busy', 'not-due', 'idle']).toContain(other);
}

describe('callback dispatch under duplicates, 410 and refused targets', () => {
  let fixture: CallbackFixture;
  let receiver: Receiver;
  /** Deliveries asked of the scheduler, which never fires by itself. */
  let scheduled: { target: string; at: Date }[];
  let dispatcher: Dispatcher;

  beforeAll(async () => {
    fixture = await startCallbackFixture();
  });

  afterAll(async () => {
    await fixture.stop();
  });

  afterEach(async () => {
    await receiver.close();
  });

  async function start(
    answer?: Answer,
    policy?: TargetPolicy,
    timing = FAST_TIMING,
  ) {
    receiver = await startReceiver(answer);
    scheduled = [];
    dispatcher = createDispatcher({
      dynamodb: fixture.clients.dynamodb,
      sqs: fixture.clients.sqs,
      tables: fixture.tables,
      deadLetterQueueUrl: fixture.resources.callbacksDeadLetterQueueUrl,
      scheduler: {
        schedule: async (target, at) => {
          scheduled.push({ target, at });
        },
      },
      secrets: staticSecretSource(TEST_KEY),
      policy: policy ?? { allowLocal: true },
      timing,
    });
  }

  const deadLetters = () =>
    readCallbackDeadLetters(
      fixture.clients,
      fixture.resources.callbacksDeadLetterQueueUrl,
    );

  it('schedules one delivery for many concurrent statuses', async () => {
    // Prepare
    await start();
    const target = receiver.url('/concurrent');

    // Act
    const requests = await Promise.all(
      Array.from({ length: 25 }, () => dispatcher.notifyPending(target)),
    );

    // Assess
    const fresh = requests.filter((r) => r.pending === 'new');
    expect(fresh).toHaveLength(1);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.target).toBe(target);
  });

  it('schedules again when a pending delivery was lost', async () => {
    // Prepare: a flag set, then its schedule lost; time moves past the
    // horizon with nobody rescheduling.
    await start();
    const target = receiver.url('/lost');
    await dispatcher.notifyPending(target);
    const later = Date.now() + dispatcher.timing.staleAfterMs + 1_000;
    const afterwards = createDispatcher({
      dynamodb: fixture.clients.dynamodb,
      sqs: fixture.clients.sqs,
      tables: fixture.tables,
      deadLetterQueueUrl: fixture.resources.callbacksDeadLetterQueueUrl,
      scheduler: {
        schedule: async (t, at) => void scheduled.push({ target: t, at }),
      },
      secrets: staticSecretSource(TEST_KEY),
      timing: FAST_TIMING,
      clock: () => later,
    });

    // Act
    const requests = await Promise.all(
      Array.from({ length: 5 }, () => afterwards.notifyPending(target)),
    );

    // Assess
    expect(requests.filter((r) => r.pending === 'new')).toHaveLength(1);
    expect(scheduled).toHaveLength(2);
  });

  it('keeps a delivery pending for the sweep when it cannot be scheduled', async () => {
    // Prepare
    await start();
    const target = receiver.url('/unschedulable');
    let failing = true;
    const notifier = createCallbackNotifier({
      dynamodb: fixture.clients.dynamodb,
      tableName: fixture.tables.callbackTargets,
      intervalMs: INTERVAL,
      scheduler: {
        schedule: async () => {
          if (failing) throw new Error('scheduler unavailable');
        },
      },
    });

    // Act
    const failed = await notifier.notifyPending(target).catch((e) => e);
    failing = false;
    const again = await notifier.notifyPending(target);
    const { Item } = await fixture.clients.dynamodb.send(
      new GetCommand({
        TableName: fixture.tables.callbackTargets,
        Key: { [CALLBACK_TARGETS_KEY]: target },
        ConsistentRead: true,
      }),
    );

    // Assess: the flag stays, so the sweep finds it (callbacks-sweep.test.ts)
    expect(failed).toMatchObject({ message: 'scheduler unavailable' });
    expect(again).toEqual({ pending: 'already' });
    expect(Item?.deliveryPendingSince).toEqual(expect.any(Number));
  });

  it('sends nothing twice when the scheduler fires twice at once', async () => {
    // Prepare
    await start();
    const target = receiver.url('/twice-at-once');
    const ids = await finishTasks(fixture.outbox, target, 10);
    await dispatcher.notifyPending(target);

    // Act
    const reports = await Promise.all([
      dispatcher.dispatch(target),
      dispatcher.dispatch(target),
    ]);

    // Assess
    expectOneDelivery(reports.map((r) => r.outcome));
    expect(receiver.requests).toHaveLength(1);
    expect(deliveredIds(receiver.requests).sort()).toEqual(ids.sort());
  });

  it('sends nothing twice when the scheduler fires twice in a row', async () => {
    // Prepare
    await start();
    const target = receiver.url('/twice-in-a-row');
    const first = await finishTasks(fixture.outbox, target, 10);
    await dispatcher.notifyPending(target);
    await dispatcher.dispatch(target);

    // Act: a repeat at once, another after the slot, then new statuses
    // whose firing also comes twice.
    const repeat = await dispatcher.dispatch(target);
    await sleep(INTERVAL + 20);
    const late = await dispatcher.dispatch(target);
    const second = await finishTasks(fixture.outbox, target, 5);
    await dispatcher.notifyPending(target);
    await sleep(INTERVAL + 20);
    const again = await Promise.all([
      dispatcher.dispatch(target),
      dispatcher.dispatch(target),
    ]);
    const last = await dispatcher.dispatch(target);

    // Assess
    expect(['not-due', 'idle']).toContain(repeat.outcome);
    expect(['empty', 'idle']).toContain(late.outcome);
    expectOneDelivery(again.map((r) => r.outcome));
    expect(['not-due', 'idle']).toContain(last.outcome);
    expect(receiver.requests).toHaveLength(2);
    const sent = deliveredIds(receiver.requests).sort();
    expect(sent).toEqual([...first, ...second].sort());
  });

  it('disables a target that answers 410 and dead-letters its statuses', async () => {
    // Prepare
    await start(() => 410);
    const target = receiver.url('/gone');
    const ids = await finishTasks(fixture.outbox, target, 3);
    await dispatcher.notifyPending(target);

    // Act
    const report = await dispatcher.dispatch(target);
    const later = await finishTasks(fixture.outbox, target, 2);
    await dispatcher.notifyPending(target);
    await sleep(INTERVAL + 20);
    const next = await dispatcher.dispatch(target);

    // Assess
    expect(report).toMatchObject({ outcome: 'gone', deadLettered: 3 });
    expect(next).toMatchObject({ outcome: 'gone', deadLettered: 2 });
    expect(receiver.requests).toHaveLength(1);
    const letters = (await deadLetters()).filter((l) => l.target === target);
    expect(letters.map((l) => l.status.taskId).sort()).toEqual(
      [...ids, ...later].sort(),
    );
    expect(new Set(letters.map((l) => l.reason))).toEqual(
      new Set(['TARGET_GONE']),
    );
    const { Item } = await fixture.clients.dynamodb.send(
      new GetCommand({
        TableName: fixture.tables.callbackTargets,
        Key: { target },
      }),
    );
    expect(Item).toMatchObject({ disabled: true });
  });

  it('dead-letters the statuses of a refused target without calling it', async () => {
    // Prepare: outside local mode, loopback and plain http are refused.
    await start(undefined, { allowLocal: false });
    const httpTarget = receiver.url('/refused');
    const httpsTarget = httpTarget.replace('http:', 'https:');
    const ids = [
      ...(await finishTasks(fixture.outbox, httpTarget, 2)),
      ...(await finishTasks(fixture.outbox, httpsTarget, 2)),
    ];
    await dispatcher.notifyPending(httpTarget);
    await dispatcher.notifyPending(httpsTarget);

    // Act
    const reports = [
      await dispatcher.dispatch(httpTarget),
      await dispatcher.dispatch(httpsTarget),
    ];

    // Assess
    for (const report of reports) {
      expect(report).toMatchObject({
        outcome: 'refused',
        errorCode: 'TARGET_REFUSED',
        deadLettered: 2,
      });
    }
    expect(receiver.requests).toHaveLength(0);
    const letters = (await deadLetters()).filter((l) =>
      ids.includes(l.status.taskId),
    );
    expect(letters).toHaveLength(4);
    expect(letters.map((l) => l.reason)).toEqual(
      Array(4).fill('TARGET_REFUSED'),
    );
    const errorOf = (target: string) =>
      letters.find((l) => l.target === target)?.lastError;
    expect(errorOf(httpTarget)).toMatch(/INSECURE_SCHEME/);
    expect(errorOf(httpsTarget)).toMatch(/ADDRESS_NOT_PUBLIC.*loopback/);
    const { Item } = await fixture.clients.dynamodb.send(
      new GetCommand({
        TableName: fixture.tables.statusOutbox,
        Key: { taskId: ids[0] },
      }),
    );
    expect(Item).toMatchObject({ callbackState: 'TARGET_REFUSED' });
    expect(Item).not.toHaveProperty('pendingTarget');
  });

  it('dead-letters statuses that outlive the age limit with the last error', async () => {
    // Prepare
    const timing: DeliveryTiming = { ...FAST_TIMING, maxAgeMs: 1_000 };
    await start(() => 503, undefined, timing);
    const target = receiver.url('/down');
    const ids = await finishTasks(fixture.outbox, target, 3);
    await dispatcher.notifyPending(target);

    // Act
    const first = await dispatcher.dispatch(target);
    await sleep(1_100);
    const second = await dispatcher.dispatch(target);

    // Assess
    expect(first).toMatchObject({ outcome: 'failed', deadLettered: 0 });
    expect(second).toMatchObject({
      outcome: 'failed',
      httpStatus: 503,
      errorCode: 'DELIVERY_REJECTED',
      deadLettered: 3,
    });
    const letters = (await deadLetters()).filter((l) => l.target === target);
    expect(letters.map((l) => l.status.taskId).sort()).toEqual(ids.sort());
    expect(letters[0]).toMatchObject({
      reason: 'DELIVERY_EXPIRED',
      lastError: expect.stringMatching(/answered 503/),
    });
  });
});
