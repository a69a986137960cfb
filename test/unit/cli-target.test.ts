import { describe, expect, it } from 'vitest';
import { statsCommand } from '../../lib/cli/stats-command.ts';
import {
  createTargetClients,
  openTarget,
  type TargetOptions,
} from '../../lib/cli/target.ts';
import { stackOutputs } from '../helpers/control-cli.ts';
import { runOps, scriptedTarget } from '../helpers/ops-cli.ts';

const base: TargetOptions = {
  stack: 'Tasklane',
  prefix: 'tasklane',
  json: false,
};

describe('target clients', () => {
  it('talk to the endpoint with dummy credentials in local mode', async () => {
    // Act
    const clients = createTargetClients({
      ...base,
      endpoint: 'http://127.0.0.1:4566',
    });

    // Assess
    expect(await clients.sqs.config.region()).toBe('us-east-1');
    expect(await clients.sqs.config.credentials()).toMatchObject({
      accessKeyId: 'local',
      secretAccessKey: 'local',
    });
    expect(await clients.sqs.config.endpoint?.()).toMatchObject({
      hostname: '127.0.0.1',
      port: 4566,
      protocol: 'http:',
    });
    expect(clients.s3.config.forcePathStyle).toBe(true);
  });

  it("use the region and the profile's credentials on AWS", async () => {
    // Act
    const clients = createTargetClients({
      ...base,
      region: 'eu-west-1',
      profile: 'ops',
    });

    // Assess
    for (const client of [clients.sqs, clients.s3, clients.cloudformation]) {
      expect(await client.config.region()).toBe('eu-west-1');
      expect(client.config.profile).toBe('ops');
    }
    expect(clients.sqs.config.endpoint).toBeUndefined();
  });
});

describe('openTarget on AWS', () => {
  it('reads queue URLs from the stack outputs once', async () => {
    // Prepare
    const aws = scriptedTarget({ DescribeStacksCommand: () => stackOutputs() });
    const target = openTarget({ ...base, stack: 'Prod' }, aws.clients);

    // Act
    const dlq = await target.queueUrl('tasklane-data-backup-dlq');
    const high = await target.queueUrl('tasklane-data-backup-high');
    const missing = target.queueUrl('tasklane-demo-flaky-dlq');

    // Assess
    expect(dlq).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/tasklane-data-backup-dlq',
    );
    expect(high).toMatch(/tasklane-data-backup-high$/);
    await expect(missing).rejects.toThrow(
      'queue tasklane-demo-flaky-dlq is not among the outputs of stack Prod',
    );
    expect(aws.inputs('DescribeStacksCommand')).toEqual([
      { StackName: 'Prod' },
    ]);
    expect(target.local).toBe(false);
  });
});

describe('target options', () => {
  it.each([
    [['stats', '--endpoint', 'ftp://x'], /must be an http\(s\) URL/],
    [['stats', '--prefix', 'Bad_Prefix'], /prefix must be 1-20 lower-case/],
  ])('exit 2 for %j', async (args, message) => {
    const run = await runOps(statsCommand, args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('document local mode, the stack and the prefix in --help', async () => {
    const run = await runOps(statsCommand, ['stats', '--help']);
    const help = run.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(
      /--stack <name> stack whose outputs name .*default: "Tasklane"/,
    );
    expect(help).toContain('env: TASKLANE_ENDPOINT');
    expect(help).toContain('Target: local mode with --endpoint');
  });
});
