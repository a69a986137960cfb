import { describe, expect, it } from 'vitest';
import { dlqCommand } from '../../lib/cli/dlq-command.ts';
import {
  dlqAws,
  orderQueueUrl,
  receiptHandles,
  runOps,
  THREE_DEAD_LETTERS,
} from '../helpers/ops-cli.ts';

const DLQ = orderQueueUrl('dlq');

describe('tasklane dlq purge on AWS', () => {
  const purge = [
    'dlq',
    'purge',
    '--type',
    'order.notification',
    '--archive',
    's3://archive-bucket/dead-letters',
  ];

  it('archives to S3 first, then deletes exactly the archived messages', async () => {
    // Prepare
    const aws = dlqAws(THREE_DEAD_LETTERS);

    // Act
    const run = await runOps(dlqCommand, [...purge, '--json'], aws.clients);

    // Assess
    expect(run.code).toBe(0);
    const commands = aws.requests.map((r) => r.command);
    expect(commands.indexOf('PutObjectCommand')).toBeLessThan(
      commands.indexOf('DeleteMessageBatchCommand'),
    );
    const [put] = aws.inputs('PutObjectCommand') as {
      Key: string;
      Body: string;
    }[];
    expect(put).toEqual({
      Bucket: 'archive-bucket',
      Key: expect.stringMatching(
        /^dead-letters\/tasklane-order-notification-dlq\/\d{4}-.*-00001\.jsonl$/,
      ),
      Body: expect.any(String),
      ContentType: 'application/x-ndjson',
    });
    const lines = put?.Body.trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines?.map((l) => l.body)).toEqual(
      THREE_DEAD_LETTERS.map((m) => m.Body),
    );
    expect(aws.inputs('DeleteMessageBatchCommand')).toEqual([
      {
        QueueUrl: DLQ,
        Entries: ['r-1', 'r-2', 'r-3'].map((ReceiptHandle, i) => ({
          Id: String(i),
          ReceiptHandle,
        })),
      },
    ]);
    expect(JSON.parse(run.stdout)).toMatchObject({
      seen: 3,
      archived: 3,
      purged: 3,
      left: 0,
      failures: [],
    });
  });

  it('deletes nothing when the archive fails, and exits 1', async () => {
    const aws = dlqAws(THREE_DEAD_LETTERS, {
      PutObjectCommand: () => {
        throw Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
        });
      },
    });
    const run = await runOps(dlqCommand, purge, aws.clients);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'tasklane dlq purge: AccessDenied: Access Denied\n',
    );
    expect(aws.inputs('DeleteMessageBatchCommand')).toEqual([]);
    const released = receiptHandles(
      aws.inputs('ChangeMessageVisibilityBatchCommand'),
    );
    expect(released).toEqual(['r-1', 'r-2', 'r-3']);
  });

  it.each([
    [
      ['dlq', 'purge', '--type', 'order.notification'],
      /required option '--archive/,
    ],
    [['dlq', 'purge', '--archive', 'a.jsonl'], /required option '--type/],
    [[...purge.slice(0, 4), '--archive', 's3://'], /valid bucket name/],
    [[...purge, '--reason', 'OTHER'], /Allowed choices are INVALID, RETRIES_/],
    [
      ['dlq', 'list', '--type', 'Bad Type'],
      /lower-case words separated by dots/,
    ],
    [['dlq'], /Usage: tasklane dlq/],
  ])('exits 2 without a request for %j', async (args, message) => {
    const aws = dlqAws(THREE_DEAD_LETTERS);
    const run = await runOps(dlqCommand, args, aws.clients);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(aws.requests).toEqual([]);
  });
});
