import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sendCommand } from '../../lib/cli/send-command.ts';
import { runOps, scriptedTarget } from '../helpers/ops-cli.ts';

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

/** SQS with room in every queue, accepting every entry. */
function sqs(depth = '0') {
  return scriptedTarget({
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
  });
}

describe('tasklane send on AWS', () => {
  it('validates, routes and sends through the producer client', async () => {
    // Prepare
    const aws = sqs();

    // Act
    const run = await runOps(
      sendCommand,
      [
        'send',
        ...ORDER,
        '--priority',
        'normal',
        '--timeout-ms',
        '3000',
        '--json',
      ],
      aws.clients,
    );

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
      'SendMessageBatchCommand',
    ]);
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
    const run = await runOps(
      sendCommand,
      ['send', '--file', file],
      aws.clients,
    );

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
    const run = await runOps(
      sendCommand,
      [
        'send',
        '--type',
        'demo.flaky',
        '--business-id',
        'b-1',
        '--payload',
        '{"failTimes":99}',
      ],
      aws.clients,
    );

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
    const run = await runOps(sendCommand, args, aws.clients);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(aws.inputs('SendMessageBatchCommand')).toEqual([]);
  });

  it('exits 1 naming the queue and its depth when the queue is full', async () => {
    const aws = sqs('10000');
    const run = await runOps(sendCommand, ['send', ...ORDER], aws.clients);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'QUEUE_FULL: queue tasklane-order-notification-normal is full: ' +
        '10000 messages of at most 10000',
    );
    expect(aws.inputs('SendMessageBatchCommand')).toEqual([]);
  });

  it('exits 1 with the reason when SQS refuses the tasks', async () => {
    const aws = scriptedTarget({
      GetQueueUrlCommand: () => ({ QueueUrl: QUEUE_URL }),
      GetQueueAttributesCommand: () => ({ Attributes: {} }),
      SendMessageBatchCommand: () => {
        throw Object.assign(new Error('Access to the resource is denied'), {
          name: 'AccessDenied',
          $fault: 'client',
        });
      },
    });
    const run = await runOps(sendCommand, ['send', ...ORDER], aws.clients);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /SEND_FAILED: 1 of 1 tasks were not sent: .*AccessDenied/,
    );
  });
});
