import {
  type GetParameterCommand,
  ParameterNotFound,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createPacer,
  createRateGate,
  type PacingClock,
  parseRateLimit,
  type RateLimitSource,
  rateLimitParameterName,
  sendPaced,
  ssmRateLimit,
} from '../../lib/ops/rate-limit.ts';
import type { QueueGroup } from '../../lib/producer-queues.ts';

/** A clock that moves only when someone sleeps, recording each sleep. */
function fakeClock(): PacingClock & { sleeps: number[]; t: number } {
  const clock = {
    t: 0,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

function fixedRate(rate: number | undefined): RateLimitSource {
  return { current: async () => rate };
}

describe('createPacer', () => {
  it('spaces single tasks 1/rate apart, the first at once', async () => {
    // Prepare
    const clock = fakeClock();
    const pacer = createPacer(fixedRate(50), clock);

    // Act
    for (let i = 0; i < 100; i += 1) await pacer.acquire(1);

    // Assess: the 100th task is due 99 intervals of 20 ms after the first.
    expect(clock.t).toBeCloseTo(1980);
    expect(clock.sleeps).toHaveLength(99);
    expect(clock.sleeps.every((ms) => Math.abs(ms - 20) < 1e-9)).toBe(true);
  });

  it('sends a batch when its last task is due', async () => {
    // Prepare
    const clock = fakeClock();
    const pacer = createPacer(fixedRate(50), clock);
    const sentAt: number[] = [];

    // Act: ten batches of ten
    for (let i = 0; i < 10; i += 1) {
      await pacer.acquire(10);
      sentAt.push(clock.now());
    }

    // Assess: 180 ms, then every 200 ms; no second holds over 50 tasks.
    expect(sentAt.map(Math.round)).toEqual([
      180, 380, 580, 780, 980, 1180, 1380, 1580, 1780, 1980,
    ]);
    for (const start of sentAt) {
      const inWindow = sentAt.filter((t) => t >= start && t < start + 1000);
      expect(inWindow.length * 10).toBeLessThanOrEqual(50);
    }
  });

  it('does not wait when there is no limit', async () => {
    // Prepare
    const clock = fakeClock();
    const pacer = createPacer(fixedRate(undefined), clock);

    // Act
    const waits = await Promise.all([pacer.acquire(10), pacer.acquire(10)]);

    // Assess
    expect(waits).toEqual([0, 0]);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives concurrent callers distinct slots', async () => {
    // Prepare
    const clock = fakeClock();
    clock.sleep = async (ms) => {
      clock.sleeps.push(ms);
    };
    const pacer = createPacer(fixedRate(10), clock);

    // Act
    const waits = await Promise.all([1, 2, 3].map(() => pacer.acquire(1)));

    // Assess
    expect(waits).toEqual([0, 100, 200]);
  });

  it('saves no idle time up for a burst', async () => {
    // Prepare
    const clock = fakeClock();
    const pacer = createPacer(fixedRate(10), clock);
    await pacer.acquire(1);

    // Act: idle 5 s, then two tasks
    clock.t += 5000;
    const first = await pacer.acquire(1);
    const second = await pacer.acquire(1);

    // Assess
    expect([first, second]).toEqual([0, 100]);
  });

  it('follows a rate that changes between batches', async () => {
    // Prepare
    const clock = fakeClock();
    let rate: number | undefined = 10;
    const pacer = createPacer({ current: async () => rate }, clock);

    // Act
    await pacer.acquire(1);
    const atTen = await pacer.acquire(1);
    rate = 100;
    // The task before was given 100 ms at the old rate; the next gets 10.
    const afterTen = await pacer.acquire(1);
    const atHundred = await pacer.acquire(1);
    rate = undefined;
    const off = await pacer.acquire(10);

    // Assess
    expect([atTen, afterTen, atHundred, off]).toEqual([100, 100, 10, 0]);
  });
});

describe('createRateGate', () => {
  it('admits a task when it is due and tells how long until the next', async () => {
    // Prepare: 4 tasks/s, one every 250 ms
    const clock = { t: 0, now: () => clock.t };
    const gate = createRateGate(fixedRate(4), clock);

    // Act
    const first = await gate.admit(1);
    clock.t = 100;
    const early = await gate.admit(1);
    clock.t = 250;
    const due = await gate.admit(1);

    // Assess
    expect([first, early, due]).toEqual([0, 150, 0]);
  });

  it('takes no slot for a refused task', async () => {
    // Prepare
    const clock = { t: 0, now: () => clock.t };
    const gate = createRateGate(fixedRate(10), clock);
    await gate.admit(1);

    // Act: ten refusals in the interval, then the task at 100 ms
    const refusals = [];
    for (let t = 0; t < 100; t += 10) {
      clock.t = t;
      refusals.push(await gate.admit(1));
    }
    clock.t = 100;
    const due = await gate.admit(1);

    // Assess
    expect(refusals).toEqual([100, 90, 80, 70, 60, 50, 40, 30, 20, 10]);
    expect(due).toBe(0);
  });

  it('admits a batch when its last slot is due, as the pacer sends it', async () => {
    // Prepare: 10 tasks/s
    const clock = { t: 1_000, now: () => clock.t };
    const gate = createRateGate(fixedRate(10), clock);

    // Act: a batch of 5 after idling, then one at once, then at its turn
    const batch = await gate.admit(5);
    const next = await gate.admit(1);
    clock.t += 100;
    const due = await gate.admit(1);

    // Assess: the batch took the slots of the last 400 ms
    expect([batch, next, due]).toEqual([0, 100, 0]);
  });

  it('admits everything at once when there is no limit', async () => {
    // Prepare
    const gate = createRateGate(fixedRate(undefined), { now: () => 0 });

    // Act
    const waits = await Promise.all([1, 2, 3].map(() => gate.admit(10)));

    // Assess
    expect(waits).toEqual([0, 0, 0]);
  });

  it('saves no idle time up for a burst', async () => {
    // Prepare
    const clock = { t: 0, now: () => clock.t };
    const gate = createRateGate(fixedRate(10), clock);
    await gate.admit(1);

    // Act: idle 5 s, then two tasks at once
    clock.t = 5_000;
    const waits = [await gate.admit(1), await gate.admit(1)];

    // Assess
    expect(waits).toEqual([0, 100]);
  });
});

describe('parseRateLimit', () => {
  it.each([
    ['50', 50],
    ['0.5', 0.5],
    ['off', undefined],
    [undefined, undefined],
    ['', undefined],
    ['0', undefined],
    ['-3', undefined],
    ['fast', undefined],
    ['1000000', undefined],
  ])('reads %j as %j', (value, rate) => {
    expect(parseRateLimit(value)).toBe(rate);
  });
});

describe('ssmRateLimit', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function ssmAnswering(answer: () => Promise<unknown>) {
    const send = vi.fn((_command: GetParameterCommand) => answer());
    return { ssm: { send } as unknown as SSMClient, send };
  }

  it('reads /<prefix>/send-rate-limit once per cache window', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ssm, send } = ssmAnswering(async () => ({
      Parameter: { Value: '25' },
    }));
    const source = ssmRateLimit({ ssm, prefix: 'shop', cacheMs: 10_000 });

    // Act
    const first = await source.current();
    vi.advanceTimersByTime(9_000);
    const cached = await source.current();
    vi.advanceTimersByTime(2_000);
    await source.current();

    // Assess
    expect([first, cached]).toEqual([25, 25]);
    expect(send).toHaveBeenCalledTimes(2);
    const input = send.mock.calls[0]?.[0].input;
    expect(input).toEqual({ Name: '/shop/send-rate-limit' });
    expect(rateLimitParameterName('shop')).toBe('/shop/send-rate-limit');
  });

  it('means no limit when the parameter does not exist', async () => {
    // Prepare
    const { ssm } = ssmAnswering(async () => {
      throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    });

    // Act
    const rate = await ssmRateLimit({ ssm, prefix: 'tasklane' }).current();

    // Assess
    expect(rate).toBeUndefined();
  });

  it('keeps the last value when a read fails, and reports the error', async () => {
    // Prepare
    const answers = [
      async () => ({ Parameter: { Value: '40' } }),
      async () => {
        throw new Error('throttled');
      },
    ];
    const { ssm } = ssmAnswering(() =>
      (answers.shift() as () => Promise<unknown>)(),
    );
    const onError = vi.fn();
    const source = ssmRateLimit({
      ssm,
      prefix: 'tasklane',
      cacheMs: 0,
      onError,
    });

    // Act
    const rates = [await source.current(), await source.current()];

    // Assess
    expect(rates).toEqual([40, 40]);
    expect(onError).toHaveBeenCalledWith(new Error('throttled'));
  });
});

describe('sendPaced', () => {
  it('sends each batch as a group of its own, after its turn', async () => {
    // Prepare
    const events: string[] = [];
    const pacer = {
      acquire: async (count: number) => {
        events.push(`acquire ${count}`);
        return 0;
      },
    };
    const group = {
      queueName: 'q',
      url: 'http://q',
      messages: [1, 2, 3],
      batches: [[1, 2], [3]],
      count: { depth: 0 },
    } as unknown as QueueGroup;

    // Act
    await sendPaced(pacer, [group], async (sub) => {
      events.push(`send ${sub.messages.length}/${sub.batches.length}`);
    });

    // Assess
    expect(events).toEqual(['acquire 2', 'send 2/1', 'acquire 1', 'send 1/1']);
  });
});
