import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCallbacks } from '../../lib/callbacks/local.ts';
import { SWEEP_GRACE_MS } from '../../lib/callbacks/sweep.ts';
import {
  type CallbackFixture,
  deliveredIds,
  FAST_TIMING,
  finishTasks,
  fixtureCallbacks,
  type Receiver,
  sleep,
  startCallbackFixture,
  startReceiver,
  waitUntil,
} from '../helpers/callbacks.ts';

/** Long enough ago that any firing for the flag is overdue. */
const STRANDED_FOR_MS = 10 * 60_000;

describe('sweep of pending callback targets', () => {
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

  async function start() {
    receiver = await startReceiver();
    callbacks = fixtureCallbacks(fixture);
  }

  /**
   * Statuses whose consumer marked the target pending `agoMs` ago and
   * died before it scheduled the delivery: nothing is on its way.
   */
  async function strand(path: string, count: number, agoMs: number) {
    const target = receiver.url(path);
    const ids = await finishTasks(fixture.outbox, target, count);
    const request = await callbacks.dispatcher.targets.requestDelivery(
      target,
      Date.now() - agoMs,
    );
    expect(request.pending).toBe('new');
    return { target, ids };
  }

  it('delivers the statuses of a target whose consumer died before scheduling', async () => {
    // Prepare
    await start();
    const { target, ids } = await strand('/stranded', 3, STRANDED_FOR_MS);
    await sleep(FAST_TIMING.intervalMs ?? 0);
    expect(receiver.requests).toEqual([]);

    // Act
    const report = await callbacks.dispatcher.sweep();
    await waitUntil(() => receiver.requests.length > 0, 5_000, 'delivery');

    // Assess
    expect(report.rescheduled).toEqual([target]);
    expect(report.pending).toBeGreaterThanOrEqual(1);
    expect(report.oldestOverdueMs).toBeGreaterThanOrEqual(STRANDED_FOR_MS);
    expect(deliveredIds(receiver.requests).sort()).toEqual([...ids].sort());
  });

  it('leaves a target alone while its firing may still come', async () => {
    // Prepare: marked just inside the grace the scheduler may take
    await start();
    const recent = SWEEP_GRACE_MS - 30_000;
    const { target } = await strand('/on-its-way', 1, recent);

    // Act
    const report = await callbacks.dispatcher.sweep();
    await sleep((FAST_TIMING.intervalMs ?? 0) * 2);

    // Assess
    expect(report.rescheduled).not.toContain(target);
    expect(receiver.requests).toEqual([]);
  });

  it('sends nothing twice when sweeps overlap a firing', async () => {
    // Prepare
    await start();
    const { target, ids } = await strand('/twice', 5, STRANDED_FOR_MS);

    // Act: two sweeps and the lost firing turning up after all
    const reports = await Promise.all([
      callbacks.dispatcher.sweep(),
      callbacks.dispatcher.sweep(),
      callbacks.dispatcher.dispatch(target),
    ]);
    await waitUntil(
      () => deliveredIds(receiver.requests).length >= ids.length,
      5_000,
      'delivery',
    );
    await sleep((FAST_TIMING.intervalMs ?? 0) * 3);

    // Assess
    expect(reports[0].rescheduled).toContain(target);
    expect(deliveredIds(receiver.requests).sort()).toEqual([...ids].sort());
    expect(receiver.requests).toHaveLength(1);
  });

  it('counts no target once its delivery is done', async () => {
    // Prepare
    await start();
    const { target } = await strand('/done', 2, STRANDED_FOR_MS);
    await callbacks.dispatcher.dispatch(target);

    // Act
    const report = await callbacks.dispatcher.sweep();

    // Assess
    expect(deliveredIds(receiver.requests)).toHaveLength(2);
    expect(report.rescheduled).not.toContain(target);
  });
});
