import { describe, expect, it } from 'vitest';
import { dlqCommand } from '../../lib/cli/dlq-command.ts';
import { arnOf } from '../helpers/control-cli.ts';
import {
  AWS_RECEIVE,
  dlqAws,
  type Entries,
  orderQueueUrl,
  receiptHandles,
  runOps,
  THREE_DEAD_LETTERS,
} from '../helpers/ops-cli.ts';

const DLQ = orderQueueUrl('dlq');
const AWS_ARGS = ['--region', 'eu-west-1', '--json'];

/** The request to the dead-letter queue that sizes the progress bar. */
const DEPTH_REQUEST = {
  QueueUrl: DLQ,
  AttributeNames: [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ],
};

/** A SendMessageBatch entry redriving one of THREE_DEAD_LETTERS. */
const resent = (Id: string, n: 0 | 1 | 2) => ({
  Id,
  MessageBody: THREE_DEAD_LETTERS[n]?.Body,
  MessageAttributes: THREE_DEAD_LETTERS[n]?.MessageAttributes,
});

describe('tasklane dlq redrive on AWS', () => {
  it('redrives everything message by message by default, high to high', async () => {
    // Prepare: task-1 came from the high queue, task-2 and task-3 from the
    // normal one.
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const run = await runOps(
      dlqCommand,
      ['dlq', 'redrive', '--type', 'order.notification', ...AWS_ARGS],
      aws.clients,
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(aws.inputs('DescribeStacksCommand')).toEqual([
      { StackName: 'Tasklane' },
    ]);
    expect(aws.inputs('GetQueueAttributesCommand')).toEqual([DEPTH_REQUEST]);
    const receive = { ...AWS_RECEIVE, VisibilityTimeout: 300 };
    expect(aws.inputs('ReceiveMessageCommand')).toEqual([receive, receive]);
    const sent = aws.inputs('SendMessageBatchCommand');
    expect(sent).toHaveLength(2);
    expect(sent).toEqual(
      expect.arrayContaining([
        { QueueUrl: orderQueueUrl('high'), Entries: [resent('0', 0)] },
        {
          QueueUrl: orderQueueUrl('normal'),
          Entries: [resent('0', 1), resent('1', 2)],
        },
      ]),
    );
    const deleted = aws.inputs('DeleteMessageBatchCommand');
    expect(deleted).toEqual(
      expect.arrayContaining([
        { QueueUrl: DLQ, Entries: [{ Id: '0', ReceiptHandle: 'r-1' }] },
        {
          QueueUrl: DLQ,
          Entries: [
            { Id: '0', ReceiptHandle: 'r-2' },
            { Id: '1', ReceiptHandle: 'r-3' },
          ],
        },
      ]),
    );
    expect(deleted).toHaveLength(2);
    expect(aws.inputs('ChangeMessageVisibilityBatchCommand')).toEqual([]);
    expect(aws.inputs('StartMessageMoveTaskCommand')).toEqual([]);
    expect(aws.requests).toHaveLength(8);
    expect(JSON.parse(run.stdout)).toEqual({
      queue: 'tasklane-order-notification-dlq',
      mode: 'per-message',
      seen: 3,
      redriven: 3,
      left: 0,
      destinations: {
        'tasklane-order-notification-high': 1,
        'tasklane-order-notification-normal': 2,
      },
      failures: [],
    });
  });

  it('with --move-task moves everything into the normal queue', async () => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const args = ['dlq', 'redrive', '--type', 'order.notification'];
    const run = await runOps(
      dlqCommand,
      [...args, '--move-task', ...AWS_ARGS],
      aws.clients,
    );
    const text = await runOps(
      dlqCommand,
      [...args, '--move-task'],
      dlqAws(THREE_DEAD_LETTERS).clients,
    );

    // Assess
    expect(run.code).toBe(0);
    expect(aws.inputs('GetQueueAttributesCommand')).toEqual([
      { QueueUrl: DLQ, AttributeNames: ['QueueArn'] },
      { QueueUrl: orderQueueUrl('normal'), AttributeNames: ['QueueArn'] },
      DEPTH_REQUEST,
    ]);
    expect(aws.inputs('StartMessageMoveTaskCommand')).toEqual([
      {
        SourceArn: arnOf(DLQ),
        DestinationArn: arnOf(orderQueueUrl('normal')),
      },
    ]);
    expect(aws.inputs('ListMessageMoveTasksCommand')).toEqual([
      { SourceArn: arnOf(DLQ), MaxResults: 10 },
    ]);
    expect(aws.inputs('ReceiveMessageCommand')).toEqual([]);
    expect(aws.inputs('SendMessageBatchCommand')).toEqual([]);
    expect(JSON.parse(run.stdout)).toEqual({
      queue: 'tasklane-order-notification-dlq',
      mode: 'move-task',
      destination: 'tasklane-order-notification-normal',
      taskHandle: 'handle-1',
      status: 'COMPLETED',
      moved: 3,
      toMove: 3,
    });
    expect(text.stdout).toBe(
      'message move task from tasklane-order-notification-dlq to ' +
        'tasklane-order-notification-normal: COMPLETED, 3 moved\n' +
        'task handle: handle-1\n' +
        'high-priority tasks among them run from the normal queue\n',
    );
  });

  it('returns at once with --move-task --no-wait, and exits 1 when the task fails', async () => {
    const args = ['dlq', 'redrive', '--type', 'order.notification'];
    const started = dlqAws(THREE_DEAD_LETTERS);
    const quick = await runOps(
      dlqCommand,
      [...args, '--move-task', '--no-wait'],
      started.clients,
    );
    expect(quick.code).toBe(0);
    expect(started.inputs('ListMessageMoveTasksCommand')).toEqual([]);
    expect(quick.stdout).toContain('RUNNING, 0 moved\ntask handle: handle-1');

    const failing = dlqAws(THREE_DEAD_LETTERS, {
      ListMessageMoveTasksCommand: () => ({
        Results: [{ Status: 'FAILED', FailureReason: 'AccessDenied' }],
      }),
    });
    const failed = await runOps(
      dlqCommand,
      [...args, '--move-task'],
      failing.clients,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAILED, 0 moved (AccessDenied)');
  });

  it.each([
    [['--move-task', '--reason', 'INVALID'], /cannot be used with option/],
    [['--move-task', '--limit', '5'], /cannot be used with option/],
    [
      ['--move-task', '--endpoint', 'http://127.0.0.1:4566'],
      /--move-task works on AWS only/,
    ],
    [['--no-wait'], /--no-wait applies to --move-task only/],
  ])('exits 2 on %j and sends nothing', async (flags, error) => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const run = await runOps(
      dlqCommand,
      ['dlq', 'redrive', '--type', 'order.notification', ...flags],
      aws.clients,
    );

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(error);
    expect(aws.requests).toEqual([]);
  });

  it('names both modes and what each does in its help', async () => {
    const help = await runOps(dlqCommand, ['dlq', 'redrive', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('per message (default, locally and on AWS)');
    expect(help.stdout).toContain(
      '--move-task (AWS only, no --reason or --limit)',
    );
    expect(help.stdout).toContain('high-priority tasks lose their lane');
  });

  it('with --reason moves matching tasks one by one to their source queues', async () => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const run = await runOps(
      dlqCommand,
      [
        'dlq',
        'redrive',
        '--type',
        'order.notification',
        '--reason',
        'RETRIES_EXHAUSTED',
        ...AWS_ARGS,
      ],
      aws.clients,
    );

    // Assess
    expect(run.code).toBe(0);
    expect(aws.inputs('StartMessageMoveTaskCommand')).toEqual([]);
    expect(aws.inputs('ReceiveMessageCommand')[0]).toEqual({
      ...AWS_RECEIVE,
      VisibilityTimeout: 300,
    });
    expect(aws.inputs('SendMessageBatchCommand')).toEqual(
      expect.arrayContaining([
        // The dead-lettering's attributes go along, so that the consumer
        // gives the task a fresh budget of executions.
        {
          QueueUrl: orderQueueUrl('high'),
          Entries: [
            {
              Id: '0',
              MessageBody: THREE_DEAD_LETTERS[0]?.Body,
              MessageAttributes: THREE_DEAD_LETTERS[0]?.MessageAttributes,
            },
          ],
        },
        {
          QueueUrl: orderQueueUrl('normal'),
          Entries: [
            {
              Id: '0',
              MessageBody: THREE_DEAD_LETTERS[2]?.Body,
              MessageAttributes: THREE_DEAD_LETTERS[2]?.MessageAttributes,
            },
          ],
        },
      ]),
    );
    const deleted = receiptHandles(aws.inputs('DeleteMessageBatchCommand'));
    expect(deleted).toEqual(['r-1', 'r-3']);
    expect(aws.inputs('ChangeMessageVisibilityBatchCommand')).toEqual([
      {
        QueueUrl: DLQ,
        Entries: [{ Id: '0', ReceiptHandle: 'r-2', VisibilityTimeout: 0 }],
      },
    ]);
    expect(JSON.parse(run.stdout)).toEqual({
      queue: 'tasklane-order-notification-dlq',
      mode: 'per-message',
      seen: 3,
      redriven: 2,
      left: 1,
      destinations: {
        'tasklane-order-notification-high': 1,
        'tasklane-order-notification-normal': 1,
      },
      failures: [],
    });
  });

  it('leaves a task SQS did not take in the dead-letter queue and exits 1', async () => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS, {
      SendMessageBatchCommand: (input: Entries & { QueueUrl: string }) => ({
        Successful: [],
        Failed: input.Entries.map((e) => ({
          Id: e.Id,
          Code: 'KMS.AccessDenied',
          Message: 'no key access',
          SenderFault: true,
        })),
      }),
    });

    // Act
    const run = await runOps(
      dlqCommand,
      ['dlq', 'redrive', '--type', 'order.notification', '--limit', '1'],
      aws.clients,
    );

    // Assess
    expect(run.code).toBe(1);
    expect(aws.inputs('DeleteMessageBatchCommand')).toEqual([]);
    expect(run.stdout).toContain('redrove 0 of 3 dead letters');
    expect(run.stdout).toContain(
      'not redriven: task-1: not sent: no key access',
    );
    const released = receiptHandles(
      aws.inputs('ChangeMessageVisibilityBatchCommand'),
    );
    expect(released).toEqual(['r-1', 'r-2', 'r-3']);
  });
});
