import { describe, expect, it } from 'vitest';
import {
  formatSummary,
  previousUtcDay,
  summarise,
  summaryDate,
  TOP_ERRORS,
} from '../../lib/ops/daily-summary.ts';
import type { TaskRecord } from '../../lib/outbox.ts';

const DAY = {
  since: new Date('2026-12-02T00:00:00.000Z'),
  until: new Date('2026-12-03T00:00:00.000Z'),
};
const NOON = '2026-12-02T12:00:00.000Z';

let next = 0;

/** A task that finished at noon of DAY, with fields overridden. */
function task(fields: Partial<TaskRecord> = {}): TaskRecord {
  next += 1;
  return {
    taskId: `task-${next}`,
    taskType: 'demo.flaky',
    businessId: `business-${next}`,
    status: 'completed',
    attempts: 1,
    finishedAt: NOON,
    ...fields,
  };
}

function exhausted(code: string, fields: Partial<TaskRecord> = {}) {
  return task({
    status: 'failed',
    reason: 'RETRIES_EXHAUSTED',
    attempts: 6,
    error: `last ${code}`,
    errors: [
      { attempt: 5, at: NOON, code: 'EARLIER', message: 'earlier' },
      { attempt: 6, at: NOON, code, message: `last ${code}` },
    ],
    ...fields,
  });
}

function invalid(error: string, fields: Partial<TaskRecord> = {}) {
  return task({
    status: 'failed',
    reason: 'INVALID',
    attempts: 0,
    error,
    ...fields,
  });
}

describe('summarise', () => {
  it('counts processed, completed, failed and completions after retries', () => {
    // Prepare
    const records = [
      task(),
      task(),
      task({ attempts: 3 }),
      exhausted('TASK_FAILED'),
      invalid('field payload: bad'),
    ];

    // Act
    const summary = summarise(records, DAY);

    // Assess
    expect(summary).toMatchObject({
      since: '2026-12-02T00:00:00.000Z',
      until: '2026-12-03T00:00:00.000Z',
      processed: 5,
      completed: 3,
      completedAfterRetry: 1,
      failed: 2,
      failureRatePercent: 40,
      deadLetteredByReason: { INVALID: 1, RETRIES_EXHAUSTED: 1 },
    });
  });

  it('rounds the failure rate to 2 decimals', () => {
    // Prepare
    const records = [task(), task(), invalid('x')];

    // Act
    const { failureRatePercent } = summarise(records, DAY);

    // Assess
    expect(failureRatePercent).toBe(33.33);
  });

  it('gives zeros, both reasons and no errors for an empty day', () => {
    // Act
    const summary = summarise([], DAY);

    // Assess
    expect(summary).toEqual({
      since: '2026-12-02T00:00:00.000Z',
      until: '2026-12-03T00:00:00.000Z',
      processed: 0,
      completed: 0,
      completedAfterRetry: 0,
      failed: 0,
      failureRatePercent: 0,
      deadLetteredByReason: { INVALID: 0, RETRIES_EXHAUSTED: 0 },
      byTaskType: {},
      topErrors: [],
    });
  });

  it('includes the start of the window and excludes its end', () => {
    // Prepare
    const records = [
      task({ finishedAt: '2026-12-01T23:59:59.999Z' }),
      task({ finishedAt: '2026-12-02T00:00:00.000Z' }),
      task({ finishedAt: '2026-12-02T23:59:59.999Z' }),
      task({ finishedAt: '2026-12-03T00:00:00.000Z' }),
    ];

    // Act
    const { processed } = summarise(records, DAY);

    // Assess
    expect(processed).toBe(2);
  });

  it('leaves out tasks still running', () => {
    // Prepare
    const running = { taskId: 'running', taskType: 'demo.flaky', attempts: 2 };

    // Act
    const { processed } = summarise([running, task()], DAY);

    // Assess
    expect(processed).toBe(1);
  });

  it('splits the figures by task type, unreadable ones as (unknown)', () => {
    // Prepare
    const records = [
      task({ taskType: 'order.notification' }),
      invalid('x', { taskType: 'order.notification' }),
      task(),
      invalid('body is not valid JSON', { taskType: undefined }),
    ];

    // Act
    const { byTaskType } = summarise(records, DAY);

    // Assess
    expect(byTaskType).toEqual({
      '(unknown)': { processed: 1, completed: 0, failed: 1 },
      'demo.flaky': { processed: 1, completed: 1, failed: 0 },
      'order.notification': { processed: 2, completed: 1, failed: 1 },
    });
  });

  it('names an error by its last code, else its message, else its reason', () => {
    // Prepare
    const long = 'x'.repeat(500);
    const records = [
      exhausted('TASK_TIMEOUT'),
      invalid(long),
      task({ status: 'failed', reason: 'INVALID' }),
    ];

    // Act
    const { topErrors } = summarise(records, DAY);

    // Assess
    expect(topErrors).toEqual([
      { error: 'INVALID', count: 1 },
      { error: 'TASK_TIMEOUT', count: 1 },
      { error: 'x'.repeat(120), count: 1 },
    ]);
  });

  it(`lists the ${TOP_ERRORS} most frequent errors, ties by name`, () => {
    // Prepare
    const counts = { A: 1, B: 4, C: 2, D: 2, E: 3, F: 1 };
    const records = Object.entries(counts).flatMap(([code, n]) =>
      Array.from({ length: n }, () => exhausted(code)),
    );

    // Act
    const { topErrors } = summarise(records, DAY);

    // Assess
    expect(topErrors).toEqual([
      { error: 'B', count: 4 },
      { error: 'E', count: 3 },
      { error: 'C', count: 2 },
      { error: 'D', count: 2 },
      { error: 'A', count: 1 },
    ]);
  });

  it('counts errors of failed tasks only, not of retried ones', () => {
    // Prepare
    const retried = task({
      attempts: 2,
      errors: [{ attempt: 1, at: NOON, code: 'TASK_FAILED', message: 'm' }],
    });

    // Act
    const { topErrors, completedAfterRetry } = summarise([retried], DAY);

    // Assess
    expect(topErrors).toEqual([]);
    expect(completedAfterRetry).toBe(1);
  });
});

describe('formatSummary', () => {
  it('puts every figure on one line', () => {
    // Prepare
    const summary = summarise(
      [task(), task({ attempts: 2 }), exhausted('TASK_FAILED'), invalid('x')],
      DAY,
    );

    // Act
    const line = formatSummary(summary);

    // Assess
    expect(line).toBe(
      'tasklane daily summary 2026-12-02: 4 processed, 2 completed ' +
        '(1 after retries), 2 failed (50 %); dead-lettered: 1 INVALID, ' +
        '1 RETRIES_EXHAUSTED; top errors: TASK_FAILED (1), x (1); ' +
        'by task type (processed/completed/failed): demo.flaky 4/2/2; ' +
        'window 2026-12-02T00:00:00.000Z to 2026-12-03T00:00:00.000Z',
    );
    expect(line).not.toContain('\n');
  });

  it('says none when nothing failed or finished', () => {
    // Act
    const line = formatSummary(summarise([], DAY));

    // Assess
    expect(line).toContain('top errors: none;');
    expect(line).toContain('(processed/completed/failed): none;');
  });
});

describe('previousUtcDay', () => {
  it('spans the UTC calendar day before the given time', () => {
    // Act
    const window = previousUtcDay(new Date('2026-12-03T06:00:12.345Z'));

    // Assess
    expect(window).toEqual(DAY);
    expect(summaryDate({ since: window.since.toISOString() })).toBe(
      '2026-12-02',
    );
  });
});
