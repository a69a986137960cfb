import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParameterNotFound } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { sendCommand } from '../../lib/cli/send-command.ts';
import { type AwsScript, scriptedAws } from '../helpers/control-cli.ts';
import { runOps } from '../helpers/ops-cli.ts';

const QUEUE_URL =
  'https://sqs.eu-west-1.amazonaws.com/123456789012/tasklane-order-notification-normal';

const ORDER = [
  '--type',
  'order.notification',
  '--business-id',
  'order-1001',
  '--payload',
  '{"event":"paid","message":"Payment received"}',
];

const RATE_LIMIT = { Name: '/tasklane/send-rate-limit' };

/**
 * SQS with room in every queue, accepting every entry, and SSM without a
 * send-rate limit; `overrides` replace answers. `send` runs the command on
 * these clients.
 */
function sqs(depth = '0', overrides: AwsScript = {}) {
  const aws = scriptedAws({
    GetParameterCommand: () => {
      throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    },
    GetQueueUrlCommand: (input: { QueueName: string }) => ({
      QueueUrl: `https://sqs.eu-west-1.amazonaws.com/123456789012/${input.QueueName}`,
    }),
    GetQueueAttributesCommand: () => ({
      Attributes: {
        ApproximateNumberOfMessages: depth,
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
      },
    }),
    SendMessageBatchCommand: (input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({
        Id: e.Id,
        MessageId: `m-${e.Id}`,
      })),
      Failed: [],
    }),
    ...overrides,
  });
  const inputs = (command: string) =>
    aws.requests.filter((r) => r.command === command).map((r) => r.input);
  const send = (args: readonly string[]) =>
    runOps(
      (deps) => sendCommand({ ...deps, controlClients: aws.controlClients }),
      args,
      aws.targetClients,
    );
  return { requests: aws.requests, inputs, send };
}

describe('tasklane send on AWS', () => {
  it('validates, routes and sends through the producer client', async () => {
    // Prepare
    const aws = sqs();

    // Act
    const run = await aws.send([
      'send',
      ...ORDER,
      '--priority',
      'normal',
      '--timeout-ms',
      '3000',
      '--json',
    ]);

    // Assess
    expect(run.code).toBe(0);
    const [sent] = JSON.parse(run.stdout).sent;
    expect(sent).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      queueName: 'tasklane-order-notification-normal',
      messageId: 'm-0',
    });
    expect(aws.requests.map((r) => r.command)).toEqual([
      'GetQueueUrlCommand',
      'GetQueueAttributesCommand',
      'GetParameterCommand',
      'SendMessageBatchCommand',
    ]);
    expect(aws.inputs('GetParameterCommand')).toEqual([RATE_LIMIT]);
    expect(run.stderr).toBe('');
    expect(aws.inputs('GetQueueUrlCommand')).toEqual([
      { QueueName: 'tasklane-order-notification-normal' },
    ]);
    expect(aws.inputs('GetQueueAttributesCommand')).toEqual([
      {
        QueueUrl: QUEUE_URL,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      },
    ]);
    expect(aws.inputs('SendMessageBatchCommand')).toEqual([
      {
        QueueUrl: QUEUE_URL,
        Entries: [
          {
            Id: '0',
            MessageBody: expect.any(String),
            MessageAttributes: {
              taskType: {
                DataType: 'String',
                StringValue: 'order.notification',
              },
              priority: { DataType: 'String', StringValue: 'normal' },
            },
          },
        ],
      },
    ]);
    const [request] = aws.inputs('SendMessageBatchCommand') as {
      Entries: { MessageBody: string }[];
    }[];
    expect(JSON.parse(request?.Entries[0]?.MessageBody ?? '')).toMatchObject({
      id: sent.id,
      taskType: 'order.notification',
      businessId: 'order-1001',
      priority: 'normal',
      timeoutMs: 3000,
      payload: { event: 'paid', message: 'Payment received' },
    });
  });

  it('sends every task of a file and prints each id with its queue', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'tasklane-send-'));
    const file = join(dir, 'tasks.json');
    const task = (businessId: string, priority: string) => ({
      taskType: 'order.notification',
      businessId,
      priority,
      payload: { event: 'paid', message: 'Paid' },
    });
    writeFileSync(
      file,
      JSON.stringify([task('o-1', 'high'), task('o-2', 'normal')]),
    );
    const aws = sqs();

    // Act
    const run = await aws.send(['send', '--file', file]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^sent [0-9a-f-]{36} to tasklane-order-notification-high\nsent [0-9a-f-]{36} to tasklane-order-notification-normal\n$/,
    );
    expect(aws.inputs('SendMessageBatchCommand')).toHaveLength(2);
  });

  it('exits 2 naming the field and value of an invalid task; sends nothing', async () => {
    // Prepare
    const aws = sqs();

    // Act
    const run = await aws.send([
      'send',
      '--type',
      'demo.flaky',
      '--business-id',
      'b-1',
      '--payload',
      '{"failTimes":99}',
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/field payload\.failTimes: .*\(got 99\)/);
    expect(aws.requests).toEqual([]);
  });

  it.each([
    [['send', '--type', 'demo.flaky'], /needs --type and --business-id/],
    [
      ['send', ...ORDER.slice(0, 4), '--payload', '{oops'],
      /--payload <json>.*must be JSON/,
    ],
    [
      ['send', ...ORDER.slice(0, 4), '--priority', 'urgent'],
      /Allowed choices are high, normal/,
    ],
    [
      ['send', '--type', 'no.such', '--business-id', 'x'],
      /unknown task type "no.such"/,
    ],
    [['send', '--file', 'x.json', '--type', 'demo.flaky'], /drop --type/],
    [['send', '--file', '/nonexistent/tasks.json'], /cannot read --file/],
    [
      ['send', ...ORDER, '--callback-url', 'http://example.com/cb'],
      /field callbackUrl/,
    ],
  ])('exits 2 for %j', async (args, message) => {
    const aws = sqs();
    const run = await aws.send(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(aws.inputs('SendMessageBatchCommand')).toEqual([]);
  });

  it('exits 1 naming the queue and its depth when the queue is full', async () => {
    const aws = sqs('10000');
    const run = await aws.send(['send', ...ORDER]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'QUEUE_FULL: queue tasklane-order-notification-normal is full: ' +
        '10000 messages of at most 10000',
    );
    expect(aws.inputs('SendMessageBatchCommand')).toEqual([]);
  });

  it('exits 1 with the reason when SQS refuses the tasks', async () => {
    const aws = sqs('0', {
      GetQueueUrlCommand: () => ({ QueueUrl: QUEUE_URL }),
      GetQueueAttributesCommand: () => ({ Attributes: {} }),
      SendMessageBatchCommand: () => {
        throw Object.assign(new Error('Access to the resource is denied'), {
          name: 'AccessDenied',
          $fault: 'client',
        });
      },
    });
    const run = await aws.send(['send', ...ORDER]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /SEND_FAILED: 1 of 1 tasks were not sent: .*AccessDenied/,
    );
  });
});

