import { describe, expect, it } from 'vitest';
import { formatDuration, formatTable } from '../../lib/ops/format.ts';
import { oldestAgeMs } from '../../lib/ops/queue-age.ts';
import {
  checkThresholds,
  DEFAULT_STATS_THRESHOLDS,
  describeAgeSource,
  formatStats,
  type QueueStats,
  queueKind,
  sortQueues,
} from '../../lib/ops/stats.ts';

const queue = (overrides: Partial<QueueStats>): QueueStats => ({
  name: 'tasklane-demo-flaky-normal',
  kind: 'normal',
  depth: 0,
  inFlight: 0,
  delayed: 0,
  oldestAgeMs: 0,
  ...overrides,
});

describe('stats logic', () => {
  it('uses the standard thresholds: 8000 messages, 1000 ms', () => {
    expect(DEFAULT_STATS_THRESHOLDS).toEqual({ depth: 8_000, ageMs: 1_000 });
  });

  it('marks task queues strictly over a threshold, never a dead-letter queue', () => {
    // Prepare
    const stats = [
      queue({ name: 'a-high', kind: 'high', depth: 8_000, oldestAgeMs: 1_000 }),
      queue({ name: 'a-normal', depth: 8_001, oldestAgeMs: 1_001 }),
      queue({ name: 'a-dlq', kind: 'dlq', depth: 9_000, oldestAgeMs: 9e6 }),
      queue({ name: 'b-normal', oldestAgeMs: null }),
    ];

    // Act
    const checked = checkThresholds(stats, DEFAULT_STATS_THRESHOLDS);

    // Assess
    expect(checked.map((q) => q.breaches)).toEqual([
      [],
      ['depth', 'age'],
      [],
      [],
    ]);
  });

  it('names queue kinds by the naming rule', () => {
    expect(queueKind('tasklane-data-backup-high')).toBe('high');
    expect(queueKind('tasklane-data-backup-normal')).toBe('normal');
    expect(queueKind('tasklane-data-backup-dlq')).toBe('dlq');
    expect(queueKind('tasklane-idempotency')).toBeUndefined();
  });

  it('sorts by task type, then high, normal, dead-letter queue', () => {
    const sorted = sortQueues([
      queue({ name: 't-b-dlq', kind: 'dlq' }),
      queue({ name: 't-b-normal', kind: 'normal' }),
      queue({ name: 't-a-normal', kind: 'normal' }),
      queue({ name: 't-b-high', kind: 'high' }),
    ]);
    expect(sorted.map((q) => q.name)).toEqual([
      't-a-normal',
      't-b-high',
      't-b-normal',
      't-b-dlq',
    ]);
  });

  it('prints an aligned table with a ! on each breached value', () => {
    // Prepare
    const checked = checkThresholds(
      [
        queue({ name: 'x-normal', depth: 9_001, oldestAgeMs: 2_500 }),
        queue({ name: 'x-dlq', kind: 'dlq', depth: 2, oldestAgeMs: null }),
      ],
      DEFAULT_STATS_THRESHOLDS,
    );

    // Act
    const lines = formatStats(checked, DEFAULT_STATS_THRESHOLDS).split('\n');

    // Assess
    expect(lines.slice(0, 3)).toEqual([
      'QUEUE     KIND    DEPTH    IN FLIGHT  DELAYED  OLDEST',
      'x-normal  normal   9001 !          0        0   2.5 s !',
      'x-dlq     dlq         2            0        0       -',
    ]);
    expect(lines).toContain('1 task queue(s) over a threshold');
    expect(lines).toContain('dead letters: 2 (x-dlq 2)');
  });

  it('says where the ages came from and how fresh they are', () => {
    const cloudwatch = { source: 'cloudwatch', lookbackMinutes: 15 } as const;
    expect(describeAgeSource({ source: 'emulator' })).toBe(
      'ages: read from the emulator now',
    );
    expect(
      describeAgeSource({ ...cloudwatch, asOf: '2026-12-01T10:43:00.000Z' }),
    ).toBe(
      'ages: CloudWatch ApproximateAgeOfOldestMessage as of 2026-12-01 ' +
        '10:43 UTC or later (it lags a few minutes); - = no datapoint in ' +
        '15 min',
    );
    expect(describeAgeSource(cloudwatch)).toBe(
      'ages unknown: CloudWatch has no datapoint in 15 min',
    );
    expect(
      describeAgeSource({ ...cloudwatch, error: 'Throttling: slow' }),
    ).toBe('ages unknown: CloudWatch: Throttling: slow');
  });

  it('formats durations and tables', () => {
    expect(
      [null, 850, 12_500, 240_000, 11_520_000].map(formatDuration),
    ).toEqual(['-', '850 ms', '12.5 s', '4 min', '3.2 h']);
    expect(
      formatTable(
        [{ header: 'A' }, { header: 'B', align: 'right' }],
        [['long', '1']],
      ),
    ).toBe('A     B\nlong  1');
  });

  it('computes the oldest age from every message the emulator lists', () => {
    const inspection = {
      messages: {
        ready: [{ sentTimestamp: 9_000 }],
        delayed: [{ sentTimestamp: 8_000 }],
        inflight: [{ message: { sentTimestamp: 7_000 } }],
      },
    };
    expect(oldestAgeMs(inspection, 10_000)).toBe(3_000);
    expect(oldestAgeMs({ messages: {} }, 10_000)).toBe(0);
    expect(oldestAgeMs({}, 10_000)).toBeNull();
  });
});
