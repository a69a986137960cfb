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

describe('tasklane dlq redrive on AWS', () => {
  it('redrives everything with a message move task into the normal queue', async () => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const run = await runOps(
      dlqCommand,
      ['dlq', 'redrive', '--type', 'order.notification', ...AWS_ARGS],
      aws.clients,
    );

    // Assess
    expect(run.code).toBe(0);
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
    expect(JSON.parse(run.stdout)).toEqual({
      queue: 'tasklane-order-notification-dlq',
      mode: 'move-task',
      destination: 'tasklane-order-notification-normal',
      taskHandle: 'handle-1',
      status: 'COMPLETED',
      moved: 3,
      toMove: 3,
    });
  });

  it('returns at once with --no-wait, and exits 1 when the task fails', async () => {
    const started = dlqAws(THREE_DEAD_LETTERS);
    const quick = await runOps(
      dlqCommand,
      ['dlq', 'redrive', '--type', 'order.notification', '--no-wait'],
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
      ['dlq', 'redrive', '--type', 'order.notification'],
      failing.clients,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAILED, 0 moved (AccessDenied)');
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