describe('tasklane send on AWS: the send-rate limit', () => {
  /** A file of `count` order.notification tasks of normal priority. */
  function taskFile(count: number): string {
    const file = join(mkdtempSync(join(tmpdir(), 'tasklane-send-')), 't.json');
    const tasks = Array.from({ length: count }, (_, i) => ({
      taskType: 'order.notification',
      businessId: `o-${i}`,
      payload: { event: 'paid', message: 'Paid' },
    }));
    writeFileSync(file, JSON.stringify(tasks));
    return file;
  }

  it('paces the batches to the rate in SSM: a batch goes when its last task is due', async () => {
    // Prepare: 100 tasks/s, so batches of 10 go 100 ms apart
    let readAt = Number.NaN;
    const sentAt: number[] = [];
    const aws = sqs('0', {
      GetParameterCommand: () => {
        readAt = performance.now();
        return { Parameter: { Value: '100' } };
      },
      SendMessageBatchCommand: (input: { Entries: { Id: string }[] }) => {
        sentAt.push(performance.now());
        return {
          Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm' })),
          Failed: [],
        };
      },
    });

    // Act
    const run = await aws.send(['send', '--file', taskFile(30)]);

    // Assess: read once (cached 10 s); the pacer starts after the read,
    // and a batch goes when its last task is due: 9, 19, 29 intervals of
    // 10 ms. Lower bounds only, which a late timer never breaks.
    expect(run.code, run.stderr).toBe(0);
    expect(aws.inputs('GetParameterCommand')).toEqual([RATE_LIMIT]);
    const waited = sentAt.map((at) => at - readAt);
    expect(waited).toHaveLength(3);
    for (const [i, due] of [90, 190, 290].entries()) {
      expect(waited[i]).toBeGreaterThanOrEqual(due - 1);
    }
  });

  it('warns and still sends when the limit cannot be read', async () => {
    // Prepare: the caller may send to SQS but not read the parameter
    const aws = sqs('0', {
      GetParameterCommand: () => {
        throw Object.assign(new Error('not authorized to GetParameter'), {
          name: 'AccessDeniedException',
          $fault: 'client',
        });
      },
    });

    // Act
    const run = await aws.send(['send', '--file', taskFile(12)]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'tasklane send: warning: cannot read the send-rate limit from SSM ' +
        'parameter /tasklane/send-rate-limit (not authorized to ' +
        'GetParameter); sending at the last limit read, none if none was ' +
        'read\n',
    );
    expect(run.stdout.match(/^sent /gm)).toHaveLength(12);
    expect(aws.inputs('SendMessageBatchCommand')).toHaveLength(2);
  });
});
