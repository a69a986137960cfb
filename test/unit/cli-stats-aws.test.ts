import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandDeps } from '../../lib/cli/command-kit.ts';
import { statsCommand } from '../../lib/cli/stats-command.ts';
import type { QueueStats } from '../../lib/ops/stats.ts';
import {
  datapoints,
  type MetricDataAnswer,
  scriptedCloudWatch,
} from '../helpers/cloudwatch.ts';
import { stackOutputs } from '../helpers/control-cli.ts';
import { runOps, scriptedTarget } from '../helpers/ops-cli.ts';

/** The stack's queues in the order of its outputs, as stats asks for them. */
const STACK_QUEUES = (stackOutputs().Stacks[0]?.Outputs ?? []).map(
  (output) => output.OutputValue.split('/').pop() ?? '',
);

/** The time the AWS tests run at. */
const NOW = new Date('2026-12-01T10:45:30.000Z');

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
  /** Runs stats on AWS with CloudWatch answering `answer`. */
  const runStats = (args: string[], answer: MetricDataAnswer) => {
    const aws = script();
    const cloudwatch = scriptedCloudWatch(answer);
    const make = (deps: CommandDeps) =>
      statsCommand({ ...deps, cloudwatch: cloudwatch.factory });
    const run = runOps(make, ['stats', ...args], aws.clients);
    return { aws, cloudwatch, run };
  };
  const noDatapoints: MetricDataAnswer = (input) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) =>
      datapoints(q.Id ?? '', []),
    ),
  });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the queues from the stack outputs and exits 3 on a breach', async () => {
    // Act
    const { aws, run } = runStats(
      ['--region', 'eu-west-1', '--profile', 'ops', '--json'],
      noDatapoints,
    );
    const done = await run;

    // Assess
    expect(done.code).toBe(3);
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
    const report = JSON.parse(done.stdout);
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

  it('asks CloudWatch once for every queue and shows the newest age of each', async () => {
    // Prepare: the normal queue's newest datapoint is 150 s, the high
    // queue's 0 s; the other queues have none.
    const answer: MetricDataAnswer = () => ({
      MetricDataResults: [
        datapoints('q0', [
          ['2026-12-01T10:43:00.000Z', 0],
          ['2026-12-01T10:42:00.000Z', 4],
        ]),
        datapoints('q1', [
          ['2026-12-01T10:44:00.000Z', 150],
          ['2026-12-01T10:43:00.000Z', 90],
        ]),
        ...['q2', 'q3', 'q4', 'q5'].map((id) => datapoints(id, [])),
      ],
    });

    // Act
    const text = runStats(
      ['--region', 'eu-west-1', '--profile', 'ops'],
      answer,
    );
    const json = runStats(['--json'], answer);
    const [printed, reported] = [await text.run, await json.run];

    // Assess
    expect(text.cloudwatch.options).toEqual([text.aws.options[0]]);
    expect(text.cloudwatch.requests).toEqual([
      {
        command: 'GetMetricDataCommand',
        input: {
          StartTime: new Date('2026-12-01T10:30:30.000Z'),
          EndTime: NOW,
          ScanBy: 'TimestampDescending',
          MetricDataQueries: STACK_QUEUES.map((queueName, i) => ({
            Id: `q${i}`,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateAgeOfOldestMessage',
                Dimensions: [{ Name: 'QueueName', Value: queueName }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
            ReturnData: true,
          })),
        },
      },
    ]);
    expect(STACK_QUEUES.slice(0, 2)).toEqual([
      'tasklane-order-notification-high',
      'tasklane-order-notification-normal',
    ]);
    expect(printed.code).toBe(3);
    expect(printed.stdout).toMatch(
      /^tasklane-order-notification-high +high +0 +1 +2 +0 ms *$/m,
    );
    expect(printed.stdout).toMatch(
      /^tasklane-order-notification-normal +normal +9000 ! +1 +2 +2 min !$/m,
    );
    expect(printed.stdout).toMatch(
      /^tasklane-data-backup-high +high +0 +1 +2 +- *$/m,
    );
    expect(printed.stdout).toContain(
      'ages: CloudWatch ApproximateAgeOfOldestMessage as of 2026-12-01 ' +
        '10:43 UTC or later (it lags a few minutes); - = no datapoint in ' +
        '15 min',
    );
    const report = JSON.parse(reported.stdout);
    expect(report.age).toEqual({
      source: 'cloudwatch',
      lookbackMinutes: 15,
      asOf: '2026-12-01T10:43:00.000Z',
    });
    const ageOf = (name: string) =>
      report.queues.find((q: { name: string }) => q.name === name);
    expect(ageOf('tasklane-order-notification-normal')).toMatchObject({
      oldestAgeMs: 150_000,
      breaches: ['depth', 'age'],
    });
    expect(ageOf('tasklane-order-notification-high')).toMatchObject({
      oldestAgeMs: 0,
      breaches: [],
    });
    expect(ageOf('tasklane-data-backup-normal')).toMatchObject({
      oldestAgeMs: null,
      breaches: [],
    });
  });

  it('shows - for every age when CloudWatch has no datapoint', async () => {
    // Act
    const { run } = runStats(
      ['--stack', 'Prod', '--depth-threshold', '10000'],
      noDatapoints,
    );
    const done = await run;

    // Assess
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /^tasklane-order-notification-normal +normal +9000 +1 +2 +- *$/m,
    );
    expect(done.stdout).toContain('depth > 10000 messages');
    expect(done.stdout).toContain(
      'dead letters: 5 (tasklane-data-backup-dlq 5)',
    );
    expect(done.stdout).toContain(
      'ages unknown: CloudWatch has no datapoint in 15 min',
    );
  });

  it('prints the counts and says why when CloudWatch refuses', async () => {
    // Prepare
    const denied: MetricDataAnswer = () => {
      throw Object.assign(new Error('not authorized: GetMetricData'), {
        name: 'AccessDenied',
      });
    };

    // Act
    const { run } = runStats(['--json', '--depth-threshold', '10000'], denied);
    const done = await run;

    // Assess
    expect(done.code).toBe(0);
    expect(done.stderr).toBe(
      'tasklane stats: ages unknown: CloudWatch: AccessDenied: not ' +
        'authorized: GetMetricData\n',
    );
    const report = JSON.parse(done.stdout);
    expect(report.age).toEqual({
      source: 'cloudwatch',
      lookbackMinutes: 15,
      error: 'AccessDenied: not authorized: GetMetricData',
    });
    expect(report.queues.map((q: QueueStats) => q.oldestAgeMs)).toEqual(
      Array(6).fill(null),
    );
  });

  it('exits 1 naming the queues when the prefix matches none', async () => {
    const { run } = runStats(['--prefix', 'acme'], noDatapoints);
    const done = await run;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(
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
    const cloudwatch = scriptedCloudWatch(noDatapoints);
    const run = await runOps(
      (deps) => statsCommand({ ...deps, cloudwatch: cloudwatch.factory }),
      ['stats', '--stack', 'Nope'],
      aws.clients,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'tasklane stats: ValidationError: Stack with id Nope does not exist\n',
    );
    expect(cloudwatch.requests).toEqual([]);
  });

  it('exits 2 on a bad threshold and documents the exit codes', async () => {
    const bad = await runOps(statsCommand, ['stats', '--depth-threshold', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('must be a whole number of 0 or more (got x)');

    const help = await runOps(statsCommand, ['stats', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('3  a checked threshold is breached');
    expect(help.stdout).toContain('--endpoint <url>');
    expect(help.stdout).toContain('ApproximateAgeOfOldestMessage');
  });
});
