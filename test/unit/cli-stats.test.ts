import { describe, expect, it } from 'vitest';
import { statsCommand } from '../../lib/cli/stats-command.ts';
import { formatDuration, formatTable } from '../../lib/ops/format.ts';
import { oldestAgeMs } from '../../lib/ops/queue-age.ts';
import {
  checkThresholds,
  DEFAULT_STATS_THRESHOLDS,
  formatStats,
  type QueueStats,
  queueKind,
  sortQueues,
} from '../../lib/ops/stats.ts';
import { stackOutputs } from '../helpers/control-cli.ts';
import { runOps, scriptedTarget } from '../helpers/ops-cli.ts';

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

describe('tasklane stats on AWS', () => {
  const depths: Record<string, string> = {
    'tasklane-order-notification-normal': '9000',
    'tasklane-data-backup-dlq': '4',
  };
  const script = () =>
    scriptedTarget({
      DescribeStacksCommand: () => stackOutputs(),
      GetQueueAttributesCommand: (input: { QueueUrl: string }) => ({
        Attributes: {
          ApproximateNumberOfMessages:
            depths[input.QueueUrl.split('/').pop() ?? ''] ?? '0',
          ApproximateNumberOfMessagesNotVisible: '1',
          ApproximateNumberOfMessagesDelayed: '2',
        },
      }),
    });

  it('reads the queues from the stack outputs and exits 3 on a breach', async () => {
    // Prepare
    const aws = script();

    // Act
    const run = await runOps(
      statsCommand,
      ['stats', '--region', 'eu-west-1', '--profile', 'ops', '--json'],
      aws.clients,
    );

    // Assess
    expect(run.code).toBe(3);
    expect(aws.options[0]).toMatchObject({
      region: 'eu-west-1',
      profile: 'ops',
      stack: 'Tasklane',
      prefix: 'tasklane',
    });
    expect(aws.inputs('DescribeStacksCommand')).toEqual([
      { StackName: 'Tasklane' },
    ]);
    const urls = stackOutputs().Stacks[0]?.Outputs.map((o) => o.OutputValue);
    expect(aws.inputs('GetQueueAttributesCommand')).toEqual(
      expect.arrayContaining(
        (urls ?? []).map((QueueUrl) => ({
          QueueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        })),
      ),
    );
    const report = JSON.parse(run.stdout);
    expect(report.breached).toBe(true);
    expect(report.queues).toHaveLength(6);
    expect(report.queues).toContainEqual({
      name: 'tasklane-order-notification-normal',
      kind: 'normal',
      depth: 9000,
      inFlight: 1,
      delayed: 2,
      oldestAgeMs: null,
      breaches: ['depth'],
    });
  });

  it('shows the age as - on AWS and takes thresholds from flags', async () => {
    // Act
    const run = await runOps(
      statsCommand,
      ['stats', '--stack', 'Prod', '--depth-threshold', '10000'],
      script().clients,
    );

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^tasklane-order-notification-normal +normal +9000 +1 +2 +- *$/m,
    );
    expect(run.stdout).toContain('depth > 10000 messages');
    expect(run.stdout).toContain(
      'dead letters: 5 (tasklane-data-backup-dlq 5)',
    );
  });

  it('exits 1 naming the queues when the prefix matches none', async () => {
    const run = await runOps(
      statsCommand,
      ['stats', '--prefix', 'acme'],
      script().clients,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /no queue named acme-\*; its queues: tasklane-order-notification-high/,
    );
  });

  it('exits 1 with the AWS error when the stack does not exist', async () => {
    const aws = scriptedTarget({
      DescribeStacksCommand: () => {
        throw Object.assign(new Error('Stack with id Nope does not exist'), {
          name: 'ValidationError',
        });
      },
    });
    const run = await runOps(
      statsCommand,
      ['stats', '--stack', 'Nope'],
      aws.clients,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'tasklane stats: ValidationError: Stack with id Nope does not exist\n',
    );
  });

  it('exits 2 on a bad threshold and documents the exit codes', async () => {
    const bad = await runOps(statsCommand, ['stats', '--depth-threshold', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('must be a whole number of 0 or more (got x)');

    const help = await runOps(statsCommand, ['stats', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('3  a checked threshold is breached');
    expect(help.stdout).toContain('--endpoint <url>');
  });
});
