import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import {
  BATCH_SIZE,
  defaultSenders,
  dueMs,
  type PlannedBatch,
  pick,
  planBatches,
  totalTasks,
} from '../../lib/loadtest/pacing.ts';
import {
  assertPlan,
  DEFAULT_MIX,
  type LoadtestPlan,
  parseMix,
} from '../../lib/loadtest/plan.ts';
import { taskInput } from '../../lib/loadtest/sender.ts';

/** Uniform draws from a fixed seed (mulberry32), so runs repeat. */
function seeded(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plan(overrides: Partial<LoadtestPlan> = {}): LoadtestPlan {
  return {
    rate: 200,
    durationSeconds: 10,
    mix: DEFAULT_MIX,
    highShare: 0,
    failShare: 0,
    poisonShare: 0,
    senders: 2,
    waitSeconds: 60,
    templates: {},
    ...overrides,
  };
}

describe('pacing math', () => {
  it('sends rate × duration tasks, evenly spaced', () => {
    // Assess
    expect(totalTasks(200, 10)).toBe(2000);
    expect(totalTasks(0.1, 1)).toBe(1);
    expect(dueMs(0, 200)).toBe(0);
    expect(dueMs(100, 200)).toBe(500);
  });

  it('chooses twice the senders batches of 25 ms need, 2 to 64', () => {
    // Assess: one sender does 10 tasks per 25 ms, 400 tasks/s.
    expect(defaultSenders(50)).toBe(2);
    expect(defaultSenders(800)).toBe(4);
    expect(defaultSenders(10_000)).toBe(50);
    expect(defaultSenders(1_000_000)).toBe(64);
  });

  it('picks each value over a span as wide as its weight', () => {
    // Prepare
    const choices = [
      { value: 'a', weight: 1 },
      { value: 'b', weight: 0 },
      { value: 'c', weight: 3 },
    ];

    // Assess
    expect(pick(choices, 0)).toBe('a');
    expect(pick(choices, 0.2499)).toBe('a');
    expect(pick(choices, 0.25)).toBe('c');
    expect(pick(choices, 0.9999)).toBe('c');
  });
});

describe('planBatches', () => {
  it('fills batches of at most 10 for one queue, due in order', () => {
    // Act
    const batches = [...planBatches(plan({ highShare: 0.3 }), seeded())];

    // Assess
    const tasks = batches.flatMap((b) => b.tasks);
    expect(tasks).toHaveLength(2000);
    expect(new Set(tasks.map((t) => t.index)).size).toBe(2000);
    for (const batch of batches) {
      expect(batch.tasks.length).toBeLessThanOrEqual(BATCH_SIZE);
      expect(batch.tasks.every((t) => t.priority === batch.priority)).toBe(
        true,
      );
    }
    const due = batches.map((b) => b.dueMs);
    expect(due).toEqual([...due].sort((a, b) => a - b));
    expect(due.at(-1)).toBeCloseTo(dueMs(1999, 200));
    // Only the last batch of each of the 2 queues may be part-full.
    const partFull = batches.filter((b) => b.tasks.length < BATCH_SIZE);
    expect(partFull.length).toBeLessThanOrEqual(2);
    expect(partFull.every((b) => b.dueMs === due.at(-1))).toBe(true);
  });

  it('draws priorities and injected failures by their shares', () => {
    // Prepare
    const shares = { highShare: 0.2, failShare: 0.1, poisonShare: 0.05 };
    const mix = parseMix('demo.flaky=1,order.notification=3');

    // Act
    const tasks = [
      ...planBatches(plan({ ...shares, mix, rate: 1000 }), seeded()),
    ].flatMap((b: PlannedBatch) => b.tasks);

    // Assess
    const share = (keep: (t: (typeof tasks)[number]) => boolean) =>
      tasks.filter(keep).length / tasks.length;
    expect(share((t) => t.priority === 'high')).toBeCloseTo(0.2, 1);
    expect(share((t) => t.kind === 'transient')).toBeCloseTo(0.1, 1);
    expect(share((t) => t.kind === 'poison')).toBeCloseTo(0.05, 1);
    const injected = tasks.filter((t) => t.kind !== 'plain');
    expect(injected.every((t) => t.taskType === 'demo.flaky')).toBe(true);
    const plain = tasks.filter((t) => t.kind === 'plain');
    const orders = plain.filter((t) => t.taskType === 'order.notification');
    expect(orders.length / plain.length).toBeCloseTo(0.75, 1);
  });
});

describe('taskInput', () => {
  it('gives demo.flaky failTimes 0, 1 or 10 by kind', () => {
    // Prepare
    const base = {
      index: 7,
      taskType: 'demo.flaky',
      priority: 'high' as const,
    };

    // Act
    const [plain, transient, poison] = (
      ['plain', 'transient', 'poison'] as const
    ).map((kind) => taskInput({ ...base, kind }, {}));

    // Assess
    expect(plain?.payload).toEqual({ failTimes: 0, workMs: 0 });
    expect(transient?.payload).toEqual({ failTimes: 1, workMs: 0 });
    expect(poison?.payload).toEqual({ failTimes: 10, workMs: 0 });
    expect(poison).toMatchObject({
      businessId: 'loadtest-7',
      priority: 'high',
    });
  });

  it('takes other task types from their template', () => {
    // Prepare
    const template = { businessId: 'order-1001', payload: { event: 'paid' } };

    // Act
    const input = taskInput(
      {
        index: 1,
        kind: 'plain',
        taskType: 'order.notification',
        priority: 'normal',
      },
      { 'order.notification': template },
    );

    // Assess
    expect(input).toMatchObject({
      ...template,
      taskType: 'order.notification',
    });
  });
});

describe('plan checks', () => {
  it('parses a mix and weighs a bare type 1', () => {
    // Assess
    expect(parseMix('demo.flaky, order.notification=2.5')).toEqual([
      { taskType: 'demo.flaky', weight: 1 },
      { taskType: 'order.notification', weight: 2.5 },
    ]);
  });

  it('throws naming --mix for an unknown type or a bad weight', () => {
    // Assess
    expect(() => parseMix('nope.type=1')).toThrow(
      /field --mix: names an unknown task type .*\(got "nope.type"\)/,
    );
    expect(() => parseMix('demo.flaky=0')).toThrow(
      /--mix: must be type=weight/,
    );
    expect(() => parseMix('demo.flaky,demo.flaky')).toThrow(/twice/);
  });

  it('throws when the injected shares pass 1 together', () => {
    // Assess
    expect(() =>
      assertPlan(plan({ failShare: 0.6, poisonShare: 0.5 })),
    ).toThrow(ValidationError);
    expect(() => assertPlan(plan({ rate: 0 }))).toThrow(
      /field --rate: must be more than 0 tasks\/s \(got 0\)/,
    );
    expect(() => assertPlan(plan({ warmupSeconds: -1 }))).toThrow(
      /field --warmup: must be 0 s or more \(got -1\)/,
    );
  });

  it('throws when a task type of the mix has no template', () => {
    // Prepare
    const mix = parseMix('order.notification');

    // Assess
    expect(() => assertPlan(plan({ mix }))).toThrow(
      /--templates: must give a businessId and payload for order.notification/,
    );
  });
});
