import { describe, expect, it } from 'vitest';
import { dlqCommand } from '../../lib/cli/dlq-command.ts';
import {
  AWS_RECEIVE,
  dlqAws,
  orderQueueUrl,
  runOps,
  THREE_DEAD_LETTERS,
} from '../helpers/ops-cli.ts';

const DLQ = orderQueueUrl('dlq');
const AWS_ARGS = ['--region', 'eu-west-1', '--json'];

describe('tasklane dlq list and show on AWS', () => {
  it('lists by reason, then makes every message visible again', async () => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const run = await runOps(
      dlqCommand,
      ['dlq', 'list', '--type', 'order.notification', ...AWS_ARGS],
      aws.clients,
    );

    // Assess
    expect(run.code).toBe(0);
    expect(aws.inputs('DescribeStacksCommand')).toEqual([
      { StackName: 'Tasklane' },
    ]);
    expect(aws.inputs('ReceiveMessageCommand')).toEqual([
      { ...AWS_RECEIVE, VisibilityTimeout: 30 },
      { ...AWS_RECEIVE, VisibilityTimeout: 30 },
    ]);
    expect(aws.inputs('ChangeMessageVisibilityBatchCommand')).toEqual([
      {
        QueueUrl: DLQ,
        Entries: ['r-1', 'r-2', 'r-3'].map((ReceiptHandle, i) => ({
          Id: String(i),
          ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      },
    ]);
    expect(aws.inputs('DeleteMessageBatchCommand')).toEqual([]);
    const [queue] = JSON.parse(run.stdout).queues;
    expect(queue).toMatchObject({
      queue: 'tasklane-order-notification-dlq',
      total: 3,
      complete: true,
      reasons: [
        {
          reason: 'RETRIES_EXHAUSTED',
          count: 2,
          taskIds: ['task-1', 'task-3'],
        },
        { reason: 'INVALID', count: 1, taskIds: ['task-2'] },
      ],
    });
  });

  it('lists every dead-letter queue of the stack without --type', async () => {
    const run = await runOps(
      dlqCommand,
      ['dlq', 'list', '--region', 'eu-west-1'],
      dlqAws([]).clients,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'tasklane-data-backup-dlq: no dead letters\n' +
        'tasklane-order-notification-dlq: no dead letters\n',
    );
  });

  it('shows one task with its history; exits 1 for an unknown one', async () => {
    const shown = await runOps(
      dlqCommand,
      ['dlq', 'show', 'task-3', '--type', 'order.notification', ...AWS_ARGS],
      dlqAws(THREE_DEAD_LETTERS).clients,
    );
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      queue: 'tasklane-order-notification-dlq',
      taskId: 'task-3',
      reason: 'RETRIES_EXHAUSTED',
      errorCode: 'TASK_TIMEOUT',
      history: [{ attempt: 1, code: 'TASK_TIMEOUT' }],
    });

    const missing = await runOps(
      dlqCommand,
      ['dlq', 'show', 'task-9', '--type', 'order.notification'],
      dlqAws(THREE_DEAD_LETTERS).clients,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'tasklane dlq show: task task-9 is in no dead-letter queue of ' +
        'order.notification\n',
    );
  });
});
