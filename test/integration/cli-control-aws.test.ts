/**
 * The AWS path of `tasklane scale` and `tasklane throttle`: every request
 * is answered by a script in this process, and asserted in full.
 */
import { ParameterNotFound } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { scaleCommand } from '../../lib/cli/scale-command.ts';
import { throttleCommand } from '../../lib/cli/throttle-command.ts';
import {
  arnOf,
  recordingIo,
  runInProcess,
  scriptedAws,
  stackOutputs,
} from '../helpers/control-cli.ts';

describe('tasklane scale, on AWS', () => {
  const normal = stackOutputs().Stacks[0]?.Outputs.find((o) =>
    o.OutputValue.endsWith('order-notification-normal'),
  )?.OutputValue as string;
  const high = normal.replace(/normal$/, 'high');

  function aws() {
    return scriptedAws({
      DescribeStacksCommand: () => stackOutputs(),
      GetQueueAttributesCommand: (input: { QueueUrl: string }) => ({
        Attributes: { QueueArn: arnOf(input.QueueUrl) },
      }),
      ListEventSourceMappingsCommand: (input: { EventSourceArn: string }) => ({
        EventSourceMappings: input.EventSourceArn.endsWith('normal')
          ? [{ UUID: 'uuid-normal', ScalingConfig: { MaximumConcurrency: 10 } }]
          : [
              {
                UUID: 'uuid-high',
                ProvisionedPollerConfig: {
                  MinimumPollers: 2,
                  MaximumPollers: 200,
                },
              },
            ],
      }),
      UpdateEventSourceMappingCommand: () => ({}),
    });
  }

  it('updates the normal and the high lane mappings', async () => {
    // Prepare
    const fake = aws();
    const io = recordingIo();
    const command = scaleCommand({
      io,
      clients: fake.targetClients,
      controlClients: fake.controlClients,
    });

    // Act
    const run = await runInProcess(command, io, [
      '--type',
      'order.notification',
      '--max-concurrency',
      '50',
      '--provisioned-pollers',
      '10',
      '--region',
      'eu-west-1',
    ]);

    // Assess: both mappings are found before either changes.
    expect(run.code, run.stderr).toBe(0);
    expect(fake.requests).toEqual([
      { command: 'DescribeStacksCommand', input: { StackName: 'Tasklane' } },
      {
        command: 'GetQueueAttributesCommand',
        input: { QueueUrl: normal, AttributeNames: ['QueueArn'] },
      },
      {
        command: 'ListEventSourceMappingsCommand',
        input: { EventSourceArn: arnOf(normal) },
      },
      {
        command: 'GetQueueAttributesCommand',
        input: { QueueUrl: high, AttributeNames: ['QueueArn'] },
      },
      {
        command: 'ListEventSourceMappingsCommand',
        input: { EventSourceArn: arnOf(high) },
      },
      {
        command: 'UpdateEventSourceMappingCommand',
        input: {
          UUID: 'uuid-normal',
          ScalingConfig: { MaximumConcurrency: 50 },
        },
      },
      {
        command: 'UpdateEventSourceMappingCommand',
        input: {
          UUID: 'uuid-high',
          ProvisionedPollerConfig: { MinimumPollers: 10, MaximumPollers: 200 },
        },
      },
    ]);
    expect(run.stdout).toBe(
      'order.notification normal lane: maximum concurrency 10 -> 50 (mapping uuid-normal)\n' +
        'order.notification high lane: provisioned pollers 2-200 -> 10-200 (mapping uuid-high)\n',
    );
  });

  it('exits 1 when a queue has no mapping, changing nothing', async () => {
    // Prepare
    const fake = scriptedAws({
      DescribeStacksCommand: () => stackOutputs(),
      GetQueueAttributesCommand: (input: { QueueUrl: string }) => ({
        Attributes: { QueueArn: arnOf(input.QueueUrl) },
      }),
      ListEventSourceMappingsCommand: () => ({ EventSourceMappings: [] }),
    });
    const io = recordingIo();
    const command = scaleCommand({
      io,
      clients: fake.targetClients,
      controlClients: fake.controlClients,
    });

    // Act
    const run = await runInProcess(command, io, [
      '--type',
      'data.backup',
      '--max-concurrency',
      '20',
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /0 event source mappings read tasklane-data-backup-normal; expected exactly one/,
    );
    expect(fake.requests.map((r) => r.command)).not.toContain(
      'UpdateEventSourceMappingCommand',
    );
  });
});

describe('tasklane throttle, on AWS', () => {
  function run(args: string[], getParameter: () => unknown) {
    const fake = scriptedAws({
      PutParameterCommand: () => ({ Version: 2 }),
      GetParameterCommand: getParameter,
    });
    const io = recordingIo();
    const command = throttleCommand({
      io,
      controlClients: fake.controlClients,
    });
    return runInProcess(command, io, args).then((r) => ({ ...r, fake }));
  }

  it('puts the limit into /<prefix>/send-rate-limit', async () => {
    // Act
    const result = await run(['--rate', '50', '--prefix', 'shop'], () => ({}));

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.fake.requests).toEqual([
      {
        command: 'PutParameterCommand',
        input: {
          Name: '/shop/send-rate-limit',
          Value: '50',
          Type: 'String',
          Overwrite: true,
          Description:
            'tasks per second each tasklane producer may send, or off; ' +
            'set by tasklane throttle',
        },
      },
    ]);
    expect(result.stdout).toBe(
      'send-rate limit set to 50 tasks/s per producer (ssm:/shop/send-rate-limit)\n',
    );
  });

  it('writes off to clear the limit', async () => {
    // Act
    const result = await run(['--off', '--json'], () => ({}));

    // Assess
    const [request] = result.fake.requests;
    expect(request?.input).toMatchObject({
      Name: '/tasklane/send-rate-limit',
      Value: 'off',
      Overwrite: true,
    });
    expect(JSON.parse(result.stdout)).toEqual({
      rate: null,
      source: 'ssm:/tasklane/send-rate-limit',
      changed: true,
    });
  });

  it('shows the limit, and none when the parameter does not exist', async () => {
    // Act
    const set = await run([], () => ({ Parameter: { Value: '12.5' } }));
    const missing = await run([], () => {
      throw new ParameterNotFound({ message: 'none', $metadata: {} });
    });

    // Assess
    expect(set.fake.requests).toEqual([
      {
        command: 'GetParameterCommand',
        input: { Name: '/tasklane/send-rate-limit' },
      },
    ]);
    expect(set.stdout).toMatch(
      /^send-rate limit is 12\.5 tasks\/s per producer/,
    );
    expect(missing.code).toBe(0);
    expect(missing.stdout).toMatch(/^send-rate limit is off \(no limit\)/);
  });
});
